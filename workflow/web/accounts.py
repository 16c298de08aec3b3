"""Accounts for the web: sessions, password and link login with rate limits, API tokens, settings."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from workflow.app import App
from workflow.clock import utcnow
from workflow.db import Database
from workflow.errors import InvalidInput, NotFound, PermissionDenied
from workflow.models import (
    ApiToken,
    Follow,
    LoginAttempt,
    LoginLink,
    OutboxMessage,
    RoleGrantRow,
    User,
    WebSession,
)
from workflow.outbox import grant_of, new_message_id
from workflow.roles import Actor
from workflow.services import actor_for
from workflow.sql import Prepared
from workflow.web import security
from workflow.web.errors import NotAuthenticated, TokenRevoked, TooManyAttempts
from workflow.web.mail import render_login_mail

SESSION_IDLE = timedelta(hours=8)
SESSION_MAX = timedelta(days=7)
SESSION_REFRESH = timedelta(minutes=5)  # extend at most this often: a GET should rarely write
LINK_TTL = timedelta(minutes=20)
SETUP_TTL = timedelta(days=2)
ATTEMPT_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_EMAIL = 5
MAX_FAILURES_PER_IP = 30
MAX_LINKS_PER_EMAIL = 3


@dataclass(frozen=True)
class Authenticated:
    """Who is making a request, and how (a browser session or an API token)."""

    user: User
    actor: Actor
    session: WebSession | None = None
    token_id: int | None = None

    @property
    def user_id(self) -> int:
        return _uid(self.user)

    @property
    def is_admin(self) -> bool:
        return any(g.role == "admin" for g in self.actor.grants)


# --- sessions -------------------------------------------------------------------------------


def start_session(db: Database, user_id: int, *, now: datetime | None = None) -> str:
    """A new session for `user_id`; returns the cookie token (only its hash is stored)."""
    now = now or utcnow()
    token = security.new_token()
    with db.write() as session:
        session.add(
            WebSession(
                id=security.token_hash(token),
                user_id=user_id,
                csrf_token=security.new_token(24),
                created_at=now,
                last_seen_at=now,
                expires_at=min(now + SESSION_IDLE, now + SESSION_MAX),
            )
        )
    return token


# Every page request starts with these two: prepared once (see `workflow.sql`).
_SESSION_COLUMNS = tuple(WebSession.__table__.c)  # type: ignore[attr-defined]
_USER_COLUMNS = tuple(User.__table__.c)  # type: ignore[attr-defined]
# The session, its user and the user's roles in one round trip: a row per role (one row with
# NULLs for a user without roles).
_SESSION_USER_GRANTS = Prepared(
    sa_select(*_SESSION_COLUMNS, *_USER_COLUMNS, col(RoleGrantRow.role), col(RoleGrantRow.scope))
    .join_from(WebSession, User, col(User.id) == col(WebSession.user_id))
    .outerjoin(RoleGrantRow, col(RoleGrantRow.user_id) == col(User.id))
    .where(col(WebSession.id) == bindparam("key"))
)


def load_session(db: Database, token: str, *, now: datetime | None = None) -> Authenticated | None:
    """The user behind a session cookie, or None when it is unknown, expired or the user inactive."""
    now = now or utcnow()
    key = security.token_hash(token)
    with db.read() as session:
        found = _SESSION_USER_GRANTS.all(session, {"key": key})
    if not found:
        return None
    split, users_end = len(_SESSION_COLUMNS), len(_SESSION_COLUMNS) + len(_USER_COLUMNS)
    first = found[0]
    row = WebSession(**{c.name: v for c, v in zip(_SESSION_COLUMNS, first[:split], strict=True)})
    user = User(**{c.name: v for c, v in zip(_USER_COLUMNS, first[split:users_end], strict=True)})
    if row.expires_at <= now or not user.active:
        return None
    grants = frozenset(
        grant_of(RoleGrantRow(user_id=row.user_id, role=role, scope=scope))
        for role, scope in (values[users_end:] for values in found)
        if role is not None
    )
    actor = Actor(user_id=user.id, name=user.name, grants=grants)
    if now - row.last_seen_at > SESSION_REFRESH:
        with db.write() as session:
            fresh = session.get(WebSession, key)
            if fresh is not None:
                fresh.last_seen_at = now
                fresh.expires_at = min(now + SESSION_IDLE, fresh.created_at + SESSION_MAX)
                session.add(fresh)
                row = fresh
    return Authenticated(user=user, actor=actor, session=row)


def end_session(db: Database, token: str) -> None:
    with db.write() as session:
        session.execute(delete(WebSession).where(col(WebSession.id) == security.token_hash(token)))


def end_all_sessions(session: Session, user_id: int) -> None:
    session.execute(delete(WebSession).where(col(WebSession.user_id) == user_id))


# --- password login with a rate limit ---------------------------------------------------------


def login_with_password(
    db: Database, email: str, password: str, *, ip: str, now: datetime | None = None
) -> User:
    """The user when the password is right; refuses after too many failures, in Dutch."""
    now = now or utcnow()
    address = email.strip().lower()
    with db.read() as session:
        _check_rate(session, address, ip, "password", now)
        user = session.exec(select(User).where(User.email == address)).first()
    stored = user.password_hash if user is not None and user.active else None
    ok = security.verify_password(stored, password)
    with db.write() as session:
        _record_attempt(session, address, ip, "password", ok, now)
        if ok and user is not None and stored is not None and security.needs_rehash(stored):
            fresh = session.get(User, user.id)
            if fresh is not None:
                fresh.password_hash = security.hash_password(password)
                session.add(fresh)
    if not ok or user is None:
        raise InvalidInput(
            "Het e-mailadres of het wachtwoord klopt niet.",
            field_errors={"password": "klopt niet"},
        )
    return user


def _check_rate(session: Session, address: str, ip: str, kind: str, now: datetime) -> None:
    since = now - ATTEMPT_WINDOW
    limits = (
        (f"email:{address}", MAX_LINKS_PER_EMAIL if kind == "link" else MAX_FAILURES_PER_EMAIL),
        (f"ip:{ip}", MAX_FAILURES_PER_IP),
    )
    for key, limit in limits:
        query = select(func.count()).select_from(LoginAttempt).where(
            LoginAttempt.key == key, LoginAttempt.kind == kind, col(LoginAttempt.at) > since
        )
        if kind == "password":
            # Only failures since the last success count: a user who got in starts afresh.
            last_ok = session.exec(
                select(func.max(LoginAttempt.at)).where(
                    LoginAttempt.key == key, LoginAttempt.kind == kind, LoginAttempt.success == True  # noqa: E712
                )
            ).one()
            query = query.where(LoginAttempt.success == False)  # noqa: E712
            if last_ok is not None:
                query = query.where(col(LoginAttempt.at) > last_ok)
        if session.exec(query).one() >= limit:
            minutes = int(ATTEMPT_WINDOW.total_seconds() // 60)
            raise TooManyAttempts(
                f"Te veel pogingen. Wacht {minutes} minuten en probeer het dan opnieuw, "
                "of vraag een inloglink aan."
            )


def _record_attempt(
    session: Session, address: str, ip: str, kind: str, success: bool, now: datetime
) -> None:
    for key in (f"email:{address}", f"ip:{ip}"):
        session.add(LoginAttempt(key=key, kind=kind, at=now, success=success))
    # Keep the table small: what lies outside every window is of no use any more.
    session.execute(delete(LoginAttempt).where(col(LoginAttempt.at) < now - timedelta(days=1)))


# --- one-time login links -----------------------------------------------------------------------


def make_login_link(db: Database, user_id: int, *, now: datetime | None = None) -> str:
    """A one-time login token for `user_id`, valid for LINK_TTL."""
    return _issue_link(db, user_id=user_id, purpose="login", ttl=LINK_TTL, now=now)


def _issue_link(
    db: Database, *, user_id: int | None, purpose: str, ttl: timedelta, now: datetime | None
) -> str:
    """Store only the token's hash, so a leaked database yields no usable links."""
    now = now or utcnow()
    token = security.new_token()
    with db.write() as session:
        session.add(
            LoginLink(
                token_hash=security.token_hash(token),
                user_id=user_id,
                purpose=purpose,
                created_at=now,
                expires_at=now + ttl,
            )
        )
    return token


def request_login_link(app: App, email: str, *, ip: str, now: datetime | None = None) -> bool:
    """E-mail a one-time link when the address belongs to an active user; says nothing either way.

    The message goes through the outbox like every other e-mail. Returns whether one was queued
    (for tests and logs only: the page shows the same text in both cases).
    """
    now = now or utcnow()
    address = email.strip().lower()
    if "@" not in address:
        raise InvalidInput("Vul een geldig e-mailadres in.", field_errors={"email": "ongeldig"})
    with app.db.read() as session:
        _check_rate(session, address, ip, "link", now)
        user = session.exec(select(User).where(User.email == address)).first()
    with app.db.write() as session:
        _record_attempt(session, address, ip, "link", True, now)
    if user is None or not user.active or user.id is None:
        return False
    token = make_login_link(app.db, user.id, now=now)
    link = f"{app.settings.base_url}/inloggen/link/{token}"
    subject, text, html = render_login_mail(name=user.name, link=link, minutes=_minutes(LINK_TTL))
    domain = app.settings.mail_from.rpartition("@")[2] or "initiatief.local"
    with app.db.write() as session:
        session.add(
            OutboxMessage(
                message_id=new_message_id(domain),
                template="inloglink",
                recipient=user.email,
                subject=subject,
                body_text=text,
                body_html=html,
                created_at=now,
                next_attempt_at=now,
            )
        )
    return True


def peek_login_link(db: Database, token: str, *, now: datetime | None = None) -> LoginLink:
    """The link row if it can still be used; raises a Dutch InvalidInput otherwise."""
    now = now or utcnow()
    with db.read() as session:
        return _usable_link(session, token, "login", now)


def consume_login_link(db: Database, token: str, *, now: datetime | None = None) -> User:
    """Uses the link (once) and returns its user."""
    now = now or utcnow()
    with db.write() as session:
        link = _usable_link(session, token, "login", now)
        user = session.get(User, link.user_id)
        if user is None or not user.active:
            raise InvalidInput("Deze inloglink is niet meer geldig. Vraag een nieuwe aan.")
        link.used_at = now
        session.add(link)
        return user


def _usable_link(session: Session, token: str, purpose: str, now: datetime) -> LoginLink:
    link = session.exec(
        select(LoginLink).where(LoginLink.token_hash == security.token_hash(token))
    ).first()
    if link is None or link.purpose != purpose or link.used_at is not None or link.expires_at <= now:
        raise InvalidInput("Deze link is verlopen of al gebruikt. Vraag een nieuwe aan.")
    return link


# --- first run ----------------------------------------------------------------------------


def needs_first_admin(db: Database) -> bool:
    with db.read() as session:
        return session.exec(select(RoleGrantRow).where(RoleGrantRow.role == "admin")).first() is None


def make_setup_link(db: Database, *, now: datetime | None = None) -> str:
    """A one-time token with which the operator creates the first admin in the browser."""
    return _issue_link(db, user_id=None, purpose="setup", ttl=SETUP_TTL, now=now)


def check_setup_link(db: Database, token: str, *, now: datetime | None = None) -> None:
    now = now or utcnow()
    if not needs_first_admin(db):
        raise InvalidInput("Er is al een beheerder. Log in of vraag een inloglink aan.")
    with db.read() as session:
        _usable_link(session, token, "setup", now)


def create_first_admin(
    app: App, token: str, *, name: str, email: str, password: str, now: datetime | None = None
) -> User:
    """Creates the first admin with a password; the setup link is used up, in one transaction."""
    from workflow.services import add_user

    now = now or utcnow()
    check_setup_link(app.db, token, now=now)
    hashed = security.hash_password(password)
    user = add_user(app.db, app.registry, name=name, email=email, roles=["admin"])
    with app.db.write() as session:
        link = _usable_link(session, token, "setup", now)
        link.used_at = now
        link.user_id = user.id
        session.add(link)
        row = session.get(User, user.id)
        if row is not None:
            row.password_hash = hashed
            session.add(row)
    return user


# --- the account page -----------------------------------------------------------------------


def set_password(
    db: Database, user_id: int, new_password: str, *, current_password: str | None = None,
    check_current: bool = True,
) -> None:
    """Sets a new password; with `check_current` the old one must be given when there is one."""
    hashed = security.hash_password(new_password)
    with db.write() as session:
        user = session.get(User, user_id)
        if user is None:
            raise NotFound("Deze gebruiker bestaat niet.")
        if check_current and user.password_hash and not security.verify_password(
            user.password_hash, current_password or ""
        ):
            raise InvalidInput(
                "Het huidige wachtwoord klopt niet.",
                field_errors={"current_password": "klopt niet"},
            )
        user.password_hash = hashed
        session.add(user)


def set_email_notifications(db: Database, user_id: int, enabled: bool) -> None:
    with db.write() as session:
        user = session.get(User, user_id)
        if user is None:
            raise NotFound("Deze gebruiker bestaat niet.")
        user.email_notifications = enabled
        session.add(user)


# --- API tokens -----------------------------------------------------------------------------


def create_api_token(db: Database, user_id: int, name: str) -> tuple[str, ApiToken]:
    """A new token for `user_id`; the token itself is returned once and never stored."""
    name = " ".join(name.split())
    if not name:
        raise InvalidInput("Geef het token een naam, bijvoorbeeld waarvoor u het gebruikt.",
                           field_errors={"name": "is verplicht"})
    if len(name) > 120:
        raise InvalidInput("De naam van het token is te lang (hoogstens 120 tekens).",
                           field_errors={"name": "te lang"})
    token = security.new_api_token()
    with db.write() as session:
        if session.get(User, user_id) is None:
            raise NotFound("Deze gebruiker bestaat niet.")
        row = ApiToken(
            user_id=user_id,
            name=name,
            token_hash=security.token_hash(token),
            prefix=token[:10],
        )
        session.add(row)
        session.flush()
        return token, row


def list_api_tokens(db: Database, user_id: int | None = None) -> list[dict[str, Any]]:
    with db.read() as session:
        query = select(ApiToken, User).join(User, col(User.id) == ApiToken.user_id)
        if user_id is not None:
            query = query.where(ApiToken.user_id == user_id)
        rows = session.exec(query.order_by(col(ApiToken.id))).all()
        return [
            {
                "id": t.id,
                "name": t.name,
                "prefix": t.prefix,
                "user": u.name,
                "user_id": u.id,
                "created_at": t.created_at,
                "last_used_at": t.last_used_at,
                "revoked_at": t.revoked_at,
            }
            for t, u in rows
        ]


def revoke_api_token(
    db: Database, token_id: int, *, by: "Authenticated | None" = None, now: datetime | None = None
) -> ApiToken:
    """Revokes a token; `by` None is the operator's CLI, otherwise its owner or an admin."""
    now = now or utcnow()
    with db.write() as session:
        row = session.get(ApiToken, token_id)
        if row is None:
            raise NotFound(f"Token {token_id} bestaat niet.")
        if by is not None and row.user_id != by.user_id and not by.is_admin:
            raise PermissionDenied("U mag alleen uw eigen tokens intrekken.")
        if row.revoked_at is None:
            row.revoked_at = now
            session.add(row)
        return row


def authenticate_token(db: Database, token: str, *, now: datetime | None = None) -> Authenticated:
    """The user behind a Bearer token, with exactly that user's roles."""
    now = now or utcnow()
    with db.read() as session:
        found = session.exec(
            select(ApiToken, User)
            .join(User, col(User.id) == ApiToken.user_id)
            .where(ApiToken.token_hash == security.token_hash(token))
        ).first()
        if found is None:
            raise NotAuthenticated("Dit token is onbekend.")
        row, user = found
        if row.revoked_at is not None:
            raise TokenRevoked("Dit token is ingetrokken.")
        if not user.active:
            raise NotAuthenticated("De gebruiker van dit token is niet meer actief.")
        actor = actor_for(session, user)
    if row.last_used_at is None or now - row.last_used_at > SESSION_REFRESH:
        with db.write() as session:
            fresh = session.get(ApiToken, row.id)
            if fresh is not None:
                fresh.last_used_at = now
                session.add(fresh)
    return Authenticated(user=user, actor=actor, token_id=row.id)


# --- following initiatives --------------------------------------------------------------------


def set_following(db: Database, user_id: int, initiative_id: int, follow: bool) -> None:
    from workflow.models import Initiative

    with db.write() as session:
        if session.get(Initiative, initiative_id) is None:
            raise NotFound(f"Initiatief {initiative_id} bestaat niet.")
        row = session.get(Follow, (user_id, initiative_id))
        if follow and row is None:
            session.add(Follow(user_id=user_id, initiative_id=initiative_id))
        elif not follow and row is not None:
            session.delete(row)


def is_following(db: Database, user_id: int, initiative_id: int) -> bool:
    with db.read() as session:
        return session.get(Follow, (user_id, initiative_id)) is not None


def _minutes(delta: timedelta) -> int:
    return int(delta.total_seconds() // 60)


def _uid(row: Any) -> int:
    if row.id is None:
        raise RuntimeError("row has no id")
    return int(row.id)
