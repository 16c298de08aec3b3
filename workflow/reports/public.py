"""The public view (no login): initiatives that are public, their state and timeline, no personal data.

An initiative is public when its `public` flag says so; without a flag (None) it becomes public
once the council has handed it to the college (an adopted motion or a recorded commitment),
since council motions are public anyway. The timeline names roles and factions, never people:
no actor names, no comments, no step input.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_
from sqlmodel import Session, col, select

from workflow.clock import utcnow
from workflow.context import ACTIVE_PARTICIPATION
from workflow.db import Database
from workflow.engine import Engine
from workflow.errors import NotFound, PermissionDenied
from workflow.models import Event, Initiative, Municipality, Participant
from workflow.registry import FlowRegistry
from workflow.roles import Actor

SET_PUBLIC = "set_public"  # the Event trigger that records a change of the flag
# Who may set the flag: the submitting faction and the college of the initiative's municipality.
FACTION_ROLE = "faction_member"
COLLEGE_ROLE = "college"
SYSTEM_ROLE_LABEL = "automatisch"
CHOICES = {"": None, "ja": True, "nee": False}


@dataclass(frozen=True)
class PublicStep:
    at: datetime
    label: str
    by: str  # a role or faction, never a person
    to_label: str


@dataclass(frozen=True)
class PublicInitiative:
    id: int
    title: str
    summary: str
    municipality: str
    municipality_name: str
    faction: str | None
    state_label: str
    final: bool
    timeline: list[PublicStep]


def _is_public() -> ColumnElement[bool]:
    council = col(Initiative.data)["council"].as_string()
    return or_(col(Initiative.public).is_(True),
               and_(col(Initiative.public).is_(None), council.is_not(None)))


def is_public(row: Initiative) -> bool:
    if row.public is not None:
        return row.public
    return bool(row.data.get("council"))


def public_initiatives(
    db: Database, registry: FlowRegistry, *, municipality: str | None = None
) -> tuple[str | None, list[PublicInitiative]]:
    """The public initiatives of the region, or of one municipality (its own and those it joined)."""
    with db.read() as session:
        names = {m.slug: m.name for m in session.exec(select(Municipality))}
        if municipality is not None and municipality not in names:
            raise NotFound(f"Onbekende gemeente {municipality!r}.")
        query = select(Initiative).where(_is_public()).order_by(col(Initiative.id).desc())
        if municipality:
            # Its own initiatives and those it takes part in.
            taking_part = select(Participant.initiative_id).where(
                Participant.municipality == municipality,
                col(Participant.status).in_(sorted(ACTIVE_PARTICIPATION)),
            )
            query = query.where(or_(col(Initiative.municipality) == municipality,
                                    col(Initiative.id).in_(taking_part)))
        rows = session.exec(query).all()
        out = [_public(session, registry, row, names, with_timeline=False) for row in rows]
    return (names.get(municipality) if municipality else None), out


def public_initiative(db: Database, registry: FlowRegistry, initiative_id: int) -> PublicInitiative:
    """One public initiative with its timeline; NotFound when it does not exist or is not public."""
    with db.read() as session:
        row = session.get(Initiative, initiative_id)
        if row is None or not is_public(row):
            raise NotFound(f"Er is geen openbaar initiatief met nummer {initiative_id}.")
        names = {m.slug: m.name for m in session.exec(select(Municipality))}
        return _public(session, registry, row, names, with_timeline=True)


def _public(
    session: Session, registry: FlowRegistry, row: Initiative, names: dict[str, str], *, with_timeline: bool
) -> PublicInitiative:
    spec = registry.get(row.flow, row.flow_version)
    state = spec.states.get(row.state)
    steps: list[PublicStep] = []
    if with_timeline:
        events = session.exec(
            select(Event).where(Event.initiative_id == row.id).order_by(col(Event.id))
        ).all()
        for event in events:
            transition = spec.transition(event.trigger)
            if transition is None:
                continue  # engine bookkeeping (extensions, flag changes) is not part of the story
            if transition.automatic or not transition.roles:
                by = SYSTEM_ROLE_LABEL
            elif transition.source is None:
                by = f"fractie {row.faction}" if row.faction else transition.roles[0].label
            else:
                by = ", ".join(dict.fromkeys(a.label for a in transition.roles)) or SYSTEM_ROLE_LABEL
            target = spec.states.get(event.to_state)
            steps.append(PublicStep(event.at, transition.label, by, target.label if target else ""))
    return PublicInitiative(
        id=row.id or 0, title=row.title, summary=row.summary, municipality=row.municipality,
        municipality_name=names.get(row.municipality, row.municipality), faction=row.faction,
        state_label=state.label if state else row.state, final=bool(state and state.final),
        timeline=steps,
    )


def may_set_public(actor: Actor, row: Initiative) -> bool:
    """The submitter, the submitting faction and the college of the municipality may set the flag."""
    if actor.user_id is not None and actor.user_id == row.submitted_by:
        return True
    return any(
        g.covers(FACTION_ROLE, {(row.municipality, row.faction or "")})
        or g.covers(COLLEGE_ROLE, {(row.municipality,)})
        for g in actor.grants
    )


def set_public(engine: Engine, initiative_id: int, *, actor: Actor, public: bool | None) -> None:
    """Sets the flag (None: the default rule) in one transaction, audited as an Event with a new version."""
    with engine.db.write() as session:
        row = session.exec(
            select(Initiative).where(Initiative.id == initiative_id).with_for_update()
        ).first()
        if row is None:
            raise NotFound(f"Initiatief {initiative_id} bestaat niet.")
        if not may_set_public(actor, row):
            raise PermissionDenied(
                "Alleen de indienende fractie en het college van de gemeente bepalen of een "
                "initiatief openbaar is."
            )
        if row.public is public:
            return
        now = utcnow()
        before = row.public
        row.public = public
        row.version += 1
        row.updated_at = now
        session.add(row)
        session.add(Event(
            initiative_id=initiative_id, version=row.version, at=now, actor_id=actor.user_id,
            actor_name=actor.name, trigger=SET_PUBLIC, from_state=row.state, to_state=row.state,
            data={"public": public, "before": before},
        ))
