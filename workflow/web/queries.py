"""Read queries for pages and API: the "Wacht op mij" inbox, filtered lists, actions, reference data."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, cast

from sqlalchemy import and_, func, or_
from sqlalchemy import select as sa_select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from workflow.clock import utcnow
from workflow.context import InitiativeView, TransitionContext
from workflow.definition import Flow, Transition
from workflow.engine import Engine
from workflow.errors import NotFound
from workflow.models import (
    Deadline,
    Follow,
    Initiative,
    Municipality,
    Participant,
    Recess,
    Theme,
    User,
    WorkingGroup,
    WorkingGroupMember,
)
from workflow.registry import FlowRegistry
from workflow.roles import Actor
from workflow.web.viewcache import cache_for

PAGE_SIZE = 25
MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class Action:
    """A step the viewer may take now; `blocked` says in Dutch why it cannot, if it cannot."""

    trigger: str
    label: str
    blocked: str | None
    transition: Transition


@dataclass
class Row:
    """One initiative as a line in the inbox or a list."""

    id: int
    title: str
    flow: str
    state: str
    state_label: str
    final: bool
    municipality: str
    municipality_name: str
    working_group: str | None
    working_group_name: str
    updated_at: datetime | None = None
    deadline_label: str | None = None
    due_at: datetime | None = None
    overdue: bool = False
    actions: list[Action] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "flow": self.flow,
            "state": self.state,
            "state_label": self.state_label,
            "final": self.final,
            "municipality": self.municipality,
            "municipality_name": self.municipality_name,
            "working_group": self.working_group,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
            "deadline": (
                {"label": self.deadline_label, "due_at": self.due_at.isoformat(), "overdue": self.overdue}
                if self.due_at
                else None
            ),
        }


@dataclass
class Inbox:
    actionable: list[Row]
    following: list[Row]


@dataclass
class Page:
    rows: list[Row]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


@dataclass(frozen=True)
class Filters:
    """The filters of the list page and `GET /api/initiatives`; empty strings mean "any"."""

    state: str = ""
    municipality: str = ""
    working_group: str = ""
    theme: str = ""
    overdue: bool = False
    q: str = ""
    page: int = 1
    page_size: int = PAGE_SIZE

    @property
    def active(self) -> bool:
        return bool(self.state or self.municipality or self.working_group or self.theme
                    or self.overdue or self.q)


# --- flows ----------------------------------------------------------------------------------


def all_flows(registry: FlowRegistry) -> list[Flow]:
    """Every registered version of every flow (running initiatives keep their version)."""
    found = []
    for name in sorted(registry.names()):
        newest = registry.get(name)
        for version in range(1, newest.version + 1):
            try:
                found.append(registry.get(name, version))
            except NotFound:
                continue
    return found


def submit_flows(registry: FlowRegistry, actor: Actor) -> list[Flow]:
    """The newest flows in which `actor` holds a role that may create an initiative."""
    roles = {g.role for g in actor.grants}
    return [f for f in registry.latest() if any(a.role in roles for a in f.start.roles)]


# --- what the viewer may do ---------------------------------------------------------------------


def actions(engine: Engine, spec: Flow, view: InitiativeView, actor: Actor) -> list[Action]:
    """The engine's options for `actor`, with guards checked where the actor's own scope fills the input.

    The engine cannot check a guard that reads input before the input arrives; for a field the
    engine fills from the actor's own role (e.g. "my municipality") we can, so a college that has
    already decided is not asked again.
    """
    found = []
    # The engine's own answer to "what may this actor do here?" (STYLE: one place for that rule).
    for option in engine.options_for(spec, view, actor):
        blocked = option.blocked
        t = option.transition
        if blocked is None and t.requires is not None and t.actor_scope_field and t.guards:
            blocked = _blocked_for_own_scope(t, view, actor, engine.clock())
        found.append(Action(option.trigger, option.label, blocked, t))
    return found


def initiative_actions(engine: Engine, initiative_id: int, actor: Actor) -> list[Action]:
    """What `actor` may do now on one initiative (see `actions`)."""
    with engine.db.read() as session:
        row = session.get(Initiative, initiative_id)
        if row is None:
            raise NotFound(f"Initiatief {initiative_id} bestaat niet.")
        spec = engine.registry.get(row.flow, row.flow_version)
        view = engine.view_of(session, row)
        return actions(engine, spec, view, actor)


def _blocked_for_own_scope(
    t: Transition, view: InitiativeView, actor: Actor, now: datetime
) -> str | None:
    if t.requires is None or t.actor_scope_field is None:
        return None
    roles = {a.role for a in t.roles}
    scopes = sorted({g.scope[0] for g in actor.grants if g.role in roles and g.scope})
    reasons = []
    for scope in scopes:
        partial = cast(Any, t.requires).model_construct(**{t.actor_scope_field: scope})
        ctx = TransitionContext(view, t.trigger, actor, now, partial, {t.actor_scope_field: scope})
        try:
            failing = [g for g in t.guards if not g.check(ctx)]
        except Exception:  # a guard that needs more of the input: leave the answer to the engine
            return None
        if not failing:
            return None
        guard = failing[0]
        reasons.append(str(guard.message(ctx) if callable(guard.message) else guard.message))
    return reasons[0] if reasons else None


def can_act_states(spec: Flow, roles: set[str]) -> set[str]:
    """States of `spec` from which someone holding one of `roles` might take a step."""
    states: set[str] = set()
    for t in spec.transitions:
        if t.automatic or t.source is None:
            continue
        if any(a.role in roles for a in t.roles):
            states.update(s.name for s in t.sources)
    return states


# --- the inbox ------------------------------------------------------------------------------


def inbox(engine: Engine, actor: Actor, *, now: datetime | None = None) -> Inbox:
    """Everything where `actor` can act now (overdue first, then by due date) and what they follow."""
    now = now or utcnow()
    registry = engine.registry
    roles = {g.role for g in actor.grants}
    conditions = []
    for spec in all_flows(registry):
        states = can_act_states(spec, roles)
        if states:
            conditions.append(
                and_(
                    col(Initiative.flow) == spec.name,
                    col(Initiative.flow_version) == spec.version,
                    col(Initiative.state).in_(sorted(states)),
                )
            )
    with engine.db.read() as session:
        names = _names(session)
        actionable: list[Row] = []
        if conditions:
            where = or_(*conditions)
            actionable = _actionable(engine, session, actor, where, names)
        following = _following(engine, session, actor, names)
        _attach_deadlines(session, [*actionable, *following], now)
    actionable.sort(key=_urgency)
    return Inbox(actionable=actionable, following=following)


def _actionable(
    engine: Engine,
    session: Session,
    actor: Actor,
    where: ColumnElement[bool],
    names: "Names",
) -> list[Row]:
    # Core, not ORM: thousands of plain (id, version) pairs without the ORM's row processing.
    stubs = [
        (cast(int, iid), version)
        for iid, version in session.connection().execute(
            sa_select(col(Initiative.id), col(Initiative.version)).where(where)
        )
    ]
    if not stubs:
        return []
    cache = cache_for(engine)
    copies = cache.current(session, stubs)
    members = _group_members(session)
    key = (actor.grants, hash(tuple(sorted(members.items()))))
    steps: dict[tuple[str, int, str], list[Transition]] = {}
    found = []
    for iid, _version in stubs:
        copy = copies.get(iid)
        if copy is None:
            continue
        spec = engine.registry.get(copy.view.flow, copy.flow_version)
        admitted = copy.admitted.get(key)
        view = copy.view
        if admitted is None:
            view = replace(copy.view, group_members=members)
            # The first test of the engine's options: does any step admit this actor at all?
            where_now = (spec.name, spec.version, view.state)
            if where_now not in steps:
                steps[where_now] = [t for t in spec.from_state(view.state) if not t.automatic]
            admitted = any(
                a.admits(actor.grants, view, None) for t in steps[where_now] for a in t.roles
            )
            cache.remember(copy, key, admitted)
        if not admitted:
            continue
        offer_key = (key, int(engine.clock().timestamp() // 60))
        offered = copy.offered.get(offer_key)
        if offered is None:
            if view is copy.view:
                view = replace(copy.view, group_members=members)
            offered = actions(engine, spec, view, actor)
            cache.remember_offer(copy, offer_key, offered)
        if not any(a.blocked is None for a in offered):
            continue
        row = _row(spec, iid, copy.title, view.state, view.municipality, view.data, copy.updated_at, names)
        row.actions = [a for a in offered if a.blocked is None]
        found.append(row)
    return found


def _following(engine: Engine, session: Session, actor: Actor, names: "Names") -> list[Row]:
    if actor.user_id is None:
        return []
    followed = select(Follow.initiative_id).where(Follow.user_id == actor.user_id)
    query = (
        select(Initiative)
        .where(or_(col(Initiative.id).in_(followed), col(Initiative.submitted_by) == actor.user_id))
        .order_by(col(Initiative.updated_at).desc(), col(Initiative.id).desc())
        .limit(50)
    )
    out = []
    for r in session.exec(query):
        spec = engine.registry.get(r.flow, r.flow_version)
        out.append(_row(spec, _id(r), r.title, r.state, r.municipality, r.data, r.updated_at, names))
    return out


def _urgency(row: Row) -> tuple[int, float, int]:
    due = row.due_at.timestamp() if row.due_at else float("inf")
    return (0 if row.overdue else 1, due, -row.id)


# --- the list -------------------------------------------------------------------------------


def search(engine: Engine, filters: Filters, *, now: datetime | None = None) -> Page:
    """One page of initiatives matching `filters`, newest first, with their open deadline."""
    now = now or utcnow()
    conditions = _conditions(filters, now)
    size = max(1, min(filters.page_size, MAX_PAGE_SIZE))
    page = max(1, filters.page)
    with engine.db.read() as session:
        where = and_(*conditions) if conditions else None
        if filters.theme:
            groups = select(WorkingGroup.slug).where(WorkingGroup.theme_slug == filters.theme)
            theme_cond = _working_group_expr().in_(groups)
            where = theme_cond if where is None else and_(where, theme_cond)
        # One scan for the matching ids (plain integers, newest first) gives both the count and
        # the page; the filters (JSON, participants) are evaluated once, not twice.
        id_query = sa_select(col(Initiative.id)).order_by(col(Initiative.id).desc())
        if where is not None:
            id_query = id_query.where(where)
        matching = [iid for (iid,) in session.connection().execute(id_query)]
        total = len(matching)
        wanted = matching[(page - 1) * size : page * size]
        names = _names(session)
        found = {
            _id(r): r for r in session.exec(select(Initiative).where(col(Initiative.id).in_(wanted)))
        } if wanted else {}
        rows = [
            _row(
                engine.registry.get(r.flow, r.flow_version), _id(r), r.title, r.state,
                r.municipality, r.data, r.updated_at, names,
            )
            for r in (found[i] for i in wanted if i in found)
        ]
        _attach_deadlines(session, rows, now)
    return Page(rows=rows, total=total, page=page, page_size=size)


def _conditions(filters: Filters, now: datetime) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []
    if filters.state:
        out.append(col(Initiative.state) == filters.state)
    if filters.municipality:
        taking_part = select(Participant.initiative_id).where(
            Participant.municipality == filters.municipality
        )
        out.append(
            or_(
                col(Initiative.municipality) == filters.municipality,
                col(Initiative.id).in_(taking_part),
            )
        )
    if filters.working_group:
        out.append(_working_group_expr() == filters.working_group)
    if filters.overdue:
        late = select(Deadline.initiative_id).where(
            Deadline.status == "open", col(Deadline.due_at) < now
        )
        out.append(col(Initiative.id).in_(late))
    q = filters.q.strip()
    if q:
        words = [w for w in q.lower().split() if w][:8]
        for word in words:
            match = or_(
                func.lower(Initiative.title).contains(word, autoescape=True),
                func.lower(Initiative.summary).contains(word, autoescape=True),
            )
            if word.isdigit():
                match = or_(match, col(Initiative.id) == int(word))
            out.append(match)
    return out


def _working_group_expr() -> Any:
    # The JSON column's own operator: `->>` on PostgreSQL, json_extract on SQLite.
    return cast(Any, col(Initiative.data))["working_group"].as_string()


# --- shared pieces --------------------------------------------------------------------------


@dataclass(frozen=True)
class Names:
    municipalities: dict[str, str]
    working_groups: dict[str, str]


def _names(session: Session) -> Names:
    return Names(
        municipalities=dict(session.execute(select(Municipality.slug, Municipality.name)).all()),
        working_groups=dict(session.execute(select(WorkingGroup.slug, WorkingGroup.name)).all()),
    )


def _group_members(session: Session) -> dict[str, tuple[str, ...]]:
    members: dict[str, list[str]] = {}
    for group, municipality in session.execute(
        select(WorkingGroupMember.working_group_slug, WorkingGroupMember.municipality_slug)
    ):
        members.setdefault(group, []).append(municipality)
    return {k: tuple(sorted(v)) for k, v in members.items()}


def _row(
    spec: Flow,
    iid: int,
    title: str,
    state: str,
    municipality: str,
    data: dict[str, Any],
    updated: datetime | None,
    names: Names,
) -> Row:
    known = spec.states.get(state)
    group = data.get("working_group")
    return Row(
        id=iid,
        title=title,
        flow=spec.name,
        state=state,
        state_label=known.label if known else state,
        final=bool(known and known.final),
        municipality=municipality,
        municipality_name=names.municipalities.get(municipality, municipality),
        working_group=group,
        working_group_name=names.working_groups.get(group, group or "") if group else "",
        updated_at=updated,
    )


def _attach_deadlines(session: Session, rows: Sequence[Row], now: datetime) -> None:
    """Each row gets its earliest open deadline, and whether that has passed."""
    ids = sorted({r.id for r in rows})
    if not ids:
        return
    earliest: dict[int, tuple[str, datetime]] = {}
    query = (
        select(Deadline.initiative_id, Deadline.label, Deadline.due_at)
        .where(Deadline.status == "open", col(Deadline.initiative_id).in_(ids))
        .order_by(col(Deadline.due_at))
    )
    for iid, label, due in session.execute(query):
        earliest.setdefault(iid, (label, due))
    for r in rows:
        if r.id in earliest:
            r.deadline_label, r.due_at = earliest[r.id]
            r.overdue = r.due_at < now


def _id(row: Any) -> int:
    if row.id is None:
        raise RuntimeError("row has no id")
    return int(row.id)


# --- reference data for forms, filters and admin pages ------------------------------------------


def reference(engine: Engine) -> dict[str, Any]:
    """Municipalities, themes, working groups (with members) and recesses, sorted for display."""
    with engine.db.read() as session:
        members = _group_members(session)
        return {
            "municipalities": list(session.exec(select(Municipality).order_by(col(Municipality.name)))),
            "themes": list(session.exec(select(Theme).order_by(col(Theme.name)))),
            "working_groups": [
                {"row": g, "members": members.get(g.slug, ())}
                for g in session.exec(select(WorkingGroup).order_by(col(WorkingGroup.name)))
            ],
            "recesses": list(session.exec(select(Recess).order_by(col(Recess.start)))),
        }


def state_choices(registry: FlowRegistry) -> list[tuple[str, str]]:
    """(state code, Dutch label) over the newest version of every flow, in declaration order."""
    seen: dict[str, str] = {}
    for spec in registry.latest():
        for name, state in spec.states.items():
            seen.setdefault(name, state.label)
    return list(seen.items())


def user_names(session: Session, ids: Iterable[int]) -> dict[int, str]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = session.execute(select(User.id, User.name).where(col(User.id).in_(wanted)))
    return {int(i): n for i, n in rows if i is not None}
