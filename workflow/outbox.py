"""Turning a transition's notifications into outbox rows: recipients from roles, one row each."""

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import or_
from sqlmodel import Session, col, select

from workflow.context import InitiativeView
from workflow.models import OutboxMessage, RoleGrantRow, User
from workflow.roles import Audience, RoleGrant


@dataclass(frozen=True)
class Recipient:
    user_id: int
    name: str
    email: str
    audience: str  # the audience's Dutch label: why this person receives the message


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str
    attachments: Sequence[Mapping[str, Any]] = field(default_factory=tuple)


class Renderer(Protocol):
    """What `notifications` provides: templates by name, rendered with a context."""

    def templates(self) -> frozenset[str]: ...

    def render(self, template: str, context: Mapping[str, Any]) -> Rendered: ...


def recipients(
    session: Session,
    audiences: Iterable[Audience],
    view: InitiativeView,
    data: Mapping[str, Any] | None,
) -> list[tuple[Audience, Recipient]]:
    """Active users in each audience, each person once (the first audience that names them)."""
    found: list[tuple[Audience, Recipient]] = []
    seen: set[str] = set()
    for audience in audiences:
        scopes = audience.scopes(view, data)
        wanted = None if scopes is None else {":".join(s) for s in scopes}
        if wanted is not None and not wanted:
            continue
        # Columns only, not ORM objects: this runs inside every step of the write path.
        query = (
            select(col(User.id), col(User.name), col(User.email))
            .join(RoleGrantRow, col(RoleGrantRow.user_id) == col(User.id))
            .where(
                col(RoleGrantRow.role) == audience.role,
                col(User.active).is_(True),
                # People who switched off e-mail on their account page get none.
                or_(col(User.email_notifications).is_(None), col(User.email_notifications).is_(True)),
            )
            .order_by(col(User.id))
        )
        if wanted is not None:
            query = query.where(col(RoleGrantRow.scope).in_(wanted))
        for user_id, name, email in session.exec(query):
            key = email.lower()
            if key in seen or user_id is None:
                continue
            seen.add(key)
            found.append((audience, Recipient(user_id, name, email, audience.label)))
    return found


def new_message_id(domain: str) -> str:
    """Stable for the row's life, so a resend after a crash can be recognised as the same mail."""
    return f"<{uuid.uuid4().hex}@{domain}>"


def build_message(
    renderer: Renderer,
    template: str,
    context: Mapping[str, Any],
    recipient: Recipient,
    *,
    domain: str,
    initiative_id: int | None,
    event_id: int | None,
) -> OutboxMessage:
    return OutboxMessage(
        **message_values(
            renderer, template, context, recipient,
            domain=domain, initiative_id=initiative_id, event_id=event_id,
        )
    )


def message_values(
    renderer: Renderer,
    template: str,
    context: Mapping[str, Any],
    recipient: Recipient,
    *,
    domain: str,
    initiative_id: int | None,
    event_id: int | None,
) -> dict[str, Any]:
    """The column values of one outbox row; bulk writers insert these without building models."""
    rendered = renderer.render(template, {**context, "recipient": recipient})
    return {
        "message_id": new_message_id(domain),
        "initiative_id": initiative_id,
        "event_id": event_id,
        "template": template,
        "recipient": recipient.email,
        "subject": " ".join(rendered.subject.split()),  # one line: no header injection
        "body_text": rendered.text,
        "body_html": rendered.html,
        "attachments": [dict(a) for a in rendered.attachments],
    }


def grant_of(row: RoleGrantRow) -> RoleGrant:
    return RoleGrant(row.role, tuple(row.scope.split(":")) if row.scope else ())
