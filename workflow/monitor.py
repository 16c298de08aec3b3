"""The voortgangsmonitor: a year's figures per state, municipality, step, deadline and budget.

Pure reads over the event log and the reference data (no second bookkeeping): every figure
can be traced back to `Event`, `Deadline`, `Initiative` and the opgavebladen (`task_sheet`).
The database does the counting and timing (workflow/monitor_queries.py); this module puts the
figures together with the flows' labels and order, and keeps finished reports per process.
"""

import threading
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection
from sqlmodel.sql.sqltypes import UTCDateTime

from workflow import monitor_queries as queries
from workflow.clock import utcnow
from workflow.context import InitiativeView, ParticipantView
from workflow.db import Database
from workflow.definition import Flow
from workflow.registry import FlowRegistry

COMPLETED_STATES = frozenset({"completed"})
"""Final states that count as "afgerond"; every other final state counts as stopped."""

COMMITTED_STATES = frozenset({"agreements", "executing"})
"""States in which an initiative's budget counts as committed against its opgaveblad."""

SPENDING_TRIGGER = queries.SPENDING_TRIGGER
OVERDUE_LISTED = 25  # a council report lists the longest overdue; the rest is counted per party
DAY = 86_400.0


@dataclass(frozen=True)
class Count:
    key: str
    label: str
    count: int


@dataclass(frozen=True)
class MunicipalityRow:
    slug: str
    name: str
    total: int
    by_state: dict[str, int]


@dataclass(frozen=True)
class LeadTime:
    """How long initiatives stayed in one state, over the stays that ended in the period."""

    state: str
    label: str
    stays: int
    median_days: float
    longest_days: float


@dataclass(frozen=True)
class Bottleneck:
    """Where initiatives are waiting at the end of the period, and for how long already."""

    state: str
    label: str
    waiting: int
    median_days: float
    longest_days: float


@dataclass(frozen=True)
class OverdueItem:
    initiative_id: int
    title: str
    municipality: str
    label: str
    due_at: datetime
    days_overdue: int
    waiting_on: list[str]


@dataclass(frozen=True)
class BudgetLine:
    """Money of one theme in cents: opgaveblad budget, committed, spent as reported, left."""

    theme: str
    name: str
    budget_cents: int
    committed_cents: int
    spent_cents: int

    @property
    def left_cents(self) -> int:
        return self.budget_cents - self.committed_cents


@dataclass
class MonitorReport:
    year: int
    theme: str | None
    theme_name: str | None
    period_start: datetime
    period_end: datetime  # exclusive
    as_of: datetime  # the moment the states are read: the end of the period, or now
    initiatives: int
    per_state: list[Count]
    per_municipality: list[MunicipalityRow]  # columns: the states of `per_state`
    new: int
    completed: int
    stopped: int
    lead_times: list[LeadTime]
    bottlenecks: list[Bottleneck]
    overdue: list[OverdueItem]  # the longest overdue first, at most OVERDUE_LISTED
    overdue_total: int
    overdue_by_party: list[Count]  # how many overdue deadlines wait on whom, most first
    budget: list[BudgetLine] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["budget"] = [{**asdict(b), "left_cents": b.left_cents} for b in self.budget]
        plain: dict[str, Any] = _jsonable(data)
        return plain


# --- the report -----------------------------------------------------------------------------


def progress_monitor(
    db: Database,
    registry: FlowRegistry,
    *,
    year: int,
    theme: str | None = None,
    now: datetime | None = None,
) -> MonitorReport:
    """The monitor of `year` (optionally one theme); reads only, in one read transaction.

    A report is kept per process for its year, theme and moment while the event log, the
    deadlines, the opgavebladen and the names it was made from are unchanged (`_fingerprint`).
    """
    start = datetime(year, 1, 1, tzinfo=UTC)
    end = datetime(year + 1, 1, 1, tzinfo=UTC)
    # A running year is read per whole minute: the figures are days with one decimal, and a
    # report asked for again within the minute can be reused.
    as_of = min(end, (now or utcnow()).replace(second=0, microsecond=0))
    with db.read() as session:
        conn = session.connection()
        names = _names(conn)
        key = (db.url, year, theme, as_of)
        fingerprint = _fingerprint(conn, names)
        with _lock:
            kept = _kept.get(key)
        if kept is not None and kept[0] == fingerprint:
            return kept[1]
        groups = None if theme is None else {g for g, t in names.group_theme.items() if t == theme}
        sql = queries.Sql(conn)
        scope = queries.scope(sql, as_of, groups)
        labels = _state_labels(registry)
        finals = _final_states(registry)
        found = queries.figures(conn, scope, start, as_of, year=year, final_states=finals,
                                committed_states=COMMITTED_STATES)

        per_state: Counter[str] = Counter()
        by_municipality: dict[str, Counter[str]] = defaultdict(Counter)
        for (municipality, state), n in found.by_municipality.items():
            per_state[state] += n
            by_municipality[municipality][state] += n
        state_order = _state_order(registry)
        completed = sum(n for state, n in found.entered.items() if state in COMPLETED_STATES)
        stopped = sum(n for state, n in found.entered.items()
                      if state in finals and state not in COMPLETED_STATES)
        overdue = _overdue(conn, registry, scope, names.municipalities, as_of)

        report = MonitorReport(
            year=year,
            theme=theme,
            theme_name=names.themes.get(theme) if theme else None,
            period_start=start,
            period_end=end,
            as_of=as_of,
            initiatives=sum(per_state.values()),
            per_state=[Count(s, labels.get(s, s), per_state[s]) for s in state_order if per_state[s]],
            per_municipality=[
                MunicipalityRow(slug, names.municipalities.get(slug, slug),
                                sum(counts.values()), dict(counts))
                for slug, counts in sorted(by_municipality.items(),
                                           key=lambda kv: names.municipalities.get(kv[0], kv[0]))
            ],
            new=found.new,
            completed=completed,
            stopped=stopped,
            lead_times=[
                LeadTime(s, labels.get(s, s), t.count, _round(t.median), _round(t.longest))
                for s in state_order if (t := found.stays.get(s))
            ],
            bottlenecks=sorted(
                (
                    Bottleneck(s, labels.get(s, s), w.count, _round(w.median), _round(w.longest))
                    for s, w in found.waiting.items()
                ),
                key=lambda b: (-b.median_days, -b.waiting, b.state),
            ),
            overdue=overdue[:OVERDUE_LISTED],
            overdue_total=len(overdue),
            overdue_by_party=[Count(party, party, n) for party, n in sorted(
                Counter(p for o in overdue for p in o.waiting_on).items(), key=lambda kv: (-kv[1], kv[0]))],
            budget=_budget(conn, names, scope, found, year, theme, start, as_of),
        )
        with _lock:
            _kept[key] = (fingerprint, report)
            while len(_kept) > KEPT_REPORTS:
                _kept.pop(next(iter(_kept)))
        return report


# --- keeping reports ---------------------------------------------------------------------------

KEPT_REPORTS = 64
_kept: dict[tuple[str, int, str | None, datetime], tuple[tuple[Any, ...], MonitorReport]] = {}
_lock = threading.Lock()


def forget_reports() -> None:
    """Drop every kept report (benchmarks measure the first, uncached request this way)."""
    with _lock:
        _kept.clear()


def _fingerprint(conn: Connection, names: "_Names") -> tuple[Any, ...]:
    """What a report's figures depend on besides its moment, read cheaply.

    Events are only ever added; every change to an initiative raises its version and writes an
    event, also a deadline's new date; opgavebladen and names are small tables read whole.
    """
    # Separate statements: each MAX is then one step down its own index.
    events = (conn.execute(text("SELECT MAX(id) FROM event")).scalar(),
              conn.execute(text("SELECT MAX(at) FROM event")).scalar())
    initiatives = tuple(conn.execute(text(
        "SELECT COUNT(*), SUM(version), MAX(updated_at) FROM initiative")).one())
    deadlines = tuple(conn.execute(text("SELECT MAX(id), COUNT(*), MAX(due_at) FROM deadline")).one())
    sheets = tuple(conn.execute(text(
        "SELECT theme_slug, year, budget_cents FROM task_sheet ORDER BY theme_slug, year")).all())
    return (events, initiatives, deadlines, sheets, tuple(sorted(names.municipalities.items())),
            tuple(sorted(names.themes.items())), tuple(sorted(names.group_theme.items(), key=str)))


# --- queries --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Names:
    municipalities: dict[str, str]
    themes: dict[str, str]
    group_theme: dict[str, str | None]


def _names(conn: Connection) -> _Names:
    return _Names(
        municipalities={k: v for k, v in conn.execute(text("SELECT slug, name FROM municipality"))},
        themes={k: v for k, v in conn.execute(text("SELECT slug, name FROM theme"))},
        group_theme={k: v for k, v in conn.execute(text("SELECT slug, theme_slug FROM working_group"))},
    )


def _overdue(
    conn: Connection,
    registry: FlowRegistry,
    scope: queries.Scope,
    municipalities: Mapping[str, str],
    as_of: datetime,
) -> list[OverdueItem]:
    """Deadlines past their date at `as_of` and not yet met, with who they wait on."""
    wg = queries.Sql(conn).json_text("working_group")
    overdue = (
        "FROM deadline d JOIN initiative i ON i.id = d.initiative_id"
        " WHERE d.due_at < :as_of AND d.created_at < :as_of AND d.status <> 'cancelled'"
        f" AND (d.closed_at IS NULL OR d.closed_at >= :as_of) AND {scope.condition}"
    )
    params = {**scope.params, "as_of": as_of}
    statement = text(
        "SELECT d.initiative_id, d.state, d.label, d.due_at, i.title, i.municipality, i.faction,"
        f" i.flow, i.flow_version, {wg} {overdue} ORDER BY d.due_at, d.id"
    ).bindparams(bindparam("as_of", type_=UTCDateTime())).columns(due_at=UTCDateTime())
    rows = conn.execute(statement, params).all()
    participants: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for iid, municipality, status in conn.execute(text(
        "SELECT initiative_id, municipality, status FROM participant WHERE initiative_id IN"
        f" (SELECT d.initiative_id {overdue})"
    ).bindparams(bindparam("as_of", type_=UTCDateTime())), params):
        participants[iid].append((municipality, status))
    members = _group_members(conn) if rows else {}
    # Many deadlines wait on the same parties: who, follows from these alone.
    waiting_on: dict[tuple[Any, ...], list[str]] = {}
    out = []
    for iid, state, label, due_at, title, municipality, faction, flow, version, group in rows:
        joined = tuple(sorted(participants.get(iid, ())))
        key = (flow, version, state, municipality, faction, group, joined)
        if key not in waiting_on:
            view = InitiativeView(
                id=iid, flow=flow, state="", municipality=municipality, faction=faction,
                data={"working_group": group} if group else {},
                participants={m: ParticipantView(status) for m, status in joined},
                group_members=members,
            )
            waiting_on[key] = _waiting_on(registry.get(flow, version), state, view, municipalities)
        due = _aware(due_at)
        out.append(OverdueItem(
            initiative_id=iid,
            title=title,
            municipality=municipalities.get(municipality, municipality),
            label=label,
            due_at=due,
            days_overdue=int(_days(as_of - due)),
            waiting_on=list(waiting_on[key]),
        ))
    return sorted(out, key=lambda o: (-o.days_overdue, o.initiative_id))


def _group_members(conn: Connection) -> dict[str, tuple[str, ...]]:
    """The municipalities of every working group (for the audiences' scope rules)."""
    members: dict[str, list[str]] = defaultdict(list)
    for group, municipality in conn.execute(
        text("SELECT working_group_slug, municipality_slug FROM working_group_member")
    ):
        members[group].append(municipality)
    return {g: tuple(sorted(m)) for g, m in members.items()}


def _waiting_on(
    spec: Flow, state: str, view: InitiativeView, municipalities: Mapping[str, str]
) -> list[str]:
    """The audiences reminded for this state's deadline, with the municipalities they cover."""
    found = spec.states.get(state)
    if found is None or found.deadline is None:
        return []
    out = []
    for audience in found.deadline.remind_audiences:
        scopes = audience.scopes(view, None)
        places = sorted(municipalities[s[0]] for s in scopes or () if s and s[0] in municipalities)
        out.append(f"{audience.label} ({', '.join(places)})" if places else audience.label)
    return out


def _budget(
    conn: Connection,
    names: _Names,
    scope: queries.Scope,
    found: queries.Figures,
    year: int,
    theme: str | None,
    start: datetime,
    as_of: datetime,
) -> list[BudgetLine]:
    """Per theme: the opgavebladen of `year`, what committed initiatives hold, what was spent."""
    budgets: dict[str, int] = {}
    for slug, cents in conn.execute(
        text("SELECT theme_slug, SUM(budget_cents) FROM task_sheet WHERE year = :year"
             " GROUP BY theme_slug"), {"year": year}
    ):
        budgets[slug] = int(cents or 0)
    committed: Counter[str] = Counter()
    for group, cents in found.committed_by_group.items():
        if group and (group_theme := names.group_theme.get(group)):
            committed[group_theme] += cents
    spent: Counter[str] = Counter()
    for group, cents in queries.spent_by_group(conn, scope, start, as_of).items():
        if group and (group_theme := names.group_theme.get(group)):
            spent[group_theme] += cents
    themes = [theme] if theme else sorted(names.themes, key=lambda s: names.themes[s])
    return [
        BudgetLine(t, names.themes.get(t, t), budgets.get(t, 0), committed[t], spent[t])
        for t in themes
    ]


# --- flows ----------------------------------------------------------------------------------


def _flows(registry: FlowRegistry) -> list[Flow]:
    """The newest flows, the one with the most states first: its order and labels lead."""
    return sorted(registry.latest(), key=lambda f: (-len(f.states), f.name))


def _state_labels(registry: FlowRegistry) -> dict[str, str]:
    labels: dict[str, str] = {}
    for flow in _flows(registry):
        for name, state in flow.states.items():
            labels.setdefault(name, state.label)
    return labels


def _final_states(registry: FlowRegistry) -> set[str]:
    return {n for flow in registry.latest() for n, s in flow.states.items() if s.final}


def _state_order(registry: FlowRegistry) -> list[str]:
    order: dict[str, None] = {}
    for flow in _flows(registry):
        order.update(dict.fromkeys(flow.states))
    return list(order)


# --- small helpers --------------------------------------------------------------------------


def _aware(moment: datetime | str) -> datetime:
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _days(delta: Any) -> float:
    return float(delta.total_seconds()) / DAY


def _round(days: float) -> float:
    return round(days, 1)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, Iterable) and not isinstance(value, str):
        return [_jsonable(v) for v in value]
    return value
