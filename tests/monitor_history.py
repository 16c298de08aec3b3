"""A hand-built history with fixed timestamps, for the monitor, council list, exports and public page.

Every figure the tests expect follows from the dates below (all at midnight UTC, so stays are
whole days). Written straight into the tables, as the event log would hold it.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete
from sqlmodel import Session

from workflow.app import App
from workflow.models import CoreTask, Deadline, Event, Initiative, Participant, TaskSheet

PERSON = "Anna de Vries"  # an actor's personal name: never on the public page
PERSON_EMAIL = "anna.devries@sliedrecht.nl"


def day(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@dataclass
class History:
    ids: dict[str, int] = field(default_factory=dict)


# (key, municipality, faction, working group, budget in cents, council data, public flag, events)
# An event is (date, trigger, from, to, data).
INITIATIVES: list[tuple[str, str, str, str | None, int, dict[str, Any] | None, bool | None,
                        list[tuple[str, str, str | None, str, dict[str, Any]]]]] = [
    ("A", "sliedrecht", "cda", "bouwen-en-wonen", 123_456,
     {"instrument": "motion", "date": "2026-01-15", "reference": "M-2026-01"}, None, [
         ("2026-01-05", "submit", None, "submitted", {}),
         ("2026-01-15", "adopt_motion", "submitted", "with_college", {}),
         ("2026-02-14", "route_to_working_group", "with_college", "tabled", {}),
         ("2026-02-20", "record_participation", "tabled", "tabled", {}),
         ("2026-03-16", "start_elaboration", "tabled", "elaboration", {}),
         ("2026-04-15", "submit_plan", "elaboration", "go_decision", {}),
         ("2026-04-25", "decide_go", "go_decision", "frameworks_check", {}),
         ("2026-05-05", "confirm_fits_frameworks", "frameworks_check", "agreements", {}),
         ("2026-06-04", "record_agreements", "agreements", "executing", {}),
         ("2026-07-01", "report_spending", "executing", "executing", {"amount_cents": 50_000}),
         ("2026-09-01", "report_spending", "executing", "executing", {"amount_cents": 25_050}),
     ]),
    ("B", "dordrecht", "vvd", "energie", 500_000,
     {"instrument": "commitment", "date": "2026-01-10", "reference": "T-12"}, None, [
         ("2025-11-01", "submit", None, "submitted", {}),
         ("2026-01-10", "record_commitment", "submitted", "with_college", {}),
         ("2026-03-11", "route_to_working_group", "with_college", "tabled", {}),
         ("2026-05-10", "stop", "tabled", "stopped", {}),
     ]),
    ("C", "sliedrecht", "cda", None, 0,
     {"instrument": "motion", "date": "2026-03-06", "reference": "M-2026-07"}, False, [
         ("2026-03-01", "submit", None, "submitted", {}),
         ("2026-03-06", "adopt_motion", "submitted", "with_college", {}),
     ]),
    ("D", "sliedrecht", "sp", None, 0, None, None, [
        ("2026-06-01", "submit", None, "submitted", {}),
        ("2026-06-11", "reject_motion", "submitted", "rejected_by_council", {}),
    ]),
    ("E", "dordrecht", "cda", "energie", 0,
     {"instrument": "motion", "date": "2026-02-11", "reference": "M-2026-03"}, True, [
         ("2026-02-01", "submit", None, "submitted", {}),
         ("2026-02-11", "adopt_motion", "submitted", "with_college", {}),
         ("2026-03-13", "route_to_working_group", "with_college", "tabled", {}),
         ("2026-04-12", "start_elaboration", "tabled", "elaboration", {}),
         ("2026-05-12", "submit_plan", "elaboration", "go_decision", {}),
         ("2026-05-22", "decide_go", "go_decision", "frameworks_check", {}),
         ("2026-06-01", "confirm_fits_frameworks", "frameworks_check", "agreements", {}),
         ("2026-07-01", "record_agreements", "agreements", "executing", {}),
         ("2026-08-01", "report_spending", "executing", "executing", {"amount_cents": 1_000_000}),
         ("2026-12-01", "complete", "executing", "completed", {}),
     ]),
    ("F", "sliedrecht", "cda", None, 0, None, None, [
        ("2027-01-10", "submit", None, "submitted", {}),
    ]),
]

TITLES = {
    "A": "Starterswoningen in Sliedrecht – één regio, één aanpak",
    "B": "Zonnepanelen op scholen",
    "C": "Fietspad langs de Merwede",
    "D": "Gratis parkeren in het centrum",
    "E": "Warmtenet Dordrecht-Zwijndrecht",
    "F": "Nieuw idee voor 2027",
}


def build(app: App) -> History:
    """Writes the history and the 2025/2026 opgavebladen; returns the initiative ids by key."""
    history = History()
    with app.db.write() as session:
        # The seed may already hold opgavebladen: these budgets replace theirs.
        session.execute(delete(CoreTask))
        session.execute(delete(TaskSheet))
        session.add(TaskSheet(theme_slug="bouwen-en-wonen", year=2026, budget_cents=100_000_000))
        session.add(TaskSheet(theme_slug="energie", year=2026, budget_cents=25_000_000))
        session.add(TaskSheet(theme_slug="bouwen-en-wonen", year=2025, budget_cents=9_999_999))
        for key, municipality, faction, group, budget, council, public, events in INITIATIVES:
            history.ids[key] = _initiative(session, key, municipality, faction, group, budget,
                                           council, public, events)
        c = history.ids["C"]
        session.add(Deadline(initiative_id=c, state="with_college", label="Reactie van het college",
                             due_at=day("2026-05-01"), created_at=day("2026-03-06")))
        b = history.ids["B"]
        session.add(Deadline(initiative_id=b, state="tabled", label="Antwoord op 'wie doet mee?'",
                             due_at=day("2026-04-22"), created_at=day("2026-03-11"),
                             status="cancelled", closed_at=day("2026-05-10")))
        a = history.ids["A"]
        for municipality, status in (("sliedrecht", "joined"), ("dordrecht", "joined")):
            session.add(Participant(initiative_id=a, municipality=municipality, status=status))
    return history


def _initiative(
    session: Session, key: str, municipality: str, faction: str, group: str | None, budget: int,
    council: dict[str, Any] | None, public: bool | None,
    events: list[tuple[str, str, str | None, str, dict[str, Any]]],
) -> int:
    data: dict[str, Any] = {}
    if group:
        data["working_group"] = group
    if budget:
        data.update(budget_cents=budget, framework_year=2026)
    if council:
        data["council"] = council
        data["accountability"] = {"portfolio_holders": {municipality: {"name": "Wethouder Wonen"}}}
    row = Initiative(
        flow="groeiagenda", flow_version=1, state=events[-1][3], version=len(events),
        title=TITLES[key], summary=f"Samenvatting van {key}: dictum met ë en €.",
        municipality=municipality, faction=faction, data=data, public=public,
        created_at=day(events[0][0]), updated_at=day(events[-1][0]),
    )
    session.add(row)
    session.flush()
    assert row.id is not None
    for n, (when, trigger, source, dest, extra) in enumerate(events, start=1):
        session.add(Event(initiative_id=row.id, version=n, at=day(when), actor_name=PERSON,
                          trigger=trigger, from_state=source, to_state=dest, data=extra,
                          comment=f"Toelichting door {PERSON} ({PERSON_EMAIL})"))
    return row.id


def keys_by_id(history: History) -> dict[int, str]:
    """Initiative id → its key in INITIATIVES."""
    return {iid: key for key, iid in history.ids.items()}
