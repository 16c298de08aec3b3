"""Personal iCalendar feeds: a secret, revocable URL per user with every deadline that concerns them.

Only the SHA-256 of the token is stored. An item has the same UID as the `.ics` attached to the
deadline's e-mails (`termijn-<id>@host`) and the same SEQUENCE, so a calendar that has both
shows one item, and an extended deadline moves instead of appearing twice.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlmodel import Session, col, select

from workflow.calendar import local_date
from workflow.clock import aware, utcnow
from workflow.engine import EXTEND_DEADLINE, Engine
from workflow.errors import NotFound
from workflow.models import CalendarFeed, Deadline, Event, Follow, Initiative, User
from workflow.roles import Actor
from workflow.services import actor_for
from workflow.web import security

CONTENT_TYPE = "text/calendar; charset=utf-8"


def create_feed(engine: Engine, user_id: int) -> str:
    """A new secret feed token for the user; any earlier feed of theirs stops working."""
    token = security.new_token(32)
    now = utcnow()
    with engine.db.write() as session:
        _revoke(session, user_id, now)
        session.add(CalendarFeed(user_id=user_id, token_hash=security.token_hash(token), created_at=now))
    return token


def revoke_feeds(engine: Engine, user_id: int) -> int:
    """Stops every feed URL of the user; returns how many were active."""
    with engine.db.write() as session:
        return _revoke(session, user_id, utcnow())


def has_feed(engine: Engine, user_id: int) -> bool:
    with engine.db.read() as session:
        return _active(session, user_id) is not None


def _revoke(session: Session, user_id: int, now: datetime) -> int:
    count = 0
    while (feed := _active(session, user_id)) is not None:
        feed.revoked_at = now
        session.add(feed)
        session.flush()
        count += 1
    return count


def _active(session: Session, user_id: int) -> CalendarFeed | None:
    return session.exec(
        select(CalendarFeed)
        .where(CalendarFeed.user_id == user_id, col(CalendarFeed.revoked_at).is_(None))
    ).first()


def feed(engine: Engine, token: str, *, base_url: str) -> str:
    """The calendar of the feed with this token; NotFound for an unknown or revoked token."""
    with engine.db.read() as session:
        digest = security.token_hash(token)
        row = session.exec(select(CalendarFeed).where(CalendarFeed.token_hash == digest)).first()
        user = session.get(User, row.user_id) if row is not None and row.revoked_at is None else None
        if user is None or not user.active:
            raise NotFound("Deze agenda-link bestaat niet (meer). Maak op uw accountpagina een nieuwe aan.")
        actor = actor_for(session, user)
        items = list(_relevant(engine, session, actor))
        sequences = _sequences(session, [d.initiative_id for d, _ in items])
    # Imported here, not with the module: the web app loads this module at its start, and
    # icalendar's eighty modules (20 ms) are only needed when a feed is actually fetched.
    from icalendar import Calendar
    from icalendar import Event as CalendarEvent

    host = urlsplit(base_url).hostname or "initiatief.local"
    cal = Calendar()
    cal.add("prodid", "-//initiatief//persoonlijke agenda//NL")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", f"Initiatief: termijnen van {actor.name}")
    cal.add("x-wr-timezone", "Europe/Amsterdam")
    now = utcnow()
    for deadline, initiative in items:
        due = aware(deadline.due_at)
        day = local_date(due)
        title = " ".join(initiative.title.split())
        link = f"{base_url.rstrip('/')}/initiatieven/{initiative.id}"
        item = CalendarEvent()
        item.add("uid", f"termijn-{deadline.id}@{host}")
        item.add("dtstamp", now)
        item.add("sequence", sequences.get(deadline.id or 0, 0))
        item.add("dtstart", day)
        item.add("dtend", day + timedelta(days=1))
        item.add("summary", f"Uiterste datum: {deadline.label} – {title}")
        item.add("description", f"{deadline.label} voor het initiatief '{title}'.\n{link}")
        item.add("url", link)
        item.add("transp", "TRANSPARENT")
        cal.add_component(item)
    return str(cal.to_ical().decode("utf-8"))


def _relevant(engine: Engine, session: Session, actor: Actor) -> Iterable[tuple[Deadline, Initiative]]:
    """Running deadlines the user is reminded of, escalated to, may extend, submitted or follows."""
    followed = set(session.exec(select(Follow.initiative_id).where(Follow.user_id == actor.user_id)))
    rows = session.exec(
        select(Deadline, Initiative)
        .join(Initiative, col(Initiative.id) == Deadline.initiative_id)
        .where(col(Deadline.status).in_(("open", "escalated")), Deadline.state == Initiative.state)
        .order_by(col(Deadline.due_at), col(Deadline.id))
    ).all()
    for deadline, initiative in rows:
        if initiative.submitted_by == actor.user_id or initiative.id in followed:
            yield deadline, initiative
            continue
        spec = engine.registry.get(initiative.flow, initiative.flow_version)
        policy = spec.state(initiative.state).deadline
        if policy is None:
            continue
        view = engine.view_of(session, initiative)
        audiences = (*policy.remind_audiences, *policy.escalate_to, *policy.extend_roles)
        if any(a.admits(actor.grants, view, None) for a in audiences):
            yield deadline, initiative


def _sequences(session: Session, initiative_ids: list[int]) -> dict[int, int]:
    """How often each deadline was extended: its SEQUENCE, as in the e-mailed `.ics`."""
    counts: dict[int, int] = {}
    if not initiative_ids:
        return counts
    for data in session.exec(
        select(Event.data)
        .where(Event.trigger == EXTEND_DEADLINE, col(Event.initiative_id).in_(initiative_ids))
    ):
        found = data.get("deadline_id")
        if isinstance(found, int):
            counts[found] = counts.get(found, 0) + 1
    return counts
