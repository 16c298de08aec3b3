"""Turning a transition's notifications into outbox rows: recipients from roles, one row each.

The rows are written unrendered: the template's name, the context frozen as JSON, and the
recipient. Rendering happens in the sender (notifications/delivery.py), outside the write path's
transaction, so a step costs a JSON dump instead of two template renders per recipient.
"""

import itertools
import json
import os
import secrets
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

import orjson
from sqlmodel import Session

from workflow.context import InitiativeView
from workflow.db import Executor
from workflow.models import RoleGrantRow
from workflow.roles import Audience, RoleGrant
from workflow.statements import recipients_query, recipients_values

NO_ACCOUNT = 0
"""The `user_id` of a recipient without an account (ids start at 1: it never matches an actor)."""


@dataclass(frozen=True)
class ContactAudience(Audience):
    """People without an account, addressed by the e-mail address the initiative's data holds
    (e.g. the inhabitant who brought in a civic initiative). It never grants a right."""

    contacts: Callable[[InitiativeView], Iterable[tuple[str, str]]] = field(
        default=lambda _view: (), compare=False
    )  # (name, e-mail address) pairs

    def admits(
        self, grants: Iterable[RoleGrant], view: InitiativeView, data: Mapping[str, Any] | None
    ) -> bool:
        return False


@dataclass(frozen=True)
class Recipient:
    user_id: int  # NO_ACCOUNT for a contact from the initiative's data
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
    chosen = list(audiences)
    found: list[tuple[Audience, Recipient]] = []
    seen: set[str] = set()
    for audience, people in zip(chosen, people_by_audience(session, chosen, view, data), strict=True):
        for person in people:
            key = person.email.lower()
            if key not in seen:
                seen.add(key)
                found.append((audience, person))
    return found


def people_by_audience(
    session: Executor,
    audiences: Sequence[Audience],
    view: InitiativeView,
    data: Mapping[str, Any] | None,
    *,
    cache: "RecipientCache | None" = None,
    version: int | None = None,
) -> list[list[Recipient]]:
    """Per audience, who is in it (each address once, in user order). The users of all
    audiences come from one query: this runs in every step of the write path, which passes
    its `cache` and the `directory_version` its transaction read."""
    wanted: list[frozenset[str] | None] = []
    for audience in audiences:
        scopes = None if isinstance(audience, ContactAudience) else audience.scopes(view, data)
        wanted.append(None if scopes is None else frozenset(":".join(s) for s in scopes))
    if cache is None or version is None or any(isinstance(a, ContactAudience) for a in audiences):
        return _people(session, audiences, wanted, view)
    key = (version, tuple((a.role, a.label, w) for a, w in zip(audiences, wanted, strict=True)))
    return cache.people(version, key, lambda: _people(session, audiences, wanted, view))


def _people(
    session: Executor,
    audiences: Sequence[Audience],
    wanted: Sequence[frozenset[str] | None],
    view: InitiativeView,
) -> list[list[Recipient]]:
    asked = [
        (audience.role, None if scopes is None else sorted(scopes))
        for audience, scopes in zip(audiences, wanted, strict=True)
        if not isinstance(audience, ContactAudience) and (scopes is None or scopes)
    ]
    rows = recipients_query(asked).all(session, recipients_values(asked)) if asked else []
    found: list[list[Recipient]] = []
    for audience, allowed in zip(audiences, wanted, strict=True):
        people: list[Recipient] = []
        seen: set[str] = set()
        if isinstance(audience, ContactAudience):
            for name, email in audience.contacts(view):
                if email and email.lower() not in seen:
                    seen.add(email.lower())
                    people.append(Recipient(NO_ACCOUNT, name, email, audience.label))
        else:
            for role, scope, user_id, name, email in rows:
                if role != audience.role or (allowed is not None and scope not in allowed):
                    continue
                if email.lower() in seen or user_id is None:
                    continue
                seen.add(email.lower())
                people.append(Recipient(user_id, name, email, audience.label))
        found.append(people)
    return found


class RecipientCache:
    """Who is in a step's audiences, kept per question while users and role grants stay as
    they are: per value of `directory_version`, which triggers raise on every change to them
    (migration 0009) and which the write path reads with its lock. An answer is thus never
    older than the transaction that uses it. The lists it hands out are shared: read only.
    (Asking and sorting out the answer were a tenth of a step on SQLite.)"""

    LIMIT = 4096  # questions kept per version; a region asks a few hundred

    def __init__(self) -> None:
        self._version: int | None = None
        self._found: dict[Hashable, list[list[Recipient]]] = {}

    def people(
        self, version: int, key: Hashable, ask: Callable[[], list[list[Recipient]]]
    ) -> list[list[Recipient]]:
        found = self._found.get(key)
        if found is None:
            found = ask()
            if version != self._version or len(self._found) >= self.LIMIT:
                # Keys hold the version, so a thread still on an older one cannot mix them up.
                self._found, self._version = {}, version
            self._found[key] = found
        return found


def new_message_id(domain: str) -> str:
    """Stable for the row's life, so a resend after a crash can be recognised as the same mail.

    Unique without asking the system for randomness per message (a fifth of a step's outbox
    work): 64 random bits drawn once per process, new in every forked child, and a counter."""
    return f"<{_ids.prefix}.{next(_ids.count)}@{domain}>"


class _MessageIds:
    def __init__(self) -> None:
        self.renew()

    def renew(self) -> None:
        self.prefix = secrets.token_hex(8)
        self.count = itertools.count(1)


_ids = _MessageIds()
os.register_at_fork(after_in_child=_ids.renew)


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
        **addressed(template, frozen, recipient, domain=domain, initiative_id=initiative_id),
        "event_id": event_id,
        **UNRENDERED,
    }


def addressed(
    template: str, frozen: str, recipient: Recipient, *, domain: str, initiative_id: int | None
) -> dict[str, Any]:
    """The values that differ between the rows of a step: insert them with `UNRENDERED` (and
    the event and times) as the rows' shared values."""
    return {
        "message_id": new_message_id(domain),
        "initiative_id": initiative_id,
        "template": template,
        "recipient": recipient.email,
        "recipient_name": recipient.name,
        "audience": recipient.audience,
        "context": frozen,
    }


UNRENDERED: Mapping[str, Any] = {
    "subject": "",
    "body_text": "",
    "body_html": "",
    "attachments": [],
    "status": "pending",
    "attempts": 0,
    "last_error": "",
    "claimed_by": None,
    "claimed_at": None,
    "sent_at": None,
}
"""What every queued row starts with: pass it as `shared` to an insert of many rows."""


def template_context(context: Mapping[str, Any], name: str, email: str, audience: str) -> dict[str, Any]:
    """What a template sees: the step's context plus who reads it and why."""
    return {**context, "audience": audience, "recipient": {"name": name, "email": email}}


def freeze(context: Mapping[str, Any]) -> str:
    """JSON that keeps dates and moments as such (`thaw` gives them back), so a template renders
    the same later as it would have in the transaction."""
    # orjson: a third of the time of `json.dumps`, the same text; a sweep freezes a thousand.
    return orjson.dumps(context, default=_tag, option=_FREEZE).decode()


_FREEZE = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS  # datetimes go to `_tag`


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
