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

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import ARRAY, Integer, any_, func, literal, update
from sqlmodel import Session, col, select

from workflow.calendar import local_date
from workflow.context import InitiativeView, ParticipantView
from workflow.db import Database
from workflow.definition import DeadlinePolicy, Flow
from workflow.engine import LIVE_DEADLINE, Engine, StepEvent, StepRow
from workflow.models import (
    Deadline,
    Initiative,
    Participant,
    Reminder,
    WorkingGroupMember,
)
from workflow.outbox import Recipient, freeze, queued_message, recipients
from workflow.roles import Audience
from workflow.statements import INITIATIVE_COLUMNS, INSERT_OUTBOX

OWNER = (col(Initiative.id), col(Initiative.state))  # enough to claim; the rest when rendering
REMINDER_TRIGGER = "deadline_reminder"  # the trigger name message contexts carry for a reminder
PASSED_TRIGGER = "deadline_passed"


class _Owner(NamedTuple):
    id: int
    state: str


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
                claimed_deadlines = batch.escalate(batch_size)
                claimed_reminders = batch.remind(batch_size)
            batch.write_outbox()
            total += batch.result()
        if claimed_deadlines < batch_size and claimed_reminders < batch_size:
            break
    return total


class _Batch:
    """One transaction of a sweep: claims, renders into the outbox, marks."""

    def __init__(self, engine: Engine, session: Session, worker: str, now: datetime) -> None:
        self.engine = engine
        self.session = session
        self.worker = worker
        self.now = now
        self.skip_locked = not engine.db.is_sqlite
        self.reminders = self.superseded = self.escalations = self.messages = 0
        self._members: dict[str, tuple[str, ...]] | None = None
        self._outbox: list[dict[str, Any]] = []
        self._people: dict[tuple[str, str, frozenset[tuple[str, ...]] | None], list[Recipient]] = {}

    def write_outbox(self) -> None:
        """One multi-row insert for the whole batch instead of one statement per message."""
        if self._outbox:
            now = self.now
            INSERT_OUTBOX.many(self.session, [
                {**values, "next_attempt_at": now, "created_at": now} for values in self._outbox
            ])
            self._outbox = []

    def result(self) -> SweepResult:
        return SweepResult(self.reminders, self.superseded, self.escalations, self.messages)

    # --- escalation ---------------------------------------------------------------------------

    def escalate(self, limit: int) -> int:
        query = (
            select(Deadline, *OWNER)
            .join(Initiative, col(Initiative.id) == Deadline.initiative_id)
            .where(Deadline.status == "open", Deadline.due_at < self.now)
            .order_by(col(Deadline.due_at), col(Deadline.id))
            .limit(limit)
        )
        if self.skip_locked:
            query = query.with_for_update(skip_locked=True, of=[Deadline, Initiative])
        claimed = [(d, _Owner(_id_of(iid), state)) for d, iid, state in self.session.exec(query).all()]
        if not claimed:
            return 0
        # Set-based: a catch-up batch of a thousand deadlines is a handful of statements.
        ids = [_id(d) for d, _ in claimed]
        cancelled = self.session.exec(
            update(Reminder)
            .where(*self._unsent(ids, due_only=False))
            .values(cancelled=True)
            .returning(col(Reminder.remind_at))
            .execution_options(synchronize_session=False)
        ).all()
        self.superseded += sum(1 for (at,) in cancelled if _aware(at) <= self.now)
        # The engine closes deadlines when a state is left; one that slipped through is cancelled.
        stale = [_id(d) for d, row in claimed if row.state != d.state]
        live = [(d, row) for d, row in claimed if row.state == d.state]
        if stale:
            self._update_deadlines(stale, status="cancelled", closed_at=self.now)
        if live:
            self._update_deadlines(
                [_id(d) for d, _ in live],
                status="escalated",
                escalated_at=self.now,
                claimed_by=self.worker,
                claimed_at=self.now,
            )
        self.escalations += len(live)
        if self.engine.renderer is None:
            return len(claimed)
        rows = self._initiatives([owner.id for _, owner in live])
        views = self._views(list(rows.values()))
        for deadline, owner in live:
            row = rows[owner.id]
            found = self._policy(row, deadline)
            if found is None:
                continue
            spec, policy = found
            view = views[_id(row)]
            context = self._context(spec, policy, row, view, deadline, PASSED_TRIGGER)
            told = self._send(row, view, policy.escalate_to, policy.escalate_template, context, set())
            self._send(row, view, policy.remind_audiences, policy.overdue_template, context, told)
        return len(claimed)

    # --- reminders ----------------------------------------------------------------------------

    def remind(self, limit: int) -> int:
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
        candidates = self.session.exec(first).all()
        if not candidates:
            return 0
        reminder_ids = [_id_of(r) for r, _ in candidates]
        query = (
            select(Reminder.deadline_id, Deadline, *OWNER)
            .join(Deadline, col(Deadline.id) == Reminder.deadline_id)
            .join(Initiative, col(Initiative.id) == Deadline.initiative_id)
            .where(
                self._among(col(Reminder.id), reminder_ids),
                self._among(col(Deadline.id), sorted({d for _, d in candidates})),
                col(Reminder.sent_at).is_(None),
                col(Reminder.cancelled).is_(False),
                Deadline.status == "open",
            )
        )
        if self.skip_locked:
            query = query.with_for_update(skip_locked=True, of=[Reminder, Deadline, Initiative])
        claimed = self.session.exec(query).all()
        if len(claimed) < len(candidates):
            self._cancel_orphans(reminder_ids)
        if not claimed:
            return 0
        by_deadline: dict[int, tuple[Deadline, _Owner]] = {}
        for _, deadline, iid, state in claimed:
            by_deadline[_id(deadline)] = (deadline, _Owner(_id_of(iid), state))
        # Several due reminders of one deadline (a worker that was down) make one message; all of
        # them are marked, also those beyond this batch's limit.
        passed = [i for i, (d, _) in by_deadline.items() if _aware(d.due_at) < self.now]
        running = [i for i, (d, _) in by_deadline.items() if _aware(d.due_at) >= self.now]
        if passed:
            self.superseded += self._update_reminders(passed, due_only=True, cancelled=True)
        if running:
            self.reminders += self._update_reminders(
                running, due_only=True, sent_at=self.now, claimed_by=self.worker, claimed_at=self.now
            )
        if self.engine.renderer is None:
            return len(claimed)
        due = [by_deadline[i] for i in running]
        rows = self._initiatives([owner.id for _, owner in due])
        views = self._views(list(rows.values()))
        for deadline, owner in due:
            row = rows[owner.id]
            found = self._policy(row, deadline)
            if found is None or row.state != deadline.state:
                continue
            spec, policy = found
            view = views[_id(row)]
            context = self._context(spec, policy, row, view, deadline, REMINDER_TRIGGER)
            days_left = (local_date(_aware(deadline.due_at)) - local_date(self.now)).days
            context["reminder"] = {"days_left": days_left}
            self._send(row, view, policy.remind_audiences, policy.remind_template, context, set())
        return len(claimed)

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
        """`column IN ids`; on PostgreSQL as one array parameter instead of a thousand."""
        if self.skip_locked:
            return column == any_(literal(list(ids), ARRAY(Integer)))
        return column.in_(ids)

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
        self.session.exec(query.execution_options(synchronize_session=False))

    def _update_reminders(self, deadline_ids: Sequence[int], *, due_only: bool, **values: Any) -> int:
        query = update(Reminder).where(*self._unsent(deadline_ids, due_only=due_only)).values(**values)
        result = self.session.exec(query.execution_options(synchronize_session=False))
        return int(result.rowcount)

    def _update_deadlines(self, deadline_ids: Sequence[int], **values: Any) -> None:
        query = update(Deadline).where(self._among(col(Deadline.id), deadline_ids)).values(**values)
        self.session.exec(query.execution_options(synchronize_session=False))

    def _policy(self, row: StepRow, deadline: Deadline) -> tuple[Flow, DeadlinePolicy] | None:
        spec = self.engine.registry.get(row.flow, row.flow_version)
        state = spec.states.get(deadline.state)
        if state is None or state.deadline is None:
            return None
        return spec, state.deadline

    def _context(
        self,
        spec: Flow,
        policy: DeadlinePolicy,
        row: StepRow,
        view: InitiativeView,
        deadline: Deadline,
        trigger: str,
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
        context = self.engine.message_context(self.session, spec, row, view, occasion, deadline)
        context["announce_deadline"] = False  # the calendar item went out with the announcement
        context["policy"] = policy_context(policy)
        return context

    def _send(
        self,
        row: StepRow,
        view: InitiativeView,
        audiences: Iterable[Audience],
        template: str,
        context: dict[str, Any],
        skip: set[str],
    ) -> set[str]:
        """Queue `template` for everyone in `audiences` not in `skip`; returns who was told."""
        told: set[str] = set()
        if self.engine.renderer is None:
            return told
        frozen = freeze(context)
        for audience in audiences:
            for person in self._recipients(audience, view):
                key = person.email.lower()
                if key in skip or key in told:
                    continue
                told.add(key)
                message = queued_message(template, frozen, person, domain=self.engine.mail_domain,
                                         initiative_id=row.id, event_id=None)
                self._outbox.append(message | {"audience": audience.label})
                self.messages += 1
        return told

    def _recipients(self, audience: Audience, view: InitiativeView) -> list[Recipient]:
        # Many deadlines of one batch share their audiences (one college, one secretary):
        # ask the database once per audience and scope.
        scopes = audience.scopes(view, None)
        key = (audience.name, audience.role, None if scopes is None else frozenset(scopes))
        if key not in self._people:
            self._people[key] = [p for _, p in recipients(self.session, [audience], view, None)]
        return self._people[key]

    def _initiatives(self, ids: Sequence[int]) -> dict[int, StepRow]:
        """The full rows, loaded only when messages are rendered (their JSON is costly to load)."""
        if not ids:
            return {}
        columns = [getattr(Initiative, name) for name in INITIATIVE_COLUMNS]
        query = select(*columns).where(col(Initiative.id).in_(sorted(set(ids))))
        rows = (StepRow(*values) for values in self.session.execute(query))
        return {row.id: row for row in rows}

    def _views(self, rows: Sequence[StepRow]) -> dict[int, InitiativeView]:
        """Working copies of many initiatives with two queries, not two per initiative."""
        ids = sorted({_id(r) for r in rows})
        participants: dict[int, dict[str, ParticipantView]] = defaultdict(dict)
        if ids:
            query = select(Participant).where(col(Participant.initiative_id).in_(ids))
            for p in self.session.exec(query):
                participants[p.initiative_id][p.municipality] = ParticipantView(p.status, dict(p.data))
        if self._members is None and ids:
            members: dict[str, list[str]] = defaultdict(list)
            for m in self.session.exec(select(WorkingGroupMember)):
                members[m.working_group_slug].append(m.municipality_slug)
            self._members = {k: tuple(sorted(v)) for k, v in members.items()}
        return {
            _id(r): InitiativeView(
                id=r.id,
                flow=r.flow,
                state=r.state,
                municipality=r.municipality,
                faction=r.faction,
                data=dict(r.data),
                participants=participants[_id(r)],
                group_members=self._members or {},
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
