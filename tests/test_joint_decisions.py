"""One concept decision, one shared date: the overview per municipality, reminders to the undecided.

In both routes one municipality never answers: only it is reminded, the overview marks it
overdue once the date has passed, and the initiative waits for it (nothing moves on by itself).
"""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from tests import coalition_routes, routes
from workflow import joint
from workflow.calendar import end_of_day, morning_of
from workflow.deadlines import sweep
from workflow.errors import NotFound
from workflow.models import Initiative
from workflow.testing import rendered_outbox

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
SHARED_DATE = date(2027, 3, 1)
AFTER_DUE = end_of_day(SHARED_DATE) + timedelta(days=1)
CONCEPT = "Het college stemt in met het gezamenlijke woningbouwprogramma 2027."


def _at(moment):
    return time_machine.travel(moment, tick=False)


def _recipients(app, template):
    return sorted(m.recipient for m in rendered_outbox(app, template))


def _state(app, iid):
    with app.db.read() as session:
        return session.get(Initiative, iid).state


@pytest.fixture
def groeiagenda_waiting(app, people):
    """Route A in participant_decisions; Dordrecht and Sliedrecht decide, Papendrecht never."""
    engine = app.engine
    with _at(START):
        iid = routes.drive(engine, people, "frameworks_check")
        engine.fire(iid, "require_participant_decisions", actor=people["secretaris_wonen"],
                    data={"date": SHARED_DATE.isoformat(), "decision_text": CONCEPT})
        engine.fire(iid, "record_participant_decision", actor=people["college_dordrecht"],
                    data={"decision": "approve", "date": "2026-11-20"})
        engine.fire(iid, "record_participant_decision", actor=people["college_sliedrecht"],
                    data={"decision": "reject", "date": "2026-11-21"})
    return iid


@pytest.fixture
def coalition_waiting(app, people):
    """Route B in go_decision; Sliedrecht and Molenlanden vote, Gorinchem never."""
    engine = app.engine
    with _at(START):
        iid = coalition_routes.drive(engine, people, "go_decision")
        engine.fire(iid, "cast_vote", actor=people["college_sliedrecht"], data={"vote": "for"})
        engine.fire(iid, "cast_vote", actor=people["college_molenlanden"],
                    data={"vote": "against", "date": "2026-11-25"})
    return iid


class TestGroeiagenda:
    def test_the_overview_shows_asked_decided_and_the_concept(self, app, groeiagenda_waiting):
        found = joint.overview(app.engine, groeiagenda_waiting, now=START)
        assert (CONCEPT, SHARED_DATE, True) == (found.text, found.due, found.open)
        assert [
            ("dordrecht", "for", "2026-11-20", False),
            ("papendrecht", None, None, False),
            ("sliedrecht", "against", "2026-11-21", False),
        ] == [(a.municipality, a.decision, a.decided_on, a.overdue) for a in found.answers]
        assert {"asked": 3, "for": 1, "against": 1, "abstain": 0, "undecided": 1, "overdue": 0} == found.counts()

    def test_reminders_go_only_to_the_one_that_did_not_decide(self, app, groeiagenda_waiting):
        with _at(morning_of(SHARED_DATE - timedelta(days=14))):
            sweep(app.engine, worker="test")
        with _at(morning_of(SHARED_DATE - timedelta(days=3))):
            sweep(app.engine, worker="test")
        assert ["college_papendrecht@example.nl"] * 2 == _recipients(app, "herinnering")

    def test_after_the_date_it_is_overdue_escalated_and_still_waiting(self, app, groeiagenda_waiting):
        with _at(AFTER_DUE):
            sweep(app.engine, worker="test")
            found = joint.overview(app.engine, groeiagenda_waiting)
        assert (["papendrecht"], ["papendrecht"]) == (found.undecided, found.overdue)
        assert ["college_papendrecht@example.nl"] == _recipients(app, "termijn_verstreken")
        assert ["secretaris_wonen@example.nl"] == _recipients(app, "escalatie")
        assert "participant_decisions" == _state(app, groeiagenda_waiting)

    def test_the_last_decision_moves_it_on_and_closes_the_question(self, app, people, groeiagenda_waiting):
        result = app.engine.fire(groeiagenda_waiting, "record_participant_decision",
                                 actor=people["college_papendrecht"],
                                 data={"decision": "approve", "date": "2027-02-01"})
        found = joint.overview(app.engine, groeiagenda_waiting)
        assert ("agreements", False, []) == (result.state, found.open, found.overdue)


class TestCoalition:
    def test_reminders_go_only_to_the_college_that_did_not_vote(self, app, coalition_waiting):
        with _at(morning_of(SHARED_DATE - timedelta(days=3))):
            sweep(app.engine, worker="test")
        assert ["college_gorinchem@example.nl"] == _recipients(app, "herinnering")

    def test_after_the_date_the_overview_marks_it_overdue_and_nothing_moves(self, app, coalition_waiting):
        with _at(AFTER_DUE):
            sweep(app.engine, worker="test")
            found = joint.overview(app.engine, coalition_waiting)
        assert [
            ("gorinchem", None, True),
            ("molenlanden", "against", False),
            ("sliedrecht", "for", False),
        ] == [(a.municipality, a.decision, a.overdue) for a in found.answers]
        assert ("consensus", None) == (found.rule, found.outcome)
        assert ["college_sliedrecht@example.nl"] == _recipients(app, "escalatie")
        assert "go_decision" == _state(app, coalition_waiting)

    def test_the_cli_overview_names_the_late_college(self, app, run, coalition_waiting):
        with _at(AFTER_DUE):
            code, out, _err = run("decisions", coalition_waiting)
        assert 0 == code
        lines = out.splitlines()
        assert "  Conceptbesluit: " + coalition_routes.PLAN["decision_text"] == lines[1]
        assert "  Uiterlijk:      01-03-2027" == lines[2]
        assert "  Besluitregel:   consensus (iedereen voor)" == lines[3]
        assert ("  Gevraagd: 3; voor: 1, tegen: 1, onthouding: 0, nog niet besloten: 1, te laat: 1."
                == lines[4])
        assert "    - Gorinchem                nog niet besloten  TE LAAT" == lines[5]
        assert "    - Molenlanden              tegen op 2026-11-25" == lines[6]

    def test_the_cli_overview_as_json(self, app, run, coalition_waiting):
        import json

        code, out, _err = run("decisions", coalition_waiting, "--json")
        body = json.loads(out)
        assert (0, "2027-03-01", 1) == (code, body["due"], body["counts"]["undecided"])


def test_no_joint_decision_yet_is_not_found(app, people, run):
    iid = routes.drive(app.engine, people, "tabled")
    with pytest.raises(NotFound, match="geen gezamenlijk besluit gevraagd"):
        joint.overview(app.engine, iid)
    code, _out, err = run("decisions", iid)
    assert (6, f"Fout: Bij initiatief {iid} is (nog) geen gezamenlijk besluit gevraagd.\n") == (code, err)


class TestTheQuestionArrives:
    """Everyone is asked the same concept decision by the same date (read from delivered mail)."""

    @pytest.fixture
    def sender(self, apps, smtp):
        return apps(INITIATIEF_SMTP_URL=smtp.url, INITIATIEF_MAIL_RETRY_SECONDS="0")

    def _mail(self, sender, smtp, template_subject):
        import asyncio

        from notifications.delivery import drain

        sent = asyncio.run(drain(sender.db, sender.settings, worker="test")).sent
        smtp.recorder.wait_for(sent)
        return {
            m["To"]: " ".join(m.get_body(("plain",)).get_content().split())
            for m in smtp.recorder.messages() if m["Subject"].startswith(template_subject)
        }

    def test_in_the_groeiagenda(self, sender, smtp, people):
        with _at(START):
            iid = routes.drive(sender.engine, people, "frameworks_check")
            sender.engine.fire(iid, "require_participant_decisions", actor=people["secretaris_wonen"],
                               data={"date": SHARED_DATE.isoformat(), "decision_text": CONCEPT})
        mail = self._mail(sender, smtp, "Besluit van uw gemeente gevraagd")
        assert ["college_dordrecht@example.nl", "college_papendrecht@example.nl",
                "college_sliedrecht@example.nl"] == sorted(mail)
        for text in mail.values():
            assert f"Hetzelfde conceptbesluit voor alle deelnemers: {CONCEPT}" in text
            assert "uiterlijk 1 maart 2027" in text

    def test_in_the_coalition(self, sender, smtp, people):
        with _at(START):
            coalition_routes.drive(sender.engine, people, "go_decision")
        mail = self._mail(sender, smtp, "Besluit go/no-go gevraagd van uw college")
        assert ["college_gorinchem@example.nl", "college_molenlanden@example.nl"] == sorted(mail)
        for text in mail.values():
            assert f"Conceptbesluit: {coalition_routes.PLAN['decision_text']}" in text
            assert "uiterlijk 1 maart 2027" in text
