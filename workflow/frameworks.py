"""The frameworks check: does a plan fit the task sheet of its theme and year, in content and money?

All amounts are integer cents. The check reads the task sheet row `FOR UPDATE` (PostgreSQL;
SQLite serialises writers already), so two plans that each fit alone cannot both be committed
against the same budget: the second writer waits, then sees the first one's commitment.
"""

from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, bindparam, func, or_
from sqlalchemy import select as sa_select  # sqlmodel's select takes at most four columns
from sqlmodel import Session, col, select

from workflow.db import Executor
from workflow.errors import InvalidInput, NotFound
from workflow.models import CoreTask, Initiative, TaskSheet, Theme, WorkingGroup
from workflow.sql import Prepared

if TYPE_CHECKING:
    from workflow.db import Database
    from workflow.engine import Engine


@dataclass(frozen=True)
class FrameworksCheck:
    """What the secretary sees before confirming that a plan fits the frameworks."""

    theme: str | None
    theme_name: str | None
    year: int | None
    core_task: str | None
    core_task_name: str | None  # None: the core task is not on this year's task sheet
    sheet_found: bool
    budget_cents: int  # the task sheet's budget (0 without a sheet)
    committed_cents: int  # committed by other initiatives of the theme and year
    plan_cents: int | None

    @property
    def remaining_cents(self) -> int:
        return self.budget_cents - self.committed_cents

    @property
    def content_fits(self) -> bool:
        return self.core_task_name is not None

    @property
    def money_fits(self) -> bool:
        return self.sheet_found and self.plan_cents is not None and (
            self.plan_cents <= self.remaining_cents
        )

    @property
    def fits(self) -> bool:
        return self.content_fits and self.money_fits

    def problems(self) -> list[str]:
        """Why the plan does not fit, in Dutch; empty when it fits."""
        found = []
        if not self.sheet_found:
            found.append(
                f"Er is geen opgaveblad {self.year or '(jaar onbekend)'} voor het thema "
                f"{self.theme_name or self.theme or '(geen thema)'}."
            )
        if self.core_task is None:
            found.append("Het plan noemt geen kernopgave.")
        elif self.sheet_found and not self.content_fits:
            found.append(
                f"De kernopgave {self.core_task} staat niet in het opgaveblad {self.year} van "
                f"{self.theme_name}."
            )
        if self.plan_cents is None:
            found.append("Het plan noemt geen begroting.")
        elif self.sheet_found and not self.money_fits:
            found.append(
                f"De begroting van het plan ({format_cents(self.plan_cents)}) is groter dan wat "
                f"er over is van het budget ({format_cents(self.remaining_cents)})."
            )
        return found

    def as_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "remaining_cents": self.remaining_cents,
            "content_fits": self.content_fits,
            "money_fits": self.money_fits,
            "fits": self.fits,
            "problems": self.problems(),
        }


def check(
    session: Executor,
    *,
    initiative_id: int | None,
    data: Mapping[str, Any],
    committing_states: Collection[str],
    lock: bool = True,
) -> FrameworksCheck:
    """Check the plan in an initiative's `data` (keys `working_group`, `core_task`,
    `budget_cents`, `framework_year`) against its theme's task sheet.

    With `lock`, the task sheet row stays locked until the transaction ends. Runs as a guard
    inside the write path, so it is three prepared statements, not a walk over ORM objects.
    """
    group = data.get("working_group")
    year = _int_or_none(data.get("framework_year"))
    core_task = data.get("core_task") or None
    plan_cents = _int_or_none(data.get("budget_cents"))
    found = None
    if isinstance(group, str):
        found = _SHEET.one(session, {"group": group, "year": year if year is not None else -1,
                                     "code": str(core_task or "")})
    theme, theme_name, sheet_id, budget, core_task_name = found or (None, None, None, None, None)
    if theme is not None and theme_name is None:
        theme_name = theme
    committed = 0
    if sheet_id is not None and year is not None and theme is not None:
        if lock:
            _LOCK_SHEET.run(session, {"sheet_id": sheet_id})
        committed = committed_cents(
            session, theme=theme, year=year,
            committing_states=committing_states, excluding=initiative_id,
        )
    return FrameworksCheck(
        theme=theme,
        theme_name=theme_name,
        year=year,
        core_task=core_task,
        core_task_name=core_task_name if core_task is not None else None,
        sheet_found=sheet_id is not None,
        budget_cents=int(budget or 0),
        committed_cents=committed,
        plan_cents=plan_cents,
    )


def committed_cents(
    session: Executor,
    *,
    theme: str,
    year: int,
    committing_states: Collection[str],
    excluding: int | None = None,
) -> int:
    """The sum of `budget_cents` of the initiatives in `committing_states` for theme and year."""
    states = tuple(sorted(committing_states))
    found = _committed(len(states)).one(session, {
        "theme": theme, "year": year, "excluding": excluding if excluding is not None else -1,
        **{f"state{n}": state for n, state in enumerate(states)},
    })
    return int(found[0]) if found is not None else 0


def theme_of(session: Session, working_group: object) -> str | None:
    if not isinstance(working_group, str):
        return None
    group = session.get(WorkingGroup, working_group)
    return group.theme_slug if group is not None else None


# The theme of a working group, its task sheet for a year and the core task's name, in one row.
_SHEET = Prepared(
    sa_select(
        col(WorkingGroup.theme_slug), col(Theme.name), col(TaskSheet.id),
        col(TaskSheet.budget_cents), col(CoreTask.name),
    )
    .select_from(WorkingGroup)
    .outerjoin(Theme, col(Theme.slug) == col(WorkingGroup.theme_slug))
    .outerjoin(TaskSheet, and_(col(TaskSheet.theme_slug) == col(WorkingGroup.theme_slug),
                               col(TaskSheet.year) == bindparam("year")))
    .outerjoin(CoreTask, and_(col(CoreTask.task_sheet_id) == col(TaskSheet.id),
                              col(CoreTask.code) == bindparam("code")))
    .where(col(WorkingGroup.slug) == bindparam("group"))
)
_LOCK_SHEET = Prepared(
    sa_select(col(TaskSheet.id)).where(col(TaskSheet.id) == bindparam("sheet_id")).with_for_update()
)
_COMMITTED: dict[int, Prepared] = {}


def _committed(states: int) -> Prepared:
    """SUM of the plans' budgets in SQL (JSON fields of `initiative.data`), per number of states."""
    found = _COMMITTED.get(states)
    if found is None:
        data = Initiative.__table__.c.data  # type: ignore[attr-defined]
        groups = select(col(WorkingGroup.slug)).where(col(WorkingGroup.theme_slug) == bindparam("theme"))
        found = _COMMITTED[states] = Prepared(
            select(func.coalesce(func.sum(data["budget_cents"].as_integer()), 0)).where(
                or_(*(col(Initiative.state) == bindparam(f"state{n}") for n in range(states))),
                col(Initiative.id) != bindparam("excluding"),
                data["working_group"].as_string().in_(groups),
                data["framework_year"].as_integer() == bindparam("year"),
            )
        )
    return found


# --- money --------------------------------------------------------------------------------------


def euros_to_cents(value: object) -> int:
    """Parse an amount in euros (`1250`, `1.250,50`, `€ 1250.5`, a Decimal) into integer cents.

    Floats go through their shortest text form, never through binary arithmetic. Raises
    `ValueError` with a Dutch sentence on anything else or more than two decimals.
    """
    if isinstance(value, bool):
        raise ValueError("moet een bedrag in euro's zijn, bijvoorbeeld 1250,50")
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, Decimal):
        amount = value
    elif isinstance(value, float):
        amount = Decimal(repr(value))
    elif isinstance(value, str):
        amount = _parse_text(value)
    else:
        raise ValueError("moet een bedrag in euro's zijn, bijvoorbeeld 1250,50")
    cents = amount * 100
    if not amount.is_finite() or cents != cents.to_integral_value():
        raise ValueError("mag hoogstens twee cijfers achter de komma hebben")
    return int(cents)


def _parse_text(text: str) -> Decimal:
    cleaned = text.replace("€", "").replace(" ", "").replace("\u00a0", "").strip()
    if cleaned.endswith(",-"):
        cleaned = cleaned[:-2]
    if "," in cleaned:
        # Dutch: dots group thousands, the comma separates the cents.
        cleaned = cleaned.replace(".", "").replace(",", ".")
    elif cleaned.count(".") == 1 and len(cleaned.rpartition(".")[2]) in (1, 2):
        pass  # 1250.50: a decimal point
    else:
        cleaned = cleaned.replace(".", "")  # 1.250.000: dots group thousands
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError("moet een bedrag in euro's zijn, bijvoorbeeld 1250,50") from None
    if amount.is_nan() or amount.is_infinite():
        raise ValueError("moet een bedrag in euro's zijn, bijvoorbeeld 1250,50")
    return amount


def format_cents(cents: int) -> str:
    """`€ 1.250.000,50` — the Dutch way, from integer cents."""
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(cents), 100)
    return f"{sign}€ {whole:,}".replace(",", ".") + f",{rest:02d}"


def _int_or_none(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    try:
        return int(value)
    except ValueError:
        return None


def check_for(engine: "Engine", initiative_id: int) -> FrameworksCheck:
    """The frameworks check of an initiative as the secretary sees it (read only, no lock)."""
    lookup = engine.registry.region.lookups.get("frameworks")
    if lookup is None:
        raise NotFound("Deze regio kent geen toets aan de kaders.")
    with engine.db.read() as session:
        row = session.get(Initiative, initiative_id)
        if row is None:
            raise NotFound(f"Initiatief {initiative_id} bestaat niet.")
        found = lookup(session, engine.view_of(session, row), False)
        if not isinstance(found, FrameworksCheck):
            raise TypeError("the frameworks lookup must return a FrameworksCheck")
        return found


def task_sheets(db: "Database", *, year: int | None = None) -> list[dict[str, Any]]:
    """Every task sheet (optionally of one year) with its core tasks, by theme and year."""
    with db.read() as session:
        query = select(TaskSheet, Theme.name).join(Theme, col(Theme.slug) == col(TaskSheet.theme_slug))
        if year is not None:
            query = query.where(TaskSheet.year == year)
        out = []
        for sheet, theme_name in session.exec(query.order_by(col(TaskSheet.year), col(Theme.name))):
            tasks = session.exec(
                select(CoreTask).where(CoreTask.task_sheet_id == sheet.id).order_by(col(CoreTask.code))
            ).all()
            out.append({
                "theme": sheet.theme_slug,
                "theme_name": theme_name,
                "year": sheet.year,
                "budget_cents": sheet.budget_cents,
                "budget": format_cents(sheet.budget_cents),
                "core_tasks": [{"code": t.code, "name": t.name} for t in tasks],
            })
        return out


# --- editing the task sheets ----------------------------------------------------------------------


def save_task_sheet(db: "Database", *, theme: str, year: int | str, budget: object) -> TaskSheet:
    """Create or update the task sheet of `theme` and `year` with `budget` in euros (to the cent)."""
    errors: dict[str, str] = {}
    try:
        cents = euros_to_cents(budget)
        if cents < 0:
            errors["budget"] = "mag niet negatief zijn"
    except ValueError as exc:
        errors["budget"] = str(exc)
    year_value = _int_or_none(year)
    if year_value is None or not 2000 <= year_value <= 2100:
        errors["year"] = "moet een jaartal zijn, bijvoorbeeld 2027"
    with db.write() as session:
        if session.get(Theme, theme) is None:
            errors["theme"] = f"onbekend thema {theme!r}"
        if errors:
            raise InvalidInput(_listing(errors), field_errors=errors)
        sheet = session.exec(
            select(TaskSheet).where(TaskSheet.theme_slug == theme, TaskSheet.year == year_value)
        ).first()
        if sheet is None:
            sheet = TaskSheet(theme_slug=theme, year=int(year_value or 0), budget_cents=cents)
        sheet.budget_cents = cents
        session.add(sheet)
        session.flush()
        return sheet


def save_core_task(db: "Database", *, theme: str, year: int | str, code: str, name: str) -> CoreTask:
    """Create or rename core task `code` on the task sheet of `theme` and `year`."""
    code, name = code.strip().upper(), " ".join(name.split())
    errors: dict[str, str] = {}
    if not code or len(code) > 64 or any(c.isspace() for c in code):
        errors["code"] = "moet een korte code zonder spaties zijn, bijvoorbeeld BW-5"
    if not 3 <= len(name) <= 300:
        errors["name"] = "moet tussen 3 en 300 tekens lang zijn"
    with db.write() as session:
        sheet = session.exec(
            select(TaskSheet).where(TaskSheet.theme_slug == theme, TaskSheet.year == _int_or_none(year))
        ).first()
        if sheet is None:
            errors["year"] = f"er is geen opgaveblad {year} voor het thema {theme!r}"
        if errors or sheet is None:
            raise InvalidInput(_listing(errors), field_errors=errors)
        task = session.exec(
            select(CoreTask).where(CoreTask.task_sheet_id == sheet.id, CoreTask.code == code)
        ).first() or CoreTask(task_sheet_id=int(sheet.id or 0), code=code, name=name)
        task.name = name
        session.add(task)
        session.flush()
        return task


def _listing(errors: Mapping[str, str]) -> str:
    return "Ongeldige invoer: " + "; ".join(f"{k}: {v}" for k, v in errors.items()) + "."
