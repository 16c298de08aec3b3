"""The tables: initiatives, their events, participants, deadlines, outbox, users and reference data.

No `from __future__ import annotations` here: SQLModel reads the annotations at class creation.
"""

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, String, UniqueConstraint
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


class RoleGrantRow(SQLModel, table=True):
    __tablename__ = "role_grant"
    __table_args__ = (UniqueConstraint("user_id", "role", "scope"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    role: str = Field(max_length=40)
    scope: str = Field(default="", max_length=200)  # scope parts joined by ":"


# --- initiatives ----------------------------------------------------------------------------


class Initiative(SQLModel, table=True):
    __table_args__ = (Index("ix_initiative_flow_state", "flow", "state"),)

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


class Participant(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("initiative_id", "municipality"),)

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

    __table_args__ = (Index("ix_deadline_open_due", "status", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    initiative_id: int = Field(foreign_key="initiative.id", index=True)
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

    __table_args__ = (Index("ix_reminder_pending", "sent_at", "remind_at"),)

    id: int | None = Field(default=None, primary_key=True)
    deadline_id: int = Field(foreign_key="deadline.id", index=True)
    remind_at: datetime
    sent_at: datetime | None = None
    cancelled: bool = False
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_at: datetime | None = None


# --- email ----------------------------------------------------------------------------------


class OutboxMessage(SQLModel, table=True):
    """One email to one recipient, rendered in the write path's transaction; sent after commit."""

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_pending", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    message_id: str = Field(max_length=255, sa_column_kwargs={"unique": True})
    initiative_id: int | None = Field(default=None, foreign_key="initiative.id", index=True)
    event_id: int | None = Field(default=None, foreign_key="event.id")
    template: str = Field(max_length=120)
    recipient: str = Field(max_length=254)
    subject: str = Field(max_length=400)
    body_text: str
    body_html: str
    attachments: list[dict[str, Any]] = _json_list()  # {filename, content_type, content}
    status: str = Field(default="pending", max_length=16)  # pending|sending|sent|failed|dismissed
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow)
    last_error: str = ""
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_at: datetime | None = None
    sent_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
