"""Helpers for tests of this project and of flows built on it: fresh databases and people."""

import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import text
from sqlmodel import SQLModel, col, select

from workflow import services
from workflow.app import App
from workflow.db import Database
from workflow.models import OutboxMessage
from workflow.registry import load_region
from workflow.roles import Actor
from workflow.settings import Settings, load_settings

_template_cache: dict[str, Path] = {}


def migrated_sqlite_template() -> Path:
    """A migrated, seeded SQLite file made once per process; tests copy it (fast and real)."""
    key = "sqlite"
    if key not in _template_cache:
        folder = Path(tempfile.mkdtemp(prefix="initiatief-template-"))
        path = folder / "template.db"
        db = Database(f"sqlite:///{path}")
        db.upgrade()
        services.seed_reference(db, load_region("flows"))
        db.dispose()  # the last connection to close checkpoints the WAL into the file
        _template_cache[key] = path
    return _template_cache[key]


def fresh_sqlite(directory: Path) -> str:
    target = directory / "initiatief.db"
    shutil.copyfile(migrated_sqlite_template(), target)
    return f"sqlite:///{target}"


_pg_ready: set[str] = set()


def fresh_postgres(url: str) -> str:
    """Migrate once per process, then empty every table (keeping the seeded reference data)."""
    db = Database(url)
    try:
        if url not in _pg_ready:
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
            db.upgrade()
            _pg_ready.add(url)
        names = ", ".join(
            f'"{t.name}"' for t in SQLModel.metadata.sorted_tables
        )
        with db.engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        services.seed_reference(db, load_region("flows"))
    finally:
        db.dispose()
    return url


def test_settings(directory: Path, database_url: str, **overrides: str) -> Settings:
    env = {
        "INITIATIEF_DATA_DIR": str(directory),
        "INITIATIEF_DATABASE_URL": database_url,
        **overrides,
    }
    return load_settings(env)


@dataclass
class People:
    """The cast of a Drechtsteden test: one user per role, by a short name."""

    app: App
    actors: dict[str, Actor] = field(default_factory=dict)
    emails: dict[str, str] = field(default_factory=dict)

    def add(self, key: str, *roles: str, email: str | None = None) -> Actor:
        email = email or f"{key}@example.nl"
        services.add_user(self.app.db, self.app.registry, name=key, email=email, roles=roles)
        actor = services.resolve_actor(self.app.db, email)
        self.actors[key] = actor
        self.emails[key] = email
        return actor

    def __getitem__(self, key: str) -> Actor:
        return self.actors[key]


DEFAULT_CAST: Sequence[tuple[str, tuple[str, ...]]] = (
    ("fractie_sliedrecht", ("fractie:sliedrecht:cda",)),
    ("andere_fractie_sliedrecht", ("fractie:sliedrecht:vvd",)),
    ("fractie_dordrecht", ("fractie:dordrecht:cda",)),
    ("griffie_sliedrecht", ("griffie:sliedrecht",)),
    ("griffie_dordrecht", ("griffie:dordrecht",)),
    ("college_sliedrecht", ("college:sliedrecht",)),
    ("college_dordrecht", ("college:dordrecht",)),
    ("college_papendrecht", ("college:papendrecht",)),
    ("college_zwijndrecht", ("college:zwijndrecht",)),
    ("college_gorinchem", ("college:gorinchem",)),
    ("secretaris_wonen", ("secretaris:bouwen-en-wonen",)),
    ("secretaris_energie", ("secretaris:energie",)),
    ("regiekamer", ("regiekamer",)),
    ("admin", ("admin",)),
)


def default_people(app: App) -> People:
    people = People(app)
    for key, roles in DEFAULT_CAST:
        people.add(key, *roles)
    return people


def rendered_outbox(app: App, template: str | None = None) -> list[OutboxMessage]:
    """Outbox rows (oldest first) with their subject and bodies filled in as the sender renders
    them; the rows are detached copies, nothing is written."""
    from notifications.delivery import typeset

    with app.db.read() as session:
        query = select(OutboxMessage).order_by(col(OutboxMessage.id))
        if template is not None:
            query = query.where(OutboxMessage.template == template)
        rows = list(session.exec(query))
        session.expunge_all()
    for row in rows:
        text = typeset(row, app.engine.renderer)
        row.subject, row.body_text, row.body_html = text.subject, text.text, text.html
        row.attachments = [dict(a) for a in text.attachments]
    return rows
