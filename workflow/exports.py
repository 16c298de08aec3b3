"""Open data: every initiative with its events as JSON (with a published JSON Schema), and a ZGW export.

The JSON export follows `workflow/schemas/export.schema.json` (served at
`/schemas/export.schema.json`). It leaves out personal data: no names of people, no comments;
who acted is not a person but a step. The ZGW export maps the same data onto the VNG "Zaakgericht
werken" vocabulary: a zaaktype per flow, a statustype per state in flow order, a besluit per
recorded decision and rollen for the faction, the college and the working-group secretary.
"""

from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from sqlmodel import Session, col, func, select

from workflow.clock import aware, utcnow
from workflow.db import Database
from workflow.definition import Flow
from workflow.inputs import personal_fields
from workflow.models import Event, Initiative, Municipality, Participant, WorkingGroup
from workflow.registry import FlowRegistry
from workflow.reports.public import is_public
from workflow.reports.vocabulary import COUNCIL_STEPS, ORI_CLASSIFICATION, ORI_RESULT, ZGW_DECISIONS

SCHEMA_PATH = "/schemas/export.schema.json"
FORMAT_VERSION = "1.0"
BATCH = 500
Progress = Callable[[int, int], None]  # (done, total)


def schema_text() -> str:
    return resources.files("workflow").joinpath("schemas/export.schema.json").read_text("utf-8")


# --- the JSON export --------------------------------------------------------------------------


def export_json(
    db: Database, registry: FlowRegistry, *, base_url: str = "", progress: Progress | None = None
) -> dict[str, Any]:
    """All initiatives with participants and events, as a JSON-ready dict valid against the schema."""
    items = list(_each(db, registry, progress))
    return {
        "$schema": base_url.rstrip("/") + SCHEMA_PATH,
        "format_version": FORMAT_VERSION,
        "region": registry.region.name,
        "generated_at": _iso(utcnow()),
        "initiatives": items,
    }


def _each(db: Database, registry: FlowRegistry, progress: Progress | None) -> Iterator[dict[str, Any]]:
    with db.read() as session:
        total = session.exec(select(func.count()).select_from(Initiative)).one()
        names = {m.slug: m.name for m in session.exec(select(Municipality))}
        groups = {g.slug: g for g in session.exec(select(WorkingGroup))}
        done, last_id = 0, 0
        while True:
            rows = session.exec(
                select(Initiative).where(col(Initiative.id) > last_id)
                .order_by(col(Initiative.id)).limit(BATCH)
            ).all()
            if not rows:
                break
            ids = [r.id for r in rows if r.id is not None]
            events, participants = _children(session, ids)
            for row in rows:
                assert row.id is not None
                yield _initiative(registry, row, names, groups, events[row.id], participants[row.id])
            last_id = ids[-1]
            done += len(rows)
            if progress is not None:
                progress(done, total)


def _children(
    session: Session, ids: list[int]
) -> tuple[dict[int, list[Event]], dict[int, list[Participant]]]:
    events: dict[int, list[Event]] = defaultdict(list)
    for e in session.exec(select(Event).where(col(Event.initiative_id).in_(ids)).order_by(col(Event.id))):
        events[e.initiative_id].append(e)
    participants: dict[int, list[Participant]] = defaultdict(list)
    for p in session.exec(
        select(Participant).where(col(Participant.initiative_id).in_(ids)).order_by(col(Participant.municipality))
    ):
        participants[p.initiative_id].append(p)
    return events, participants


def _initiative(
    registry: FlowRegistry, row: Initiative, names: dict[str, str], groups: dict[str, WorkingGroup],
    events: list[Event], participants: list[Participant],
) -> dict[str, Any]:
    spec = registry.get(row.flow, row.flow_version)
    state = spec.states.get(row.state)
    group = row.data.get("working_group")
    return {
        "id": row.id,
        "flow": row.flow,
        "flow_version": row.flow_version,
        "title": row.title,
        "summary": row.summary,
        "municipality": {"code": row.municipality, "name": names.get(row.municipality, row.municipality)},
        "faction": row.faction,
        "state": {"code": row.state, "label": state.label if state else row.state,
                  "final": bool(state and state.final)},
        "public": is_public(row),
        "working_group": group if isinstance(group, str) else None,
        "theme": groups[group].theme_slug if isinstance(group, str) and group in groups else None,
        "council": _council(events),
        "budget_cents": _int_or_none(row.data.get("budget_cents")),
        "created_at": _iso(row.created_at),
        "updated_at": _iso(row.updated_at),
        "participants": [{"municipality": p.municipality, "status": p.status} for p in participants],
        "events": [_event(spec, e) for e in events],
    }


def _council(events: list[Event]) -> dict[str, Any] | None:
    """The council's instrument in Open Raadsinformatie terms (motie/toezegging, aangenomen/verworpen)."""
    for e in events:
        term = COUNCIL_STEPS.get(e.trigger)
        if term is not None:
            return {
                "classification": ORI_CLASSIFICATION[term.kind],
                "kind": term.kind,
                "result": ORI_RESULT.get(term.outcome),
                "date": _iso(e.at)[:10],
            }
    return None


def _event(spec: Flow, e: Event) -> dict[str, Any]:
    transition = spec.transition(e.trigger)
    return {
        "id": e.id,
        "version": e.version,
        "at": _iso(e.at),
        "trigger": e.trigger,
        "label": transition.label if transition else e.trigger,
        "from_state": e.from_state,
        "to_state": e.to_state,
        # Names of people given as input (e.g. a portfolio holder) stay out of open data.
        "data": _plain({k: v for k, v in e.data.items()
                        if k not in personal_fields(transition.requires if transition else None)}),
    }


# --- the ZGW export ---------------------------------------------------------------------------

ROLE_TYPES = (
    ("initiator", "Indienende fractie"),
    ("behandelaar", "College van B&W van de gemeente"),
    ("zaakcoordinator", "Secretaris van de bestuurlijke werkgroep"),
)


def export_zgw(
    db: Database, registry: FlowRegistry, *, base_url: str = "", progress: Progress | None = None
) -> dict[str, Any]:
    """Zaaktypen (with statustypen, roltypen, besluittypen) and one zaak per initiative."""
    flows = list(registry.latest())
    zaken = []
    with db.read() as session:
        groups = {g.slug: g.name for g in session.exec(select(WorkingGroup))}
        names = {m.slug: m.name for m in session.exec(select(Municipality))}
    for item in _each(db, registry, progress):
        zaken.append(_zaak(registry, item, names, groups))
    return {
        "bron": base_url or "initiatief",
        "gegenereerd_op": _iso(utcnow()),
        "zaaktypen": [_zaaktype(flow) for flow in flows],
        "zaken": zaken,
    }


def _zaaktype_id(flow: str, version: int) -> str:
    return f"{flow}-v{version}"


def _zaaktype(flow: Flow) -> dict[str, Any]:
    return {
        "identificatie": _zaaktype_id(flow.name, flow.version),
        "omschrijving": flow.label,
        "versiedatum": None,
        "statustypen": [
            {"volgnummer": n, "code": name, "omschrijving": state.label, "isEindstatus": state.final}
            for n, (name, state) in enumerate(flow.states.items(), start=1)
        ],
        "roltypen": [{"omschrijvingGeneriek": g, "omschrijving": d} for g, d in ROLE_TYPES],
        "besluittypen": [
            {"code": t.trigger, "omschrijving": t.label}
            for t in flow.transitions if t.trigger in ZGW_DECISIONS
        ],
    }


def _zaak(
    registry: FlowRegistry, item: dict[str, Any], names: dict[str, str], groups: dict[str, str]
) -> dict[str, Any]:
    moves = [e for e in item["events"] if e["from_state"] != e["to_state"]]
    municipality = item["municipality"]
    rollen = []
    if item["faction"]:
        rollen.append({"roltype": "initiator",
                       "betrokkene": f"Fractie {item['faction']}, gemeente {municipality['name']}"})
    rollen.append({"roltype": "behandelaar", "betrokkene": f"College van B&W {municipality['name']}"})
    if item["working_group"]:
        group = groups.get(item["working_group"], item["working_group"])
        rollen.append({"roltype": "zaakcoordinator", "betrokkene": f"Secretaris, {group}"})
    final_at = moves[-1]["at"] if item["state"]["final"] and moves else None
    return {
        "identificatie": f"INI-{item['id']}",
        "zaaktype": _zaaktype_id(item["flow"], item["flow_version"]),
        "omschrijving": item["title"],
        "toelichting": item["summary"],
        "bronorganisatie": municipality["code"],
        "startdatum": item["created_at"][:10],
        "einddatum": final_at[:10] if final_at else None,
        "status": {"statustype": item["state"]["code"], "omschrijving": item["state"]["label"]},
        "statussen": [{"statustype": e["to_state"], "datumStatusGezet": e["at"]} for e in moves],
        "besluiten": [
            {"besluittype": e["trigger"], "omschrijving": e["label"], "datum": e["at"][:10],
             **({"verantwoordelijkeOrganisatie": e["data"]["municipality"]}
                if isinstance(e["data"].get("municipality"), str) else {})}
            for e in item["events"] if e["trigger"] in ZGW_DECISIONS
        ],
        "rollen": rollen,
        "deelnemers": [
            {"gemeente": p["municipality"], "naam": names.get(p["municipality"], p["municipality"]),
             "status": p["status"]}
            for p in item["participants"]
        ],
    }


# --- helpers ----------------------------------------------------------------------------------


def _iso(moment: datetime) -> str:
    return aware(moment).astimezone(UTC).isoformat()


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _plain(value: Any) -> Any:
    """Event data as plain JSON (dates as ISO text)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return _iso(value)
    return value
