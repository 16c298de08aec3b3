"""Drive a Groeiagenda initiative to a given state through the service layer, for tests."""

from typing import Any

from workflow.engine import Engine
from workflow.testing import People

PATH_TO = (
    "submitted",
    "with_college",
    "tabled",
    "elaboration",
    "go_decision",
    "frameworks_check",
    "participant_decisions",
)

# Names a core task of the 2027 opgaveblad of Bouwen en Wonen and fits its budget.
PLAN = {"approach": "Gezamenlijke aanpak", "budget": 250000, "planning": "Q1-Q4 2027",
        "core_task": "BW-2", "year": 2027}


def submit(engine: Engine, people: People, title: str = "Starterswoningen in de regio") -> int:
    result = engine.submit(
        actor=people["fractie_sliedrecht"],
        flow="groeiagenda",
        data={"title": title, "summary": "Samen bouwen voor starters."},
    )
    return result.initiative_id


def drive(engine: Engine, people: People, to: str, *, title: str = "Starterswoningen") -> int:
    """A new initiative, moved along the main path until it is in state `to`."""
    iid = submit(engine, people, title)
    steps: list[tuple[str, str, dict[str, Any]]] = [
        ("adopt_motion", "griffie_sliedrecht", {}),
        ("route_to_working_group", "college_sliedrecht", {"working_group": "bouwen-en-wonen"}),
        ("record_participation", "secretaris_wonen", {"municipality": "dordrecht", "choice": "join"}),
        ("record_participation", "secretaris_wonen", {"municipality": "papendrecht", "choice": "join"}),
        ("start_elaboration", "secretaris_wonen", {}),
        ("submit_plan", "secretaris_wonen", PLAN),
        ("decide_go", "secretaris_wonen", {}),
        ("require_participant_decisions", "secretaris_wonen", {"date": "2027-03-01"}),
    ]
    state_after = {
        "adopt_motion": "with_college",
        "route_to_working_group": "tabled",
        "start_elaboration": "elaboration",
        "submit_plan": "go_decision",
        "decide_go": "frameworks_check",
        "require_participant_decisions": "participant_decisions",
    }
    if to == "submitted":
        return iid
    if to in ("agreements", "executing"):
        steps[-1] = ("confirm_fits_frameworks", "secretaris_wonen", {})
        state_after["confirm_fits_frameworks"] = "agreements"
    for trigger, who, data in steps:
        engine.fire(iid, trigger, actor=people[who], data=data)
        if state_after.get(trigger) == to:
            return iid
    if to == "executing":
        engine.fire(
            iid, "record_agreements", actor=people["secretaris_wonen"],
            data={"form": "sok", "date": "2027-01-15"},
        )
        return iid
    if to == "agreements":
        return iid
    raise ValueError(f"cannot drive to {to!r}")
