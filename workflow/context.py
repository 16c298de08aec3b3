"""What guards, effects and scope rules see: a plain working copy of an initiative."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from workflow.roles import Actor

ACTIVE_PARTICIPATION = frozenset({"joined", "approved"})
"""Participant statuses that mean "takes part" (the others: declined, rejected, left)."""


@dataclass
class ParticipantView:
    status: str
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_PARTICIPATION


@dataclass
class InitiativeView:
    """A detached copy of an initiative; effects change it, the engine writes the difference."""

    id: int | None
    flow: str
    state: str
    municipality: str
    faction: str | None
    data: dict[str, Any]
    participants: dict[str, ParticipantView]
    group_members: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Participants as read from the database, so the engine writes only what changed.
    loaded: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict, repr=False)

    def participating(self) -> list[str]:
        return sorted(m for m, p in self.participants.items() if p.active)

    def with_status(self, *statuses: str) -> list[str]:
        return sorted(m for m, p in self.participants.items() if p.status in statuses)

    def set_participant(self, municipality: str, status: str, **data: Any) -> None:
        current = self.participants.get(municipality)
        merged = {**(current.data if current else {}), **data}
        self.participants[municipality] = ParticipantView(status=status, data=merged)


@dataclass
class TransitionContext:
    """Everything a guard or effect may read; effects change only `initiative`."""

    initiative: InitiativeView
    trigger: str
    actor: Actor
    now: datetime
    input: BaseModel | None = None
    raw_input: Mapping[str, Any] = field(default_factory=dict)
    # What an effect adds to the step's Event (e.g. a vote's outcome with its arithmetic).
    record: dict[str, Any] = field(default_factory=dict)
    # The region's lookups (`Region.lookups`), bound to this transaction: reads a guard needs
    # beyond the initiative itself, e.g. the budget other initiatives already committed.
    lookups: Mapping[str, Callable[..., Any]] = field(default_factory=dict)

    def value(self, name: str, default: Any = None) -> Any:
        return getattr(self.input, name, default) if self.input is not None else default

    def lookup(self, name: str, *args: Any) -> Any:
        """Call the region's lookup `name` inside the current transaction."""
        try:
            found = self.lookups[name]
        except KeyError:
            raise RuntimeError(f"no lookup {name!r}: declare it in Region.lookups") from None
        return found(self.initiative, *args)
