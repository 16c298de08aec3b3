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
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import ARRAY, Integer, any_, func, literal, update
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from workflow.calendar import local_date
from workflow.context import InitiativeView, ParticipantView
from workflow.db import Database
from workflow.definition import DeadlinePolicy, Flow
from workflow.engine import LIVE_DEADLINE, Engine, Reference, StepDeadline, StepEvent
from workflow.models import (
    Deadline,
    Initiative,
    Participant,
    Reminder,
)
from workflow.outbox import UNRENDERED, Recipient, addressed, freeze, recipients
from workflow.roles import Audience
from workflow.statements import INSERT_OUTBOX

REMINDER_TRIGGER = "deadline_reminder"  # the trigger name message contexts carry for a reminder
PASSED_TRIGGER = "deadline_passed"


class _Due(NamedTuple):
    """A claimed deadline and the state its initiative is in (the rest is read when rendering)."""

    id: int
    state: str
    label: str
    due_at: datetime
    initiative_id: int
    initiative_state: str

    def step_deadline(self) -> StepDeadline:
        return StepDeadline(self.id, self.label, _aware(self.due_at))


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


DUE_COLUMNS: tuple[Any, ...] = (
    col(Deadline.id), col(Deadline.state), col(Deadline.label), col(Deadline.due_at),
    col(Initiative.id), col(Initiative.state),
)


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
                passed = batch.escalate(batch_size)
                reminded = batch.remind(batch_size)
                batch.queue(passed, reminded)
            total += batch.result()
        if batch.claimed_deadlines < batch_size and batch.claimed_reminders < batch_size:
            break
    return total


class _Batch:
    """One transaction of a sweep: claims and marks, then queues the messages in the outbox.

    All reading happens before the first message is made: on PostgreSQL the messages then go
    out as one COPY that the server writes while the next ones are still being made.
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

    def result(self) -> SweepResult:
        return SweepResult(self.reminders, self.superseded, self.escalations, self.messages)

    # --- escalation ---------------------------------------------------------------------------

    def escalate(self, limit: int) -> list[_Due]:
        """Claims deadlines whose date has passed and marks them; returns those to tell about."""
        query = (
            core_select(*DUE_COLUMNS)
            .join(Initiative, col(Initiative.id) == Deadline.initiative_id)
            .where(col(Deadline.status) == "open", col(Deadline.due_at) < self.now)
            .order_by(col(Deadline.due_at), col(Deadline.id))
            .limit(limit)
        )
        if self.skip_locked:
            query = query.with_for_update(skip_locked=True, of=[Deadline, Initiative])
        claimed = [_Due(*values) for values in self.conn.execute(query).all()]
        self.claimed_deadlines = len(claimed)
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
        self.superseded += sum(1 for (at,) in cancelled if _aware(at) <= self.now)
        # The engine closes deadlines when a state is left; one that slipped through is cancelled.
        stale = [d.id for d in claimed if d.initiative_state != d.state]
        live = [d for d in claimed if d.initiative_state == d.state]
        if stale:
            self._update_deadlines(stale, status="cancelled", closed_at=self.now)
        if live:
            self._update_deadlines(
                [d.id for d in live],
                status="escalated",
                escalated_at=self.now,
                claimed_by=self.worker,
                claimed_at=self.now,
            )
        self.escalations += len(live)
        return live

    # --- reminders ----------------------------------------------------------------------------

    def remind(self, limit: int) -> list[_Due]:
        """Claims due reminders and marks them; returns the deadlines to remind of."""
        # Two steps: the due reminders from their own index first, then only those rows joined
        # and locked. In one statement PostgreSQL chooses to scan every open deadline.
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
        if self.skip_locked:  # so that parallel workers take different reminders from the start
            first = first.with_for_update(skip_locked=True)
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
                self._among(col(Deadline.id), sorted({d for _, d in candidates})),
                col(Reminder.sent_at).is_(None),
                col(Reminder.cancelled).is_(False),
                col(Deadline.status) == "open",
            )
        )
        if self.skip_locked:
            query = query.with_for_update(skip_locked=True, of=[Reminder, Deadline, Initiative])
        claimed = self.conn.execute(query).all()
        self.claimed_reminders = len(claimed)
        if len(claimed) < len(candidates):
            self._cancel_orphans(reminder_ids)
        if not claimed:
            return []
        # Several due reminders of one deadline (a worker that was down) make one message; all of
        # them are marked, also those beyond this batch's limit.
        by_deadline = {values[0]: _Due(*values) for values in claimed}
        passed = [i for i, d in by_deadline.items() if _aware(d.due_at) < self.now]
        running = [i for i, d in by_deadline.items() if _aware(d.due_at) >= self.now]
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
        rows = self._initiatives([d.initiative_id for d in (*passed, *reminded)])
        views = self._views(list(rows.values()))
        reference = self.engine.reference(self.session)
        work: list[tuple[_Due, _Subject, Flow, DeadlinePolicy, bool]] = []
        for due, is_passed in [*((d, True) for d in passed), *((d, False) for d in reminded)]:
            row = rows[due.initiative_id]
            found = self._policy(row, due)
            if found is None or (not is_passed and row.state != due.state):
                continue
            spec, policy = found
            audiences = [*policy.remind_audiences, *(policy.escalate_to if is_passed else ())]
            for audience in audiences:
                self._recipients(audience, views[row.id])  # asked now: no query once writing
            work.append((due, row, spec, policy, is_passed))
        shared = {**UNRENDERED, "event_id": None, "next_attempt_at": self.now, "created_at": self.now}
        INSERT_OUTBOX.many(self.session, self._messages(work, views, reference), shared)

    def _messages(
        self,
        work: Sequence[tuple[_Due, _Subject, Flow, DeadlinePolicy, bool]],
        views: Mapping[int, InitiativeView],
        reference: Reference,
    ) -> Iterator[dict[str, Any]]:
        today = local_date(self.now)
        for due, row, spec, policy, is_passed in work:
            view = views[row.id]
            if is_passed:
                frozen = freeze(self._context(spec, policy, row, view, due, PASSED_TRIGGER, reference))
                told: set[str] = set()
                yield from self._send(row, view, policy.escalate_to, policy.escalate_template, frozen, told)
                yield from self._send(row, view, policy.remind_audiences, policy.overdue_template,
                                      frozen, set(told))
            else:
                context = self._context(spec, policy, row, view, due, REMINDER_TRIGGER, reference)
                context["reminder"] = {"days_left": (local_date(_aware(due.due_at)) - today).days}
                yield from self._send(row, view, policy.remind_audiences, policy.remind_template,
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
        thousand took longer than the statement): an array on PostgreSQL, JSON on SQLite."""
        if self.skip_locked:
            return column == any_(literal(list(ids), ARRAY(Integer)))
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

    def _send(
        self,
        row: _Subject,
        view: InitiativeView,
        audiences: Iterable[Audience],
        template: str,
        frozen: str,
        told: set[str],
    ) -> Iterator[dict[str, Any]]:
        """The rows of `template` for everyone in `audiences` not yet in `told` (added to it)."""
        domain = self.engine.mail_domain
        for audience in audiences:
            for person in self._recipients(audience, view):
                key = person.email.lower()
                if key in told:
                    continue
                told.add(key)
                self.messages += 1
                yield addressed(template, frozen, person, domain=domain, initiative_id=row.id)

    def _recipients(self, audience: Audience, view: InitiativeView) -> list[Recipient]:
        # Many deadlines of one batch share their audiences (one college, one secretary):
        # ask the database once per audience and scope.
        scopes = audience.scopes(view, None)
        key = (audience.name, audience.role, None if scopes is None else frozenset(scopes))
        if key not in self._people:
            self._people[key] = [p for _, p in recipients(self.session, [audience], view, None)]
        return self._people[key]

    def _initiatives(self, ids: Sequence[int]) -> dict[int, _Subject]:
        """The full rows, loaded only when messages are rendered (their JSON is costly to load)."""
        if not ids:
            return {}
        columns = [getattr(Initiative, name) for name in _Subject._fields]
        query = core_select(*columns).where(self._among(col(Initiative.id), sorted(set(ids))))
        rows = (_Subject(*values) for values in self.conn.execute(query).all())
        return {row.id: row for row in rows}

    def _views(self, rows: Sequence[_Subject]) -> dict[int, InitiativeView]:
        """Working copies of many initiatives with one query, not two per initiative."""
        ids = sorted({_id(r) for r in rows})
        participants: dict[int, dict[str, ParticipantView]] = defaultdict(dict)
        if ids:
            query = select(
                col(Participant.initiative_id), col(Participant.municipality),
                col(Participant.status), col(Participant.data),
            ).where(self._among(col(Participant.initiative_id), ids))
            for initiative_id, municipality, status, data in self.conn.execute(query).all():
                participants[initiative_id][municipality] = ParticipantView(status, dict(data))
        members = self.engine.reference(self.session).members
        return {
            _id(r): InitiativeView(
                id=r.id,
                flow=r.flow,
                state=r.state,
                municipality=r.municipality,
                faction=r.faction,
                data=dict(r.data),
                participants=participants[_id(r)],
                group_members=members,
            )
            for r in rows
        }


def policy_context(policy: DeadlinePolicy) -> dict[str, list[str]]:
    """Who a deadline concerns, as the audience labels templates put in a sentence."""
    return {
        "remind": _labels(policy.remind_audiences),
        "escalate_to": _labels(policy.escalate_to),
        "extend_by": _labels(policy.extend_roles),
    }


def _labels(audiences: Iterable[Audience]) -> list[str]:
    return list(dict.fromkeys(a.label for a in audiences))


# --- listings ---------------------------------------------------------------------------------


def list_deadlines(
    engine: Engine,
    *,
    overdue: bool = False,
    initiative_id: int | None = None,
    now: datetime | None = None,
    limit: int = 500,
) -> list[dict[str, Any]]:
    """Running deadlines (those of the state an initiative is in), soonest first.

    `overdue` keeps those whose date has passed, escalated or not yet swept.
    """
    moment = now or engine.clock()
    today = local_date(moment)
    with engine.db.read() as session:
        query = (
            select(Deadline, Initiative)
            .join(Initiative, col(Initiative.id) == Deadline.initiative_id)
            .where(col(Deadline.status).in_(LIVE_DEADLINE), Deadline.state == Initiative.state)
            .order_by(col(Deadline.due_at), col(Deadline.id))
            .limit(limit)
        )
        if overdue:
            query = query.where(Deadline.due_at < moment)
        if initiative_id is not None:
            query = query.where(Deadline.initiative_id == initiative_id)
        found = session.exec(query).all()
        ids = [_id(d) for d, _ in found]
        next_reminder: dict[int, datetime] = {}
        if ids:
            reminders = (
                select(Reminder.deadline_id, func.min(Reminder.remind_at))
                .where(
                    col(Reminder.deadline_id).in_(ids),
                    col(Reminder.sent_at).is_(None),
                    col(Reminder.cancelled).is_(False),
                )
                .group_by(col(Reminder.deadline_id))
            )
            next_reminder = {d: at for d, at in session.exec(reminders)}
        out = []
        for deadline, row in found:
            spec = engine.registry.get(row.flow, row.flow_version)
            state = spec.states.get(row.state)
            out.append(
                {
                    "id": deadline.id,
                    "initiative_id": row.id,
                    "title": row.title,
                    "municipality": row.municipality,
                    "state": row.state,
                    "state_label": state.label if state else row.state,
                    "label": deadline.label,
                    "due_at": _aware(deadline.due_at),
                    "due_date": local_date(_aware(deadline.due_at)),
                    "days_left": (local_date(_aware(deadline.due_at)) - today).days,
                    "overdue": _aware(deadline.due_at) < moment,
                    "status": deadline.status,
                    "escalated_at": _maybe_aware(deadline.escalated_at),
                    "next_reminder": _maybe_aware(next_reminder.get(_id(deadline))),
                }
            )
        return out


def pending_reminders(db: Database, deadline_id: int) -> list[datetime]:
    """The moments at which the deadline's audiences will still be reminded."""
    with db.read() as session:
        query = (
            select(Reminder.remind_at)
            .where(
                Reminder.deadline_id == deadline_id,
                col(Reminder.sent_at).is_(None),
                col(Reminder.cancelled).is_(False),
            )
            .order_by(col(Reminder.remind_at))
        )
        return [_aware(at) for at in session.exec(query)]


def _aware(moment: datetime) -> datetime:
    # SQLite hands datetimes back without their zone; we only ever store UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _maybe_aware(moment: datetime | None) -> datetime | None:
    return None if moment is None else _aware(moment)


def _id(row: Any) -> int:
    if row.id is None:
        raise RuntimeError(f"{type(row).__name__} has no id yet")
    return int(row.id)


def _id_of(value: int | None) -> int:
    if value is None:
        raise RuntimeError("a claimed row has no initiative id")
    return int(value)
