"""Permission matrix: every trigger against every role; only the right people may fire it."""

import pytest
from sqlmodel import func, select

from tests.routes import PLAN, drive
from workflow.errors import PermissionDenied
from workflow.models import Event, Initiative
from workflow.testing import DEFAULT_CAST

EVERYONE = [key for key, _roles in DEFAULT_CAST]
SECRETARY_ONLY = {"secretaris_wonen"}

# trigger: (state it fires from, input, who may fire it)
MATRIX = {
    "adopt_motion": ("submitted", {}, {"griffie_sliedrecht"}),
    "record_commitment": ("submitted", {}, {"griffie_sliedrecht"}),
    "reject_motion": ("submitted", {}, {"griffie_sliedrecht"}),
    "withdraw": ("submitted", {}, {"fractie_sliedrecht"}),
    "route_to_working_group": ("with_college", {"working_group": "bouwen-en-wonen"},
                               {"college_sliedrecht"}),
    "handle_locally": ("with_college", {"reason": "Lokaal beleid volstaat."}, {"college_sliedrecht"}),
    "decline": ("with_college", {"reason": "Geen prioriteit."}, {"college_sliedrecht"}),
    "record_participation": ("tabled", {"municipality": "zwijndrecht", "choice": "join"},
                             SECRETARY_ONLY),
    "start_elaboration": ("tabled+", {}, SECRETARY_ONLY),
    "stop": ("tabled", {"reason": "Geen draagvlak."}, SECRETARY_ONLY),
    "submit_plan": ("elaboration", PLAN, SECRETARY_ONLY),
    "decide_go": ("go_decision", {}, SECRETARY_ONLY),
    "decide_no_go": ("go_decision", {"reason": "Te duur."}, SECRETARY_ONLY),
    "confirm_fits_frameworks": ("frameworks_check", {}, SECRETARY_ONLY),
    "require_participant_decisions": ("frameworks_check", {"date": "2027-03-01"}, SECRETARY_ONLY),
    "record_participant_decision": ("participant_decisions",
                                    {"decision": "approve", "date": "2027-02-01"},
                                    {"college_sliedrecht", "college_dordrecht", "college_papendrecht"}),
    "record_agreements": ("agreements", {"form": "informeel", "date": "2027-01-10"}, SECRETARY_ONLY),
    "complete": ("executing", {}, SECRETARY_ONLY),
}


def _at(engine, people, state):
    if state == "tabled+":
        iid = drive(engine, people, "tabled")
        engine.fire(iid, "record_participation", actor=people["secretaris_wonen"],
                    data={"municipality": "dordrecht", "choice": "join"})
        return iid
    return drive(engine, people, state)


def _counts(app, iid):
    with app.db.read() as s:
        row = s.get(Initiative, iid)
        events = s.exec(select(func.count()).select_from(Event).where(Event.initiative_id == iid)).one()
        return row.state, row.version, events


@pytest.mark.parametrize("trigger", sorted(MATRIX))
def test_only_the_right_roles_may_fire(app, engine, people, trigger):
    state, data, allowed = MATRIX[trigger]
    refused_on = _at(engine, people, state)
    before = _counts(app, refused_on)

    refused = []
    for who in EVERYONE:
        if who in allowed:
            continue
        with pytest.raises(PermissionDenied) as err:
            engine.fire(refused_on, trigger, actor=people[who], data=data)
        assert "niet_toegestaan" == err.value.code
        refused.append(who)
    assert before == _counts(app, refused_on), "a refused attempt wrote something"

    for who in sorted(allowed):
        iid = _at(engine, people, state)
        engine.fire(iid, trigger, actor=people[who], data=data)
    assert len(EVERYONE) == len(refused) + len(allowed)


def test_any_faction_member_submits_for_their_own_municipality_only(app, engine, people):
    data = {"title": "Fietsroute langs de Merwede", "summary": "Doortrekken van de snelfietsroute."}
    submitters = {"fractie_sliedrecht", "andere_fractie_sliedrecht", "fractie_dordrecht"}
    for who in EVERYONE:
        if who in submitters:
            result = engine.submit(actor=people[who], flow="groeiagenda", data=data)
            assert "submitted" == result.state
        else:
            with pytest.raises(PermissionDenied):
                engine.submit(actor=people[who], flow="groeiagenda", data=data)
    with app.db.read() as s:
        made = s.exec(select(Initiative.municipality, Initiative.faction).order_by(Initiative.id)).all()
    assert [("sliedrecht", "cda"), ("sliedrecht", "vvd"), ("dordrecht", "cda")] == [tuple(m) for m in made]


def test_a_faction_member_cannot_submit_for_another_municipality(app, engine, people):
    with pytest.raises(PermissionDenied):
        engine.submit(actor=people["fractie_sliedrecht"], flow="groeiagenda",
                      data={"title": "Iets", "summary": "x", "municipality": "dordrecht"})


def test_a_college_decides_only_for_its_own_municipality(app, engine, people):
    iid = drive(engine, people, "participant_decisions")
    before = _counts(app, iid)
    with pytest.raises(PermissionDenied):
        engine.fire(iid, "record_participant_decision", actor=people["college_dordrecht"],
                    data={"municipality": "papendrecht", "decision": "reject", "date": "2027-02-01"})
    assert before == _counts(app, iid)


def test_what_may_this_actor_do_now(app, engine, people):
    iid = _at(engine, people, "tabled+")
    assert ["record_participation", "set_accountability", "start_elaboration", "stop"] == sorted(
        engine.allowed_triggers(iid, people["secretaris_wonen"])
    )
    assert ["withdraw"] == engine.allowed_triggers(iid, people["fractie_sliedrecht"])
    # A participating college may at any time leave or name who answers for it in its council;
    # "join" is offered to every college and refused with a reason for one that takes part.
    assert ["join", "leave", "set_accountability", "set_portfolio_holder"] == sorted(
        engine.allowed_triggers(iid, people["college_sliedrecht"])
    )
    for who in ("secretaris_energie", "regiekamer", "admin"):
        assert [] == engine.allowed_triggers(iid, people[who])


def test_a_blocked_guard_is_not_offered(app, engine, people):
    iid = drive(engine, people, "tabled")  # only Sliedrecht takes part
    assert ["record_participation", "set_accountability", "stop"] == sorted(
        engine.allowed_triggers(iid, people["secretaris_wonen"])
    )
