"""Service functions every interface calls: users, actors, reading initiatives, reference data."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from workflow.db import Database
from workflow.engine import Engine
from workflow.errors import InvalidInput, NotFound
from workflow.inputs import describe_fields
from workflow.models import (
    Deadline,
    Event,
    Initiative,
    Participant,
    RoleGrantRow,
    User,
)
from workflow.outbox import grant_of
from workflow.registry import FlowRegistry
from workflow.roles import Actor, RoleGrant, format_grant, parse_grant

# --- users ----------------------------------------------------------------------------------


def add_user(
    db: Database, registry: FlowRegistry, *, name: str, email: str, roles: Sequence[str]
) -> User:
    """Create a user with scoped roles; every role is checked first, so a bad one adds nothing."""
    name, email = name.strip(), email.strip().lower()
    if not name:
        raise InvalidInput("Een gebruiker heeft een naam nodig.")
    if "@" not in email or " " in email or email.startswith("@") or email.endswith("@"):
        raise InvalidInput(f"{email!r} is geen geldig e-mailadres.")
    grants = [parse_grant(r, registry.role_kinds) for r in roles]
    with db.write() as session:
        check_scopes(session, grants, registry)
        clash = session.exec(
            select(User).where(or_(func.lower(User.name) == name.lower(), col(User.email) == email))
        ).first()
        if clash is not None:
            raise InvalidInput(f"Er is al een gebruiker met deze naam of dit e-mailadres ({clash.name}).")
        user = User(name=name, email=email)
        session.add(user)
        try:
            session.flush()
        except IntegrityError:
            raise InvalidInput("Er is al een gebruiker met deze naam of dit e-mailadres.") from None
        for grant in set(grants):
            session.add(RoleGrantRow(user_id=_uid(user), role=grant.role, scope=grant.storage_scope()))
        return user


def check_scopes(session: Session, grants: Sequence[RoleGrant], registry: FlowRegistry) -> None:
    from workflow.engine import REFERENCE_TABLES

    for grant in grants:
        parts = registry.role_kinds[grant.role].scope_parts
        for part, value in zip(parts, grant.scope, strict=True):
            table = REFERENCE_TABLES.get(part)
            if table is not None and session.get(table, value) is None:
                raise InvalidInput(
                    f"Onbekende {_dutch_part(part)} {value!r} in de rol "
                    f"{format_grant(grant, registry.role_kinds)}."
                    + _known(session, table)
                )


def _dutch_part(part: str) -> str:
    return {"municipality": "gemeente", "working_group": "werkgroep", "faction": "fractie"}.get(
        part, part
    )


def _known(session: Session, table: Any) -> str:
    slugs = [row.slug for row in session.exec(select(table).order_by(table.slug))]
    return f" Bekend: {', '.join(slugs)}." if slugs else " Voer eerst uit: initiatief db seed"


def find_user(session: Session, who: str) -> User:
    """A user by name or email (case-insensitive)."""
    key = who.strip().lower()
    user = session.exec(
        select(User).where(or_(func.lower(User.name) == key, col(User.email) == key))
    ).first()
    if user is None or not user.active:
        raise InvalidInput(f"Onbekende gebruiker {who!r}. Maak die aan met: initiatief users add")
    return user


def actor_for(session: Session, user: User) -> Actor:
    rows = session.exec(select(RoleGrantRow).where(RoleGrantRow.user_id == user.id))
    return Actor(user_id=user.id, name=user.name, grants=frozenset(grant_of(r) for r in rows))


def resolve_actor(db: Database, who: str) -> Actor:
    with db.read() as session:
        return actor_for(session, find_user(session, who))


def list_users(db: Database, registry: FlowRegistry) -> list[dict[str, Any]]:
    with db.read() as session:
        users = session.exec(select(User).order_by(User.name)).all()
        out = []
        for user in users:
            actor = actor_for(session, user)
            roles = sorted(format_grant(g, registry.role_kinds) for g in actor.grants)
            out.append({"id": user.id, "name": user.name, "email": user.email, "roles": roles})
        return out


# --- reading initiatives --------------------------------------------------------------------


@dataclass
class InitiativeDetail:
    """Everything the show command, the API and the page render for one initiative."""

    id: int
    title: str
    summary: str
    flow: str
    flow_label: str
    flow_version: int
    state: str
    state_label: str
    state_help: str
    final: bool
    version: int
    municipality: str
    municipality_name: str
    faction: str | None
    data: dict[str, Any]
    participants: list[dict[str, Any]]
    deadlines: list[dict[str, Any]]
    allowed: list[dict[str, Any]] = field(default_factory=list)
    timeline: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {k: _jsonable(v) for k, v in self.__dict__.items()}


def show_initiative(engine: Engine, initiative_id: int, actor: Actor | None) -> InitiativeDetail:
    with engine.db.read() as session:
        row = session.get(Initiative, initiative_id)
        if row is None:
            raise NotFound(f"Initiatief {initiative_id} bestaat niet.")
        spec = engine.registry.get(row.flow, row.flow_version)
        names = engine.reference(session).names
        state = spec.state(row.state)
        # Plain rows, not ORM objects: the page shows them and changes nothing (an ORM object
        # per event cost more than reading it).
        connection = session.connection()
        labels = engine.registry.region.participant_labels
        participants = [
            {
                "municipality": municipality,
                "name": names.get(municipality, municipality),
                "status": status,
                "status_label": labels.get(status, status),
                **data,
            }
            for municipality, status, data in connection.execute(
                sa_select(col(Participant.municipality), col(Participant.status), col(Participant.data))
                .where(col(Participant.initiative_id) == row.id)
                .order_by(col(Participant.municipality))
            )
        ]
        deadlines = [
            {"id": d_id, "state": d_state, "label": label, "due_at": due_at, "status": status}
            for d_id, d_state, label, due_at, status in connection.execute(
                sa_select(col(Deadline.id), col(Deadline.state), col(Deadline.label),
                          col(Deadline.due_at), col(Deadline.status))
                .where(col(Deadline.initiative_id) == row.id)
                .order_by(col(Deadline.due_at))
            )
        ]
        timeline = []
        engine_steps = engine.registry.region.engine_step_labels
        events = connection.execute(
            sa_select(col(Event.id), col(Event.at), col(Event.actor_name), col(Event.trigger),
                      col(Event.from_state), col(Event.to_state), col(Event.data),
                      col(Event.comment), col(Event.version))
            .where(col(Event.initiative_id) == row.id)
            .order_by(col(Event.id))
        )
        for e in events:
            t = spec.transition(e.trigger)
            timeline.append(
                {
                    "id": e.id,
                    "at": e.at,
                    "actor": e.actor_name,
                    "trigger": e.trigger,
                    "label": t.label if t else engine_steps.get(e.trigger, e.trigger),
                    "from_state": e.from_state,
                    "to_state": e.to_state,
                    "to_label": _state_label(spec, e.to_state),
                    "data": e.data,
                    "comment": e.comment,
                    "version": e.version,
                }
            )
        allowed = []
        if actor is not None:
            for option in engine.options(session, row, actor):
                allowed.append(
                    {
                        "trigger": option.trigger,
                        "label": option.label,
                        "blocked": option.blocked,
                        "fields": describe_fields(option.transition.requires),
                    }
                )
        return InitiativeDetail(
            id=_uid(row),
            title=row.title,
            summary=row.summary,
            flow=row.flow,
            flow_label=spec.label,
            flow_version=row.flow_version,
            state=row.state,
            state_label=state.label,
            state_help=state.help,
            final=state.final,
            version=row.version,
            municipality=row.municipality,
            municipality_name=names.get(row.municipality, row.municipality),
            faction=row.faction,
            data=dict(row.data),
            participants=participants,
            deadlines=deadlines,
            allowed=allowed,
            timeline=timeline,
        )


def list_initiatives(
    engine: Engine,
    *,
    state: str | None = None,
    municipality: str | None = None,
    flow: str | None = None,
    limit: int = 500,
    offset: int = 0,
) -> list[dict[str, Any]]:
    with engine.db.read() as session:
        query = select(Initiative).order_by(Initiative.id.desc())  # type: ignore[union-attr]
        if state:
            query = query.where(Initiative.state == state)
        if municipality:
            query = query.where(Initiative.municipality == municipality)
        if flow:
            query = query.where(Initiative.flow == flow)
        rows = session.exec(query.offset(offset).limit(limit)).all()
        out = []
        for row in rows:
            spec = engine.registry.get(row.flow, row.flow_version)
            out.append(
                {
                    "id": row.id,
                    "title": row.title,
                    "flow": row.flow,
                    "state": row.state,
                    "state_label": _state_label(spec, row.state),
                    "version": row.version,
                    "municipality": row.municipality,
                    "faction": row.faction,
                    "updated_at": row.updated_at,
                }
            )
        return out


def seed_reference(db: Database, registry: FlowRegistry) -> dict[str, int]:
    with db.write() as session:
        added = registry.region.seed(session)
    if any(added.values()):
        db.reference_changed()
    return added


def _state_label(spec: Any, state: str) -> str:
    return str(spec.states[state].label) if state in spec.states else state


def _uid(row: Any) -> int:
    if row.id is None:
        raise RuntimeError("row has no id")
    return int(row.id)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value
