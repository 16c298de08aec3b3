"""Configuration from `INITIATIEF_*` environment variables, read in this one place."""

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    flows_module: str
    smtp_url: str | None
    mail_from: str
    reply_to: str | None
    base_url: str
    # Delivery of the outbox: by default a message is retried for about four hours.
    mail_max_attempts: int = 10
    mail_retry_seconds: float = 60.0
    mail_retry_max_seconds: float = 3600.0
    mail_claim_timeout: float = 300.0
    mail_batch_size: int = 50

    @property
    def mail_dir(self) -> Path:
        return self.data_dir / "mail"


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Settings with defaults that work on a fresh machine: SQLite and mail files in ./data."""
    env = dict(os.environ if env is None else env)
    data_dir = Path(env.get("INITIATIEF_DATA_DIR", "data")).expanduser().resolve()
    database_url = env.get("INITIATIEF_DATABASE_URL") or f"sqlite:///{data_dir / 'initiatief.db'}"
    return Settings(
        data_dir=data_dir,
        database_url=_normalise_url(database_url),
        flows_module=env.get("INITIATIEF_FLOWS", "flows"),
        smtp_url=env.get("INITIATIEF_SMTP_URL") or None,
        mail_from=env.get("INITIATIEF_MAIL_FROM", "initiatief@localhost"),
        reply_to=env.get("INITIATIEF_REPLY_TO") or None,
        base_url=env.get("INITIATIEF_BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
        mail_max_attempts=int(env.get("INITIATIEF_MAIL_MAX_ATTEMPTS", "10")),
        mail_retry_seconds=float(env.get("INITIATIEF_MAIL_RETRY_SECONDS", "60")),
        mail_retry_max_seconds=float(env.get("INITIATIEF_MAIL_RETRY_MAX_SECONDS", "3600")),
        mail_claim_timeout=float(env.get("INITIATIEF_MAIL_CLAIM_TIMEOUT", "300")),
        mail_batch_size=int(env.get("INITIATIEF_MAIL_BATCH_SIZE", "50")),
    )


def _normalise_url(url: str) -> str:
    # Users paste libpq-style URLs; we install psycopg 3, not psycopg2.
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
