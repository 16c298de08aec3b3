"""The one write path: every change to an initiative goes through `Engine.submit` or `Engine.fire`.

Each call is one database transaction that locks the initiative, checks version, permission,
state, input and guards, then writes the new state and version, one `Event` per step,
participants, deadlines and the outbox messages (unrendered: the sender renders them). Nothing
is sent before the commit.

The statements that run on every step are prepared once and run on the transaction's own
DB-API cursor (`workflow.statements`, `workflow.sql`): building and compiling Core statements
per call cost more than the database work itself. `submit` and `fire` run in a
`Database.step`, a transaction on a plain connection; the ORM session that guards' lookups and
rare reads need joins it when first asked for. Everything else uses the ORM.
"""

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from functools import partial
from typing import Any, Protocol

from sqlalchemy import insert
from sqlmodel import Session, col, select

from workflow import statements as sql
from workflow.calendar import Period, WorkCalendar, end_of_day, local_date, morning_of
from workflow.clock import utcnow
from workflow.context import InitiativeView, ParticipantView, TransitionContext
from workflow.db import Database, Executor, WriteTx, session_of
from workflow.definition import DateFromInput, Flow, State, Transition
from workflow.errors import (
    GuardFailed,
    InvalidInput,
    NotFound,
    PermissionDenied,
    StaleVersion,
    TransitionNotAllowed,
    UnknownTrigger,
)
from workflow.inputs import refs, validate_input
from workflow.models import (
    Deadline,
    Event,
    Initiative,
    Municipality,
    OutboxMessage,
    Recess,
    Reminder,
    Theme,
    WorkingGroup,
    WorkingGroupMember,
)
from workflow.outbox import (
    UNRENDERED,
    RecipientCache,
    Renderer,
    addressed,
    freeze,
    people_by_audience,
    queued_message,
    recipients,
)
from workflow.registry import FlowRegistry
from workflow.roles import SYSTEM, Actor

REFERENCE_TTL_SECONDS = 5.0
MAX_AUTOMATIC_STEPS = 20  # a flow whose automatic steps loop is a bug; stop it loudly
EXTEND_DEADLINE = "extend_deadline"  # the Event trigger of an extension (no flow transition)
LIVE_DEADLINE = sql.LIVE_DEADLINE
REFERENCE_TABLES: dict[str, Any] = {
    "municipality": Municipality,
    "working_group": WorkingGroup,
    "theme": Theme,
}


@dataclass(frozen=True)
class Reference:
    loaded_at: float
    version: int  # `Database.reference_version` when read
    names: dict[str, str]  # municipality slug → name
    groups: dict[str, str]  # working group slug → name
    group_themes: dict[str, str | None]  # working group slug → theme slug
    members: dict[str, tuple[str, ...]]  # working group slug → municipality slugs
    themes: dict[str, str]  # theme slug → name
    recesses: tuple[Period, ...]

    def knows(self, table: str, key: Any) -> bool:
        found = {"municipality": self.names, "working_group": self.groups, "theme": self.themes}
        return table in found and key in found[table]


@dataclass
class StepRow:
    """The locked initiative as the write path reads and writes it: plain values, no ORM state."""

    id: int
    flow: str
    flow_version: int
    state: str
    version: int
    title: str
    summary: str
    municipality: str
    faction: str | None
    submitted_by: int | None
    data: dict[str, Any]
    directory: int | None = None  # `directory_version` as the lock read it; None: not read
    # [municipality, status, data] of each participant as the lock read them (SQLite), or None.
    participants: list[list[Any]] | None = None


class Subject(Protocol):
    """What a message says of its initiative: an `Initiative`, a `StepRow` or the sweep's row."""

    @property
    def id(self) -> int | None: ...
    @property
    def title(self) -> str: ...
    @property
    def summary(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def municipality(self) -> str: ...
    @property
    def faction(self) -> str | None: ...


@dataclass(frozen=True)
class StepEvent:
    """The event a step wrote, as the result and the messages need it (an ORM object costs
    more to build than the whole insert)."""

    id: int
    initiative_id: int
    version: int
    at: datetime
    actor_id: int | None
    actor_name: str
    trigger: str
    from_state: str | None
    to_state: str
    data: dict[str, Any]
    comment: str


@dataclass(frozen=True)
class StepDeadline:
    id: int
    label: str
    due_at: datetime


@dataclass(frozen=True)
class FireResult:
    initiative_id: int
    state: str
    state_label: str
    version: int
    event_ids: list[int] = field(default_factory=list)
    messages: int = 0


@dataclass(frozen=True)
class TriggerOption:
    """A step an actor may take now; `blocked` says in Dutch why a guard stops it, if one does."""

    trigger: str
    label: str
    transition: Transition
    blocked: str | None = None


class Engine:
    """The service every interface (CLI, API, pages, scheduler) calls to change an initiative."""

    def __init__(
        self,
        db: Database,
        registry: FlowRegistry,
        *,
        renderer: Renderer | None = None,
        base_url: str = "http://127.0.0.1:8000",
        mail_domain: str = "initiatief.local",
        clock: Callable[[], datetime] = utcnow,
        fault: Callable[[str], None] | None = None,
    ) -> None:
        self.db = db
        self.registry = registry
        self.renderer = renderer
        self.base_url = base_url.rstrip("/")
        self.mail_domain = mail_domain
        self.clock = clock
        self._reference_cache: Reference | None = None
        self._calendar: tuple[Reference, WorkCalendar] | None = None
        self._recipients = RecipientCache()
        # Test seam for crash safety: called at named points inside the transaction.
        self._fault = fault or (lambda _point: None)

    # --- the write path ----------------------------------------------------------------------

    def submit(
        self,
        *,
        actor: Actor,
        flow: str,
        data: Mapping[str, Any],
        comment: str = "",
    ) -> FireResult:
        """Create an initiative through the flow's creating transition. Commits all or nothing."""
        spec = self.registry.get(flow)
        start = spec.start
        raw = dict(data)
        home = self._home_scope(spec, start, actor, raw)
        with self.db.step() as tx:
            model = validate_input(start.requires, raw)
            self._check_refs(tx, start, model)
            title = str(getattr(model, "title", "") or "")
            summary = str(getattr(model, "summary", "") or "")
            if not self._known(tx, "municipality", home["municipality"]):
                raise InvalidInput(f"Onbekende gemeente {home['municipality']!r}.")
            now = self.clock()
            values: dict[str, Any] = {
                "flow": spec.name,
                "flow_version": spec.version,
                "state": spec.initial.name,
                "version": 0,
                "title": title,
                "summary": summary,
                "municipality": home["municipality"],
                "faction": home.get("faction"),
                "submitted_by": actor.user_id,
                "data": dict(spec.data_defaults),
                "created_at": now,
                "updated_at": now,
            }
            new_id = sql.INSERT_INITIATIVE.insert_id(tx, values)
            row = StepRow(id=new_id, **{k: values[k] for k in sql.INITIATIVE_COLUMNS[1:]})
            view = self.view_of(tx, row)
            view.state = ""
            ctx = TransitionContext(view, start.trigger, actor, self.clock(), model, raw,
                                    lookups=self._lookups(tx))
            self._check_guards(start, ctx)
            events = [self._write_step(tx, spec, row, view, start, ctx, None, comment)]
            events += self._run_automatic(tx, spec, row, view)
            return self._result(spec, row, events)

    def fire(
        self,
        initiative_id: int,
        trigger: str,
        *,
        actor: Actor,
        data: Mapping[str, Any] | None = None,
        comment: str = "",
        expected_version: int | None = None,
    ) -> FireResult:
        """Fire `trigger` on an initiative. Commits nothing unless every check and write succeeds."""
        with self.db.step() as tx:
            row = self._lock_step(tx, initiative_id, expected_version)
            spec = self.registry.get(row.flow, row.flow_version)
            transition = spec.transition(trigger)
            view = self.view_of(tx, row)
            if transition is None or transition.source is None or transition.automatic:
                raise UnknownTrigger(
                    f"Onbekende stap {trigger!r} in {spec.label}. "
                    + self._possible_now(spec, view, actor)
                )
            if not any(a.admits(actor.grants, view, None) for a in transition.roles):
                who = ", ".join(a.label for a in transition.roles)
                raise PermissionDenied(
                    f"U mag '{transition.label}' niet uitvoeren bij dit initiatief; "
                    f"dat mag: {who}."
                )
            if not self.registry.machine(spec).can_leave(row.state, trigger):
                raise TransitionNotAllowed(
                    f"'{transition.label}' kan niet in de status "
                    f"'{spec.state(row.state).label}'. " + self._possible_now(spec, view, actor),
                    details={"state": row.state},
                )
            raw = dict(data or {})
            self._fill_actor_scope(transition, actor, raw)
            model = validate_input(transition.requires, raw)
            self._check_refs(tx, transition, model)
            checked = model.model_dump() if model is not None else {}
            if not any(a.admits(actor.grants, view, checked) for a in transition.roles):
                raise PermissionDenied(
                    f"U mag '{transition.label}' niet uitvoeren met deze gegevens "
                    "(bijvoorbeeld voor een andere gemeente dan de uwe)."
                )
            ctx = TransitionContext(view, trigger, actor, self.clock(), model, raw,
                                    lookups=self._lookups(tx))
            self._check_guards(transition, ctx)
            events = [self._write_step(tx, spec, row, view, transition, ctx, model, comment)]
            events += self._run_automatic(tx, spec, row, view)
            self._fault("before_commit")
            return self._result(spec, row, events)

    def extend_deadline(
        self,
        initiative_id: int,
        *,
        actor: Actor,
        until: date,
        reason: str,
        expected_version: int | None = None,
    ) -> FireResult:
        """Move the running deadline of the current state to the later day `until`.

        Audited like a step and in one transaction: one `Event` (trigger `extend_deadline`,
        the reason as comment, old and new date in data), a new version, the unsent reminders
        replaced by those of the new date, and a message to everyone the deadline concerns.
        Only the roles the state's deadline policy names in `extend_roles` may do this.
        """
        with self.db.write() as session:
            row = self._lock(session, initiative_id, expected_version)
            spec = self.registry.get(row.flow, row.flow_version)
            state = spec.state(row.state)
            policy = state.deadline
            deadline = session.exec(
                select(Deadline)
                .where(
                    Deadline.initiative_id == row.id,
                    Deadline.state == row.state,
                    col(Deadline.status).in_(LIVE_DEADLINE),
                )
                .order_by(col(Deadline.id).desc())
            ).first()
            if policy is None or deadline is None:
                raise TransitionNotAllowed(
                    f"In de status '{state.label}' loopt geen termijn die verlengd kan worden.",
                    details={"state": row.state},
                )
            view = self.view_of(session, row)
            if not any(a.admits(actor.grants, view, None) for a in policy.extend_roles):
                who = ", ".join(a.label for a in policy.extend_roles) or "niemand"
                raise PermissionDenied(
                    f"U mag de termijn '{deadline.label}' niet verlengen; dat mag: {who}."
                )
            reason = reason.strip()
            if not reason:
                raise InvalidInput(
                    "Geef een reden op voor het verlengen van de termijn.",
                    field_errors={"reason": "verplicht"},
                )
            now = self.clock()
            # SQLite returns the stored UTC moment without its zone.
            old_day = local_date(deadline.due_at.replace(tzinfo=deadline.due_at.tzinfo or UTC))
            new_day = self.calendar(session).out_of_recess(until)
            if new_day <= old_day or new_day < local_date(now):
                raise InvalidInput(
                    f"De nieuwe uiterste datum moet na {old_day:%d-%m-%Y} liggen en niet in het "
                    "verleden.",
                    field_errors={"until": "te vroeg"},
                )
            earlier = session.exec(
                select(Event).where(Event.initiative_id == row.id, Event.trigger == EXTEND_DEADLINE)
            ).all()
            sequence = 1 + sum(1 for e in earlier if e.data.get("deadline_id") == deadline.id)
            row.version += 1
            row.updated_at = now
            session.add(row)
            deadline.due_at = end_of_day(new_day)
            deadline.status = "open"
            session.add(deadline)
            pending = select(Reminder).where(
                Reminder.deadline_id == deadline.id,
                Reminder.sent_at == None,  # noqa: E711
                Reminder.cancelled == False,  # noqa: E712
            )
            for reminder in session.exec(pending):
                reminder.cancelled = True
                session.add(reminder)
            for term in policy.remind:
                moment = morning_of(new_day - term.as_calendar_days())
                if moment > now:
                    session.add(Reminder(deadline_id=_id(deadline), remind_at=moment))
            event = Event(
                initiative_id=_id(row),
                version=row.version,
                at=now,
                actor_id=actor.user_id,
                actor_name=actor.name if not actor.is_system else self._system_label,
                trigger=EXTEND_DEADLINE,
                from_state=row.state,
                to_state=row.state,
                data={
                    "deadline_id": deadline.id,
                    "label": deadline.label,
                    "old_due": old_day.isoformat(),
                    "new_due": new_day.isoformat(),
                    "requested": until.isoformat(),
                },
                comment=reason,
            )
            session.add(event)
            session.flush()
            context = self.message_context(session, spec, row, view, event, deadline)
            context["deadline"] = {**context["deadline"], "sequence": sequence}
            audiences = [*policy.remind_audiences, *policy.escalate_to]
            rows = []
            if self.renderer is not None:
                frozen = freeze(context)
                for _audience, person in recipients(session, audiences, view, None):
                    if person.user_id == actor.user_id:
                        continue
                    rows.append(
                        queued_message(policy.extend_template, frozen, person,
                                       domain=self.mail_domain, initiative_id=row.id,
                                       event_id=event.id)
                        | {"next_attempt_at": now, "created_at": now}
                    )
            if rows:
                session.execute(insert(OutboxMessage), rows)
            count = len(rows)
            return replace(self._result(spec, row, [event]), messages=count)

    # --- reading what an actor may do ---------------------------------------------------------

    def options(self, session: Executor, row: Initiative, actor: Actor) -> list[TriggerOption]:
        """The steps `actor` may take on `row` now, each with a Dutch reason if a guard blocks it."""
        spec = self.registry.get(row.flow, row.flow_version)
        view = self.view_of(session, row)
        return self.options_for(spec, view, actor, session)

    def allowed_triggers(self, initiative_id: int, actor: Actor) -> list[str]:
        with self.db.read() as session:
            row = session.get(Initiative, initiative_id)
            if row is None:
                raise NotFound(f"Initiatief {initiative_id} bestaat niet.")
            return [o.trigger for o in self.options(session, row, actor) if o.blocked is None]

    def options_for(
        self, spec: Flow, view: InitiativeView, actor: Actor, session: Executor | None = None
    ) -> list[TriggerOption]:
        found = []
        lookups = self._lookups(session) if session is not None else {}
        for t in spec.from_state(view.state):
            if t.automatic or not any(a.admits(actor.grants, view, None) for a in t.roles):
                continue
            ctx = TransitionContext(view, t.trigger, actor, self.clock(), lookups=lookups)
            blocked = next((_message(g, ctx) for g in t.guards if not _guard_holds(g, ctx)), None)
            # A guard that needs input (checked when it arrives) must not block the offer.
            found.append(TriggerOption(t.trigger, t.label, t, blocked if t.requires is None else None))
        return found

    def _possible_now(self, spec: Flow, view: InitiativeView, actor: Actor) -> str:
        options = [o for o in self.options_for(spec, view, actor) if o.blocked is None]
        state = spec.state(view.state).label
        if not options:
            return f"In de status '{state}' kunt u nu geen stap zetten."
        listing = ", ".join(f"{o.trigger} ({o.label})" for o in options)
        return f"Mogelijk in de status '{state}': {listing}."

    # --- the steps of the write path ----------------------------------------------------------

    def _lock(
        self, session: Session, initiative_id: int, expected_version: int | None = None
    ) -> Initiative:
        """The initiative, locked for this transaction; a stale `expected_version` is a conflict."""
        row = self._lock_row(session, initiative_id)
        _check_version(row.version, expected_version)
        return row

    def _lock_step(self, tx: WriteTx, initiative_id: int, expected_version: int | None) -> StepRow:
        """Like `_lock`, as plain values: the write path's own, cheaper read of the row."""
        found = sql.LOCK_INITIATIVE.one(tx, {"id": initiative_id})
        if found is None:
            raise NotFound(f"Initiatief {initiative_id} bestaat niet.")
        *values, directory, participants = found
        row = StepRow(**dict(zip(sql.INITIATIVE_COLUMNS, values, strict=True)),
                      directory=directory, participants=participants)
        _check_version(row.version, expected_version)
        return row

    def _lock_row(self, session: Session, initiative_id: int) -> Initiative:
        query = (
            select(Initiative)
            .where(Initiative.id == initiative_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        row = session.exec(query).first()
        if row is None:
            raise NotFound(f"Initiatief {initiative_id} bestaat niet.")
        return row

    def _home_scope(
        self, spec: Flow, start: Transition, actor: Actor, raw: dict[str, Any]
    ) -> dict[str, str]:
        """The municipality (and faction) a new initiative belongs to, from the actor's role."""
        kinds = self.registry.role_kinds
        roles = {a.role for a in start.roles}
        candidates: list[dict[str, str]] = []
        for grant in sorted(actor.grants, key=lambda g: (g.role, g.scope)):
            if grant.role in roles and grant.role in kinds:
                candidates.append(dict(zip(kinds[grant.role].scope_parts, grant.scope, strict=True)))
        chosen = {k: str(raw.pop(k)).lower() for k in ("municipality", "faction") if k in raw}
        matching = [c for c in candidates if all(c.get(k) == v for k, v in chosen.items())]
        who = " of ".join(a.label for a in start.roles)
        if not candidates:
            raise PermissionDenied(f"Alleen {who} kan een initiatief indienen in {spec.label}.")
        if not matching:
            raise PermissionDenied(f"U bent geen {who} voor {chosen}.")
        if len(matching) > 1:
            listing = ", ".join("/".join(c.values()) for c in matching)
            raise InvalidInput(
                "U heeft meerdere rollen waarmee u kunt indienen; kies met municipality= "
                f"(en faction=) namens wie: {listing}."
            )
        home = matching[0]
        if "municipality" not in home:
            raise InvalidInput("De rol waarmee u indient hoort bij geen gemeente.")
        return home

    def _fill_actor_scope(self, t: Transition, actor: Actor, raw: dict[str, Any]) -> None:
        """Fill e.g. `municipality` from the actor's own college role when it is left out."""
        name = t.actor_scope_field
        if name is None or raw.get(name):
            return
        roles = {a.role for a in t.roles}
        scopes = sorted({g.scope[0] for g in actor.grants if g.role in roles and g.scope})
        if len(scopes) == 1:
            raw[name] = scopes[0]

    def _check_refs(self, tx: Executor, t: Transition, model: Any) -> None:
        errors = {}
        for name, table in refs(t.requires).items():
            value = getattr(model, name, None)
            if value is not None and not self._known(tx, table, value):
                errors[name] = f"onbekend: {value!r}"
        if errors:
            listing = "; ".join(f"{k} {v}" for k, v in errors.items())
            raise InvalidInput(f"Ongeldige invoer: {listing}.", field_errors=errors)

    def _known(self, tx: Executor, table: str, key: Any) -> bool:
        """Reference data exists: from the cache, or (new since it was read) from the table."""
        if self.reference(tx).knows(table, key):
            return True
        return session_of(tx).get(REFERENCE_TABLES[table], key) is not None

    def _check_guards(self, t: Transition, ctx: TransitionContext) -> None:
        for guard in t.guards:
            if not _guard_holds(guard, ctx):
                raise GuardFailed(_message(guard, ctx), details={"guard": guard.name})

    def _write_step(
        self,
        tx: Executor,
        spec: Flow,
        row: StepRow,
        view: InitiativeView,
        t: Transition,
        ctx: TransitionContext,
        model: Any,
        comment: str,
    ) -> StepEvent:
        old_state = row.state if t.source is not None else None
        if t.source is None:
            new_state = spec.initial.name
        else:
            # Every caller checked the guards on `ctx` just before (with Dutch messages).
            new_state = self.registry.machine(spec).destination(row.state, t.trigger)
        # The effect runs after the machine has judged the guards on the state before it.
        if t.effect:
            t.effect(ctx)
        now = ctx.now
        row.state = new_state
        row.version += 1
        row.data = dict(view.data)
        sql.UPDATE_INITIATIVE.run(tx, {"row_id": row.id, "new_state": new_state,
                                       "new_version": row.version, "new_data": row.data,
                                       "now": now})
        self._fault("after_state_update")
        self._write_participants(tx, row, view, now)
        payload = model.model_dump(mode="json") if model is not None else {}
        payload.update(ctx.record)
        values: dict[str, Any] = {
            "initiative_id": row.id,
            "version": row.version,
            "at": now,
            "actor_id": ctx.actor.user_id,
            "actor_name": ctx.actor.name if not ctx.actor.is_system else self._system_label,
            "trigger": t.trigger,
            "from_state": old_state,
            "to_state": new_state,
            "data": payload,
            "comment": comment.strip(),
        }
        event = StepEvent(id=sql.INSERT_EVENT.insert_id(tx, values), **values)
        view.state = new_state
        entered = spec.state(new_state)
        deadline = None
        if old_state != new_state:
            self._close_deadlines(tx, spec, row, old_state, now)
            deadline = self._open_deadline(tx, row, entered, ctx)
        self._queue_notifications(tx, spec, row, view, t, ctx, event, deadline)
        return event

    @property
    def _system_label(self) -> str:
        return self.registry.region.system_actor_label

    def _write_participants(
        self, tx: Executor, row: StepRow, view: InitiativeView, now: datetime
    ) -> None:
        """Write only what the effect changed, against what `view_of` loaded in this transaction."""
        known = self.reference(tx).names
        for municipality, p in view.participants.items():
            before = view.loaded.get(municipality)
            if before is None:
                if municipality not in known:
                    raise InvalidInput(f"Onbekende gemeente {municipality!r}.")
                sql.INSERT_PARTICIPANT.run(tx, {
                    "initiative_id": row.id, "municipality": municipality, "status": p.status,
                    "data": dict(p.data), "updated_at": now,
                })
            elif before != (p.status, p.data):
                sql.UPDATE_PARTICIPANT.run(tx, {
                    "row_id": row.id, "row_municipality": municipality, "new_status": p.status,
                    "new_data": dict(p.data), "now": now,
                })
            view.loaded[municipality] = (p.status, dict(p.data))

    def _close_deadlines(
        self, tx: Executor, spec: Flow, row: StepRow, state: str | None, now: datetime
    ) -> None:
        if state is None or spec.state(state).deadline is None:
            return  # only states with a deadline policy ever hold deadlines
        where = {"initiative_id": row.id, "state": state}
        sql.CANCEL_REMINDERS.run(tx, where)
        sql.CLOSE_DEADLINES.run(tx, {**where, "now": now})

    def _open_deadline(
        self, tx: Executor, row: StepRow, state: State, ctx: TransitionContext
    ) -> StepDeadline | None:
        policy = state.deadline
        if policy is None:
            return None
        calendar = self.calendar(tx)
        today = local_date(ctx.now)
        if isinstance(policy.due, DateFromInput):
            due_day = ctx.value(policy.due.field)
            if due_day is None:
                return None
            due_day = calendar.out_of_recess(due_day)
        else:
            due_day = calendar.add(today, policy.due)
        values: dict[str, Any] = {
            "initiative_id": row.id,
            "state": state.name,
            "label": policy.label or state.label,
            "due_at": end_of_day(due_day),
            "status": "open",
            "created_at": ctx.now,
            "closed_at": None,
            "escalated_at": None,
            "claimed_by": None,
            "claimed_at": None,
        }
        deadline = StepDeadline(sql.INSERT_DEADLINE.insert_id(tx, values), values["label"],
                                values["due_at"])
        moments = [morning_of(due_day - term.as_calendar_days()) for term in policy.remind]
        sql.INSERT_REMINDER.many(tx, [
            {"deadline_id": deadline.id, "remind_at": moment, "sent_at": None, "cancelled": False,
             "claimed_by": None, "claimed_at": None}
            for moment in moments
            if moment > ctx.now
        ])
        return deadline

    def _lookups(self, tx: Executor) -> dict[str, Callable[..., Any]]:
        """The region's lookups in this transaction. They take an `Executor`: prepared
        statements run on it as it is, and `session_of` makes a step's ORM session when one
        is needed."""
        return {name: partial(fn, tx) for name, fn in self.registry.region.lookups.items()}

    def calendar(self, session: Executor) -> WorkCalendar:
        """The working-day calendar with the current recesses; one per reference read."""
        reference = self.reference(session)
        if self._calendar is None or self._calendar[0] is not reference:
            self._calendar = (reference, WorkCalendar(reference.recesses))
        return self._calendar[1]

    def _queue_notifications(
        self,
        tx: Executor,
        spec: Flow,
        row: StepRow,
        view: InitiativeView,
        t: Transition,
        ctx: TransitionContext,
        event: "Event | StepEvent",
        deadline: "Deadline | StepDeadline | None",
    ) -> int:
        if not t.notify:
            return 0
        if self.renderer is None:
            return 0
        data = ctx.input.model_dump() if ctx.input is not None else None
        frozen = freeze(self.message_context(tx, spec, row, view, event, deadline))
        rows: list[dict[str, Any]] = []
        sent_to: set[tuple[str, str]] = set()
        people = people_by_audience(tx, [n.audience for n in t.notify], view, data,
                                    cache=self._recipients, version=row.directory)
        for notify, audience in zip(t.notify, people, strict=True):
            for person in audience:
                key = (person.email.lower(), notify.template)
                if key in sent_to or person.user_id == ctx.actor.user_id:
                    continue
                sent_to.add(key)
                rows.append(addressed(notify.template, frozen, person, domain=self.mail_domain,
                                      initiative_id=row.id))
        shared = {"initiative_id": row.id, "event_id": event.id,
                  "next_attempt_at": ctx.now, "created_at": ctx.now}
        sql.INSERT_OUTBOX.many(tx, rows, shared, constant=UNRENDERED)
        return len(rows)

    def message_context(
        self,
        session: Executor,
        spec: Flow,
        row: Subject,
        view: InitiativeView,
        event: "Event | StepEvent",
        deadline: "Deadline | StepDeadline | None",
        reference: "Reference | None" = None,
    ) -> dict[str, Any]:
        """What every template may use; templates fail loudly on anything else (StrictUndefined).

        `reference`: the reference data to name things with, when the caller has it at hand
        (the sweep makes messages while a COPY is open and cannot ask the database)."""
        reference = reference or self.reference(session)
        names = reference.names
        group_name = reference.groups.get(view.data.get("working_group") or "", "")
        t = spec.transition(event.trigger)
        return {
            "initiative": {
                "id": row.id,
                "title": row.title,
                "summary": row.summary,
                "state": row.state,
                "state_label": spec.state(row.state).label,
                "municipality": names.get(row.municipality, row.municipality),
                "faction": row.faction or "",
                "data": dict(view.data),
                "working_group": group_name,
                "participants": [
                    {"municipality": names.get(m, m), "status": p.status}
                    for m, p in sorted(view.participants.items())
                ],
            },
            "flow": {"name": spec.name, "label": spec.label},
            "event": {
                "trigger": event.trigger,
                "label": t.label if t else event.trigger,
                "actor": event.actor_name,
                "at": event.at,
                "comment": event.comment,
                "data": dict(event.data),
            },
            "deadline": (
                {"label": deadline.label, "due_at": deadline.due_at, "id": deadline.id}
                if deadline
                else None
            ),
            "link": f"{self.base_url}/initiatieven/{row.id}",
            "base_url": self.base_url,
        }

    def _run_automatic(
        self, tx: Executor, spec: Flow, row: StepRow, view: InitiativeView
    ) -> list[StepEvent]:
        events: list[StepEvent] = []
        for _ in range(MAX_AUTOMATIC_STEPS):
            ctx_now = self.clock()
            step = None
            for t in spec.from_state(row.state):
                if not t.automatic:
                    continue
                ctx = TransitionContext(view, t.trigger, SYSTEM, ctx_now,
                                        lookups=self._lookups(tx))
                if all(_guard_holds(g, ctx) for g in t.guards):
                    step = (t, ctx)
                    break
            if step is None:
                return events
            t, ctx = step
            events.append(self._write_step(tx, spec, row, view, t, ctx, None, ""))
        raise RuntimeError(f"flow {spec.name!r} keeps firing automatic steps from {row.state!r}")

    def view_of(self, session: Executor, row: "Initiative | StepRow") -> InitiativeView:
        read: Sequence[Sequence[Any]] | None = (
            row.participants if isinstance(row, StepRow) else None  # read with the lock
        )
        if read is None:
            read = sql.PARTICIPANTS.all(session, {"initiative_id": row.id})
        loaded = {municipality: (status, dict(data)) for municipality, status, data in read}
        return InitiativeView(
            id=row.id,
            flow=row.flow,
            state=row.state,
            municipality=row.municipality,
            faction=row.faction,
            data=dict(row.data),
            participants={m: ParticipantView(st, dict(d)) for m, (st, d) in loaded.items()},
            group_members=self.reference(session).members,
            loaded=loaded,
        )

    def reference(self, session: Executor) -> "Reference":
        """Municipality, group and theme names, group members and recesses, read at most every
        few seconds: they are needed in every step and page and edited rarely, a stale name in a
        mail for a few seconds harms nobody, and an edit in this process clears them at once
        (`Database.reference_changed`)."""
        now = time.monotonic()
        cached = self._reference_cache
        version = self.db.reference_version
        if cached is None or now - cached.loaded_at > REFERENCE_TTL_SECONDS or cached.version != version:
            orm = session_of(session)
            members: dict[str, list[str]] = {}
            for g, m in orm.exec(
                select(col(WorkingGroupMember.working_group_slug), col(WorkingGroupMember.municipality_slug))
            ):
                members.setdefault(g, []).append(m)
            groups = orm.exec(
                select(col(WorkingGroup.slug), col(WorkingGroup.name), col(WorkingGroup.theme_slug))
            ).all()
            cached = Reference(
                loaded_at=now,
                version=version,
                names=dict(orm.exec(select(col(Municipality.slug), col(Municipality.name))).all()),
                groups={slug: name for slug, name, _theme in groups},
                group_themes={slug: theme for slug, _name, theme in groups},
                members={k: tuple(sorted(v)) for k, v in members.items()},
                themes=dict(orm.exec(select(col(Theme.slug), col(Theme.name))).all()),
                recesses=tuple(Period(r.start, r.end) for r in orm.exec(select(Recess))),
            )
            self._reference_cache = cached
        return cached

    def reference_changed(self) -> None:
        """Forget cached reference data at once (after a seed or an edit in this process)."""
        self._reference_cache = None
        self.db.reference_changed()

    def _result(
        self, spec: Flow, row: "Initiative | StepRow", events: "Sequence[Event | StepEvent]"
    ) -> FireResult:
        return FireResult(
            initiative_id=_id(row),
            state=row.state,
            state_label=spec.state(row.state).label,
            version=row.version,
            event_ids=[_id(e) for e in events],
        )


def _check_version(current: int, expected: int | None) -> None:
    if expected is not None and current != expected:
        raise StaleVersion(
            f"Het initiatief is intussen gewijzigd (versie {current}, u had versie "
            f"{expected}). Laad het opnieuw en kijk of uw stap nog nodig is.",
            details={"current_version": current},
        )


def _guard_holds(guard: Any, ctx: TransitionContext) -> bool:
    return bool(guard.check(ctx))


def _message(guard: Any, ctx: TransitionContext) -> str:
    return str(guard.message(ctx) if callable(guard.message) else guard.message)


def _id(row: Any) -> int:
    if row.id is None:  # flushed rows always have one; this guards our own mistakes
        raise RuntimeError(f"{type(row).__name__} has no id yet")
    return int(row.id)
