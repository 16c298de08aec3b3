"""The Groeiagenda route through the service layer: every branch, end to end."""

import pytest
from sqlmodel import select

from tests.routes import PLAN, drive, submit
from workflow.errors import GuardFailed, InvalidInput
from workflow.models import Deadline, Event, Initiative, OutboxMessage, Participant


def _state(app, iid):
    with app.db.read() as s:
        return s.get(Initiative, iid).state


def _events(app, iid):
    with app.db.read() as s:
        rows = s.exec(select(Event).where(Event.initiative_id == iid).order_by(Event.id)).all()
        return [(e.trigger, e.from_state, e.to_state, e.actor_name) for e in rows]


def _participants(app, iid):
    with app.db.read() as s:
        rows = s.exec(select(Participant).where(Participant.initiative_id == iid)).all()
        return {p.municipality: p.status for p in rows}


class TestMainPath:
    """A fractie's proposal travels to completion when it fits the frameworks."""

    def test_fits_frameworks_to_completed(self, app, engine, people):
        iid = drive(engine, people, "agreements")
        sec = people["secretaris_wonen"]
        engine.fire(iid, "record_agreements", actor=sec, data={"form": "sok", "date": "2027-01-15"})
        result = engine.fire(iid, "complete", actor=sec, data={"result": "120 woningen"})

        assert "completed" == result.state
        assert "Afgerond" == result.state_label
        expected = [
            ("submit", None, "submitted"),
            ("adopt_motion", "submitted", "with_college"),
            ("route_to_working_group", "with_college", "tabled"),
            ("record_participation", "tabled", "tabled"),
            ("record_participation", "tabled", "tabled"),
            ("start_elaboration", "tabled", "elaboration"),
            ("submit_plan", "elaboration", "go_decision"),
            ("decide_go", "go_decision", "frameworks_check"),
            ("confirm_fits_frameworks", "frameworks_check", "agreements"),
            ("record_agreements", "agreements", "executing"),
            ("complete", "executing", "completed"),
        ]
        assert expected == [e[:3] for e in _events(app, iid)]
        with app.db.read() as s:
            row = s.get(Initiative, iid)
            assert len(expected) == row.version
            assert {"form": "sok", "date": "2027-01-15"} == row.data["agreements"]
            assert PLAN == row.data["plan"]
            assert "120 woningen" == row.data["result"]

    def test_initiating_municipality_takes_part_by_default(self, app, engine, people):
        iid = drive(engine, people, "tabled")
        assert {"sliedrecht": "joined"} == _participants(app, iid)

    def test_commitment_instead_of_motion(self, app, engine, people):
        iid = submit(engine, people)
        engine.fire(iid, "record_commitment", actor=people["griffie_sliedrecht"],
                    data={"date": "2026-11-20", "reference": "T-2026-14"})
        with app.db.read() as s:
            row = s.get(Initiative, iid)
            assert "with_college" == row.state
            assert {"instrument": "commitment", "date": "2026-11-20", "reference": "T-2026-14"} == row.data["council"]

    def test_submission_takes_municipality_and_faction_from_the_role(self, app, engine, people):
        iid = submit(engine, people)
        with app.db.read() as s:
            row = s.get(Initiative, iid)
            assert ("sliedrecht", "cda", "groeiagenda", 1) == (
                row.municipality, row.faction, row.flow, row.flow_version
            )


class TestEarlyEnds:
    def test_council_rejects_the_motion(self, app, engine, people):
        iid = submit(engine, people)
        result = engine.fire(iid, "reject_motion", actor=people["griffie_sliedrecht"])
        assert "rejected_by_council" == result.state

    @pytest.mark.parametrize(("trigger", "state"), [
        ("handle_locally", "handled_locally"),
        ("decline", "declined_by_college"),
    ])
    def test_college_closes_with_a_reason(self, app, engine, people, trigger, state):
        iid = drive(engine, people, "with_college")
        result = engine.fire(iid, trigger, actor=people["college_sliedrecht"],
                             data={"reason": "Past in het lokale woonbeleid."})
        assert state == result.state
        with app.db.read() as s:
            assert "Past in het lokale woonbeleid." == s.get(Initiative, iid).data["closing_reason"]

    @pytest.mark.parametrize("trigger", ["handle_locally", "decline"])
    def test_college_must_give_a_reason(self, app, engine, people, trigger):
        iid = drive(engine, people, "with_college")
        with pytest.raises(InvalidInput) as err:
            engine.fire(iid, trigger, actor=people["college_sliedrecht"])
        assert {"reason": "is verplicht"} == err.value.field_errors
        assert "with_college" == _state(app, iid)

    def test_no_go_stops_with_reason(self, app, engine, people):
        iid = drive(engine, people, "go_decision")
        result = engine.fire(iid, "decide_no_go", actor=people["secretaris_wonen"],
                             data={"reason": "Geen draagvlak."})
        assert "stopped" == result.state

    @pytest.mark.parametrize("state", ["submitted", "with_college", "tabled", "elaboration"])
    def test_faction_withdraws(self, app, engine, people, state):
        iid = drive(engine, people, state)
        result = engine.fire(iid, "withdraw", actor=people["fractie_sliedrecht"],
                             data={"reason": "Ingehaald door de actualiteit."})
        assert "withdrawn" == result.state

    @pytest.mark.parametrize("state", ["go_decision", "frameworks_check", "executing"])
    def test_no_withdrawal_once_decided(self, app, engine, people, state):
        iid = drive(engine, people, state)
        with pytest.raises(Exception) as err:
            engine.fire(iid, "withdraw", actor=people["fractie_sliedrecht"])
        assert "stap_niet_mogelijk" == err.value.code
        assert state == _state(app, iid)

    @pytest.mark.parametrize("state", ["tabled", "elaboration", "executing"])
    def test_secretary_stops_with_reason(self, app, engine, people, state):
        iid = drive(engine, people, state)
        result = engine.fire(iid, "stop", actor=people["secretaris_wonen"],
                             data={"reason": "Werkgroep ziet geen haalbare aanpak."})
        assert "stopped" == result.state


class TestWhoTakesPart:
    def test_elaboration_needs_two_municipalities(self, app, engine, people):
        iid = drive(engine, people, "tabled")
        with pytest.raises(GuardFailed) as err:
            engine.fire(iid, "start_elaboration", actor=people["secretaris_wonen"])
        assert "minstens twee gemeenten" in err.value.message
        assert "tabled" == _state(app, iid)

    def test_declining_municipality_does_not_count(self, app, engine, people):
        iid = drive(engine, people, "tabled")
        sec = people["secretaris_wonen"]
        engine.fire(iid, "record_participation", actor=sec,
                    data={"municipality": "dordrecht", "choice": "decline"})
        with pytest.raises(GuardFailed):
            engine.fire(iid, "start_elaboration", actor=sec)
        engine.fire(iid, "record_participation", actor=sec,
                    data={"municipality": "gorinchem", "choice": "join"})
        assert "elaboration" == engine.fire(iid, "start_elaboration", actor=sec).state
        assert (
            {"sliedrecht": "joined", "dordrecht": "declined", "gorinchem": "joined"}
        ) == _participants(app, iid)

    def test_a_municipality_can_change_its_answer_while_tabled(self, app, engine, people):
        iid = drive(engine, people, "tabled")
        sec = people["secretaris_wonen"]
        engine.fire(iid, "record_participation", actor=sec,
                    data={"municipality": "sliedrecht", "choice": "decline"})
        assert {"sliedrecht": "declined"} == _participants(app, iid)


class TestParticipantDecisions:
    """When a plan does not fit, each participant decides; the engine moves on by itself."""

    def test_two_approvals_lead_to_agreements_and_rejecters_drop_out(self, app, engine, people):
        iid = drive(engine, people, "participant_decisions")
        assert (
            {"sliedrecht": "joined", "dordrecht": "joined", "papendrecht": "joined"}
        ) == _participants(app, iid)
        engine.fire(iid, "record_participant_decision", actor=people["college_dordrecht"],
                    data={"decision": "approve", "date": "2027-02-10"})
        engine.fire(iid, "record_participant_decision", actor=people["college_papendrecht"],
                    data={"decision": "reject", "date": "2027-02-11"})
        assert "participant_decisions" == _state(app, iid)
        result = engine.fire(iid, "record_participant_decision", actor=people["college_sliedrecht"],
                             data={"decision": "approve", "date": "2027-02-12",
                                   "council_decision": "Raadsbesluit 2027-07"})

        assert "agreements" == result.state
        assert 2 == len(result.event_ids)
        events = _events(app, iid)
        assert ("decisions_complete", "participant_decisions", "agreements", "systeem") == events[-1]
        assert (
            {"sliedrecht": "approved", "dordrecht": "approved", "papendrecht": "rejected"}
        ) == _participants(app, iid)
        with app.db.read() as s:
            taking_part = s.exec(select(Participant).where(
                Participant.initiative_id == iid, Participant.status == "approved")).all()
            assert "Raadsbesluit 2027-07" == next(
                p for p in taking_part if p.municipality == "sliedrecht").data["council_decision"]

    def test_fewer_than_two_approvals_stop_the_initiative(self, app, engine, people):
        iid = drive(engine, people, "participant_decisions")
        for who, decision in [("college_dordrecht", "reject"), ("college_papendrecht", "reject"),
                              ("college_sliedrecht", "approve")]:
            result = engine.fire(iid, "record_participant_decision", actor=people[who],
                                 data={"decision": decision, "date": "2027-02-10"})
        assert "stopped" == result.state
        assert (
            ("decisions_insufficient", "participant_decisions", "stopped", "systeem")
        ) == _events(app, iid)[-1]

    def test_a_college_decides_only_once(self, app, engine, people):
        iid = drive(engine, people, "participant_decisions")
        data = {"decision": "approve", "date": "2027-02-10"}
        engine.fire(iid, "record_participant_decision", actor=people["college_dordrecht"], data=data)
        with pytest.raises(GuardFailed) as err:
            engine.fire(iid, "record_participant_decision", actor=people["college_dordrecht"], data=data)
        assert "heeft al besloten" in err.value.message

    def test_shared_decision_date_becomes_the_deadline(self, app, engine, people):
        iid = drive(engine, people, "participant_decisions")
        with app.db.read() as s:
            deadline = s.exec(select(Deadline).where(
                Deadline.initiative_id == iid, Deadline.status == "open")).one()
            assert "participant_decisions" == deadline.state
            assert "2027-03-01" == deadline.due_at.astimezone(_ams()).date().isoformat()


class TestWritePathRecords:
    def test_each_step_writes_one_event_and_bumps_the_version(self, app, engine, people):
        iid = submit(engine, people)
        r = engine.fire(iid, "adopt_motion", actor=people["griffie_sliedrecht"], comment="Motie M12")
        assert 2 == r.version
        with app.db.read() as s:
            last = s.exec(select(Event).where(Event.initiative_id == iid).order_by(Event.id.desc())).first()
            assert ("adopt_motion", "griffie_sliedrecht", "Motie M12", 2) == (
                last.trigger, last.actor_name, last.comment, last.version
            )

    def test_leaving_a_state_closes_its_deadline(self, app, engine, people):
        iid = drive(engine, people, "with_college")
        engine.fire(iid, "route_to_working_group", actor=people["college_sliedrecht"],
                    data={"working_group": "bouwen-en-wonen"})
        with app.db.read() as s:
            rows = s.exec(select(Deadline).where(Deadline.initiative_id == iid).order_by(Deadline.id)).all()
            assert [("with_college", "met"), ("tabled", "open")] == [(d.state, d.status) for d in rows]

    def test_notifications_are_rendered_into_the_outbox(self, app, engine, people):
        iid = drive(engine, people, "with_college")
        with app.db.read() as s:
            rows = s.exec(select(OutboxMessage).where(OutboxMessage.initiative_id == iid)).all()
            by_template = sorted((m.template, m.recipient) for m in rows)
        # The submitting faction member is the actor of `submit`: not mailed about her own step.
        assert [
            ("ingediend", "griffie_sliedrecht@example.nl"),
            ("naar_college", "college_sliedrecht@example.nl"),
            ("status_gewijzigd", "fractie_sliedrecht@example.nl"),
        ] == by_template


def _ams():
    from zoneinfo import ZoneInfo
    return ZoneInfo("Europe/Amsterdam")
