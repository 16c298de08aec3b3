"""Due dates: calendar days, working days (skipping public holidays and recesses), end of day."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from workflow.definition import Term

if TYPE_CHECKING:
    import holidays

LOCAL = ZoneInfo("Europe/Amsterdam")
REMINDER_TIME = time(9, 0)
END_OF_DAY = time(23, 59, 59)


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end


class WorkCalendar:
    """Counts terms the way a Dutch council does; `recesses` come from the reference data."""

    def __init__(self, recesses: Sequence[Period] = (), country: str = "NL") -> None:
        self.recesses = tuple(recesses)
        self.country = country
        # Every step that opens a deadline asks the same few (day, term) pairs; counting working
        # days asks the holiday tables once per day counted.
        self._added: dict[tuple[date, Term], date] = {}

    def is_holiday(self, day: date) -> bool:
        return day in _holidays(self.country, day.year)

    def in_recess(self, day: date) -> bool:
        return any(day in p for p in self.recesses)

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and not self.is_holiday(day) and not self.in_recess(day)

    def add(self, start: date, term: Term) -> date:
        """The due date `term` after `start`: always a working day, never in a recess."""
        found = self._added.get((start, term))
        if found is None:
            found = self._added[start, term] = self._add(start, term)
        return found

    def _add(self, start: date, term: Term) -> date:
        if term.unit == "working_days":
            day, left = start, term.amount
            while left > 0:
                day += timedelta(days=1)
                if self.is_working_day(day):
                    left -= 1
            return day
        return self.next_working_day(start + term.as_calendar_days())

    def next_working_day(self, day: date) -> date:
        """`day`, or the first working day after it: as the Algemene termijnenwet moves a term
        that ends on a weekend or public holiday, and as councils skip their recesses."""
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def out_of_recess(self, day: date) -> date:
        while self.in_recess(day):
            day += timedelta(days=1)
        return day


def end_of_day(day: date) -> datetime:
    """The last second of `day` in Dutch local time, as UTC."""
    return datetime.combine(day, END_OF_DAY, tzinfo=LOCAL).astimezone(UTC)


def morning_of(day: date) -> datetime:
    return datetime.combine(day, REMINDER_TIME, tzinfo=LOCAL).astimezone(UTC)


def local_date(moment: datetime) -> date:
    return moment.astimezone(LOCAL).date()


@lru_cache(maxsize=64)
def _holidays(country: str, year: int) -> "holidays.HolidayBase":
    # Imported here: the package loads its country tables (12 ms), which only counting working
    # days needs, not the start of every command.
    import holidays

    return holidays.country_holidays(country, years=year)
