"""Read queries for pages and API: the "Wacht op mij" inbox, filtered lists, actions, reference data."""

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, cast

from sqlalchemy import and_, bindparam, func, literal_column, or_, text, type_coerce, union
from sqlalchemy import select as sa_select
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import CompoundSelect, Select
from sqlalchemy.sql.sqltypes import NullType
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
)
from workflow.registry import FlowRegistry
from workflow.roles import Actor
from workflow.sql import Prepared
from workflow.web import listcounts
from workflow.web.viewcache import AdmissionKey, Cached, OfferKey, ViewCache, cache_for

PAGE_SIZE = 25
INBOX_PAGE_SIZE = 25  # a page a person can work through; the rest follows on the next pages
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
    actionable: list[Row]  # one page of them, the most urgent first
    following: list[Row]
    total: int = 0  # everything the user can act on now, over all pages
    page: int = 1
    page_size: int = INBOX_PAGE_SIZE

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


@dataclass
class Page:
    rows: list[Row]
    total: int
    page: int
    page_size: int
    options: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # for the filters

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
            if blocked is not None and t.optional:
                # An optional step the actor's own municipality cannot take (joining when it
                # already takes part) is no option at all: not shown as a closed door.
                continue
        found.append(Action(option.trigger, option.label, blocked, t))
    return found


def initiative_actions(engine: Engine, initiative_id: int, actor: Actor) -> list[Action]:
    """What `actor` may do now on one initiative (see `actions`)."""
    with engine.db.read() as session:
        return _initiative_actions(engine, session, initiative_id, actor)


@dataclass
class Around:
    """What the initiative page shows beside the initiative itself, read in one transaction."""

    actions: list[Action]
    options: dict[str, list[tuple[str, str]]]  # reference names (see `Names.options`)
    following: bool


def around_initiative(
    engine: Engine, initiative_id: int, version: int, actor: Actor, user_id: int | None
) -> Around:
    """The viewer's steps, the reference names and whether the viewer follows the initiative.

    `version` is the initiative's as the page read it: while unchanged, its working copy comes
    from the inbox's cache (`viewcache`) instead of two more reads of the initiative."""
    with engine.db.read() as session:
        copy = cache_for(engine).current(session, [(initiative_id, version)]).get(initiative_id)
        if copy is None:
            raise NotFound(f"Initiatief {initiative_id} bestaat niet.")
        reference = engine.reference(session)
        spec = engine.registry.get(copy.view.flow, copy.flow_version)
        offered = actions(engine, spec, replace(copy.view, group_members=reference.members), actor)
        following = user_id is not None and session.connection().execute(
            sa_select(col(Follow.initiative_id)).where(
                col(Follow.user_id) == user_id, col(Follow.initiative_id) == initiative_id
            )
        ).first() is not None
        return Around(actions=offered, options=_names(engine, session).options(), following=following)


def _initiative_actions(
    engine: Engine, session: Session, initiative_id: int, actor: Actor
) -> list[Action]:
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


def inbox(
    engine: Engine, actor: Actor, *, now: datetime | None = None, page: int = 1,
    page_size: int = INBOX_PAGE_SIZE,
) -> Inbox:
    """Where `actor` can act now (overdue first, then by due date; one page) and what they follow."""
    now = now or utcnow()
    registry = engine.registry
    roles = {g.role for g in actor.grants}
    shape = tuple(
        (spec.name, spec.version, tuple(sorted(states)))
        for spec in all_flows(registry)
        if (states := can_act_states(spec, roles))
    )
    size = max(1, page_size)
    with engine.db.read() as session:
        names = _names(engine, session)
        shown: list[Row] = []
        total = 0
        if shape:
            candidates = _candidates(shape, joined=not engine.db.is_sqlite)
            shown, total, page = _actionable(engine, session, actor, candidates, names, page, size)
        following = _following(engine, session, actor, names)
        _attach_deadlines(session, [*shown, *following], now)
    return Inbox(actionable=shown, following=following, total=total, page=page, page_size=size)


def _actionable(
    engine: Engine,
    session: Session,
    actor: Actor,
    candidates: Prepared,
    names: "Names",
    page: int,
    size: int,
) -> tuple[list[Row], int, int]:
    """One page of the initiatives where `actor` can act now, the number of them all, the page shown."""
    due: dict[int, Any] = {}
    stubs = []
    for iid, version, earliest in candidates.all(session):
        stubs.append((cast(int, iid), cast(int, version)))
        if earliest is not None:
            due[iid] = earliest
    if not stubs:
        return [], 0, 1
    cache = cache_for(engine)
    members = engine.reference(session).members
    key = (actor.grants, hash(tuple(sorted(members.items()))))
    offer_key = (key, int(engine.clock().timestamp() // 60))
    # Most answers are known from an earlier request (same version, same minute); only the
    # initiatives changed since then are looked at again.
    answers = cache.answers(offer_key)
    unknown = [stub for stub in stubs if stub not in answers]
    if unknown:
        _answer(engine, actor, cache, cache.current(session, unknown), unknown, members,
                key, offer_key, answers)
    found = [(iid, version, answers[(iid, version)]) for iid, version in stubs
             if answers.get((iid, version))]
    # Most urgent first: earliest open deadline (what has passed comes first by itself), those
    # without one last, newest first among equals.
    found.sort(key=lambda f: (f[0] not in due, due.get(f[0], 0), -f[0]))
    total = len(found)
    page = min(max(1, page), max(1, -(-total // size)))
    shown = found[(page - 1) * size : page * size]
    copies = cache.current(session, [(iid, version) for iid, version, _w in shown])
    rows = []
    for iid, _version, waiting in shown:
        copy = copies.get(iid)
        if copy is None:  # removed since: gone from the list at the next request
            continue
        view = copy.view
        spec = engine.registry.get(view.flow, copy.flow_version)
        row = _row(spec, iid, copy.title, view.state, view.municipality, view.data,
                   copy.updated_at, names)
        row.actions = waiting
        rows.append(row)
    return rows, total, page


_CANDIDATES: dict[tuple[tuple[tuple[str, int, tuple[str, ...]], ...], bool], Prepared] = {}


def _candidates(shape: tuple[tuple[str, int, tuple[str, ...]], ...], *, joined: bool) -> Prepared:
    """Initiatives in the states (per flow version) where someone with these roles may act.

    Only (id, version) pairs travel, read from one covering index (ix_initiative_inbox,
    migration 0004), with the earliest open due date to sort by; the working copies come from
    the cache. Prepared once per set of states (as many as there are kinds of role).
    `joined`: the due dates from one pass over the open deadlines, joined (PostgreSQL: a fifth
    faster than a look-up per candidate); else a look-up per candidate (SQLite: its index
    answers each at once).
    """
    found = _CANDIDATES.get((shape, joined))
    if found is None:
        # Named parameters with their values: a prepared statement takes no list parameters.
        where = or_(*(
            and_(
                col(Initiative.flow) == bindparam(f"flow_{n}", name),
                col(Initiative.flow_version) == bindparam(f"version_{n}", version),
                col(Initiative.state).in_(
                    [bindparam(f"state_{n}_{m}", state) for m, state in enumerate(states)]
                ),
            )
            for n, (name, version, states) in enumerate(shape)
        ))
        if joined:
            due = _open_due_dates()
            query = (
                sa_select(col(Initiative.id), col(Initiative.version), due.c.due)
                .select_from(Initiative)
                .outerjoin(due, due.c.initiative_id == col(Initiative.id))
            )
        else:
            query = sa_select(col(Initiative.id), col(Initiative.version), _earliest_due())
        found = _CANDIDATES[(shape, joined)] = Prepared(query.where(where))
    return found


def _earliest_due() -> Any:
    """An initiative's earliest open due date, as stored (only to sort by).

    Left as stored, the values need no conversion: SQLite keeps them as fixed-width ISO text,
    which sorts as the moments do, and PostgreSQL hands over datetimes.
    """
    return (
        sa_select(func.min(_due_as_stored()))
        .where(col(Deadline.initiative_id) == col(Initiative.id),
               col(Deadline.status) == bindparam("open", "open"))
        .correlate(Initiative)
        .scalar_subquery()
    )


def _open_due_dates() -> Any:
    """Each initiative's earliest open due date, as stored (see `_earliest_due`)."""
    return (
        sa_select(col(Deadline.initiative_id), func.min(_due_as_stored()).label("due"))
        .where(col(Deadline.status) == bindparam("open", "open"))
        .group_by(col(Deadline.initiative_id))
        .subquery("open_due")
    )


def _due_as_stored() -> Any:
    return type_coerce(col(Deadline.due_at), NullType())


def _answer(
    engine: Engine,
    actor: Actor,
    cache: ViewCache,
    copies: dict[int, Cached],
    stubs: list[tuple[int, int]],
    members: dict[str, tuple[str, ...]],
    key: AdmissionKey,
    offer_key: OfferKey,
    answers: dict[tuple[int, int], list[Any]],
) -> None:
    """Fills `answers` for `stubs`: the steps waiting for `actor` (empty when none)."""
    steps: dict[tuple[str, int, str], list[Transition]] = {}
    for iid, version in stubs:
        copy = copies.get(iid)
        if copy is None or copy.version != version:
            continue  # changed while we looked: the next request asks again
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
        waiting: list[Action] = []
        if admitted:
            offered = copy.offered.get(offer_key)
            if offered is None:
                if view is copy.view:
                    view = replace(copy.view, group_members=members)
                offered = actions(engine, spec, view, actor)
                cache.remember_offer(copy, offer_key, offered)
            # Optional steps (e.g. leaving) can be taken any time; they alone do not wait for anyone.
            waiting = [a for a in offered if a.blocked is None and not a.transition.optional]
        answers[(iid, version)] = waiting


def _following(engine: Engine, session: Session, actor: Actor, names: "Names") -> list[Row]:
    if actor.user_id is None:
        return []
    return [
        _row(engine.registry.get(flow, flow_version), iid, title, state, municipality, data,
             updated, names)
        for iid, flow, flow_version, title, state, municipality, data, updated
        in _FOLLOWING.all(session, {"user_id": actor.user_id})
    ]


# --- the list -------------------------------------------------------------------------------


def search(engine: Engine, filters: Filters, *, now: datetime | None = None) -> Page:
    """One page of initiatives matching `filters`, newest first, with their open deadline."""
    now = now or utcnow()
    postgres = not engine.db.is_sqlite
    size = max(1, min(filters.page_size, MAX_PAGE_SIZE))
    page = max(1, filters.page)
    with engine.db.read() as session:
        names = _names(engine, session)
        indexed = not postgres and engine.db.has_search_index()
        conditions = _conditions(filters, now, names, postgres=postgres, indexed=indexed)
        counting = _count_query(filters, conditions, indexed=indexed)
        # A count of the same filters holds while PostgreSQL's snapshot is unchanged (see
        # `listcounts`); not when it depends on the clock ("verlopen").
        counts = listcounts.counts_for(engine.db) if postgres and not filters.overdue else None
        count_key = _count_key(filters, names)
        kept = counts.kept(count_key) if counts is not None else None
        # One statement: the page's rows (LIMIT/OFFSET, newest first, only the columns a row
        # shows), each with its earliest open deadline and the number of all matches. A round
        # trip per part cost PostgreSQL more than the parts themselves.
        page_query = (
            sa_select(*_ROW_COLUMNS, *_NEXT_DEADLINE,
                      listcounts.total_column(kept, counting.scalar_subquery()),
                      *([listcounts.snapshot_column()] if counts is not None else []))
            .order_by(col(Initiative.id).desc())
            .limit(size)
            .offset((page - 1) * size)
        )
        if conditions:
            page_query = page_query.where(*conditions)
        connection = session.connection()
        avoid_scan = postgres and bool(filters.q.strip())
        if avoid_scan:
            # The planner prices ILIKE like a comparison, so for a common word it prefers a scan
            # of every title and summary (~4x slower here) over the trigram indexes (migration
            # 0004). Reads run in autocommit: set for this statement, then reset.
            connection.exec_driver_sql("SET enable_seqscan = off")
        try:
            found = connection.execute(page_query).all()
            if found:
                total = _total(found[0], counts, count_key, kept)
            else:  # no row, no count: none on the first page, or past the last page
                total = 0 if page == 1 else int(connection.execute(counting).scalar_one())
        finally:
            if avoid_scan:
                connection.exec_driver_sql("RESET enable_seqscan")
        rows = [_list_row(engine, values, names, now) for values in found]
    return Page(rows=rows, total=total, page=page, page_size=size, options=names.options())


def _total(
    first: Any, counts: listcounts.Counts | None, key: Hashable, kept: listcounts.Kept | None
) -> int:
    """The number of matches in the first row of a page (see `search`), kept for next time."""
    counted = int(first[len(_ROW_COLUMNS) + len(_NEXT_DEADLINE)])
    if counts is None:
        return counted
    if counted == listcounts.UNCHANGED and kept is not None:
        return kept[1]
    counts.remember(key, str(first[-1]), counted)
    return counted


def _count_key(filters: Filters, names: "Names") -> Hashable:
    """What the count of the list depends on besides the data (not the page, not the clock)."""
    groups = tuple(names.groups_of_theme(filters.theme)) if filters.theme else ()
    return (filters.state, filters.municipality, filters.working_group, filters.theme, groups,
            tuple(_words(filters)))


def _list_row(engine: Engine, values: Any, names: "Names", now: datetime) -> Row:
    iid, flow, flow_version, title, state, municipality, data, updated, label, due = values[:10]
    row = _row(engine.registry.get(flow, flow_version), iid, title, state, municipality, data,
               updated, names)
    if due is not None:
        row.deadline_label, row.due_at, row.overdue = label, due, due < now
    return row


def _count_query(
    filters: Filters, conditions: list[ColumnElement[bool]], *, indexed: bool
) -> Select[int]:
    """The number of initiatives matching `conditions`."""
    if indexed and (only_words := _only_words(filters)):
        # Only a search: the full-text index counts its matches by itself (half the time of
        # joining them to the table: a common word matches a quarter of all initiatives).
        words = " AND ".join(_phrase(w) for w in only_words)
        return sa_select(func.count()).select_from(text("initiative_search")).where(
            text("initiative_search MATCH :words").bindparams(words=words)
        )
    # Never correlated: inside the page's statement it counts its own initiatives.
    counting = sa_select(func.count()).select_from(Initiative).correlate(None)
    return counting.where(*conditions) if conditions else counting


def _next_deadline(column: Any) -> Any:
    """`column` of the initiative's earliest open deadline (index ix_deadline_initiative_open)."""
    return (
        sa_select(column)
        .where(col(Deadline.initiative_id) == col(Initiative.id), col(Deadline.status) == "open")
        .order_by(col(Deadline.due_at))
        .limit(1)
        .correlate(Initiative)
        .scalar_subquery()
    )


_NEXT_DEADLINE = (_next_deadline(col(Deadline.label)), _next_deadline(col(Deadline.due_at)))


_ROW_COLUMNS = (
    col(Initiative.id), col(Initiative.flow), col(Initiative.flow_version), col(Initiative.title),
    col(Initiative.state), col(Initiative.municipality), col(Initiative.data), col(Initiative.updated_at),
)
# Own proposals and followed ones: two indexed look-ups joined by UNION (an OR across the two
# would scan every initiative).
_MINE: CompoundSelect[Any] = union(
    sa_select(col(Follow.initiative_id)).where(col(Follow.user_id) == bindparam("user_id")),
    sa_select(col(Initiative.id)).where(col(Initiative.submitted_by) == bindparam("user_id")),
)
_FOLLOWING = Prepared(
    sa_select(*_ROW_COLUMNS)
    .where(col(Initiative.id).in_(_MINE))
    .order_by(col(Initiative.updated_at).desc(), col(Initiative.id).desc())
    .limit(50)
)


def _conditions(
    filters: Filters, now: datetime, names: "Names", *, postgres: bool, indexed: bool = False
) -> list[ColumnElement[bool]]:
    """The WHERE of the list; `indexed`: SQLite has the full-text index (migration 0008)."""
    out: list[ColumnElement[bool]] = []
    if filters.state:
        out.append(col(Initiative.state) == filters.state)
    if filters.working_group:
        out.append(_working_group_expr(postgres) == filters.working_group)
    if filters.theme:
        # The theme's working groups as a plain list: with a subquery the database would not
        # use the index on the working group (ix_initiative_working_group, migration 0004).
        out.append(_working_group_expr(postgres).in_(names.groups_of_theme(filters.theme)))
    if filters.municipality:
        # Home municipality, or taking part: a probe of the participant's unique index per
        # row, so the newest-first page stops after its rows (a UNION of the two lists would
        # be built and sorted whole first).
        taking_part = (
            sa_select(literal_column("1"))
            .where(
                col(Participant.initiative_id) == col(Initiative.id),
                col(Participant.municipality) == filters.municipality,
            )
            .correlate(Initiative)
            .exists()
        )
        out.append(or_(col(Initiative.municipality) == filters.municipality, taking_part))
    if filters.overdue:
        late = sa_select(col(Deadline.initiative_id)).where(
            col(Deadline.status) == "open", col(Deadline.due_at) < now
        )
        out.append(col(Initiative.id).in_(late))
    for n, word in enumerate(_words(filters)):
        pattern = "%" + _escape_like(word) + "%"
        match: ColumnElement[bool]
        # SQLite's LIKE ignores the case of ASCII letters (as far as its lower() goes), so no
        # lower() per row; PostgreSQL's ILIKE ignores case and can use the trigram indexes.
        if indexed and len(word) >= 3:  # the trigram index finds parts of three letters or more
            match = col(Initiative.id).in_(_found_by_index(word, n))
        elif postgres:
            match = or_(col(Initiative.title).ilike(pattern, escape="/"),
                        col(Initiative.summary).ilike(pattern, escape="/"))
        else:
            match = or_(col(Initiative.title).like(pattern, escape="/"),
                        col(Initiative.summary).like(pattern, escape="/"))
        if word.isdigit():
            match = or_(match, col(Initiative.id) == int(word))
        out.append(match)
    return out


def _found_by_index(word: str, n: int) -> Any:
    """The ids whose title or summary contains `word` (any case), from SQLite's FTS5 index."""
    name = f"search_{n}"
    found = text(f"SELECT rowid FROM initiative_search WHERE initiative_search MATCH :{name}")
    return found.bindparams(bindparam(name, _phrase(word))).columns(literal_column("rowid"))


def _phrase(word: str) -> str:
    """`word` as an FTS5 phrase: its letters as they stand, no query syntax."""
    return '"' + word.replace('"', '""') + '"'


def _only_words(filters: Filters) -> list[str]:
    """The search words when the list is filtered by nothing else and the index can answer
    each one alone (three letters or more, not an initiative number); else none."""
    if filters.state or filters.working_group or filters.theme or filters.municipality or filters.overdue:
        return []
    words = _words(filters)
    if all(len(w) >= 3 and not w.isdigit() for w in words):
        return words
    return []


def _words(filters: Filters) -> list[str]:
    """The search words: at most eight, in lower case (the count and the page use the same)."""
    return filters.q.lower().split()[:8]


def _escape_like(word: str) -> str:
    return word.replace("/", "//").replace("%", "/%").replace("_", "/_")


def _working_group_expr(postgres: bool) -> Any:
    # Written out (path as a literal, not a bound parameter) so that it is the very expression of
    # the index ix_initiative_working_group (migration 0004) and the database uses that index.
    if postgres:
        return cast(Any, col(Initiative.data)).op("->>")(literal_column("'working_group'"))
    return func.json_extract(col(Initiative.data), literal_column("'$.working_group'"))


# --- shared pieces --------------------------------------------------------------------------


@dataclass(frozen=True)
class Names:
    """Slug → name of the reference data a page shows, and each working group's theme."""

    municipalities: dict[str, str]
    working_groups: dict[str, str]
    themes: dict[str, str] = field(default_factory=dict)
    group_theme: dict[str, str | None] = field(default_factory=dict)

    def options(self) -> dict[str, list[tuple[str, str]]]:
        """(slug, name) per kind, by name: the choices of forms and filters."""
        def by_name(names: dict[str, str]) -> list[tuple[str, str]]:
            return sorted(names.items(), key=lambda item: (item[1], item[0]))

        return {
            "municipality": by_name(self.municipalities),
            "working_group": by_name(self.working_groups),
            "theme": by_name(self.themes),
        }

    def groups_of_theme(self, theme: str) -> list[str]:
        return sorted(g for g, t in self.group_theme.items() if t == theme)


def _names(engine: Engine, session: Session) -> Names:
    """Names of the reference data, from the engine's short-lived cache (one query fewer per page)."""
    reference = engine.reference(session)
    return Names(municipalities=reference.names, working_groups=reference.groups,
                 themes=reference.themes, group_theme=reference.group_themes)


def reference_options(engine: Engine) -> dict[str, list[tuple[str, str]]]:
    """(slug, name) of municipalities, working groups and themes, by name (see `Names.options`)."""
    with engine.db.read() as session:
        return _names(engine, session).options()


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
        sa_select(col(Deadline.initiative_id), col(Deadline.label), col(Deadline.due_at))
        .where(col(Deadline.status) == "open", col(Deadline.initiative_id).in_(ids))
        .order_by(col(Deadline.due_at))
    )
    for iid, label, due in session.connection().execute(query):
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
        members = engine.reference(session).members
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
