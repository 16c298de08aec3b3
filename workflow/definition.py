"""The flow language: states, transitions, guards, deadlines and notifications, as plain values.

A flow module declares its states first, then its transitions in process order, then the
guards and effects below them; `Flow(...)` ties them together and the registry validates it.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from functools import cached_property
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from workflow.roles import Audience

if TYPE_CHECKING:
    from workflow.context import TransitionContext


class StateKind(StrEnum):
    ACTIVE = "active"  # someone is expected to act
    WAITING = "waiting"  # waiting on answers of several parties or on a date
    FINAL = "final"


# --- time -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """A length of time: calendar days, working days or weeks."""

    amount: int
    unit: str  # "days" | "working_days" | "weeks"

    def as_calendar_days(self) -> timedelta:
        if self.unit == "weeks":
            return timedelta(weeks=self.amount)
        return timedelta(days=self.amount)


def Days(n: int) -> Term:  # noqa: N802 - reads as a unit in flow declarations
    return Term(n, "days")


def WorkingDays(n: int) -> Term:  # noqa: N802
    return Term(n, "working_days")


def Weeks(n: int) -> Term:  # noqa: N802
    return Term(n, "weeks")


@dataclass(frozen=True)
class DateFromInput:
    """The due date is a date the transition that enters the state carries as input."""

    field: str


@dataclass(frozen=True)
class DeadlinePolicy:
    """When a state must be left, who is reminded before, and who hears when it passes."""

    due: Term | DateFromInput
    remind: tuple[Term, ...] = ()
    remind_audiences: tuple[Audience, ...] = ()
    escalate_to: tuple[Audience, ...] = ()
    label: str = ""
    extend_roles: tuple[Audience, ...] = ()  # who may move the due date (audited, with a reason)
    # The notifications the sweep and an extension send; flows may name their own templates.
    remind_template: str = "herinnering"
    overdue_template: str = "termijn_verstreken"  # to remind_audiences when the date has passed
    escalate_template: str = "escalatie"  # to escalate_to when the date has passed
    extend_template: str = "termijn_verlengd"

    def templates(self) -> tuple[str, ...]:
        return (self.remind_template, self.overdue_template, self.escalate_template,
                self.extend_template)


# --- states and transitions -----------------------------------------------------------------


@dataclass(eq=False)
class State:
    """A place an initiative can be in. Compared by identity; its `name` is set by `Flow`."""

    label: str
    kind: StateKind = StateKind.ACTIVE
    deadline: DeadlinePolicy | None = None
    help: str = ""
    name: str = ""  # the key it is declared under in `Flow.states`

    @property
    def final(self) -> bool:
        return self.kind is StateKind.FINAL


@dataclass(frozen=True)
class Guard:
    """A named condition; `message` explains in Dutch why a trigger cannot fire now."""

    name: str
    check: Callable[["TransitionContext"], bool]
    message: Callable[["TransitionContext"], str] | str


Effect = Callable[["TransitionContext"], None]
"""A pure change to the working copy of an initiative (its data and participants)."""


@dataclass(frozen=True)
class Notify:
    """Send `template` to everyone in `audience` when the transition fires."""

    audience: Audience
    template: str


@dataclass(frozen=True)
class Transition:
    trigger: str
    source: State | Sequence[State] | None  # None: the transition that creates an initiative
    dest: State | None  # None: stay in the state (an internal step)
    label: str
    roles: Sequence[Audience] = ()
    requires: type[BaseModel] | None = None
    guards: Sequence[Guard] = ()
    effect: Effect | None = None
    notify: Sequence[Notify] = ()
    automatic: bool = False  # fired by the engine after any step, when its guards hold
    # A step that may be taken at any time but that nobody waits for (joining, leaving, naming
    # people): offered on the initiative, not listed as waiting on the actor.
    optional: bool = False
    help: str = ""
    actor_scope_field: str | None = None  # input field filled from the actor's own scope

    @property
    def sources(self) -> tuple[State, ...]:
        if self.source is None:
            return ()
        if isinstance(self.source, State):
            return (self.source,)
        return tuple(self.source)


@dataclass(frozen=True)
class Flow:
    """One version of a flow: a name, a version, its states and transitions."""

    name: str
    version: int
    label: str
    states: Mapping[str, State]
    transitions: Sequence[Transition]
    description: str = ""
    known_roles: frozenset[str] = frozenset()
    known_templates: frozenset[str] | None = None
    data_defaults: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, state in self.states.items():
            if state.name and state.name != name:
                raise ValueError(f"state {state.name!r} is declared again as {name!r}")
            state.name = name

    @property
    def initial(self) -> State:
        starts = [t for t in self.transitions if t.source is None]
        if not starts or starts[0].dest is None:
            raise LookupError(f"flow {self.name!r} has no creating transition")
        return starts[0].dest

    @property
    def start(self) -> Transition:
        return next(t for t in self.transitions if t.source is None)

    def state(self, name: str) -> State:
        return self.states[name]

    def transition(self, trigger: str) -> Transition | None:
        return self._by_trigger.get(trigger)

    def from_state(self, state: str) -> list[Transition]:
        return list(self._by_source.get(state, ()))

    # Indexes built on first use: every step asks these, a flow never changes once loaded.
    @cached_property
    def _by_trigger(self) -> dict[str, Transition]:
        found: dict[str, Transition] = {}
        for t in self.transitions:
            found.setdefault(t.trigger, t)  # the first declaration wins, as before
        return found

    @cached_property
    def _by_source(self) -> dict[str, tuple[Transition, ...]]:
        found: dict[str, list[Transition]] = {}
        for t in self.transitions:
            for name in dict.fromkeys(s.name for s in t.sources):
                found.setdefault(name, []).append(t)
        return {name: tuple(ts) for name, ts in found.items()}
