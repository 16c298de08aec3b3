"""Admin services: users and their roles, and reference data (municipalities, groups, recesses)."""

import re
from collections.abc import Sequence
from datetime import date

from sqlalchemy import delete, func, or_
from sqlmodel import col, select

from workflow.db import Database
from workflow.errors import InvalidInput, NotFound
from workflow.models import (
    Municipality,
    Recess,
    RoleGrantRow,
    Theme,
    User,
    WorkingGroup,
    WorkingGroupMember,
)
from workflow.registry import FlowRegistry
from workflow.roles import parse_grant
from workflow.services import check_scopes
from workflow.web.accounts import end_all_sessions

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def parse_roles(text: str) -> list[str]:
    """Role tokens from a textarea: one per line (commas also separate)."""
    return [r.strip() for r in re.split(r"[\n,]", text) if r.strip()]


def update_user(
    db: Database,
    registry: FlowRegistry,
    user_id: int,
    *,
    name: str,
    email: str,
    roles: Sequence[str],
    active: bool,
) -> None:
    """Replaces a user's name, e-mail, roles and active flag; every role is checked first."""
    name, email = " ".join(name.split()), email.strip().lower()
    errors = {}
    if not name:
        errors["name"] = "is verplicht"
    if "@" not in email or " " in email:
        errors["email"] = "is geen geldig e-mailadres"
    if errors:
        raise InvalidInput("Controleer de gemarkeerde velden.", field_errors=errors)
    grants = {parse_grant(r, registry.role_kinds) for r in roles}
    with db.write() as session:
        user = session.get(User, user_id)
        if user is None:
            raise NotFound(f"Gebruiker {user_id} bestaat niet.")
        check_scopes(session, list(grants), registry)
        clash = session.exec(
            select(User).where(
                User.id != user_id,
                or_(func.lower(User.name) == name.lower(), col(User.email) == email),
            )
        ).first()
        if clash is not None:
            raise InvalidInput(f"Er is al een gebruiker met deze naam of dit e-mailadres ({clash.name}).")
        user.name, user.email, user.active = name, email, active
        session.add(user)
        session.execute(delete(RoleGrantRow).where(col(RoleGrantRow.user_id) == user_id))
        for grant in grants:
            session.add(RoleGrantRow(user_id=user_id, role=grant.role, scope=grant.storage_scope()))
        if not active:
            end_all_sessions(session, user_id)


def save_municipality(
    db: Database, *, slug: str, name: str, inhabitants: str, region: str, bloc: str
) -> None:
    """Adds a municipality, or changes the one with this code."""
    slug = slug.strip().lower()
    errors = {}
    if not _SLUG.match(slug):
        errors["slug"] = "alleen kleine letters, cijfers en streepjes, bv. hoeksche-waard"
    if not name.strip():
        errors["name"] = "is verplicht"
    if not inhabitants.strip().isdigit():
        errors["inhabitants"] = "moet een heel getal zijn"
    if errors:
        raise InvalidInput("Controleer de gemarkeerde velden.", field_errors=errors)
    with db.write() as session:
        row = session.get(Municipality, slug) or Municipality(slug=slug, name=name.strip())
        row.name = name.strip()
        row.inhabitants = int(inhabitants)
        row.region = region.strip()
        row.bloc = bloc.strip()
        session.add(row)
    db.reference_changed()


def save_working_group(db: Database, *, slug: str, name: str, theme: str) -> None:
    """Adds a working group (and its theme when that is new), or renames an existing one."""
    slug = slug.strip().lower()
    errors = {}
    if not _SLUG.match(slug):
        errors["group_slug"] = "alleen kleine letters, cijfers en streepjes"
    if not name.strip():
        errors["group_name"] = "is verplicht"
    if errors:
        raise InvalidInput("Controleer de gemarkeerde velden.", field_errors=errors)
    with db.write() as session:
        theme_slug = theme.strip() or None
        if theme_slug is not None and session.get(Theme, theme_slug) is None:
            raise InvalidInput(f"Onbekend thema {theme_slug!r}.", field_errors={"theme": "onbekend"})
        row = session.get(WorkingGroup, slug) or WorkingGroup(slug=slug, name=name.strip())
        row.name = name.strip()
        row.theme_slug = theme_slug
        session.add(row)
    db.reference_changed()


def set_members(db: Database, group: str, municipalities: Sequence[str]) -> None:
    """The municipalities that sit in a working group, replaced as a whole."""
    with db.write() as session:
        if session.get(WorkingGroup, group) is None:
            raise NotFound(f"Werkgroep {group!r} bestaat niet.")
        for slug in municipalities:
            if session.get(Municipality, slug) is None:
                raise InvalidInput(f"Onbekende gemeente {slug!r}.")
        session.execute(
            delete(WorkingGroupMember).where(col(WorkingGroupMember.working_group_slug) == group)
        )
        for slug in sorted(set(municipalities)):
            session.add(WorkingGroupMember(working_group_slug=group, municipality_slug=slug))
    db.reference_changed()


def add_recess(db: Database, *, name: str, start: str, end: str) -> None:
    errors = {}
    if not name.strip():
        errors["recess_name"] = "is verplicht"
    days = {}
    for key, value in (("start", start), ("end", end)):
        try:
            days[key] = date.fromisoformat(value.strip())
        except ValueError:
            errors[key] = "moet een datum zijn als JJJJ-MM-DD"
    if not errors and days["end"] < days["start"]:
        errors["end"] = "ligt voor de eerste dag"
    if errors:
        raise InvalidInput("Controleer de gemarkeerde velden.", field_errors=errors)
    with db.write() as session:
        session.add(Recess(name=name.strip(), start=days["start"], end=days["end"]))
    db.reference_changed()


def delete_recess(db: Database, recess_id: int) -> None:
    with db.write() as session:
        row = session.get(Recess, recess_id)
        if row is None:
            raise NotFound(f"Reces {recess_id} bestaat niet.")
        session.delete(row)
    db.reference_changed()
