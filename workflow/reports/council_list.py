"""The council list ("lijst van moties en toezeggingen") of one municipality, with filters and files.

Every motion and commitment of that council, read from the event log: faction, date,
summary, portfolio holder, state in plain Dutch, next deadline and whether it is done.
"""

import csv
import io
import json
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import bindparam, text
from sqlmodel.sql.sqltypes import UTCDateTime

from workflow.db import Database
from workflow.errors import InvalidInput, NotFound
from workflow.models import Municipality
from workflow.registry import FlowRegistry
from workflow.reports import formatting as fmt
from workflow.reports.vocabulary import COUNCIL_STEPS

STATUS_FILTERS = {"": "Alle", "lopend": "Lopend", "afgedaan": "Afgedaan"}
HEADER = ("Nr.", "Titel", "Soort", "Uitkomst", "Fractie", "Datum", "Dictum / samenvatting",
          "Portefeuillehouder", "Status", "Volgende termijn", "Afgedaan")


@dataclass(frozen=True)
class CouncilItem:
    initiative_id: int
    title: str
    kind: str
    outcome: str
    faction: str
    day: date
    summary: str
    portfolio_holder: str
    state: str
    state_label: str
    next_deadline: datetime | None
    done: bool

    def cells(self) -> tuple[str, ...]:
        """The row as people read it, in the order of `HEADER`."""
        return (
            str(self.initiative_id), self.title, self.kind, self.outcome or "–", self.faction or "–",
            fmt.date_text(self.day), self.summary, self.portfolio_holder or "–", self.state_label,
            fmt.date_text(self.next_deadline), "ja" if self.done else "nee",
        )


@dataclass(frozen=True)
class CouncilList:
    municipality: str
    municipality_name: str
    since: date | None
    until: date | None
    status: str
    items: list[CouncilItem]

    @property
    def title(self) -> str:
        return f"Lijst van moties en toezeggingen – gemeente {self.municipality_name}"

    @property
    def subtitle(self) -> str:
        period = ""
        if self.since or self.until:
            period = (f"Periode {fmt.date_text(self.since) if self.since else 'begin'} tot en met "
                      f"{fmt.date_text(self.until) if self.until else 'nu'}. ")
        return f"{period}Status: {STATUS_FILTERS[self.status].lower()}. {len(self.items)} items."


def council_list(
    db: Database,
    registry: FlowRegistry,
    *,
    municipality: str,
    since: date | None = None,
    until: date | None = None,
    status: str = "",
) -> CouncilList:
    """The list of `municipality`, oldest first; `status` is "", "lopend" or "afgedaan"."""
    if status not in STATUS_FILTERS:
        raise InvalidInput(f"Onbekende status {status!r}: kies lopend of afgedaan.")
    if since and until and since > until:
        raise InvalidInput("De begindatum ligt na de einddatum.")
    with db.read() as session:
        place = session.get(Municipality, municipality)
        if place is None:
            raise NotFound(f"Onbekende gemeente {municipality!r}.")
        conn = session.connection()
        steps = text(
            "SELECT e.initiative_id, e.trigger, e.at, i.title, i.summary, i.faction, i.state,"
            " i.flow, i.flow_version, i.data FROM event e JOIN initiative i ON i.id = e.initiative_id"
            " WHERE i.municipality = :m AND e.trigger IN :triggers ORDER BY e.at, e.id"
        ).bindparams(bindparam("triggers", expanding=True)).columns(at=UTCDateTime())
        rows = conn.execute(steps, {"m": municipality, "triggers": sorted(COUNCIL_STEPS)}).all()
        due = text(
            "SELECT initiative_id, MIN(due_at) FROM deadline WHERE status = 'open'"
            " AND initiative_id IN :ids GROUP BY initiative_id"
        ).bindparams(bindparam("ids", expanding=True))
        ids = sorted({r[0] for r in rows})
        next_due = {
            iid: UTCDateTime().process_result_value(_as_datetime(d), conn.dialect)
            for iid, d in (conn.execute(due, {"ids": ids}) if ids else ())
        }
    items = []
    for iid, trigger, at, title, summary, faction, state, flow, version, data in rows:
        data = _as_dict(data)
        term = COUNCIL_STEPS[trigger]
        council = _as_dict(data.get("council"))
        day = date.fromisoformat(str(council["date"])) if council.get("date") else at.date()
        spec = registry.get(flow, version)
        found = spec.states.get(state)
        done = bool(found and found.final)
        if (since and day < since) or (until and day > until):
            continue
        if (status == "afgedaan" and not done) or (status == "lopend" and done):
            continue
        items.append(CouncilItem(
            initiative_id=iid, title=title, kind=term.kind, outcome=term.outcome, faction=faction or "",
            day=day, summary=summary, portfolio_holder=_portfolio_holder(data, municipality),
            state=state, state_label=found.label if found else state,
            next_deadline=None if done else next_due.get(iid), done=done,
        ))
    return CouncilList(municipality, place.name, since, until, status, items)


# --- files ----------------------------------------------------------------------------------


def to_csv(found: CouncilList) -> bytes:
    """UTF-8 with a byte order mark and semicolons, as Dutch spreadsheet programs expect."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(item.cells() for item in found.items)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(found: CouncilList) -> bytes:
    # Imported here: openpyxl and reportlab add half a second to the start of every process.
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Moties en toezeggingen"
    sheet.append(list(HEADER))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for item in found.items:
        sheet.append(list(item.cells()))
    sheet.freeze_panes = "A2"
    for letter, width in zip("ABCDEFGHIJK", (6, 40, 12, 12, 12, 18, 50, 22, 26, 18, 10), strict=True):
        sheet.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def to_pdf(found: CouncilList) -> bytes:
    from workflow.reports import pdf

    block = pdf.Block(
        "Moties en toezeggingen", header=HEADER, rows=[item.cells() for item in found.items],
        widths=(0.6, 3, 1.2, 1.3, 1, 1.5, 4, 1.6, 1.8, 1.5, 1),
        empty="Geen moties of toezeggingen met deze filters.",
    )
    return pdf.render(found.title, found.subtitle, [block], wide=True)


def _portfolio_holder(data: dict[str, object], municipality: str) -> str:
    """The local portfolio holder; else the lead alderman, marked as such (who may be from elsewhere)."""
    accountability = _as_dict(data.get("accountability"))
    local = _as_dict(_as_dict(accountability.get("portfolio_holders")).get(municipality))
    if local.get("name"):
        return str(local["name"])
    lead = _as_dict(accountability.get("lead_alderman"))
    if lead.get("name"):
        place = lead.get("municipality_name") or lead.get("municipality") or ""
        return f"{lead['name']} (bestuurlijk trekker{', ' + str(place) if place else ''})"
    return ""


def _as_dict(data: object) -> dict[str, object]:
    if isinstance(data, str):
        loaded = json.loads(data)
        return loaded if isinstance(loaded, dict) else {}
    return dict(data) if isinstance(data, dict) else {}


def _as_datetime(value: object) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))
