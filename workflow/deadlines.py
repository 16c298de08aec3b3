"""Deadlines over time: the sweep that sends due reminders and escalations, and deadline listings.

A sweep claims due rows in batches, one transaction each: on PostgreSQL with
`FOR UPDATE ... SKIP LOCKED` (the reminder or deadline and its initiative, so the sweep never
waits on a write in progress and never deadlocks with one), on SQLite under the write lock that
every write transaction takes first. Rendering the messages into the outbox and marking the rows
happen in that same transaction, so a reminder is sent exactly once however many workers run.

Catch-up after downtime: everything that came due while no worker ran is handled by the next
sweep, once. Reminders of one deadline that are due together become one message. Reminders of a
deadline whose date has already passed are not sent but cancelled: the notice that the date has
passed, sent to the same audiences in the same sweep, and the escalation cover them.
"""

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import func, literal, update
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from workflow.calendar import local_date
from workflow.clock import aware
from workflow.context import InitiativeView, ParticipantView
from workflow.definition import DeadlinePolicy, Flow
from workflow.engine import Engine, Reference, StepDeadline, StepEvent
from workflow.models import (
    Deadline,
    Initiative,
    Participant,
    Reminder,
)
from workflow.outbox import UNRENDERED, Recipient, freeze, recipients
from workflow.outbox_rows import Letter, OutboxCopy, insert_outbox
from workflow.roles import Audience

REMINDER_TRIGGER = "deadline_reminder"  # the trigger name message contexts carry for a reminder
PASSED_TRIGGER = "deadline_passed"


class _Due(NamedTuple):
    """A claimed deadline with what its messages need of its initiative, read under the lock."""

    id: int
    state: str
    label: str
    due_at: datetime
    initiative_id: int  # from here on the fields of `_Subject`, in its order
    flow: str
    flow_version: int
    initiative_state: str
    version: int
    title: str
    summary: str
    municipality: str
    faction: str | None
    data: dict[str, Any]

    def step_deadline(self) -> StepDeadline:
        return StepDeadline(self.id, self.label, aware(self.due_at))

    def subject(self) -> "_Subject":
        return _Subject(*self[4:])


class _Subject(NamedTuple):
    """What the messages of a sweep need of an initiative (fewer columns than a `StepRow`:
    converting a thousand rows' timestamps cost more than their query)."""

    id: int
    flow: str
    flow_version: int
    state: str
    version: int
    title: str
    summary: str
    municipality: str
    faction: str | None
    data: dict[str, Any]


_INITIATIVE = ("id", "flow", "flow_version", "state", "version", "title", "summary",
               "municipality", "faction", "data")  # the columns of `_Subject`
DUE_COLUMNS: tuple[Any, ...] = (
    col(Deadline.id), col(Deadline.state), col(Deadline.label), col(Deadline.due_at),
    *(getattr(Initiative, name) for name in _INITIATIVE),
)
_CLAIMED = ", ".join(  # named as the fields of `_Due`
    ["d.id", "d.state", "d.label", "d.due_at",
     *(f"i.{name} AS {field}" for name, field in zip(_INITIATIVE, _Due._fields[4:], strict=True))]
)

# On PostgreSQL a claim and its marks are one statement each (data-modifying WITH queries):
# one round trip, and the ids never travel to Python and back (measured on the benchmark's
# batch: claiming and marking 22 ms before, 18 ms after). SQLite, which has no such queries and locks no rows,
# runs the same steps one by one (`_Batch._claim_passed`, `_Batch._claim_reminders`).
# Parameters in psycopg's style.
ESCALATE = f"""
WITH claimed AS (
    SELECT {_CLAIMED}
    FROM deadline d JOIN initiative i ON i.id = d.initiative_id
    WHERE d.status = 'open' AND d.due_at < %(now)s
    ORDER BY d.due_at, d.id
    LIMIT %(limit)s
    FOR UPDATE OF d, i SKIP LOCKED
), superseded AS (
    UPDATE reminder r SET cancelled = true
    FROM claimed c
    WHERE r.deadline_id = c.id AND r.sent_at IS NULL AND r.cancelled IS false
    RETURNING r.remind_at
), escalated AS (
    UPDATE deadline d
    SET status = 'escalated', escalated_at = %(now)s, claimed_by = %(worker)s, claimed_at = %(now)s
    FROM claimed c
    WHERE d.id = c.id AND c.state = c.initiative_state
), stale AS (
    UPDATE deadline d SET status = 'cancelled', closed_at = %(now)s
    FROM claimed c
    WHERE d.id = c.id AND c.state <> c.initiative_state
)
SELECT claimed.*, (SELECT count(*) FROM superseded WHERE remind_at <= %(now)s)
FROM claimed
"""
REMIND = f"""
WITH due AS (
    SELECT r.id, r.deadline_id FROM reminder r
    WHERE r.sent_at IS NULL AND r.cancelled IS false AND r.remind_at <= %(now)s
    ORDER BY r.remind_at, r.id
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
), claimed AS (
    SELECT {_CLAIMED}
    FROM deadline d JOIN initiative i ON i.id = d.initiative_id
    WHERE d.id IN (SELECT deadline_id FROM due) AND d.status = 'open'
    FOR UPDATE OF d, i SKIP LOCKED
), orphaned AS (  -- a closed deadline's reminder; the scalar subquery keeps to the index
    UPDATE reminder r SET cancelled = true
    FROM due
    WHERE r.id = due.id AND due.deadline_id NOT IN (SELECT id FROM claimed)
      AND (SELECT d.status FROM deadline d WHERE d.id = due.deadline_id) <> 'open'
), marked AS (
    UPDATE reminder r
    SET cancelled = c.due_at < %(now)s,
        sent_at = CASE WHEN c.due_at < %(now)s THEN r.sent_at ELSE %(now)s END,
        claimed_by = CASE WHEN c.due_at < %(now)s THEN r.claimed_by ELSE %(worker)s END,
        claimed_at = CASE WHEN c.due_at < %(now)s THEN r.claimed_at ELSE %(now)s END
    FROM claimed c
    WHERE r.deadline_id = c.id AND r.sent_at IS NULL AND r.cancelled IS false
      AND r.remind_at <= %(now)s
    RETURNING r.cancelled
)
SELECT claimed.*,
    (SELECT count(*) FROM due WHERE due.deadline_id IN (SELECT id FROM claimed)),
    (SELECT count(*) FROM marked WHERE cancelled),
    (SELECT count(*) FROM marked WHERE NOT cancelled)
FROM claimed
"""
PARTICIPANTS = """
SELECT initiative_id, municipality, status, data FROM participant
WHERE initiative_id = ANY(%(ids)s)
"""


@dataclass(frozen=True)
class SweepResult:
    """What one sweep did: reminders sent, reminders cancelled as covered, deadlines escalated."""

    reminders: int = 0
    superseded: int = 0
    escalations: int = 0
    messages: int = 0

    def __add__(self, other: "SweepResult") -> "SweepResult":
        return SweepResult(*(a + b for a, b in zip(self.astuple(), other.astuple(), strict=True)))

    def astuple(self) -> tuple[int, int, int, int]:
        return (self.reminders, self.superseded, self.escalations, self.messages)

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def sweep(
    engine: Engine,
    *,
    worker: str,
    now: datetime | None = None,
    batch_size: int = 200,
    max_batches: int = 1000,
) -> SweepResult:
    """Send every due reminder and escalate every passed deadline, once, in batches.

    Each batch commits on its own; a crash loses at most the batch in progress, which the next
    sweep does again (nothing of it was committed). Stops when a batch comes back short: on
    PostgreSQL the rows it skipped are being handled by another worker.
    """
    moment = now or engine.clock()
    total = SweepResult()
    for _ in range(max_batches):
        with engine.db.write() as session:
            batch = _Batch(engine, session, worker, moment)
            with session.no_autoflush:
                passed, reminded = batch.claim(batch_size)
                batch.queue(passed, reminded)
            total += batch.result()
        if batch.claimed_deadlines < batch_size and batch.claimed_reminders < batch_size:
            break
    return total


class _Batch:
    """One transaction of a sweep: claims and marks, then queues the messages in the outbox.

    On PostgreSQL the messages go out as a COPY that the server writes while the next ones are
    still being made; on SQLite as one `executemany`.
    """

    def __init__(self, engine: Engine, session: Session, worker: str, now: datetime) -> None:
        self.engine = engine
        self.session = session
        self.worker = worker
        self.now = now
        self.conn = session.connection()  # Core statements: no ORM objects for a thousand rows
        self.skip_locked = not engine.db.is_sqlite
        self.reminders = self.superseded = self.escalations = self.messages = 0
        self.claimed_deadlines = self.claimed_reminders = 0
        self._policies: dict[int, dict[str, list[str]]] = {}  # by id(): the flow's own objects
        self._people: dict[tuple[str, str, frozenset[tuple[str, ...]] | None], list[Recipient]] = {}
        self._outbox: OutboxCopy | None = None  # while the messages stream to PostgreSQL

    def result(self) -> SweepResult:
        return SweepResult(self.reminders, self.superseded, self.escalations, self.messages)

    # --- claims ---------------------------------------------------------------------------------

    def claim(self, limit: int) -> tuple[list[_Due], list[_Due]]:
        """Claims and marks passed deadlines, then due reminders (the second claim must see the
        marks of the first); returns the deadlines to tell about and those to remind of."""
        if not self.skip_locked:
            return self._passed(self._claim_passed(limit)), self._claim_reminders(limit)
        escalated, reminded = self._fetch_both(limit)
        self.superseded += escalated[0][-1] if escalated else 0
        return self._passed([_Due(*values[:-1]) for values in escalated]), self._reminded(reminded)

    def _passed(self, claimed: list[_Due]) -> list[_Due]:
        """The claimed deadlines still running in their state: those to escalate."""
        self.claimed_deadlines = len(claimed)
        live = [d for d in claimed if d.initiative_state == d.state]
        self.escalations += len(live)
        return live

    def _reminded(self, found: list[tuple[Any, ...]]) -> list[_Due]:
        """The rows of `REMIND`, counted; the deadlines whose date has not passed yet."""
        if not found:
            return []
        self.claimed_reminders, superseded, sent = found[0][-3:]
        self.superseded += superseded
        self.reminders += sent
        claimed = [_Due(*values[:-3]) for values in found]
        return [d for d in claimed if aware(d.due_at) >= self.now]

    def _fetch_both(self, limit: int) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """`ESCALATE` and `REMIND` in one pipeline: the server runs the second (after the first,
        as always) without waiting for us to read the rows of the first."""
        driver = self._psycopg()
        values = {"now": self.now, "limit": limit, "worker": self.worker}
        # Prepared once per connection (planning `ESCALATE` took a millisecond, a sixth of its
        # run), unless the connection prepares nothing (e.g. behind a pooler that cannot).
        prepare = driver.prepare_threshold is not None
        with driver.pipeline():
            # The batch's commit need not wait for its log to reach the disk (3-4 ms of a
            # sweep): lost in a crash, the whole batch is lost (marks and messages alike) and
            # the next sweep does it again; and any later commit that waits, such as the
            # drain's record of a sent message, writes this batch's log before its own.
            driver.cursor().execute("SET LOCAL synchronous_commit = off")
            first = driver.cursor().execute(ESCALATE, values, prepare=prepare)
            second = driver.cursor().execute(REMIND, values, prepare=prepare)
        return first.fetchall(), second.fetchall()

    def _psycopg(self) -> Any:
        """The psycopg connection under the session's transaction (PostgreSQL only)."""
        driver = self.conn.connection.driver_connection
        if driver is None:
            raise RuntimeError("the sweep's connection is closed")
        return driver

    def _claim_passed(self, limit: int) -> list[_Due]:
        """`ESCALATE` in statements SQLite runs (under the write lock: no row locks)."""
        query = (
            core_select(*DUE_COLUMNS)
            .join(Initiative, col(Initiative.id) == Deadline.initiative_id)
            .where(col(Deadline.status) == "open", col(Deadline.due_at) < self.now)
            .order_by(col(Deadline.due_at), col(Deadline.id))
            .limit(limit)
        )
        claimed = [_Due(*values) for values in self.conn.execute(query).all()]
        if not claimed:
            return []
        # Set-based: a catch-up batch of a thousand deadlines is a handful of statements.
        ids = [d.id for d in claimed]
        cancelled = self.conn.execute(
            update(Reminder)
            .where(*self._unsent(ids, due_only=False))
            .values(cancelled=True)
            .returning(col(Reminder.remind_at))
        ).all()
        self.superseded += sum(1 for (at,) in cancelled if aware(at) <= self.now)
        # The engine closes deadlines when a state is left; one that slipped through is cancelled.
        stale = [d.id for d in claimed if d.initiative_state != d.state]
        live = [d.id for d in claimed if d.initiative_state == d.state]
        if stale:
            self._update_deadlines(stale, status="cancelled", closed_at=self.now)
        if live:
            self._update_deadlines(
                live, status="escalated", escalated_at=self.now, claimed_by=self.worker,
                claimed_at=self.now,
            )
        return claimed

    def _claim_reminders(self, limit: int) -> list[_Due]:
        """`REMIND` in statements SQLite runs (under the write lock: no row locks)."""
        # Two steps: the due reminders from their own index first, then only those rows joined.
        first = (
            select(col(Reminder.id), col(Reminder.deadline_id))
            .where(
                col(Reminder.sent_at).is_(None),
                col(Reminder.cancelled).is_(False),
                Reminder.remind_at <= self.now,
            )
            .order_by(col(Reminder.remind_at), col(Reminder.id))
            .limit(limit)
        )
        candidates = self.conn.execute(first).all()
        if not candidates:
            return []
        reminder_ids = [_id_of(r) for r, _ in candidates]
        query = (
            core_select(*DUE_COLUMNS)
            .select_from(Reminder)
            .join(Deadline, col(Deadline.id) == Reminder.deadline_id)
            .join(Initiative, col(Initiative.id) == Deadline.initiative_id)
            .where(
                self._among(col(Reminder.id), reminder_ids),
                col(Reminder.sent_at).is_(None),
                col(Reminder.cancelled).is_(False),
                col(Deadline.status) == "open",
            )
        )
        claimed = self.conn.execute(query).all()
        self.claimed_reminders = len(claimed)
        if len(claimed) < len(candidates):
            self._cancel_orphans(reminder_ids)
        if not claimed:
            return []
        # Several due reminders of one deadline (a worker that was down) make one message; all of
        # them are marked, also those beyond this batch's limit.
        by_deadline = {values[0]: _Due(*values) for values in claimed}
        passed = [i for i, d in by_deadline.items() if aware(d.due_at) < self.now]
        running = [i for i, d in by_deadline.items() if aware(d.due_at) >= self.now]
        if passed:
            self.superseded += self._update_reminders(passed, due_only=True, cancelled=True)
        if running:
            self.reminders += self._update_reminders(
                running, due_only=True, sent_at=self.now, claimed_by=self.worker, claimed_at=self.now
            )
        return [by_deadline[i] for i in running]

    # --- the messages -------------------------------------------------------------------------

    def queue(self, passed: Sequence[_Due], reminded: Sequence[_Due]) -> None:
        """Reads what the messages need, then writes them to the outbox in one statement."""
        if self.engine.renderer is None or not (passed or reminded):
            return
        subjects = {d.initiative_id: d.subject() for d in (*passed, *reminded)}
        participants = self._participants(sorted(subjects))
        reference = self.engine.reference(self.session)
        shared = {**UNRENDERED, "event_id": None, "next_attempt_at": self.now, "created_at": self.now}
        letters = self._letters(passed, reminded, subjects, participants, reference)
        if not self.skip_locked:
            insert_outbox(self.conn, letters, shared, self.engine.mail_domain)
            return
        # The letters are made while the server stores the rows before them: most of their
        # making costs no time. Asking for recipients pauses the COPY (`_recipients`).
        with OutboxCopy(self._psycopg(), shared, self.engine.mail_domain) as outbox:
            self._outbox = outbox
            for letter in letters:
                outbox.write(letter)
        self._outbox = None

    def _letters(
        self,
        passed: Sequence[_Due],
        reminded: Sequence[_Due],
        subjects: Mapping[int, _Subject],
        participants: Mapping[int, dict[str, ParticipantView]],
        reference: Reference,
    ) -> Iterator["Letter"]:
        today = local_date(self.now)
        views: dict[int, InitiativeView] = {}
        for due, is_passed in [*((d, True) for d in passed), *((d, False) for d in reminded)]:
            row = subjects[due.initiative_id]
            found = self._policy(row, due)
            if found is None or (not is_passed and row.state != due.state):
                continue
            spec, policy = found
            view = views.get(row.id)
            if view is None:
                view = views[row.id] = _view(row, participants.get(row.id, {}), reference)
            if is_passed:
                frozen = freeze(self._context(spec, policy, row, view, due, PASSED_TRIGGER, reference))
                told: set[str] = set()
                yield self._letter(row, view, policy.escalate_to, policy.escalate_template, frozen,
                                   told)
                yield self._letter(row, view, policy.remind_audiences, policy.overdue_template,
                                   frozen, set(told))
            else:
                context = self._context(spec, policy, row, view, due, REMINDER_TRIGGER, reference)
                context["reminder"] = {"days_left": (local_date(aware(due.due_at)) - today).days}
                yield self._letter(row, view, policy.remind_audiences, policy.remind_template,
                                   freeze(context), set())

    # --- shared steps -------------------------------------------------------------------------

    def _unsent(self, deadline_ids: Sequence[int], *, due_only: bool) -> list[Any]:
        where: list[Any] = [
            self._among(col(Reminder.deadline_id), deadline_ids),
            col(Reminder.sent_at).is_(None),
            col(Reminder.cancelled).is_(False),
        ]
        if due_only:
            where.append(col(Reminder.remind_at) <= self.now)
        return where

    def _among(self, column: Any, ids: Sequence[int]) -> Any:
        """`column IN ids` with one parameter instead of a thousand (compiling and binding a
        thousand took longer than the statement): a JSON array (SQLite's statements only)."""
        listed = func.json_each(literal(json.dumps(list(ids)))).table_valued("value")
        return column.in_(core_select(listed.c.value))

    def _cancel_orphans(self, reminder_ids: Sequence[int]) -> None:
        """Unsent reminders of a deadline that no longer runs would keep their place in line."""
        closed = select(col(Deadline.id)).where(Deadline.status != "open")
        query = (
            update(Reminder)
            .where(
                self._among(col(Reminder.id), reminder_ids),
                col(Reminder.sent_at).is_(None),
                col(Reminder.deadline_id).in_(closed),
            )
            .values(cancelled=True)
        )
        self.conn.execute(query)

    def _update_reminders(self, deadline_ids: Sequence[int], *, due_only: bool, **values: Any) -> int:
        query = update(Reminder).where(*self._unsent(deadline_ids, due_only=due_only)).values(**values)
        return int(self.conn.execute(query).rowcount)

    def _update_deadlines(self, deadline_ids: Sequence[int], **values: Any) -> None:
        query = update(Deadline).where(self._among(col(Deadline.id), deadline_ids)).values(**values)
        self.conn.execute(query)

    def _policy(self, row: _Subject, deadline: _Due) -> tuple[Flow, DeadlinePolicy] | None:
        spec = self.engine.registry.get(row.flow, row.flow_version)
        state = spec.states.get(deadline.state)
        if state is None or state.deadline is None:
            return None
        return spec, state.deadline

    def _context(
        self,
        spec: Flow,
        policy: DeadlinePolicy,
        row: _Subject,
        view: InitiativeView,
        deadline: _Due,
        trigger: str,
        reference: Reference,
    ) -> dict[str, Any]:
        # Not added to the session: a reminder changes no initiative, so it is no event of its own.
        occasion = StepEvent(
            id=0,
            initiative_id=_id(row),
            version=row.version,
            at=self.now,
            actor_id=None,
            actor_name=self.engine.registry.region.system_actor_label,
            trigger=trigger,
            from_state=row.state,
            to_state=row.state,
            data={},
            comment="",
        )
        context = self.engine.message_context(
            self.session, spec, row, view, occasion, deadline.step_deadline(), reference
        )
        context["announce_deadline"] = False  # the calendar item went out with the announcement
        known = self._policies.get(id(policy))
        if known is None:
            known = self._policies[id(policy)] = policy_context(policy)
        context["policy"] = known
        return context

    def _letter(
        self,
        row: _Subject,
        view: InitiativeView,
        audiences: Iterable[Audience],
        template: str,
        frozen: str,
        told: set[str],
    ) -> "Letter":
        """`template` for everyone in `audiences` not yet in `told` (added to it)."""
        people: list[Recipient] = []
        for audience in audiences:
            for person in self._recipients(audience, view):
                key = person.email.lower()
                if key not in told:
                    told.add(key)
                    people.append(person)
        self.messages += len(people)
        return Letter(template, frozen, people, row.id)

    def _recipients(self, audience: Audience, view: InitiativeView) -> list[Recipient]:
        # Many deadlines of one batch share their audiences (one college, one secretary):
        # ask the database once per audience and scope.
        scopes = audience.scopes(view, None)
        key = (audience.name, audience.role, None if scopes is None else frozenset(scopes))
        if key not in self._people:
            if self._outbox is not None:
                self._outbox.pause()  # the connection answers no query while it takes a COPY
            self._people[key] = [p for _, p in recipients(self.session, [audience], view, None)]
        return self._people[key]

    def _participants(self, ids: Sequence[int]) -> dict[int, dict[str, ParticipantView]]:
        """The participants of many initiatives with one query, not one per initiative."""
        participants: dict[int, dict[str, ParticipantView]] = defaultdict(dict)
        found: Sequence[tuple[Any, ...]] = []
        if ids and self.skip_locked:  # on the driver: the query costs less than its building
            found = self._psycopg().cursor().execute(PARTICIPANTS, {"ids": ids}).fetchall()
        elif ids:
            query = select(
                col(Participant.initiative_id), col(Participant.municipality),
                col(Participant.status), col(Participant.data),
            ).where(self._among(col(Participant.initiative_id), ids))
            found = self.conn.execute(query).all()
        for initiative_id, municipality, status, data in found:
            participants[initiative_id][municipality] = ParticipantView(status, dict(data))
        return participants


def _view(row: _Subject, participants: dict[str, ParticipantView], reference: Reference) -> InitiativeView:
    """The working copy of an initiative that audiences and message contexts read."""
    return InitiativeView(
        id=row.id,
        flow=row.flow,
        state=row.state,
        municipality=row.municipality,
        faction=row.faction,
        data=dict(row.data),
        participants=participants,
        group_members=reference.members,
    )


def policy_context(policy: DeadlinePolicy) -> dict[str, list[str]]:
    """Who a deadline concerns, as the audience labels templates put in a sentence."""
    return {
        "remind": _labels(policy.remind_audiences),
        "escalate_to": _labels(policy.escalate_to),
        "extend_by": _labels(policy.extend_roles),
    }


def _labels(audiences: Iterable[Audience]) -> list[str]:
    return list(dict.fromkeys(a.label for a in audiences))


def _id(row: Any) -> int:
    if row.id is None:
        raise RuntimeError(f"{type(row).__name__} has no id yet")
    return int(row.id)


def _id_of(value: int | None) -> int:
    if value is None:
        raise RuntimeError("a claimed row has no initiative id")
    return int(value)
