"""Scoped roles: who holds which role for which scope, and who may act on an initiative."""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from workflow.errors import InvalidInput

if TYPE_CHECKING:
    from workflow.context import InitiativeView

Scope = tuple[str, ...]
"""A role's scope, e.g. ("sliedrecht",) for a college or ("sliedrecht", "cda") for a faction."""


@dataclass(frozen=True)
class RoleKind:
    """A kind of role a region knows, with the token users write and the parts of its scope.

    `token` is what people type (``college:sliedrecht``); `name` is the code name flows use.
    """

    name: str
    token: str
    label: str
    scope_parts: tuple[str, ...] = ()


@dataclass(frozen=True)
class RoleGrant:
    role: str
    scope: Scope = ()

    def covers(self, role: str, scopes: Iterable[Scope] | None) -> bool:
        """True when this grant is `role` and, unless scopes is None, for one of `scopes`."""
        if self.role != role:
            return False
        return scopes is None or self.scope in set(scopes)

    def storage_scope(self) -> str:
        return ":".join(self.scope)


def parse_grant(text: str, kinds: Mapping[str, RoleKind]) -> RoleGrant:
    """Parse a token such as ``fractie:sliedrecht:cda`` into a grant, with a Dutch error."""
    token, *parts = text.strip().split(":")
    by_token = {k.token: k for k in kinds.values()}
    kind = by_token.get(token)
    if kind is None:
        known = ", ".join(_example(k) for k in by_token.values())
        raise InvalidInput(f"Onbekende rol {token!r}. Bekende rollen: {known}.")
    if len(parts) != len(kind.scope_parts) or any(not p for p in parts):
        raise InvalidInput(f"De rol {token!r} wordt geschreven als {_example(kind)}.")
    return RoleGrant(kind.name, tuple(p.strip().lower() for p in parts))


def format_grant(grant: RoleGrant, kinds: Mapping[str, RoleKind]) -> str:
    kind = kinds.get(grant.role)
    token = kind.token if kind else grant.role
    return ":".join((token, *grant.scope))


def _example(kind: RoleKind) -> str:
    return ":".join((kind.token, *(f"<{p}>" for p in kind.scope_parts)))


ScopeRule = Callable[["InitiativeView", Mapping[str, Any] | None], Iterable[Scope] | None]
"""Which scopes of a role count for an initiative; `None` means every scope (read-all roles).

The second argument is the transition's input when it is known, so a rule can narrow to
"the college of the municipality named in the input"; it is None when the engine asks
"could this actor fire this at all?".
"""


@dataclass(frozen=True)
class Audience:
    """A group of people relative to an initiative: a role plus a rule for the scopes that count."""

    name: str
    role: str
    label: str
    scopes: ScopeRule = field(compare=False)

    def admits(
        self, grants: Iterable[RoleGrant], view: "InitiativeView", data: Mapping[str, Any] | None
    ) -> bool:
        wanted = self.scopes(view, data)
        wanted_set = None if wanted is None else set(wanted)
        return any(g.covers(self.role, wanted_set) for g in grants)


@dataclass(frozen=True)
class Actor:
    """Who fires a trigger. `user_id` None is the engine itself (automatic steps)."""

    user_id: int | None
    name: str
    grants: frozenset[RoleGrant] = frozenset()

    @property
    def is_system(self) -> bool:
        return self.user_id is None


SYSTEM = Actor(user_id=None, name="systeem")
