"""Due dates count the way a council does: working days skip public holidays and recesses."""

from datetime import UTC, date, datetime

import time_machine
from sqlmodel import select

from tests.routes import drive
from workflow.calendar import Period, WorkCalendar, end_of_day, morning_of
from workflow.definition import Days, Weeks, WorkingDays
from workflow.models import Deadline, Recess, Reminder

SUMMER_2026 = Period(date(2026, 7, 11), date(2026, 8, 23))  # zomerreces, as a council sets it


class TestWorkingDays:
    def test_koningsdag_is_no_working_day(self):
        calendar = WorkCalendar()
        # Friday 24 April 2026 + 1 working day: Monday 27 April is Koningsdag.
        assert date(2026, 4, 28) == calendar.add(date(2026, 4, 24), WorkingDays(1))
        # In 2025 the 27th was a Sunday, so Koningsdag moved to Saturday the 26th.
        assert calendar.is_holiday(date(2025, 4, 26))
        assert not calendar.is_holiday(date(2025, 4, 27))

    def test_christmas_and_new_year_are_skipped(self):
        calendar = WorkCalendar()
        # Thursday 24 December 2026: Friday and the weekend pass, Monday 28th is the next.
        assert date(2026, 12, 28) == calendar.add(date(2026, 12, 24), WorkingDays(1))
        # Five working days from 24 December: 28-31 December, then Monday 4 January (New Year, weekend).
        assert date(2027, 1, 4) == calendar.add(date(2026, 12, 24), WorkingDays(5))

    def test_a_summer_recess_is_skipped_whole(self):
        calendar = WorkCalendar([SUMMER_2026])
        assert date(2026, 8, 24) == calendar.add(date(2026, 7, 10), WorkingDays(1))
        assert date(2026, 8, 26) == calendar.add(date(2026, 7, 9), WorkingDays(4))

    def test_calendar_terms_that_end_in_a_recess_move_to_the_day_after_it(self):
        calendar = WorkCalendar([SUMMER_2026])
        assert date(2026, 8, 24) == calendar.add(date(2026, 6, 1), Weeks(8))  # 27 July is in recess
        assert date(2026, 6, 11) == calendar.add(date(2026, 6, 1), Days(10))  # outside: unchanged
        assert date(2026, 8, 24) == calendar.out_of_recess(date(2026, 8, 1))

    def test_deadlines_end_at_midnight_and_remind_at_nine_dutch_time(self):
        assert datetime(2026, 5, 4, 21, 59, 59, tzinfo=UTC) == end_of_day(date(2026, 5, 4))  # summer time
        assert datetime(2026, 12, 28, 22, 59, 59, tzinfo=UTC) == end_of_day(date(2026, 12, 28))
        assert datetime(2026, 12, 14, 8, 0, tzinfo=UTC) == morning_of(date(2026, 12, 14))


class TestDeadlinesOfTheFlow:
    """The write path uses the recesses kept in the reference data (editable rows)."""

    def _add_recess(self, app, period, name="Zomerreces 2026"):
        with app.db.write() as session:
            session.add(Recess(name=name, start=period.start, end=period.end))

    def test_college_term_ending_in_the_summer_recess_moves_past_it(self, app, people):
        self._add_recess(app, SUMMER_2026)
        with time_machine.travel(datetime(2026, 6, 1, 10, 0, tzinfo=UTC), tick=False):
            iid = drive(app.engine, people, "with_college")
        with app.db.read() as session:
            deadline = session.exec(select(Deadline).where(Deadline.initiative_id == iid)).one()
            reminders = session.exec(
                select(Reminder.remind_at).where(Reminder.deadline_id == deadline.id).order_by(Reminder.remind_at)
            ).all()
        assert end_of_day(date(2026, 8, 24)) == deadline.due_at.replace(tzinfo=UTC)
        # Reminders count back from the moved date: 14 and 3 days before it.
        assert [morning_of(date(2026, 8, 10)), morning_of(date(2026, 8, 21))] == [
            r.replace(tzinfo=UTC) for r in reminders
        ]

    def test_a_shared_decision_date_inside_a_recess_moves_past_it(self, app, people):
        christmas_recess = Period(date(2026, 12, 19), date(2027, 1, 3))
        self._add_recess(app, christmas_recess, "Kerstreces")
        with time_machine.travel(datetime(2026, 9, 1, 10, 0, tzinfo=UTC), tick=False):
            iid = drive(app.engine, people, "frameworks_check")
            app.engine.fire(
                iid, "require_participant_decisions", actor=people["secretaris_wonen"],
                data={"date": "2026-12-24"},
            )
        with app.db.read() as session:
            deadline = session.exec(
                select(Deadline).where(Deadline.initiative_id == iid, Deadline.state == "participant_decisions")
            ).one()
        assert end_of_day(date(2027, 1, 4)) == deadline.due_at.replace(tzinfo=UTC)

    def test_an_edited_recess_applies_to_deadlines_set_after_the_edit(self, app, people):
        self._add_recess(app, Period(date(2026, 7, 25), date(2026, 7, 30)))
        with app.db.write() as session:
            recess = session.exec(select(Recess)).one()
            recess.end = date(2026, 8, 9)
            session.add(recess)
        with time_machine.travel(datetime(2026, 6, 1, 10, 0, tzinfo=UTC), tick=False):
            iid = drive(app.engine, people, "with_college")
        with app.db.read() as session:
            deadline = session.exec(select(Deadline).where(Deadline.initiative_id == iid)).one()
        assert end_of_day(date(2026, 8, 10)) == deadline.due_at.replace(tzinfo=UTC)


def test_a_calendar_term_ending_on_koningsdag_moves_to_the_next_working_day():
    """Algemene termijnenwet: a term ending on a holiday or weekend ends on the next working day."""
    from datetime import date

    from workflow.calendar import WorkCalendar
    from workflow.definition import Weeks

    # 2 March 2026 + 8 weeks = Monday 27 April 2026, Koningsdag.
    assert date(2026, 4, 28) == WorkCalendar().add(date(2026, 3, 2), Weeks(8))
    # 1 March 2026 + 1 week = Sunday 8 March: moved to Monday.
    assert date(2026, 3, 9) == WorkCalendar().add(date(2026, 3, 1), Weeks(1))
