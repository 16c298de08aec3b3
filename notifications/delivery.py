"""Delivering the outbox: claim pending messages, send them by SMTP or as .eml files, record the outcome.

A drain works in batches. Each batch is claimed in one short transaction (on PostgreSQL with
`FOR UPDATE SKIP LOCKED`, so several workers take different rows): the rows become `sending`,
with the worker's name and the time. Then they are sent over one connection, and the outcome is
recorded in a second transaction: `sent`; `pending` again with a later `next_attempt_at` after a
transient failure (exponential back-off); `failed` with the reason after a permanent failure or
the last allowed attempt. A worker that dies between the two transactions leaves its rows in
`sending`; after `mail_claim_timeout` another drain takes them again. The reader may then get
such a message twice (the same Message-ID), but never not at all. A drain claims the next batch
while it sends the current one, so at most two batches per worker are in flight.

The write path stores messages unrendered (template, frozen context, recipient); the drain
renders each one just before it sends it and keeps the result on the row. A message whose
template cannot be rendered is marked `failed` with the reason, never dropped.
"""

import asyncio
import logging
from dataclasses import asdict, dataclass, field, replace
from datetime import timedelta
from typing import Any, Literal

from sqlalchemy import bindparam, update
from sqlmodel import Session, col, select

from notifications.mime import Outgoing, as_bytes, build_email
from notifications.transport import (
    DeliveryError,
    FileTransport,
    SmtpTransport,
    Transport,
    parse_smtp_url,
)
from workflow.clock import utcnow
from workflow.db import Database
from workflow.errors import InvalidInput, NotFound
from workflow.models import OutboxMessage
from workflow.outbox import Rendered, Renderer, template_context, thaw
from workflow.settings import Settings

log = logging.getLogger(__name__)

Outcome = Literal["sent", "retry", "failed", "untried"]


@dataclass(frozen=True)
class DrainResult:
    """How many messages one drain sent, put back for a later attempt, and gave up on."""

    sent: int = 0
    retried: int = 0
    failed: int = 0

    def __add__(self, other: "DrainResult") -> "DrainResult":
        return DrainResult(self.sent + other.sent, self.retried + other.retried, self.failed + other.failed)

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True)
class Claimed:
    """A claimed outbox row: already rendered (`subject` set) or still to render from `context`."""

    item: Outgoing
    template: str
    recipient_name: str
    audience: str
    context: str | None


@dataclass
class _Report:
    outcomes: dict[int, tuple[Outcome, str]] = field(default_factory=dict)
    rendered: dict[int, Rendered] = field(default_factory=dict)
    connection_lost: bool = False


_default_renderer: Renderer | None = None
ATTACHMENTS_TYPE = OutboxMessage.__table__.c.attachments.type  # type: ignore[attr-defined]


def default_renderer() -> Renderer:
    """One renderer per process: building the Jinja environments and templates is the costly part."""
    global _default_renderer
    if _default_renderer is None:
        from notifications.render import TemplateRenderer

        _default_renderer = TemplateRenderer()
    return _default_renderer


def transport_for(settings: Settings) -> Transport:
    """SMTP when `INITIATIEF_SMTP_URL` is set, else `.eml` files in the mail folder."""
    if settings.smtp_url:
        domain = settings.mail_from.rpartition("@")[2] or "localhost"
        return SmtpTransport(parse_smtp_url(settings.smtp_url), local_hostname=domain)
    return FileTransport(settings.mail_dir)


async def drain(
    db: Database,
    settings: Settings,
    *,
    worker: str,
    transport: Transport | None = None,
    batch_size: int | None = None,
    max_batches: int = 100,
    renderer: Renderer | None = None,
) -> DrainResult:
    """Send what is due in the outbox, batch after batch, until it is empty or the server is gone.

    Guarantees: a row is only ever marked `sent` after the server (or the file system) accepted
    it, and a row never leaves the outbox unsent without being marked `failed` with a reason.
    """
    limit = batch_size or settings.mail_batch_size
    typesetter = renderer or default_renderer()

    timeout = settings.mail_claim_timeout

    def take() -> "asyncio.Task[list[Claimed]]":
        return asyncio.create_task(
            asyncio.to_thread(claim, db, worker=worker, limit=limit, claim_timeout=timeout)
        )

    def keep(report: _Report, claimed: list[Claimed]) -> "asyncio.Task[DrainResult]":
        return asyncio.create_task(
            asyncio.to_thread(record, db, report, claimed, worker=worker, settings=settings)
        )

    # The database work of the next and the previous batch overlaps with sending this one, so
    # the SMTP connection is kept busy; at most two batches are ever in flight.
    total = DrainResult()
    recording: asyncio.Task[DrainResult] | None = None
    claiming: asyncio.Task[list[Claimed]] | None = take()
    async with transport or transport_for(settings) as carrier:
        for _ in range(max_batches):
            if claiming is None:
                break
            claimed = await claiming
            claiming = take() if len(claimed) == limit else None
            if not claimed:
                break
            report = await _send_all(carrier, claimed, settings, typesetter)
            if recording is not None:
                total += await recording
            recording = keep(report, claimed)
            if report.connection_lost:
                break
    if recording is not None:
        total += await recording
    if claiming is not None:
        # Claimed ahead but not sent (the server went away, or max_batches): hand them back now
        # rather than after the claim timeout.
        claimed = await claiming
        if claimed:
            await asyncio.to_thread(record, db, _Report(), claimed, worker=worker, settings=settings)
    return total


async def _send_all(
    carrier: Transport, claimed: list[Claimed], settings: Settings, renderer: Renderer
) -> _Report:
    report = _Report()
    for row in claimed:
        item = row.item
        if report.connection_lost:
            report.outcomes[item.id] = ("untried", "")
            continue
        try:
            item = _typeset(row, renderer, report)
        except Exception as exc:  # any template error fails this one message, loudly
            reason = f"Bericht kan niet worden opgemaakt ({row.template}): {exc}"
            report.outcomes[item.id] = ("failed", reason)
            log.error("bericht %s (%s) kan niet worden opgemaakt: %s", item.message_id, row.template, exc)
            continue
        try:
            raw = as_bytes(build_email(item, sender=settings.mail_from, reply_to=settings.reply_to))
            await carrier.send(raw, sender=settings.mail_from, recipient=item.recipient,
                               message_id=item.message_id)
        except DeliveryError as exc:
            report.outcomes[item.id] = ("failed" if exc.permanent else "retry", exc.reason)
            report.connection_lost = exc.connection_lost
            log.warning("bericht %s aan %s niet verzonden: %s", item.message_id, item.recipient, exc.reason)
        except ValueError as exc:
            # A row that cannot become an email (a broken address or header) will not get better.
            report.outcomes[item.id] = ("failed", f"Bericht kan niet worden opgebouwd: {exc}")
        else:
            report.outcomes[item.id] = ("sent", "")
    return report


def _typeset(row: Claimed, renderer: Renderer, report: _Report) -> Outgoing:
    """The row with its text: rendered now from its frozen context, unless that happened before."""
    item = row.item
    if row.context is None or item.subject:
        return item
    rendered = render_row(renderer, row.template, row.context, row.recipient_name, item.recipient,
                          row.audience)
    report.rendered[item.id] = rendered
    return replace(
        item,
        subject=rendered.subject,
        body_text=rendered.text,
        body_html=rendered.html,
        attachments=[dict(a) for a in rendered.attachments],
    )


def render_row(
    renderer: Renderer, template: str, frozen: str, name: str, email: str, audience: str
) -> Rendered:
    """What the sender makes of an unrendered outbox row."""
    return renderer.render(template, template_context(thaw(frozen), name, email, audience))


def typeset(message: OutboxMessage, renderer: Renderer | None = None) -> Rendered:
    """The text of any outbox row: as sent when it was, else as it will be sent (for listings)."""
    if message.subject or message.context is None:
        return Rendered(message.subject, message.body_text, message.body_html,
                        tuple(message.attachments))
    return render_row(renderer or default_renderer(), message.template, message.context,
                      message.recipient_name, message.recipient, message.audience)


# --- the two transactions around a send -------------------------------------------------------


def claim(db: Database, *, worker: str, limit: int, claim_timeout: float) -> list[Claimed]:
    """Take up to `limit` due rows for `worker`: pending ones whose time has come, and rows left
    in `sending` longer than `claim_timeout` seconds by a worker that died. Commits the claim."""
    now = utcnow()
    stale = now - timedelta(seconds=claim_timeout)
    with db.write() as session:
        ids = _lock(
            session,
            db,
            (
                col(OutboxMessage.status) == "sending",
                col(OutboxMessage.claimed_at) <= stale,
                col(OutboxMessage.claimed_by) != worker,  # never our own batch in flight
            ),
            limit,
        )
        if len(ids) < limit:
            ids += _lock(
                session,
                db,
                (col(OutboxMessage.status) == "pending", col(OutboxMessage.next_attempt_at) <= now),
                limit - len(ids),
            )
        if not ids:
            return []
        # One statement marks the batch and hands back what is needed to send it.
        query = (
            update(OutboxMessage)
            .where(col(OutboxMessage.id).in_(ids))
            .values(
                status="sending",
                claimed_by=worker,
                claimed_at=now,
                attempts=col(OutboxMessage.attempts) + 1,  # counted before sending: a message
            )  # that kills workers runs out of attempts
            .returning(
                col(OutboxMessage.id),
                col(OutboxMessage.message_id),
                col(OutboxMessage.recipient),
                col(OutboxMessage.subject),
                col(OutboxMessage.body_text),
                col(OutboxMessage.body_html),
                col(OutboxMessage.attachments),
                col(OutboxMessage.created_at),
                col(OutboxMessage.attempts),
                col(OutboxMessage.template),
                col(OutboxMessage.recipient_name),
                col(OutboxMessage.audience),
                col(OutboxMessage.context),
            )
            .execution_options(synchronize_session=False)
        )
        claimed = [
            Claimed(Outgoing(*row[:9]), *row[9:]) for row in session.exec(query).all()
        ]
        order = {id_: n for n, id_ in enumerate(ids)}
        return sorted(claimed, key=lambda c: order[c.item.id])


def _lock(session: Session, db: Database, where: tuple[Any, ...], limit: int) -> list[int]:
    query = (
        select(col(OutboxMessage.id))
        .where(*where)
        .order_by(col(OutboxMessage.next_attempt_at), col(OutboxMessage.id))
        .limit(limit)
    )
    if not db.is_sqlite:  # SQLite's write transaction already holds the database's write lock
        query = query.with_for_update(skip_locked=True)
    return [int(i) for i in session.exec(query).all() if i is not None]


def record(
    db: Database, report: _Report, claimed: list[Claimed], *, worker: str, settings: Settings
) -> DrainResult:
    """Write the outcome of a batch. Rows another worker reclaimed meanwhile are left to it."""
    now = utcnow()
    sent = [i for i, (outcome, _) in report.outcomes.items() if outcome == "sent"]
    retried = failed = 0
    # Rows after a lost connection were never handed over. They wait as long as the row that
    # lost it, or fail with it when the cause is permanent (wrong credentials fail them all).
    delay = timedelta(0)
    lost: tuple[Outcome, str] | None = None
    with db.write() as session:
        mine = (
            col(OutboxMessage.status) == "sending",
            col(OutboxMessage.claimed_by) == worker,
        )
        if report.rendered:
            # Keep what was sent (or tried): the outbox pages and an audit show the real text.
            session.connection().execute(
                update(OutboxMessage)
                .where(col(OutboxMessage.id) == bindparam("row_id"))
                .values(subject=bindparam("s"), body_text=bindparam("t"), body_html=bindparam("h"),
                        attachments=bindparam("a", type_=ATTACHMENTS_TYPE))
                .execution_options(synchronize_session=False),
                [
                    {"row_id": i, "s": r.subject, "t": r.text, "h": r.html,
                     "a": [dict(a) for a in r.attachments]}
                    for i, r in report.rendered.items()
                ],
            )
        if sent:
            session.exec(
                update(OutboxMessage)
                .where(col(OutboxMessage.id).in_(sent), *mine)
                .values(status="sent", sent_at=now, last_error="")
            )
        for item in (c.item for c in claimed):
            outcome, reason = report.outcomes.get(item.id, ("untried", ""))
            if outcome == "sent":
                continue
            values: dict[str, Any]
            if outcome == "untried" and lost is not None and lost[0] == "failed":
                values = {
                    "status": "failed",
                    "attempts": item.attempts - 1,
                    "last_error": f"Niet verzonden: {lost[1]}"[:2000],
                }
                failed += 1
            elif outcome == "untried":
                values = {
                    "status": "pending",
                    "attempts": item.attempts - 1,  # not handed over: no attempt
                    "next_attempt_at": now + delay,
                }
                retried += 1
            elif outcome == "failed" or item.attempts >= settings.mail_max_attempts:
                tail = "" if outcome == "failed" else f" (opgegeven na {item.attempts} pogingen)"
                values = {"status": "failed", "last_error": (reason + tail)[:2000]}
                failed += 1
                lost = ("failed", reason)
            else:
                delay = backoff(item.attempts, settings)
                values = {"status": "pending", "next_attempt_at": now + delay, "last_error": reason[:2000]}
                retried += 1
                lost = ("retry", reason)
            query = update(OutboxMessage).where(col(OutboxMessage.id) == item.id, *mine)
            session.exec(query.values(**values))
    return DrainResult(sent=len(sent), retried=retried, failed=failed)


def backoff(attempts: int, settings: Settings) -> timedelta:
    """Exponential: the base after the first attempt, doubling after each next one, capped."""
    seconds = settings.mail_retry_seconds * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, settings.mail_retry_max_seconds))


# --- inspecting and repairing the outbox ------------------------------------------------------

OUTBOX_STATUS_LABELS = {
    "pending": "wacht",
    "sending": "wordt verzonden",
    "sent": "verzonden",
    "failed": "mislukt",
    "dismissed": "afgeschreven",
}


def list_outbox(
    db: Database, *, failed_only: bool = False, include_sent: bool = False, limit: int = 200
) -> list[dict[str, Any]]:
    """Messages still to go (or only the failed ones), oldest first."""
    with db.read() as session:
        query = select(OutboxMessage).order_by(col(OutboxMessage.id)).limit(limit)
        if failed_only:
            query = query.where(OutboxMessage.status == "failed")
        elif not include_sent:
            query = query.where(col(OutboxMessage.status).in_(("pending", "sending", "failed")))
        return [
            {
                "id": m.id,
                "status": m.status,
                "status_label": OUTBOX_STATUS_LABELS.get(m.status, m.status),
                "recipient": m.recipient,
                "subject": _subject(m),
                "template": m.template,
                "initiative_id": m.initiative_id,
                "attempts": m.attempts,
                "next_attempt_at": m.next_attempt_at,
                "last_error": m.last_error,
                "created_at": m.created_at,
                "sent_at": m.sent_at,
                "message_id": m.message_id,
            }
            for m in session.exec(query)
        ]


def _subject(message: OutboxMessage) -> str:
    try:
        return typeset(message).subject
    except Exception as exc:  # a listing must show the broken row, not fail on it
        return f"(kan niet worden opgemaakt: {exc})"


def retry_failed(db: Database, *, message_id: int | None = None, all_failed: bool = False) -> int:
    """Put failed messages back in the queue with a fresh count of attempts; returns how many."""
    if message_id is None and not all_failed:
        raise InvalidInput("Noem een bericht (ID) of kies --all-failed.")
    with db.write() as session:
        query = select(OutboxMessage).where(col(OutboxMessage.status).in_(("failed", "dismissed")))
        if message_id is not None:
            row = session.get(OutboxMessage, message_id)
            if row is None:
                raise NotFound(f"Bericht {message_id} bestaat niet.")
            if row.status not in ("failed", "dismissed"):
                label = OUTBOX_STATUS_LABELS.get(row.status, row.status)
                raise InvalidInput(f"Bericht {message_id} is niet mislukt (status: {label}).")
            query = query.where(OutboxMessage.id == message_id)
        else:
            query = query.where(OutboxMessage.status == "failed")
        rows = list(session.exec(query))
        for row in rows:
            row.status = "pending"
            row.attempts = 0
            row.next_attempt_at = utcnow()
            row.claimed_by = None
            row.claimed_at = None
            session.add(row)  # last_error stays until it is sent: it tells what went wrong
        return len(rows)


def dismiss(db: Database, message_id: int) -> None:
    """Give up on a failed message on purpose; it stays visible with its reason."""
    with db.write() as session:
        row = session.get(OutboxMessage, message_id)
        if row is None:
            raise NotFound(f"Bericht {message_id} bestaat niet.")
        if row.status != "failed":
            label = OUTBOX_STATUS_LABELS.get(row.status, row.status)
            raise InvalidInput(f"Alleen een mislukt bericht kan worden afgeschreven (status: {label}).")
        row.status = "dismissed"
        session.add(row)


def _id(row: Any) -> int:
    if row.id is None:
        raise RuntimeError("outbox row without id")
    return int(row.id)
