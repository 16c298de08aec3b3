"""The one source of "now", so tests can move time (time-machine); times are aware UTC."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
