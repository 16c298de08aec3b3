"""Many outbox rows at once, for the sweep: one `executemany` of plain tuples on SQLite, a
COPY formatted here on PostgreSQL. A `Letter` is one template with one frozen context for
several people; each person gets a row."""

import json
from collections.abc import Iterable, Mapping
from contextlib import ExitStack
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, Dialect, Table

from workflow.models import OutboxMessage
from workflow.outbox import Recipient, new_message_id


class Letter(NamedTuple):
    """One template with one frozen context for several people: the outbox rows of a deadline."""

    template: str
    frozen: str
    people: list[Recipient]
    initiative_id: int


# --- the outbox rows, one per person of a letter ------------------------------------------------

# The columns that differ between rows; every other column takes the batch's shared values.
_PER_ROW = ("message_id", "initiative_id", "template", "recipient", "recipient_name", "audience",
            "context")
_COPY_CHUNK = 64 * 1024  # characters per write: the server stores rows while the next are made
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def insert_outbox(
    conn: Connection, letters: Iterable[Letter], shared: Mapping[str, Any], domain: str
) -> None:
    """The outbox rows as one `executemany` of plain tuples (SQLite): the shared values are
    converted once, and the rest need no conversion (text and integers)."""
    table: Table = OutboxMessage.__table__  # type: ignore[attr-defined]
    rest = [c for c in table.columns if c.name in shared and c.name not in _PER_ROW]
    tail = tuple(_bound(c, shared[c.name], conn.dialect) for c in rest)
    names = (*_PER_ROW, *(c.name for c in rest))
    statement = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
    rows = [
        (new_message_id(domain), letter.initiative_id, letter.template, person.email, person.name,
         person.audience, letter.frozen, *tail)
        for letter in letters
        for person in letter.people
    ]
    if rows:
        conn.exec_driver_sql(statement, rows)


def _bound(column: Any, value: Any, dialect: Dialect) -> Any:
    convert = column.type.dialect_impl(dialect).bind_processor(dialect)
    return value if convert is None else convert(value)


class OutboxCopy:
    """Outbox rows streamed to PostgreSQL with COPY, formatted here, one per person of a letter.

    psycopg converts every value of every row (measured: half of a sweep's Python time); here
    the values all rows share become one piece of text, and a letter's context is escaped once
    for all of its recipients. `pause` ends the COPY so that the connection can answer a query;
    the next rows open another. Leaving with an exception aborts the COPY (and so the batch)."""

    def __init__(self, connection: Any, shared: Mapping[str, Any], domain: str) -> None:
        table: Table = OutboxMessage.__table__  # type: ignore[attr-defined]
        rest = [c.name for c in table.columns if c.name in shared and c.name not in _PER_ROW]
        self.statement = f"COPY {table.name} ({', '.join((*_PER_ROW, *rest))}) FROM STDIN"
        self.tail = "\t" + "\t".join(_copy_text(shared[name]) for name in rest) + "\n"
        self.connection = connection
        self.domain = domain
        self._addressed: dict[Recipient, str] = {}
        self._pending: list[str] = []
        self._size = 0
        self._open: ExitStack | None = None
        self._copy: Any = None

    def write(self, letter: Letter) -> None:
        head = f"\t{letter.initiative_id}\t{_copy_text(letter.template)}\t"
        tail = f"\t{_copy_text(letter.frozen)}{self.tail}"
        for person in letter.people:
            who = self._addressed.get(person)
            if who is None:
                who = self._addressed[person] = "\t".join(
                    _copy_text(v) for v in (person.email, person.name, person.audience)
                )
            message_id = new_message_id(self.domain)
            if not message_id.isprintable() or "\\" in message_id:  # never, unless the domain
                message_id = _copy_text(message_id)
            line = message_id + head + who + tail
            self._pending.append(line)
            self._size += len(line)
        if self._size >= _COPY_CHUNK:
            self._flush()

    def pause(self) -> None:
        """Ends the COPY under way, if any (rows not yet sent wait for the next one)."""
        if self._open is not None:
            self._flush()
            self._open.close()
            self._open = self._copy = None

    def __enter__(self) -> "OutboxCopy":
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: Any) -> None:
        if kind is None:
            self._flush()
            self.pause()
        elif self._open is not None:
            self._open.__exit__(kind, error, tb)

    def _flush(self) -> None:
        if not self._pending:
            return
        if self._open is None:
            self._open = ExitStack()
            cursor = self._open.enter_context(self.connection.cursor())
            self._copy = self._open.enter_context(cursor.copy(self.statement))
        self._copy.write("".join(self._pending))
        self._pending, self._size = [], 0


def _copy_text(value: Any) -> str:
    """A value in COPY's text format (the columns' text input: ISO moments, JSON as text)."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (list, dict)):
        value = json.dumps(value)
    text = str(value)
    return text.translate(_COPY_ESCAPES) if _needs_escape(text) else text


def _needs_escape(text: str) -> bool:
    return "\\" in text or "\t" in text or "\n" in text or "\r" in text
