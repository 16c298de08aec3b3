"""The statements of the one write path, prepared once (see `workflow.sql`).

Every step of every initiative runs these; written once here, they read as the write path's
data access in one place. Values come by name; an insert names every column, because the raw
cursor bypasses SQLAlchemy's Python-side column defaults.
"""

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, ColumnElement, Table, and_, bindparam, insert, or_, update
from sqlalchemy import column as sa_column
from sqlalchemy import select as sa_select  # sqlmodel's select takes at most four columns
from sqlalchemy import table as sa_table
from sqlalchemy.ext.compiler import compiles
from sqlmodel import col, select

from workflow.models import (
    Deadline,
    Event,
    Initiative,
    OutboxMessage,
    Participant,
    Reminder,
    RoleGrantRow,
    User,
)
from workflow.sql import Prepared

LIVE_DEADLINE = ("open", "escalated")  # an escalated deadline still runs until its state is left


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


def _insert_all(model: Any, *, returning_id: bool = False) -> Prepared:
    """INSERT of every column but the key, each value a parameter named after its column; a
    value left out takes the column's default (or NULL), as a Core insert would."""
    table = _table(model)
    columns = [c for c in table.columns if not c.primary_key]
    statement = insert(table).values({c.name: bindparam(c.name, type_=c.type) for c in columns})
    fill = {c.name: _default_of(c) for c in columns if c.default is not None or c.nullable}
    if returning_id:
        return Prepared(statement.returning(table.c.id), fill, plain=Prepared(statement, fill))
    return Prepared(statement, fill)


def _default_of(column: Column[Any]) -> Callable[[], Any]:
    default = column.default
    if default is None:
        return lambda: None
    if default.is_callable:
        make = default.arg  # type: ignore[attr-defined]  # SQLAlchemy wraps it to take a context
        return lambda: make(None)
    value = default.arg  # type: ignore[attr-defined]
    return lambda: value


# What the write path reads of the locked initiative (the fields of `engine.StepRow`).
INITIATIVE_COLUMNS = (
    "id", "flow", "flow_version", "state", "version", "title", "summary", "municipality",
    "faction", "submitted_by", "data",
)

# Kept by triggers (migration 0009): changes whenever a user or a role grant does.
DIRECTORY_VERSION = sa_table("directory_version", sa_column("version", BigInteger))

class ParticipantsJson(ColumnElement[Any]):
    """On SQLite, the participants of the row's initiative as one JSON array of
    [municipality, status, data], in the order they joined: read with the lock, a statement
    fewer per step. On PostgreSQL NULL, and the engine reads them with a statement of their
    own: at READ COMMITTED a locking statement that waited for another step sees that step's
    row but, in a subquery, not its participants; the next statement does."""

    type = JSON()
    inherit_cache = True

    def __init__(self, initiative_id: ColumnElement[Any]) -> None:
        self.initiative_id = initiative_id


@compiles(ParticipantsJson, "sqlite")
def _participants_sqlite(element: ParticipantsJson, compiler: Any, **kw: Any) -> str:
    key = compiler.process(element.initiative_id, **kw)
    return (
        "(SELECT json_group_array(json_array(municipality, status, json(data))) FROM"
        f" (SELECT municipality, status, data FROM participant WHERE initiative_id = {key}"
        " ORDER BY id))"
    )


@compiles(ParticipantsJson)
def _participants_elsewhere(element: ParticipantsJson, compiler: Any, **kw: Any) -> str:
    return "NULL"


LOCK_INITIATIVE = Prepared(
    sa_select(
        *(_table(Initiative).c[name] for name in INITIATIVE_COLUMNS),
        # Read with the lock, no extra round trip: who receives a step's messages is kept
        # per value (`workflow.outbox.RecipientCache`).
        sa_select(DIRECTORY_VERSION.c.version).scalar_subquery(),
        ParticipantsJson(_table(Initiative).c.id),
    )
    .where(col(Initiative.id) == bindparam("id"))
    .with_for_update()
)
INSERT_INITIATIVE = _insert_all(Initiative, returning_id=True)
UPDATE_INITIATIVE = Prepared(
    update(Initiative)
    .where(col(Initiative.id) == bindparam("row_id"))
    .values(
        state=bindparam("new_state"),
        version=bindparam("new_version"),
        data=bindparam("new_data", type_=_table(Initiative).c.data.type),
        updated_at=bindparam("now", type_=_table(Initiative).c.updated_at.type),
    )
)

PARTICIPANTS = Prepared(
    select(col(Participant.municipality), col(Participant.status), col(Participant.data))
    .where(col(Participant.initiative_id) == bindparam("initiative_id"))
    .order_by(col(Participant.id))
)
INSERT_PARTICIPANT = _insert_all(Participant)
UPDATE_PARTICIPANT = Prepared(
    update(Participant)
    .where(
        col(Participant.initiative_id) == bindparam("row_id"),
        col(Participant.municipality) == bindparam("row_municipality"),
    )
    .values(
        status=bindparam("new_status"),
        data=bindparam("new_data", type_=_table(Participant).c.data.type),
        updated_at=bindparam("now", type_=_table(Participant).c.updated_at.type),
    )
)

INSERT_EVENT = _insert_all(Event, returning_id=True)

_live = or_(*(col(Deadline.status) == status for status in LIVE_DEADLINE))
CANCEL_REMINDERS = Prepared(
    update(Reminder)
    .where(
        col(Reminder.deadline_id).in_(
            select(col(Deadline.id)).where(
                col(Deadline.initiative_id) == bindparam("initiative_id"),
                col(Deadline.state) == bindparam("state"),
                _live,
            )
        ),
        col(Reminder.sent_at).is_(None),
    )
    .values(cancelled=True)
)
CLOSE_DEADLINES = Prepared(
    update(Deadline)
    .where(
        col(Deadline.initiative_id) == bindparam("initiative_id"),
        col(Deadline.state) == bindparam("state"),
        _live,
    )
    .values(status="met", closed_at=bindparam("now", type_=_table(Deadline).c.closed_at.type))
)
INSERT_DEADLINE = _insert_all(Deadline, returning_id=True)
INSERT_REMINDER = _insert_all(Reminder)

INSERT_OUTBOX = _insert_all(OutboxMessage)

_recipients: dict[tuple[int | None, ...], Prepared] = {}


def recipients_query(asked: Sequence[tuple[str, Sequence[str] | None]]) -> Prepared:
    """Active users who have not switched e-mail off and hold one of the asked roles (with one
    of its scopes, unless those are None), with that role and scope: one statement for all
    audiences of a step, prepared once per shape (how many scopes each role has)."""
    shape = tuple(None if scopes is None else len(scopes) for _role, scopes in asked)
    found = _recipients.get(shape)
    if found is None:
        matches = []
        for n, count in enumerate(shape):
            role = col(RoleGrantRow.role) == bindparam(f"role{n}")
            if count is None:
                matches.append(role)
            else:
                scopes = or_(*(col(RoleGrantRow.scope) == bindparam(f"scope{n}_{k}") for k in range(count)))
                matches.append(and_(role, scopes))
        query = (
            sa_select(col(RoleGrantRow.role), col(RoleGrantRow.scope), col(User.id), col(User.name),
                   col(User.email))
            .join(RoleGrantRow, col(RoleGrantRow.user_id) == col(User.id))
            .where(
                col(User.active).is_(True),
                or_(col(User.email_notifications).is_(None), col(User.email_notifications).is_(True)),
                or_(*matches),
            )
            .order_by(col(User.id))
        )
        found = _recipients[shape] = Prepared(query)
    return found


def recipients_values(asked: Sequence[tuple[str, Sequence[str] | None]]) -> dict[str, str]:
    values = {}
    for n, (role, scopes) in enumerate(asked):
        values[f"role{n}"] = role
        for k, scope in enumerate(scopes or ()):
            values[f"scope{n}_{k}"] = scope
    return values
