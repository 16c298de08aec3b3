"""Idempotency-Key on POSTs: the first request acts and its answer is kept; a retry gets that answer."""

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from workflow.clock import utcnow
from workflow.db import Database
from workflow.errors import InvalidInput, WorkflowError
from workflow.models import IdempotencyRecord
from workflow.web.errors import IdempotencyKeyReused, RequestInProgress

KEEP_FOR = timedelta(hours=24)
MAX_KEY_LENGTH = 200


@dataclass(frozen=True)
class Outcome:
    status: int
    body: dict[str, Any]
    replayed: bool = False


def fingerprint(method: str, path: str, body: Any) -> str:
    """Identifies a request: the same key with another request is refused."""
    canonical = json.dumps([method, path, body], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def run_once(
    db: Database,
    *,
    user_id: int,
    key: str | None,
    request_hash: str,
    action: Callable[[], Outcome],
    now: datetime | None = None,
) -> Outcome:
    """Runs `action` unless this user already sent this key; then returns the kept answer.

    Typed errors (4xx) are kept as answers too, so a retry sees what the first try saw;
    an unexpected failure forgets the key so that the client may try again.
    """
    if key is None:
        return action()
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidInput(
            f"De Idempotency-Key moet 1 tot {MAX_KEY_LENGTH} tekens lang zijn.",
            field_errors={"Idempotency-Key": "ongeldig"},
        )
    now = now or utcnow()
    kept = _claim(db, user_id, key, request_hash, now)
    if kept is not None:
        return kept
    try:
        outcome = action()
    except WorkflowError as exc:
        _store(db, user_id, key, exc.http_status, exc.as_dict())
        raise
    except BaseException:
        _forget(db, user_id, key)
        raise
    _store(db, user_id, key, outcome.status, outcome.body)
    return outcome


def _claim(db: Database, user_id: int, key: str, request_hash: str, now: datetime) -> Outcome | None:
    try:
        with db.write() as session:
            session.execute(
                delete(IdempotencyRecord).where(
                    col(IdempotencyRecord.user_id) == user_id,
                    col(IdempotencyRecord.created_at) < now - KEEP_FOR,
                )
            )
            row = session.exec(
                select(IdempotencyRecord).where(
                    IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key
                )
            ).first()
            if row is None:
                session.add(
                    IdempotencyRecord(user_id=user_id, key=key, request_hash=request_hash, created_at=now)
                )
                return None
            if row.request_hash != request_hash:
                raise IdempotencyKeyReused(
                    "Deze Idempotency-Key is al gebruikt voor een ander verzoek. "
                    "Gebruik voor elk nieuw verzoek een nieuwe sleutel."
                )
            if row.status_code is None:
                raise RequestInProgress(
                    "Een verzoek met deze Idempotency-Key wordt nog verwerkt. Probeer het zo opnieuw."
                )
            return Outcome(row.status_code, dict(row.response), replayed=True)
    except IntegrityError:
        # PostgreSQL: a concurrent first request inserted the same key a moment earlier.
        raise RequestInProgress(
            "Een verzoek met deze Idempotency-Key wordt nog verwerkt. Probeer het zo opnieuw."
        ) from None


def _store(db: Database, user_id: int, key: str, status: int, body: dict[str, Any]) -> None:
    with db.write() as session:
        row = session.exec(
            select(IdempotencyRecord).where(
                IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key
            )
        ).first()
        if row is not None:
            row.status_code = status
            row.response = body
            session.add(row)


def _forget(db: Database, user_id: int, key: str) -> None:
    with db.write() as session:
        session.execute(
            delete(IdempotencyRecord).where(
                col(IdempotencyRecord.user_id) == user_id, col(IdempotencyRecord.key) == key
            )
        )
