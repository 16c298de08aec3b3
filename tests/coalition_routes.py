"""Drive a coalition (route B) initiative to a given state through the service layer, for tests.

Sliedrecht's fractie proposes; its college discusses it with Gorinchem and Molenlanden; both
join; Sliedrecht's college (the penvoerder) puts the plan and one concept decision to all.
"""

from typing import Any

from workflow.engine import Engine
from workflow.testing import People

PLAN = {
    "approach": "Samen een fietsroute langs de Merwede aanleggen",
    "budget": 400000,
    "planning": "2027-2028",
    "decision_text": "Het college stemt in met de aanleg van de fietsroute en draagt naar rato bij.",
    "date": "2027-03-01",
}
COALITION = "gorinchem,molenlanden"


def add_coalition_people(people: People) -> People:
    """The colleges and griffies of the coalition partners that the default cast lacks."""
    for key, role in (
        ("college_molenlanden", "college:molenlanden"),
        ("college_alblasserdam", "college:alblasserdam"),
        ("college_hoeksche_waard", "college:hoeksche-waard"),
        ("griffie_gorinchem", "griffie:gorinchem"),
        ("griffie_molenlanden", "griffie:molenlanden"),
    ):
        if key not in people.actors:
            people.add(key, role)
    return people


def drive(
    engine: Engine, people: People, to: str, *, rule: str = "consensus",
    coalition: str = COALITION, title: str = "Fietsroute langs de Merwede",
) -> int:
    """A new coalition initiative moved along the main path until it is in state `to`."""
    add_coalition_people(people)
    iid = engine.submit(
        actor=people["fractie_sliedrecht"], flow="coalitie",
        data={"title": title, "summary": "Een doorgaande fietsroute voor forenzen."},
    ).initiative_id
    steps: list[tuple[str, str, dict[str, Any], str | None]] = [
        ("adopt_motion", "griffie_sliedrecht", {}, "with_college"),
        ("route_to_coalition", "college_sliedrecht", {"municipalities": coalition, "rule": rule},
         "tabled"),
        ("answer_participation", "college_gorinchem", {"choice": "join"}, None),
        ("answer_participation", "college_molenlanden", {"choice": "join"}, None),
        ("start_elaboration", "college_sliedrecht", {}, "elaboration"),
        ("submit_plan", "college_sliedrecht", PLAN, "go_decision"),
    ]
    if to == "submitted":
        return iid
    for trigger, who, data, state_after in steps:
        engine.fire(iid, trigger, actor=people[who], data=data)
        if state_after == to:
            return iid
    if to in ("agreements", "executing"):
        for who in ("college_sliedrecht", "college_gorinchem", "college_molenlanden"):
            engine.fire(iid, "cast_vote", actor=people[who], data={"vote": "for"})
        if to == "executing":
            engine.fire(iid, "record_agreements", actor=people["college_sliedrecht"],
                        data={"form": "sok", "date": "2027-04-01"})
        return iid
    raise ValueError(f"cannot drive to {to!r}")
