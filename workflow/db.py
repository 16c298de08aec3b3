"""Database connections: SQLite (WAL, serialised writers) or PostgreSQL, and the migration check."""

import os
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import Connection, Engine, create_engine, event, inspect
from sqlalchemy.exc import DisconnectionError
from sqlmodel import Session

from workflow.errors import DatabaseNotReady

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# The newest migration, so that every command can check the database without loading alembic
# (60 ms of each start); tests/test_database.py holds it against the migration scripts.
HEAD_REVISION = "0010"


def _dumps(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


# JSON columns through orjson: every step writes three JSON values and reads two, and the
# standard library's encoder took a tenth of a step's own work. Stored text is equal JSON.
_JSON_CODEC: dict[str, Any] = {"json_serializer": _dumps, "json_deserializer": orjson.loads}


class Database:
    """One engine per process; `write()` and `read()` hand out sessions in one transaction."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        # Bumped by `reference_changed()`; caches of reference data compare it (this process).
        self.reference_version = 0
        self._search_index: bool | None = None
        self._held = threading.local()  # each thread's connection for `step` (SQLite)
        self._held_all: weakref.WeakSet[Any] = weakref.WeakSet()
        self._held_lock = threading.Lock()
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            _ensure_parent_dir(url)
            self.engine = create_engine(
                url, echo=echo, connect_args={"timeout": 30}, **_JSON_CODEC
            )
            _configure_sqlite(self.engine)
            self._reader = self.engine.execution_options(sqlite_begin="DEFERRED")
        else:
            # JIT compiling costs PostgreSQL more than it saves on statements of this size (the
            # monitor's: 60 ms to compile, 40 to run); off for every connection of ours.
            self.engine = create_engine(
                url, echo=echo, connect_args={"options": "-c jit=off"}, **_JSON_CODEC
            )
            _ping_when_idle(self.engine)
            # Reads without BEGIN and ROLLBACK, two round trips fewer per page: at READ COMMITTED
            # every statement takes its own snapshot inside a transaction too.
            self._reader = self.engine.execution_options(isolation_level="AUTOCOMMIT")

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session whose work commits as one transaction, or not at all."""
        self._written()
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield session

    def step(self) -> AbstractContextManager["WriteTx"]:
        """A write transaction for the write path: commits as one, or not at all, like `write`,
        on a plain connection; an ORM session joins it only when asked for (`WriteTx.session`).

        Opening, committing and closing a Session cost a step on SQLite more than its commit
        (measured: a quarter of a step against a fifth); most steps never need one. On SQLite
        each thread keeps one connection for its steps, outside the pool, and BEGIN and COMMIT
        go straight to the driver: the pool's checkout and check-in were a tenth of a step."""
        return _HeldStep(self) if self.is_sqlite else self._pooled_step()

    @contextmanager
    def _pooled_step(self) -> Iterator["WriteTx"]:
        self._written()
        with self.engine.connect() as connection, connection.begin():
            tx = WriteTx(self.engine, connection.connection, connection)
            try:
                yield tx
                tx.flush()
            finally:
                tx.release()

    def _held_connection(self) -> Any:
        """This thread's connection for `step` (SQLite): checked out once and detached from
        the pool, so that held connections never use up the pool of reads and other writes."""
        held: tuple[Any, int] | None = getattr(self._held, "connection", None)
        if held is None or held[1] != _FORKS[0]:  # a forked child makes its own
            fairy = self.engine.raw_connection()
            fairy.detach()
            held = self._held.connection = (fairy, _FORKS[0])
            with self._held_lock:
                self._held_all.add(fairy)
        return held[0]

    def _written(self) -> None:
        shared = _SHARED.get()
        if shared is not None and shared.db is self:
            shared.stale = True  # reads after this write must see it (SQLite reads a snapshot)

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session in a read transaction; inside `shared_reads`, the one they all share."""
        shared = _SHARED.get()
        if shared is not None and shared.db is self and not shared.done:
            with shared.session() as session:
                yield session
            return
        with Session(self._reader, expire_on_commit=False) as session, session.begin():
            yield session

    @contextmanager
    def shared_reads(self) -> Iterator["SharedReads"]:
        """Every `read()` in this block (and in threads started from it with a copy of its
        context, as FastAPI's thread pool does) shares one transaction, opened at the first.

        A page asked the database in three or four read transactions (login, page data, the
        menu); on PostgreSQL each one is a pool checkout with its ping, a BEGIN and a COMMIT.
        A `write()` in the block makes the next read start a new transaction."""
        shared = SharedReads(self)
        token = _SHARED.set(shared)
        try:
            yield shared
        finally:
            _SHARED.reset(token)
            shared.done = True  # a copy of the context that outlives the block reads alone
            shared.close()

    def has_search_index(self) -> bool:
        """SQLite: whether the full-text index of titles and summaries exists (migration 0008
        makes it where FTS5 has the trigram tokenizer); asked once per process."""
        if self._search_index is None:
            if not self.is_sqlite:
                self._search_index = False
            else:
                with self.engine.connect() as conn:
                    found = conn.exec_driver_sql(
                        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'initiative_search'"
                    ).first()
                self._search_index = found is not None
        return self._search_index

    def reference_changed(self) -> None:
        """Municipalities, working groups, themes or recesses were edited: caches reload."""
        self.reference_version += 1

    def dispose(self) -> None:
        with self._held_lock:
            held, self._held_all = list(self._held_all), weakref.WeakSet()
        self._held = threading.local()
        for fairy in held:
            fairy.close()  # detached: closes the connection itself
        self.engine.dispose()

    # --- migrations ---------------------------------------------------------------------

    def alembic_config(self) -> "Config":
        from alembic.config import Config  # only for migrating: see HEAD_REVISION

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        cfg.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        cfg.attributes["engine"] = self.engine
        return cfg

    def upgrade(self) -> None:
        from alembic import command

        command.upgrade(self.alembic_config(), "head")

    def current_revision(self) -> str | None:
        """The migration the database is at (alembic's own table), or None when it has none."""
        with self.engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None
            found = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
            return None if found is None else str(found)

    def head_revision(self) -> str:
        return HEAD_REVISION

    def require_migrated(self) -> None:
        """Refuse to work on a database whose schema is older than this code."""
        current, head = self.current_revision(), self.head_revision()
        if current != head:
            state = "leeg" if current is None else f"op versie {current}"
            raise DatabaseNotReady(
                f"De database is niet bijgewerkt ({state}, nodig: {head}). "
                "Voer eerst uit: initiatief db upgrade"
            )


# Forks of this process so far: a held connection belongs to the process that made it (a
# counter, because asking for the process id is a system call on every step).
_FORKS = [0]
os.register_at_fork(after_in_child=lambda: _FORKS.__setitem__(0, _FORKS[0] + 1))


class _HeldStep:
    """`Database.step` on SQLite's held connection (a class: a generator's context manager
    cost a step more than its bookkeeping)."""

    __slots__ = ("_db", "_tx")

    def __init__(self, db: Database) -> None:
        self._db = db

    def __enter__(self) -> "WriteTx":
        db = self._db
        db._written()
        held = db._held_connection()
        held.dbapi_connection.execute(_BEGIN["IMMEDIATE"])
        self._tx = WriteTx(db.engine, held)
        return self._tx

    def __exit__(self, exc_type: type[BaseException] | None, *_exc: object) -> None:
        tx = self._tx
        if exc_type is not None:
            tx.end(commit=False)
            return
        try:
            tx.flush()
        except BaseException:
            tx.end(commit=False)
            raise
        tx.end(commit=True)


class WriteTx:
    """The transaction of a `Database.step`: its DB-API connection, and a session on demand."""

    __slots__ = ("_connection", "_cursor", "_engine", "dbapi", "dialect", "joined")

    def __init__(self, engine: Engine, dbapi: Any, connection: Connection | None = None) -> None:
        self._engine = engine
        self.dialect = engine.dialect
        self.dbapi: Any = dbapi  # the pool's wrapper of the DB-API connection
        self._connection = connection
        self._cursor: Any = None
        self.joined: Session | None = None

    def cursor(self) -> Any:
        """The cursor the step's prepared statements share (a cursor per statement cost the
        pool's wrapper as much as a small statement)."""
        if self._cursor is None:
            self._cursor = self.dbapi.cursor()
        return self._cursor

    @property
    def session(self) -> Session:
        """An ORM session in this transaction, for the reads and writes that need one (e.g. a
        guard's lookup). It never commits nor ends the transaction: the step does."""
        if self.joined is None:
            if self._connection is None:
                # SQLAlchemy's view of the transaction the step began on the driver (the
                # "begin" hook sees it open and sends no second BEGIN); never closed: that
                # would close the held connection.
                self._connection = Connection(self._engine, connection=self.dbapi)
                self._connection.begin()
            self.joined = Session(
                bind=self._connection, expire_on_commit=False, join_transaction_mode="rollback_only"
            )
        return self.joined

    def flush(self) -> None:
        if self.joined is not None:
            self.joined.flush()

    def release(self) -> None:
        if self._cursor is not None:
            self._cursor.close()
            self._cursor = None
        if self.joined is not None:
            self.joined.close()  # leaves the transaction alone: the step ends it

    def end(self, *, commit: bool) -> None:
        """Commit or roll back a transaction begun on the driver (SQLite's held connection)."""
        self.release()
        driver = self.dbapi.dbapi_connection
        try:
            if self._connection is not None:  # a session joined: end it through SQLAlchemy
                (self._connection.commit if commit else self._connection.rollback)()
            else:
                (driver.commit if commit else driver.rollback)()
        finally:
            if driver.in_transaction:  # a COMMIT that failed leaves it open
                driver.rollback()


Executor = Session | WriteTx
"""What the prepared statements of `workflow.sql` run in: a session's transaction or a step's."""


def session_of(executor: Executor) -> Session:
    return executor.session if isinstance(executor, WriteTx) else executor


class SharedReads:
    """The read transaction of a `Database.shared_reads` block, opened when first needed."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.stale = False
        self.done = False
        self._session: Session | None = None
        self._depth = 0

    @contextmanager
    def session(self) -> Iterator[Session]:
        if self._depth == 0 and self._session is not None and self.stale:
            self.close()
        if self._session is None:
            self._session = Session(self.db._reader, expire_on_commit=False)
            self._session.begin()
            self.stale = False
        self._depth += 1
        try:
            yield self._session
        except BaseException:
            self._depth -= 1
            if self._depth == 0:  # a failed statement may have ended the transaction: start anew
                self.close()
            raise
        else:
            self._depth -= 1

    def close(self) -> None:
        if self._session is not None:
            session, self._session = self._session, None
            session.close()  # a read transaction: rolled back, the connection back to the pool


_SHARED: ContextVar[SharedReads | None] = ContextVar("workflow.db.shared_reads", default=None)


def _ensure_parent_dir(url: str) -> None:
    path = url.split("///", 1)[-1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)


IDLE_PING_SECONDS = 10.0


def _ping_when_idle(engine: Engine) -> None:
    """Check a pooled connection before use when it lay idle for a while (PostgreSQL).

    SQLAlchemy's `pool_pre_ping` pings at every checkout: a round trip more on every page,
    though a connection used a moment ago is as good as that moment's answer. One idle for
    `IDLE_PING_SECONDS` (overnight, or since a server restart) is pinged, and a dead one is
    replaced before anyone sees it. A restart while connections are in busy use fails the
    one request that meets it, as a write path step that never happened; the pool then drops
    every connection from before the restart."""

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < IDLE_PING_SECONDS:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError("verbinding met de database verloren") from exc
        if not alive:
            raise DisconnectionError("verbinding met de database verloren")


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
        driver = conn.connection.dbapi_connection
        if not driver.in_transaction:  # else a step began it (`Database.step`)
            driver.execute(_BEGIN[mode])
