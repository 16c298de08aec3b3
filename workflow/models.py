"""The tables: initiatives, their events, participants, deadlines, outbox, users and reference data.

No `from __future__ import annotations` here: SQLModel reads the annotations at class creation.
"""

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, String, Text, UniqueConstraint, text
from sqlalchemy.ext.mutable import MutableDict, MutableList
from sqlmodel import Field, SQLModel

from workflow.clock import utcnow


def _json_dict() -> Any:
    return Field(default_factory=dict, sa_column=Column(MutableDict.as_mutable(JSON()), nullable=False))


def _json_list() -> Any:
    return Field(default_factory=list, sa_column=Column(MutableList.as_mutable(JSON()), nullable=False))


# --- reference data -------------------------------------------------------------------------


class Municipality(SQLModel, table=True):
    slug: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=120)
    inhabitants: int = 0
    region: str = Field(default="", max_length=120)
    bloc: str = Field(default="", max_length=32)  # e.g. urban / polder, for weighted votes


class Theme(SQLModel, table=True):
    slug: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=120)


class WorkingGroup(SQLModel, table=True):
    __tablename__ = "working_group"

    slug: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=160)
    theme_slug: str | None = Field(default=None, foreign_key="theme.slug")


class WorkingGroupMember(SQLModel, table=True):
    __tablename__ = "working_group_member"

    working_group_slug: str = Field(foreign_key="working_group.slug", primary_key=True)
    municipality_slug: str = Field(foreign_key="municipality.slug", primary_key=True)


class Recess(SQLModel, table=True):
    """A council recess; no deadline falls inside one."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    start: date
    end: date  # inclusive


# --- people ---------------------------------------------------------------------------------


class User(SQLModel, table=True):
    __tablename__ = "user_account"  # "user" is reserved in PostgreSQL

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=160, sa_column_kwargs={"unique": True})
    email: str = Field(max_length=254, sa_column_kwargs={"unique": True})
    password_hash: str | None = Field(default=None, max_length=255)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    # None means the default (yes); the outbox may leave out users who said no.
    email_notifications: bool | None = Field(default=None, nullable=True)


class RoleGrantRow(SQLModel, table=True):
    __tablename__ = "role_grant"
    __table_args__ = (UniqueConstraint("user_id", "role", "scope"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    role: str = Field(max_length=40)
    scope: str = Field(default="", max_length=200)  # scope parts joined by ":"


# --- initiatives ----------------------------------------------------------------------------


class Initiative(SQLModel, table=True):
    __table_args__ = (
        Index("ix_initiative_flow_state", "flow", "state"),
        Index("ix_initiative_state", "state"),  # the list's state filter (0004)
        Index("ix_initiative_submitted_by", "submitted_by"),  # "what I follow": own proposals (0004)
        # The inbox's candidates as (id, version) from the index alone (0004).
        Index("ix_initiative_inbox", "flow", "flow_version", "state", "version"),
    )

    id: int | None = Field(default=None, primary_key=True)
    flow: str = Field(max_length=64)
    flow_version: int
    state: str = Field(sa_column=Column(String(64), nullable=False))
    version: int = 1
    title: str = Field(max_length=300)
    summary: str = ""
    municipality: str = Field(foreign_key="municipality.slug", index=True)
    faction: str | None = Field(default=None, max_length=120)
    submitted_by: int | None = Field(default=None, foreign_key="user_account.id")
    data: dict[str, Any] = _json_dict()
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    # Shown on the public page? None follows the default rule (public once the council adopted
    # the motion or recorded the commitment); the submitter and the college may set it (0006).
    public: bool | None = Field(default=None, nullable=True)


class Participant(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("initiative_id", "municipality"),
        Index("ix_participant_municipality", "municipality", "initiative_id"),  # list filter (0004)
    )

    id: int | None = Field(default=None, primary_key=True)
    initiative_id: int = Field(foreign_key="initiative.id", index=True)
    municipality: str = Field(foreign_key="municipality.slug")
    status: str = Field(max_length=32)
    data: dict[str, Any] = _json_dict()
    updated_at: datetime = Field(default_factory=utcnow)


class Event(SQLModel, table=True):
    """One audit-trail entry: who did what, when, from which state to which, and why."""

    id: int | None = Field(default=None, primary_key=True)
    initiative_id: int = Field(foreign_key="initiative.id", index=True)
    version: int  # the initiative's version after this event
    at: datetime = Field(default_factory=utcnow, index=True)
    actor_id: int | None = Field(default=None, foreign_key="user_account.id")
    actor_name: str = Field(max_length=160)  # kept as it was, even if the user is renamed
    trigger: str = Field(max_length=64)
    from_state: str | None = Field(default=None, max_length=64)
    to_state: str = Field(max_length=64)
    data: dict[str, Any] = _json_dict()
    comment: str = ""


# --- time -----------------------------------------------------------------------------------


class Deadline(SQLModel, table=True):
    """A due date attached to an initiative while it is in `state`."""

    __table_args__ = (
        Index("ix_deadline_open_due", "status", "due_at"),
        Index("ix_deadline_initiative_open", "initiative_id", "status", "due_at"),  # pages (0004)
    )

    id: int | None = Field(default=None, primary_key=True)
    # Indexed by ix_deadline_initiative_open, which starts with it (migration 0010).
    initiative_id: int = Field(foreign_key="initiative.id")
    state: str = Field(max_length=64)
    label: str = ""
    due_at: datetime
    status: str = Field(default="open", max_length=16)  # open | met | cancelled | escalated
    created_at: datetime = Field(default_factory=utcnow)
    closed_at: datetime | None = None
    escalated_at: datetime | None = None
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_at: datetime | None = None


class Reminder(SQLModel, table=True):
    """A moment before a deadline at which its audiences are reminded; sent once."""

    __table_args__ = (
        # The reminders still to send, in order of their moment: what the sweep reads (0007).
        Index(
            "ix_reminder_due", "remind_at", "id",
            sqlite_where=text("sent_at IS NULL AND cancelled IS 0"),
            postgresql_where=text("sent_at IS NULL AND cancelled IS false"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    deadline_id: int = Field(foreign_key="deadline.id", index=True)
    remind_at: datetime
    sent_at: datetime | None = None
    cancelled: bool = False
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_at: datetime | None = None


# --- email ----------------------------------------------------------------------------------


class OutboxMessage(SQLModel, table=True):
    """One email to one recipient, fixed in the write path's transaction; sent after commit.

    The write path stores the template's values as they were at that moment (`context`, frozen
    JSON) with the recipient; the sender renders the text and HTML when it sends and keeps them
    here. What the mail says is decided in the transaction; only its typesetting happens later.
    """

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_pending", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    message_id: str = Field(max_length=255, sa_column_kwargs={"unique": True})
    initiative_id: int | None = Field(default=None, foreign_key="initiative.id")  # no index: 0007
    event_id: int | None = Field(default=None, foreign_key="event.id")
    template: str = Field(max_length=120)
    recipient: str = Field(max_length=254)
    recipient_name: str = Field(default="", max_length=160)
    audience: str = Field(default="", max_length=200)  # why this person receives it, in Dutch
    context: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    subject: str = Field(default="", max_length=400)  # empty until rendered by the sender
    body_text: str = ""
    body_html: str = ""
    attachments: list[dict[str, Any]] = _json_list()  # {filename, content_type, content}
    status: str = Field(default="pending", max_length=16)  # pending|sending|sent|failed|dismissed
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow)
    last_error: str = ""
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_at: datetime | None = None
    sent_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


# --- web: sessions, login, API tokens, idempotency, follows ----------------------------------


class WebSession(SQLModel, table=True):
    """A browser session; the cookie holds a random token, this row only its SHA-256."""

    __tablename__ = "web_session"

    id: str = Field(primary_key=True, max_length=64)  # sha256 hex of the cookie token
    user_id: int = Field(foreign_key="user_account.id", index=True)
    csrf_token: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime


class LoginLink(SQLModel, table=True):
    """A one-time link to log in (emailed) or, without a user, to create the first admin."""

    __tablename__ = "login_link"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    user_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    purpose: str = Field(default="login", max_length=16)  # login | setup
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = None


class LoginAttempt(SQLModel, table=True):
    """One login try or link request, counted per e-mail address and per IP address."""

    __tablename__ = "login_attempt"
    __table_args__ = (Index("ix_login_attempt_key_at", "key", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=300)  # "email:<address>" or "ip:<address>"
    kind: str = Field(default="password", max_length=16)  # password | link
    at: datetime = Field(default_factory=utcnow)
    success: bool = False


class ApiToken(SQLModel, table=True):
    """A Bearer token with exactly its user's rights; only its SHA-256 is kept."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    name: str = Field(max_length=120)
    token_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    prefix: str = Field(max_length=16)  # shown in lists so a person recognises the token
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class IdempotencyRecord(SQLModel, table=True):
    """The stored answer to a POST with an Idempotency-Key, so a retry does not act twice."""

    __tablename__ = "idempotency_key"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    key: str = Field(max_length=200)
    request_hash: str = Field(max_length=64)
    status_code: int | None = None  # None while the first request is still running
    response: dict[str, Any] = _json_dict()
    created_at: datetime = Field(default_factory=utcnow)


class Follow(SQLModel, table=True):
    """A user follows an initiative: it shows in their inbox under "Ik volg"."""

    user_id: int = Field(foreign_key="user_account.id", primary_key=True)
    initiative_id: int = Field(foreign_key="initiative.id", primary_key=True, index=True)
    created_at: datetime = Field(default_factory=utcnow)


# --- frameworks: yearly task sheets with their core tasks and budget -------------------------


class TaskSheet(SQLModel, table=True):
    """The frameworks the councils set for one theme and year: its core tasks and budget.

    Its row is also the lock that serialises budget commitments per theme and year.
    """

    __tablename__ = "task_sheet"
    __table_args__ = (UniqueConstraint("theme_slug", "year"),)

    id: int | None = Field(default=None, primary_key=True)
    theme_slug: str = Field(foreign_key="theme.slug", max_length=64)
    year: int
    budget_cents: int  # integer cents: budget arithmetic never uses floats


class CoreTask(SQLModel, table=True):
    """One core task (kernopgave) of a task sheet, named by a short code plans refer to."""

    __tablename__ = "core_task"
    __table_args__ = (UniqueConstraint("task_sheet_id", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    task_sheet_id: int = Field(foreign_key="task_sheet.id")
    code: str = Field(max_length=64)
    name: str = Field(max_length=300)


# --- monitor: personal calendar feeds (0006) ---------------------------------------------------


class CalendarFeed(SQLModel, table=True):
    """A user's secret iCalendar URL; only the SHA-256 of its token is kept, revocable."""

    __tablename__ = "calendar_feed"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    token_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None


# The monitor's reads of the event log (0006, workflow/monitor_queries.py): partial indexes, so a
# year's report reads the period and one entry per initiative instead of the whole log. The state
# changes, with every column the monitor reads from them:
Index(
    "ix_event_move",
    Event.__table__.c.initiative_id,  # type: ignore[attr-defined]
    Event.__table__.c.at,  # type: ignore[attr-defined]
    Event.__table__.c.id,  # type: ignore[attr-defined]
    Event.__table__.c.to_state,  # type: ignore[attr-defined]
    sqlite_where=text("from_state IS NULL OR from_state <> to_state"),
    postgresql_where=text("from_state IS NULL OR from_state <> to_state"),
)
# and the spending reports, by time:
Index(
    "ix_event_spending",
    Event.__table__.c.at,  # type: ignore[attr-defined]
    sqlite_where=text("trigger = 'report_spending'"),
    postgresql_where=text("trigger = 'report_spending'"),
)
