"""The list's match counts on PostgreSQL, kept for as long as the database has not changed.

Counting every match costs a list page more than its rows (a common search word or a large
municipality: one to two milliseconds of a five-millisecond page), and the count of the same
filters stays the same until something is written. PostgreSQL tells whether anything was: a
statement's snapshot (`pg_current_snapshot()`: the transactions it sees as finished) is equal
to an earlier one's only if no transaction has committed in between, so equal snapshots see
equal data. The page's own statement carries the snapshot it ran under and counts only when
that differs from the one the kept count was made in (a CASE leaves the count's subquery
unrun), so a kept count costs no round trip and a changed database no second one. Writes in
other databases of the same server change the snapshot too: they only cost a recount.
`pg_current_snapshot()` needs PostgreSQL 13 or newer.
"""

import threading
import weakref
from collections.abc import Hashable

from sqlalchemy import Integer, Text, bindparam, case, cast, func, literal
from sqlalchemy.sql.elements import ColumnElement

from workflow.db import Database

MAX_KEPT = 256  # distinct filter combinations; beyond this the oldest go (rarely reached)
UNCHANGED = -1  # the count column's value when the kept count still holds
Kept = tuple[str, int]  # the snapshot a count was made in, and the count


class Counts:
    """Counts by filter key, each with the snapshot it was made in; shared by threads."""

    def __init__(self) -> None:
        self._kept: dict[Hashable, Kept] = {}
        self._lock = threading.Lock()

    def kept(self, key: Hashable) -> Kept | None:
        with self._lock:
            return self._kept.get(key)

    def remember(self, key: Hashable, snapshot: str, counted: int) -> None:
        with self._lock:
            if key not in self._kept and len(self._kept) >= MAX_KEPT:
                del self._kept[next(iter(self._kept))]
            self._kept[key] = (snapshot, counted)


def total_column(kept: Kept | None, counting: ColumnElement[int]) -> ColumnElement[int]:
    """`counting` (a scalar subquery), unless the statement's snapshot is the one `kept` was
    counted in: then `UNCHANGED`, and the database does not run the subquery."""
    if kept is None:
        return counting
    same = snapshot_column() == bindparam("count_snapshot", kept[0])
    return case((same, literal(UNCHANGED, Integer)), else_=counting)


def snapshot_column() -> ColumnElement[str]:
    """The snapshot the statement reads in, as text (`xmin:xmax:in-progress ids`)."""
    return cast(func.pg_current_snapshot(), Text)


_counts: "weakref.WeakKeyDictionary[Database, Counts]" = weakref.WeakKeyDictionary()
_counts_lock = threading.Lock()


def counts_for(db: Database) -> Counts:
    """The counts of one database (snapshots of different databases say nothing of each other)."""
    with _counts_lock:
        found = _counts.get(db)
        if found is None:
            found = _counts[db] = Counts()
        return found
