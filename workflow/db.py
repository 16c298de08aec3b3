"""Database connections: SQLite (WAL, serialised writers) or PostgreSQL, and the migration check."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlmodel import Session

from workflow.errors import DatabaseNotReady

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class Database:
    """One engine per process; `write()` and `read()` hand out sessions in one transaction."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            _ensure_parent_dir(url)
            self.engine = create_engine(url, echo=echo, connect_args={"timeout": 30})
            _configure_sqlite(self.engine)
        else:
            self.engine = create_engine(url, echo=echo, pool_pre_ping=True)
        self._reader = self.engine.execution_options(sqlite_begin="DEFERRED")

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session whose work commits as one transaction, or not at all."""
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        with Session(self._reader, expire_on_commit=False) as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()

    # --- migrations ---------------------------------------------------------------------

    def alembic_config(self) -> Config:
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        cfg.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        cfg.attributes["engine"] = self.engine
        return cfg

    def upgrade(self) -> None:
        command.upgrade(self.alembic_config(), "head")

    def current_revision(self) -> str | None:
        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def head_revision(self) -> str | None:
        return ScriptDirectory.from_config(self.alembic_config()).get_current_head()

    def require_migrated(self) -> None:
        """Refuse to work on a database whose schema is older than this code."""
        current, head = self.current_revision(), self.head_revision()
        if current != head:
            state = "leeg" if current is None else f"op versie {current}"
            raise DatabaseNotReady(
                f"De database is niet bijgewerkt ({state}, nodig: {head}). "
                "Voer eerst uit: initiatief db upgrade"
            )


def _ensure_parent_dir(url: str) -> None:
    path = url.split("///", 1)[-1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)


_BEGIN = {"IMMEDIATE": "BEGIN IMMEDIATE", "DEFERRED": "BEGIN DEFERRED", "EXCLUSIVE": "BEGIN EXCLUSIVE"}


def _configure_sqlite(engine: Engine) -> None:
    # pysqlite's own transaction handling defers BEGIN; we issue it ourselves so that a write
    # transaction takes SQLite's write lock at its start (BEGIN IMMEDIATE): read-check-write in
    # the write path is then serialised across processes, as PostgreSQL's FOR UPDATE does.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        # Straight to the driver: every transaction starts here, and a Core execute of a
        # fixed string costs ten times the statement.
        conn.connection.driver_connection.execute(_BEGIN[mode])
