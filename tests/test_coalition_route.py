"""The coalition route (route B) through the service layer: every branch, end to end."""

from fractions import Fraction

import pytest
from sqlmodel import select

from tests.coalition_routes import PLAN, drive
from workflow.errors import GuardFailed, InvalidInput, PermissionDenied, TransitionNotAllowed
from workflow.models import Event, Initiative, OutboxMessage, Participant


def _state(app, iid):
    with app.db.read() as s:
        return s.get(Initiative, iid).state


def _events(app, iid):
    with app.db.read() as s:
        rows = s.exec(select(Event).where(Event.initiative_id == iid).order_by(Event.id)).all()
        return [(e.trigger, e.from_state, e.to_state) for e in rows]


def _last_event(app, iid):
    with app.db.read() as s:
        return s.exec(select(Event).where(Event.initiative_id == iid).order_by(Event.id.desc())).first()


def _participants(app, iid):
    with app.db.read() as s:
        rows = s.exec(select(Participant).where(Participant.initiative_id == iid)).all()
        return {p.municipality: p.status for p in rows}


def _recipients(app, iid, template):
    with app.db.read() as s:
        rows = s.exec(select(OutboxMessage).where(OutboxMessage.initiative_id == iid,
                                                  OutboxMessage.template == template)).all()
        return sorted(r.recipient for r in rows)


def _vote(engine, people, iid, who, vote):
    return engine.fire(iid, "cast_vote", actor=people[who], data={"vote": vote})


class TestMainPath:
    """Discussed with other colleges, all vote for: go, agreements, execution, completed."""

    def test_consensus_go_to_completed(self, app, engine, people):
        iid = drive(engine, people, "go_decision")
        for who in ("college_sliedrecht", "college_gorinchem"):
            assert "go_decision" == _vote(engine, people, iid, who, "for").state
        result = _vote(engine, people, iid, "college_molenlanden", "for")
        assert ("agreements", "Afspraken vastleggen") == (result.state, result.state_label)
        lead = people["college_sliedrecht"]
        engine.fire(iid, "record_agreements", actor=lead, data={"form": "sok", "date": "2027-04-01"})
        done = engine.fire(iid, "complete", actor=lead, data={"result": "Fietsroute open"})

        assert "completed" == done.state
        assert [
            ("submit", None, "submitted"),
            ("adopt_motion", "submitted", "with_college"),
            ("route_to_coalition", "with_college", "tabled"),
            ("answer_participation", "tabled", "tabled"),
            ("answer_participation", "tabled", "tabled"),
            ("start_elaboration", "tabled", "elaboration"),
            ("submit_plan", "elaboration", "go_decision"),
            ("cast_vote", "go_decision", "go_decision"),
            ("cast_vote", "go_decision", "go_decision"),
            ("cast_vote", "go_decision", "go_decision"),
            ("votes_go", "go_decision", "agreements"),
            ("record_agreements", "agreements", "executing"),
            ("complete", "executing", "completed"),
        ] == _events(app, iid)
        assert {"sliedrecht": "joined", "gorinchem": "joined", "molenlanden": "joined"} == _participants(app, iid)

    def test_routing_invites_the_named_colleges_and_records_the_rule(self, app, engine, people):
        iid = drive(engine, people, "tabled", rule="majority")
        with app.db.read() as s:
            data = s.get(Initiative, iid).data
        assert (["gorinchem", "molenlanden"], "majority") == (data["coalition"], data["decision_rule"])
        assert ["college_gorinchem@example.nl", "college_molenlanden@example.nl"] == _recipients(
            app, iid, "bespreken_met")

    def test_the_go_outcome_with_rule_and_votes_is_stored_in_the_event(self, app, engine, people):
        iid = drive(engine, people, "agreements")
        event = _last_event(app, iid)
        assert ("votes_go", "systeem") == (event.trigger, event.actor_name)
        outcome = event.data["outcome"]
        assert ("consensus", True) == (outcome["rule"], outcome["passed"])
        assert {"gorinchem": "for", "molenlanden": "for", "sliedrecht": "for"} == outcome["votes"]
        assert "Consensus: alle 3 deelnemers stemden voor." == outcome["summary"]
        assert sorted(["college_gorinchem@example.nl", "college_molenlanden@example.nl",
                       "college_sliedrecht@example.nl", "fractie_sliedrecht@example.nl"]) == _recipients(
            app, iid, "coalitie_besluit")


class TestGoNoGo:
    """The colleges decide by the rule chosen when routing; consensus is the default."""

    def test_one_against_under_consensus_is_no_go(self, app, engine, people):
        iid = drive(engine, people, "go_decision")
        _vote(engine, people, iid, "college_sliedrecht", "for")
        _vote(engine, people, iid, "college_gorinchem", "against")
        result = _vote(engine, people, iid, "college_molenlanden", "for")
        assert ("stopped", "votes_no_go") == (result.state, _last_event(app, iid).trigger)
        assert "Geen consensus: niet voor stemden gorinchem." == _last_event(app, iid).data["outcome"]["summary"]

    def test_majority_carries_with_one_against(self, app, engine, people):
        iid = drive(engine, people, "go_decision", rule="majority")
        _vote(engine, people, iid, "college_sliedrecht", "for")
        _vote(engine, people, iid, "college_gorinchem", "against")
        assert "agreements" == _vote(engine, people, iid, "college_molenlanden", "for").state
        outcome = _last_event(app, iid).data["outcome"]
        assert ("majority", 2, 1) == (outcome["rule"], outcome["for"], outcome["against"])

    def test_a_tie_under_majority_is_no_go(self, app, engine, people):
        iid = drive(engine, people, "go_decision", rule="majority")
        _vote(engine, people, iid, "college_sliedrecht", "for")
        _vote(engine, people, iid, "college_gorinchem", "against")
        assert "stopped" == _vote(engine, people, iid, "college_molenlanden", "abstain").state
        assert "Meerderheid: 1 voor, 1 tegen, 1 onthouding; verworpen." == (
            _last_event(app, iid).data["outcome"]["summary"])

    def test_weighted_uses_inhabitants_from_the_reference_data(self, app, engine, people):
        iid = drive(engine, people, "go_decision", rule="weighted")
        _vote(engine, people, iid, "college_sliedrecht", "against")  # 26,000
        _vote(engine, people, iid, "college_gorinchem", "against")  # 38,100
        result = _vote(engine, people, iid, "college_molenlanden", "for")  # 45,400
        outcome = _last_event(app, iid).data["outcome"]
        assert "stopped" == result.state
        assert {"sliedrecht": 26_000, "gorinchem": 38_100, "molenlanden": 45_400} == outcome["raw_weights"]
        assert Fraction(45_400, 109_500) == Fraction(outcome["share_for"])
        assert "41,5%" == outcome["share_for_percent"]

    def test_nothing_moves_on_while_one_college_has_not_voted(self, app, engine, people):
        iid = drive(engine, people, "go_decision")
        _vote(engine, people, iid, "college_sliedrecht", "for")
        _vote(engine, people, iid, "college_gorinchem", "for")
        assert "go_decision" == _state(app, iid)

    def test_a_college_votes_once(self, app, engine, people):
        iid = drive(engine, people, "go_decision")
        _vote(engine, people, iid, "college_gorinchem", "for")
        with pytest.raises(GuardFailed, match="Het college van gorinchem heeft al gestemd"):
            _vote(engine, people, iid, "college_gorinchem", "against")

    def test_only_participating_colleges_vote_and_each_for_itself(self, app, engine, people):
        iid = drive(engine, people, "go_decision")
        with pytest.raises(PermissionDenied):
            _vote(engine, people, iid, "college_dordrecht", "for")
        with pytest.raises(PermissionDenied):
            engine.fire(iid, "cast_vote", actor=people["college_gorinchem"],
                        data={"municipality": "molenlanden", "vote": "for"})

    def test_every_participant_is_asked_the_same_decision_by_one_date(self, app, engine, people):
        iid = drive(engine, people, "go_decision")
        with app.db.read() as s:
            joint = s.get(Initiative, iid).data["joint_decision"]
        assert {"state": "go_decision", "text": PLAN["decision_text"], "date": "2027-03-01",
                "asked": ["gorinchem", "molenlanden", "sliedrecht"], "rule": "consensus"} == joint
        assert ["college_gorinchem@example.nl", "college_molenlanden@example.nl"] == _recipients(
            app, iid, "stem_gevraagd")  # the penvoerder's college put it forward itself


class TestTable:
    """Bespreken met ...: who joins, and the college's own alternatives."""

    def test_declining_leaves_too_few_to_start(self, app, engine, people):
        iid = drive(engine, people, "tabled", coalition="gorinchem")
        engine.fire(iid, "answer_participation", actor=people["college_gorinchem"], data={"choice": "decline"})
        with pytest.raises(GuardFailed, match="minstens twee gemeenten"):
            engine.fire(iid, "start_elaboration", actor=people["college_sliedrecht"])
        assert {"sliedrecht": "joined", "gorinchem": "declined"} == _participants(app, iid)

    def test_a_college_not_invited_cannot_answer_but_may_join(self, app, engine, people):
        iid = drive(engine, people, "tabled")
        with pytest.raises(PermissionDenied):
            engine.fire(iid, "answer_participation", actor=people["college_dordrecht"], data={"choice": "join"})
        engine.fire(iid, "join", actor=people["college_dordrecht"])
        assert "joined" == _participants(app, iid)["dordrecht"]

    def test_unknown_municipalities_are_refused_and_nothing_is_written(self, app, engine, people):
        iid = drive(engine, people, "with_college")
        with pytest.raises(InvalidInput, match="Onbekende gemeente"):
            engine.fire(iid, "route_to_coalition", actor=people["college_sliedrecht"],
                        data={"municipalities": "gorinchem, atlantis"})
        with pytest.raises(InvalidInput, match="minstens één andere gemeente"):
            engine.fire(iid, "route_to_coalition", actor=people["college_sliedrecht"],
                        data={"municipalities": "sliedrecht"})
        assert ("with_college", 2) == (_state(app, iid), len(_events(app, iid)))

    @pytest.mark.parametrize(("trigger", "data", "state"), [
        ("handle_locally", {"reason": "Past beter in het lokale beleid"}, "handled_locally"),
        ("decline", {"reason": "Geen draagvlak in het college"}, "declined_by_college"),
    ])
    def test_the_college_may_handle_it_locally_or_decline(self, app, engine, people, trigger, data, state):
        iid = drive(engine, people, "with_college")
        assert state == engine.fire(iid, trigger, actor=people["college_sliedrecht"], data=data).state

    def test_the_council_may_reject_the_motion(self, app, engine, people):
        iid = drive(engine, people, "submitted")
        assert "rejected_by_council" == engine.fire(iid, "reject_motion", actor=people["griffie_sliedrecht"]).state

    def test_the_faction_may_withdraw_while_discussed(self, app, engine, people):
        iid = drive(engine, people, "tabled")
        assert "withdrawn" == engine.fire(iid, "withdraw", actor=people["fractie_sliedrecht"]).state

    def test_the_penvoerder_may_stop_during_the_vote(self, app, engine, people):
        iid = drive(engine, people, "go_decision")
        with pytest.raises(PermissionDenied):
            engine.fire(iid, "stop", actor=people["college_gorinchem"], data={"reason": "Geen geld"})
        result = engine.fire(iid, "stop", actor=people["college_sliedrecht"], data={"reason": "Geen geld"})
        assert "stopped" == result.state
        with pytest.raises(TransitionNotAllowed):
            _vote(engine, people, iid, "college_gorinchem", "for")


class TestPenvoerder:
    """The college of the penvoerder coordinates; naming another penvoerder hands that over."""

    def test_a_named_penvoerder_takes_over_the_coordination(self, app, engine, people):
        iid = drive(engine, people, "tabled")
        lead = {"lead_alderman": "Wethouder De Boer", "lead_alderman_municipality": "gorinchem",
                "lead_municipality": "gorinchem"}
        with pytest.raises(GuardFailed, match="De penvoerder moet een deelnemende gemeente zijn"):
            engine.fire(iid, "set_accountability", actor=people["college_sliedrecht"], data=lead)
        engine.fire(iid, "answer_participation", actor=people["college_gorinchem"], data={"choice": "join"})
        engine.fire(iid, "set_accountability", actor=people["college_sliedrecht"], data=lead)
        with pytest.raises(PermissionDenied):
            engine.fire(iid, "start_elaboration", actor=people["college_sliedrecht"])
        assert "elaboration" == engine.fire(iid, "start_elaboration", actor=people["college_gorinchem"]).state


class TestAnswersAndLeaving:
    def test_a_college_answers_once_and_then_joins_or_leaves(self, app, engine, people):
        iid = drive(engine, people, "tabled")
        engine.fire(iid, "answer_participation", actor=people["college_gorinchem"], data={"choice": "decline"})
        with pytest.raises(GuardFailed, match="De gemeente gorinchem heeft al geantwoord"):
            engine.fire(iid, "answer_participation", actor=people["college_gorinchem"], data={"choice": "join"})
        engine.fire(iid, "join", actor=people["college_gorinchem"])
        assert "joined" == _participants(app, iid)["gorinchem"]

    def test_the_penvoerder_cannot_leave_until_another_is_named(self, app, engine, people):
        iid = drive(engine, people, "executing")
        leaving = {"reason": "Andere prioriteiten"}
        with pytest.raises(GuardFailed, match="De penvoerder coördineert de coalitie"):
            engine.fire(iid, "leave", actor=people["college_sliedrecht"], data=leaving)
        engine.fire(iid, "set_accountability", actor=people["college_sliedrecht"], data={
            "lead_alderman": "Wethouder De Boer", "lead_alderman_municipality": "gorinchem",
            "lead_municipality": "gorinchem"})
        engine.fire(iid, "leave", actor=people["college_sliedrecht"], data=leaving)
        assert {"sliedrecht": "left", "gorinchem": "joined", "molenlanden": "joined"} == _participants(app, iid)


class TestJointCouncilTracks:
    """The council part is the Groeiagenda's: factions of several municipalities may co-submit."""

    def test_councils_that_adopted_take_part_when_the_college_routes_to_a_coalition(self, app, engine, people):
        iid = drive(engine, people, "submitted")
        engine.fire(iid, "add_co_submitter", actor=people["fractie_sliedrecht"],
                    data={"municipality": "dordrecht", "faction": "cda"})
        for municipality in ("sliedrecht", "dordrecht"):
            engine.fire(iid, "record_council_decision", actor=people[f"griffie_{municipality}"],
                        data={"outcome": "motion"})
        assert "with_college" == _state(app, iid)
        engine.fire(iid, "route_to_coalition", actor=people["college_sliedrecht"],
                    data={"municipalities": "dordrecht,gorinchem"})
        with app.db.read() as s:
            assert ["gorinchem"] == s.get(Initiative, iid).data["coalition"]
        assert {"sliedrecht": "joined", "dordrecht": "joined"} == _participants(app, iid)
        assert "elaboration" == engine.fire(iid, "start_elaboration", actor=people["college_sliedrecht"]).state
