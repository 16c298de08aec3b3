"""Turning a transition's notifications into outbox rows: recipients from roles, one row each.

The rows are written unrendered: the template's name, the context frozen as JSON, and the
recipient. Rendering happens in the sender (notifications/delivery.py), outside the write path's
transaction, so a step costs a JSON dump instead of two template renders per recipient.
"""

import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy import or_
from sqlmodel import Session, col, select

from workflow.context import InitiativeView
from workflow.models import RoleGrantRow, User
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


def queued_message(
    template: str,
    frozen: str,
    recipient: Recipient,
    *,
    domain: str,
    initiative_id: int | None,
    event_id: int | None,
) -> dict[str, Any]:
    """The column values of one unrendered outbox row; `frozen` is `freeze(context)`, shared by
    every recipient of a step. The sender renders it (`thaw` + the recipient) when it sends."""
    return {
        "message_id": new_message_id(domain),
        "initiative_id": initiative_id,
        "event_id": event_id,
        "template": template,
        "recipient": recipient.email,
        "recipient_name": recipient.name,
        "audience": recipient.audience,
        "context": frozen,
        "subject": "",
        "body_text": "",
        "body_html": "",
        "attachments": [],
        "status": "pending",
        "attempts": 0,
        "last_error": "",
    }


def template_context(context: Mapping[str, Any], name: str, email: str, audience: str) -> dict[str, Any]:
    """What a template sees: the step's context plus who reads it and why."""
    return {**context, "audience": audience, "recipient": {"name": name, "email": email}}


def freeze(context: Mapping[str, Any]) -> str:
    """JSON that keeps dates and moments as such (`thaw` gives them back), so a template renders
    the same later as it would have in the transaction."""
    return json.dumps(context, default=_tag, ensure_ascii=False, separators=(",", ":"))


def thaw(frozen: str) -> dict[str, Any]:
    value = json.loads(frozen, object_hook=_untag)
    if not isinstance(value, dict):
        raise ValueError("frozen message context is not an object")
    return value


def _tag(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"cannot freeze {type(value).__name__} in a message context")


def _untag(obj: dict[str, Any]) -> Any:
    if len(obj) == 1:
        if "$datetime" in obj:
            return datetime.fromisoformat(obj["$datetime"])
        if "$date" in obj:
            return date.fromisoformat(obj["$date"])
    return obj


def grant_of(row: RoleGrantRow) -> RoleGrant:
    return RoleGrant(row.role, tuple(row.scope.split(":")) if row.scope else ())
