"""The sweep sends reminders at their moments and escalations after the date, once; extensions are audited."""

import threading
from datetime import UTC, date, datetime, timedelta

import icalendar
import pytest
import time_machine
from sqlalchemy import update
from sqlmodel import col, select

import workflow.deadlines as deadlines
import workflow.outbox_rows as outbox_rows
from tests.mail_fixtures import Apps
from tests.routes import drive
from workflow.calendar import end_of_day, morning_of
from workflow.deadline_listing import list_deadlines, pending_reminders
from workflow.deadlines import sweep
from workflow.errors import InvalidInput, PermissionDenied, StaleVersion, TransitionNotAllowed
from workflow.models import Deadline, Event, Initiative, Reminder
from workflow.outbox import freeze, thaw
from workflow.testing import rendered_outbox

START = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)  # Monday; the college's 8 weeks end on Monday 4 May
DUE = date(2026, 5, 4)
FIRST_REMINDER = morning_of(date(2026, 4, 20))  # 14 days before, 09:00 Dutch time
SECOND_REMINDER = morning_of(date(2026, 5, 1))  # 3 days before
AFTER_DUE = end_of_day(DUE) + timedelta(seconds=1)


def _at(moment):
    return time_machine.travel(moment, tick=False)


def _sweep(app, moment, worker="test"):
    with _at(moment):
        return sweep(app.engine, worker=worker)


def _messages(app, template=None):
    """Outbox rows as the sender will render them."""
    return rendered_outbox(app, template)


def _deadline(app, iid, state="with_college"):
    with app.db.read() as session:
        return session.exec(
            select(Deadline).where(Deadline.initiative_id == iid, Deadline.state == state)
        ).one()


def _with_college(app, people, title="Starterswoningen"):
    with _at(START):
        return drive(app.engine, people, "with_college", title=title)


class TestReminders:
    def test_each_reminder_fires_at_its_moment_and_once(self, app, people):
        iid = _with_college(app, people)

        assert 0 == _sweep(app, FIRST_REMINDER - timedelta(seconds=1)).reminders
        first = _sweep(app, FIRST_REMINDER)
        assert (1, 1) == (first.reminders, first.messages)
        assert 0 == _sweep(app, FIRST_REMINDER + timedelta(hours=1)).messages
        assert 1 == _sweep(app, SECOND_REMINDER).reminders

        sent = _messages(app, "herinnering")
        assert ["college_sliedrecht@example.nl"] * 2 == [m.recipient for m in sent]
        assert [iid, iid] == [m.initiative_id for m in sent]
        assert "Herinnering: Reactie van het college uiterlijk 4 mei 2026 – Starterswoningen" == sent[0].subject
        assert "U heeft nog 14 dagen." in sent[0].body_text
        assert "U heeft nog 3 dagen." in sent[1].body_text
        assert "vraag dan de griffie van de gemeente en het college van de gemeente om de termijn" in (
            " ".join(sent[0].body_text.split())
        )
        assert [] == [a for m in sent for a in m.attachments]  # the calendar item came with the announcement
        assert [] == pending_reminders(app.db, _deadline(app, iid).id)

    def test_reminders_of_the_working_group_go_only_to_colleges_that_did_not_answer(self, app, people):
        with _at(START):
            iid = drive(app.engine, people, "tabled")
            app.engine.fire(
                iid, "record_participation", actor=people["secretaris_wonen"],
                data={"municipality": "dordrecht", "choice": "decline"},
            )
        due = _deadline(app, iid, "tabled").due_at.replace(tzinfo=UTC)
        _sweep(app, due - timedelta(days=14))
        # Sliedrecht joined when it routed the proposal, Dordrecht answered; Gorinchem is no member.
        assert {"college_papendrecht@example.nl", "college_zwijndrecht@example.nl"} == {
            m.recipient for m in _messages(app, "herinnering")
        }

    def test_shared_date_reminders_go_only_to_participants_that_did_not_decide(self, app, people):
        with _at(START):
            iid = drive(app.engine, people, "participant_decisions")  # shared date 1 March 2027
            app.engine.fire(
                iid, "record_participant_decision", actor=people["college_dordrecht"],
                data={"decision": "approve", "date": "2026-03-09"},
            )
        _sweep(app, morning_of(date(2027, 2, 15)))
        assert {"college_papendrecht@example.nl", "college_sliedrecht@example.nl"} == {
            m.recipient for m in _messages(app, "herinnering")
        }

    def test_leaving_the_state_cancels_its_reminders(self, app, people):
        iid = _with_college(app, people)
        with _at(START + timedelta(days=1)):
            app.engine.fire(iid, "route_to_working_group", actor=people["college_sliedrecht"],
                            data={"working_group": "bouwen-en-wonen"})
        deadline = _deadline(app, iid)
        assert "met" == deadline.status
        assert [] == pending_reminders(app.db, deadline.id)
        _sweep(app, AFTER_DUE)
        with app.db.read() as session:
            reminders = session.exec(select(Reminder).where(Reminder.deadline_id == deadline.id)).all()
        assert [(None, True), (None, True)] == [(r.sent_at, r.cancelled) for r in reminders]
        subjects = [m.subject for m in _messages(app) if m.template in ("herinnering", "escalatie")]
        assert subjects  # the working group's own term ran meanwhile
        assert [] == [s for s in subjects if "Reactie van het college" in s]


class TestCatchUp:
    """A worker that was down handles what it missed once, in its first sweep."""

    def test_missed_reminders_of_one_deadline_become_one_message(self, app, people):
        iids = [_with_college(app, people, title=f"Voorstel {n}") for n in range(3)]
        result = _sweep(app, SECOND_REMINDER + timedelta(hours=2))  # down since before the first
        assert (6, 3) == (result.reminders, result.messages)
        assert sorted(iids) == sorted(m.initiative_id for m in _messages(app, "herinnering"))
        assert 0 == _sweep(app, SECOND_REMINDER + timedelta(hours=3)).messages
        with app.db.read() as session:
            sent = session.exec(select(Reminder).where(Reminder.sent_at != None)).all()  # noqa: E711
        assert 6 == len(sent)

    def test_after_the_date_only_the_escalation_goes_out(self, app, people):
        iid = _with_college(app, people)
        result = _sweep(app, AFTER_DUE + timedelta(days=10))  # down for weeks
        assert (0, 2, 1) == (result.reminders, result.superseded, result.escalations)
        assert [] == _messages(app, "herinnering")
        escalated = _messages(app, "escalatie")
        assert {"griffie_sliedrecht@example.nl", "fractie_sliedrecht@example.nl"} == {
            m.recipient for m in escalated
        }
        [overdue] = _messages(app, "termijn_verstreken")
        assert "college_sliedrecht@example.nl" == overdue.recipient
        assert "is op 4 mei 2026 verstreken" in overdue.body_text
        deadline = _deadline(app, iid)
        assert ("escalated", AFTER_DUE + timedelta(days=10)) == (
            deadline.status, deadline.escalated_at.replace(tzinfo=UTC)
        )
        assert 0 == _sweep(app, AFTER_DUE + timedelta(days=11)).messages


class TestEscalation:
    def test_passing_the_date_escalates_once_and_decides_nothing(self, app, people):
        iid = _with_college(app, people)
        _sweep(app, FIRST_REMINDER)
        _sweep(app, SECOND_REMINDER)
        assert 0 == _sweep(app, end_of_day(DUE)).escalations  # the last second still counts
        result = _sweep(app, AFTER_DUE)
        assert (1, 3) == (result.escalations, result.messages)
        with app.db.read() as session:
            row = session.get(Initiative, iid)
        assert ("with_college", 2) == (row.state, row.version)  # no automatic decision
        [escalation] = [m for m in _messages(app, "escalatie") if m.recipient.startswith("griffie")]
        assert "Termijn verstreken, uw aandacht gevraagd: Reactie van het college – Starterswoningen" == (
            escalation.subject
        )
        assert 0 == _sweep(app, AFTER_DUE + timedelta(days=1)).escalations

    def test_an_escalated_deadline_is_closed_when_the_state_is_left(self, app, people):
        iid = _with_college(app, people)
        _sweep(app, AFTER_DUE)
        with _at(AFTER_DUE + timedelta(days=2)):
            app.engine.fire(iid, "decline", actor=people["college_sliedrecht"],
                            data={"reason": "Past niet in het beleid."})
        deadline = _deadline(app, iid)
        assert ("met", AFTER_DUE) == (deadline.status, deadline.escalated_at.replace(tzinfo=UTC))
        with _at(AFTER_DUE + timedelta(days=2)):
            assert [] == list_deadlines(app.engine)


class TestListing:
    def test_open_and_overdue_deadlines(self, app, people):
        first = _with_college(app, people, title="Eerste")
        with _at(START + timedelta(days=7)):
            second = drive(app.engine, people, "with_college", title="Tweede")
        with _at(AFTER_DUE):
            listed = list_deadlines(app.engine)
            overdue = list_deadlines(app.engine, overdue=True)
        assert [(first, True, -1), (second, False, 6)] == [
            (d["initiative_id"], d["overdue"], d["days_left"]) for d in listed
        ]
        assert [first] == [d["initiative_id"] for d in overdue]
        assert ("Reactie van het college", DUE, "Bij het college") == (
            listed[0]["label"], listed[0]["due_date"], listed[0]["state_label"]
        )


class TestExtension:
    """Extending is audited, permitted per policy, moves the reminders and notifies with the calendar item."""

    def test_the_griffie_extends_with_a_reason(self, app, people):
        iid = _with_college(app, people)
        _sweep(app, FIRST_REMINDER)
        before = len(_messages(app))
        with _at(FIRST_REMINDER + timedelta(hours=3)):
            result = app.engine.extend_deadline(
                iid, actor=people["griffie_sliedrecht"], until=date(2026, 6, 1),
                reason="Het college wacht op het advies van de regio.", expected_version=2,
            )
        assert (3, 2) == (result.version, result.messages)
        deadline = _deadline(app, iid)
        assert ("open", end_of_day(date(2026, 6, 1))) == (deadline.status, deadline.due_at.replace(tzinfo=UTC))
        with app.db.read() as session:
            event = session.exec(select(Event).where(Event.trigger == "extend_deadline")).one()
        assert (3, "Het college wacht op het advies van de regio.", "with_college", "with_college") == (
            event.version, event.comment, event.from_state, event.to_state
        )
        assert {"deadline_id": deadline.id, "label": "Reactie van het college", "old_due": "2026-05-04",
                "new_due": "2026-06-01", "requested": "2026-06-01"} == event.data
        assert [morning_of(date(2026, 5, 18)), morning_of(date(2026, 5, 29))] == pending_reminders(
            app.db, deadline.id
        )

        told = _messages(app)[before:]
        assert {("termijn_verlengd", "college_sliedrecht@example.nl"),
                ("termijn_verlengd", "fractie_sliedrecht@example.nl")} == {(m.template, m.recipient) for m in told}
        assert "Termijn verlengd tot 1 juni 2026: Starterswoningen" == told[0].subject
        assert "Het college wacht op het advies van de regio." in told[0].body_text
        [item] = icalendar.Calendar.from_ical(told[0].attachments[0]["content"]).walk("VEVENT")
        [announced] = [m for m in _messages(app, "naar_college")]
        [first_item] = icalendar.Calendar.from_ical(announced.attachments[0]["content"]).walk("VEVENT")
        assert (str(first_item["UID"]), 1, date(2026, 6, 1)) == (
            str(item["UID"]), item.decoded("SEQUENCE"), item.decoded("DTSTART")
        )

        # The old second reminder (1 May) is gone; the new ones fire instead.
        assert 0 == _sweep(app, SECOND_REMINDER).reminders
        assert 1 == _sweep(app, morning_of(date(2026, 5, 18))).reminders
        assert 0 == _sweep(app, AFTER_DUE).escalations

    def test_an_escalated_deadline_can_be_extended_and_runs_again(self, app, people):
        iid = _with_college(app, people)
        _sweep(app, AFTER_DUE)
        with _at(AFTER_DUE + timedelta(days=1)):
            app.engine.extend_deadline(iid, actor=people["college_sliedrecht"], until=date(2026, 6, 15),
                                       reason="Uitstel gemeld aan de raad.")
        assert "open" == _deadline(app, iid).status
        assert 1 == _sweep(app, end_of_day(date(2026, 6, 15)) + timedelta(seconds=1)).escalations

    def test_a_new_date_in_a_recess_moves_past_it(self, app, people):
        from workflow.models import Recess

        with app.db.write() as session:
            session.add(Recess(name="Meireces", start=date(2026, 5, 25), end=date(2026, 6, 5)))
        iid = _with_college(app, people)
        with _at(START + timedelta(days=1)):
            app.engine.extend_deadline(iid, actor=people["griffie_sliedrecht"], until=date(2026, 6, 1),
                                       reason="Meer tijd nodig.")
        assert end_of_day(date(2026, 6, 6)) == _deadline(app, iid).due_at.replace(tzinfo=UTC)

    @pytest.mark.parametrize(
        ("who", "until", "reason", "error"),
        [
            ("fractie_sliedrecht", date(2026, 6, 1), "Graag later.", PermissionDenied),
            ("griffie_dordrecht", date(2026, 6, 1), "Graag later.", PermissionDenied),
            ("griffie_sliedrecht", date(2026, 6, 1), "  ", InvalidInput),
            ("griffie_sliedrecht", date(2026, 5, 4), "Zelfde dag.", InvalidInput),
            ("griffie_sliedrecht", date(2026, 4, 1), "Eerder.", InvalidInput),
        ],
    )
    def test_refusals_change_nothing(self, app, people, who, until, reason, error):
        iid = _with_college(app, people)
        before = len(_messages(app))
        with _at(START + timedelta(days=1)), pytest.raises(error) as caught:
            app.engine.extend_deadline(iid, actor=people[who], until=until, reason=reason)
        assert caught.value.message  # a Dutch sentence for the person
        with app.db.read() as session:
            assert 2 == session.get(Initiative, iid).version
            assert [] == session.exec(select(Event).where(Event.trigger == "extend_deadline")).all()
        assert end_of_day(DUE) == _deadline(app, iid).due_at.replace(tzinfo=UTC)
        assert before == len(_messages(app))

    def test_a_stale_version_or_a_state_without_deadline_is_refused(self, app, people):
        iid = _with_college(app, people)
        with pytest.raises(StaleVersion):
            app.engine.extend_deadline(iid, actor=people["griffie_sliedrecht"], until=date(2026, 6, 1),
                                       reason="Later.", expected_version=1)
        with _at(START):
            submitted = drive(app.engine, people, "submitted")
        with pytest.raises(TransitionNotAllowed):
            app.engine.extend_deadline(submitted, actor=people["griffie_sliedrecht"],
                                       until=date(2026, 6, 1), reason="Later.")


class TestConcurrentSweeps:
    """Several sweeps at once (each with its own connections) send every reminder exactly once."""

    def test_parallel_sweeps_never_send_twice(self, app, people, tmp_path):
        iids = [_with_college(app, people, title=f"Voorstel {n}") for n in range(12)]
        factory = Apps(app, tmp_path)
        others = [factory() for _ in range(3)]
        barrier = threading.Barrier(len(others))
        results = []

        def run(other, n):
            barrier.wait()
            with _at(FIRST_REMINDER):
                results.append(sweep(other.engine, worker=f"w{n}", batch_size=2))

        threads = [threading.Thread(target=run, args=(o, n)) for n, o in enumerate(others)]
        try:
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=60)
        finally:
            factory.close()
        assert len(iids) == sum(r.reminders for r in results) + _sweep(app, FIRST_REMINDER).reminders
        reminders = _messages(app, "herinnering")
        assert sorted(iids) == sorted(m.initiative_id for m in reminders)


class TestClaimEdges:
    """What a claim finds besides due work: rows left behind, passed dates, odd text."""

    def test_a_deadline_its_state_left_is_cancelled_not_escalated(self, app, people):
        iid = _with_college(app, people)
        with app.db.write() as session:  # a deadline the engine did not close (it always does)
            session.exec(update(Initiative).where(Initiative.id == iid).values(state="submitted"))
        result = _sweep(app, AFTER_DUE)
        assert (0, 0, 2) == (result.escalations, result.messages, result.superseded)
        deadline = _deadline(app, iid)
        assert ("cancelled", AFTER_DUE) == (deadline.status, deadline.closed_at.replace(tzinfo=UTC))
        assert [] == pending_reminders(app.db, deadline.id)

    def test_a_due_reminder_of_a_closed_deadline_is_cancelled_unsent(self, app, people):
        iid = _with_college(app, people)
        deadline_id = _deadline(app, iid).id
        with app.db.write() as session:  # closed, but its reminders left in line
            session.exec(update(Deadline).where(Deadline.id == deadline_id).values(status="met"))
        result = _sweep(app, FIRST_REMINDER)
        assert (0, 0) == (result.reminders, result.messages)
        with app.db.read() as session:
            reminders = session.exec(select(Reminder).where(Reminder.deadline_id == deadline_id)
                                     .order_by(Reminder.remind_at)).all()
        assert [(True, None), (False, None)] == [(r.cancelled, r.sent_at) for r in reminders]

    def test_due_reminders_of_a_passed_date_beyond_the_batch_are_superseded(self, app, people):
        iids = [_with_college(app, people, title=f"Voorstel {n}") for n in range(2)]
        with _at(AFTER_DUE):
            result = sweep(app.engine, worker="test", batch_size=1)
        assert (0, 4, 2, 6) == result.astuple()
        assert [] == _messages(app, "herinnering")
        assert sorted(iids) == sorted({m.initiative_id for m in _messages(app, "escalatie")})
        assert all(pending_reminders(app.db, _deadline(app, i).id) == [] for i in iids)

    def test_tabs_newlines_and_backslashes_reach_the_mail_unchanged(self, app, people):
        iid = _with_college(app, people)
        summary = 'Tab\there, regel\r\nnieuw \\ "aanhalingstekens" \\N ñ'
        with app.db.write() as session:  # the form folds such text; older rows may hold it
            session.exec(update(Initiative).where(Initiative.id == iid).values(summary=summary))
        assert 1 == _sweep(app, FIRST_REMINDER).messages
        [message] = _messages(app, "herinnering")
        assert (iid, summary) == (message.initiative_id, thaw(message.context)["initiative"]["summary"])
        assert "college_sliedrecht@example.nl" == message.recipient

    def test_a_failure_while_writing_the_messages_leaves_nothing_half_done(self, app, people,
                                                                          monkeypatch):
        iids = [_with_college(app, people, title=f"Voorstel {n}") for n in range(8)]
        made = []

        def failing(context):
            made.append(context)
            if len(made) == 6:
                raise RuntimeError("kapot")
            return freeze(context)

        monkeypatch.setattr(deadlines, "freeze", failing)
        monkeypatch.setattr(outbox_rows, "_COPY_CHUNK", 1)  # on PostgreSQL: the COPY is under way
        with pytest.raises(RuntimeError, match="kapot"):
            _sweep(app, FIRST_REMINDER)
        assert [] == _messages(app, "herinnering")
        assert all(2 == len(pending_reminders(app.db, _deadline(app, i).id)) for i in iids)
        monkeypatch.undo()
        result = _sweep(app, FIRST_REMINDER)
        assert (8, 8) == (result.reminders, result.messages)

    def test_recipients_asked_for_halfway_get_their_messages(self, app, people, monkeypatch):
        iids = [_with_college(app, people, title=f"Voorstel {n}") for n in range(4)]
        with app.db.write() as session:  # a second college, first asked for after other rows
            session.exec(update(Initiative).where(col(Initiative.id).in_(iids[1::2]))
                         .values(municipality="dordrecht"))
        monkeypatch.setattr(outbox_rows, "_COPY_CHUNK", 1)  # on PostgreSQL: the COPY is under way
        assert 4 == _sweep(app, FIRST_REMINDER).messages
        expected = {i: f"college_{'dordrecht' if i in iids[1::2] else 'sliedrecht'}@example.nl"
                    for i in iids}
        assert expected == {m.initiative_id: m.recipient for m in _messages(app, "herinnering")}
