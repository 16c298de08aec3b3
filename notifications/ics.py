"""Calendar items (`.ics`) for announced deadlines, so a due date lands in the reader's agenda."""

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from workflow.calendar import LOCAL
from workflow.clock import aware

CONTENT_TYPE = "text/calendar; method=PUBLISH; charset=utf-8"
FILENAME = "uiterste-datum.ics"


def deadline_calendar(
    *,
    uid: str,
    day: date,
    summary: str,
    description: str,
    url: str,
    sequence: int,
    stamp: datetime,
) -> str:
    """One all-day item on `day` with a reminder the morning before.

    The same `uid` with a higher `sequence` updates the item a reader already has, which is how
    an extended deadline moves in their calendar instead of appearing twice.
    """
    # Imported here: icalendar loads some eighty modules (20 ms), which every process that
    # renders mail would pay at its start, while only a message announcing a deadline uses it.
    from icalendar import Alarm, Calendar, Event

    cal = Calendar()
    cal.add("prodid", "-//initiatief//uiterste datum//NL")
    cal.add("version", "2.0")
    cal.add("method", "PUBLISH")
    item = Event()
    item.add("uid", uid)
    item.add("dtstamp", stamp.astimezone(UTC))
    item.add("sequence", sequence)
    item.add("dtstart", day)
    item.add("dtend", day + timedelta(days=1))
    item.add("summary", summary)
    item.add("description", description)
    item.add("url", url)
    item.add("transp", "TRANSPARENT")  # a due date, not a meeting: the day stays free
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", summary)
    alarm.add("trigger", timedelta(hours=-15))  # 09:00 the day before
    item.add_component(alarm)
    cal.add_component(item)
    return str(cal.to_ical().decode("utf-8"))


def deadline_attachment(context: Mapping[str, Any]) -> dict[str, str] | None:
    """The `.ics` attachment for a message that announces `context["deadline"]`, if it does."""
    deadline = context.get("deadline")
    if not deadline or not context.get("announce_deadline", True):
        return None
    initiative = context["initiative"]
    due_at: datetime = aware(deadline["due_at"])
    host = urlsplit(str(context.get("base_url", ""))).hostname or "initiatief.local"
    event = context.get("event") or {}
    stamp = aware(event.get("at") or datetime.now(UTC))
    title = " ".join(str(initiative["title"]).split())
    content = _calendar_cached(
        uid=f"termijn-{deadline['id']}@{host}",
        day=due_at.astimezone(LOCAL).date(),
        summary=f"Uiterste datum: {deadline['label']} – {title}",
        description=f"{deadline['label']} voor het initiatief '{title}'.\n{context['link']}",
        url=str(context["link"]),
        sequence=int(deadline.get("sequence", 0)),
        stamp=stamp,
    )
    return {"filename": FILENAME, "content_type": CONTENT_TYPE, "content": content}


@lru_cache(maxsize=256)
def _calendar_cached(**fields: Any) -> str:
    """One step mails the same deadline to several people: build its calendar once."""
    return deadline_calendar(**fields)
