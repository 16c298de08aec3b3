"""`Database.step`, the write path's transaction: all or nothing, with or without a session
joining it, on SQLite's per-thread connection and on PostgreSQL's pool."""

import threading

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from tests.routes import submit
from workflow import db as workflow_db
from workflow import services
from workflow.app import App
from workflow.db import Database
from workflow.models import OutboxMessage, Theme


def _themes(app: App) -> set[str]:
    with app.db.read() as session:
        return set(session.exec(select(Theme.slug)).all())


def _insert_raw(tx, slug: str) -> None:
    # Straight on the transaction's DB-API connection, as the prepared statements run.
    marker = "?" if tx.dialect.paramstyle == "qmark" else "%s"
    tx.dbapi.cursor().execute(
        f"INSERT INTO theme (slug, name) VALUES ({marker}, {marker})", (slug, slug.title())
    )


def test_a_step_commits_its_statements_and_its_session_together(app):
    with app.db.step() as tx:
        _insert_raw(tx, "raw-thema")
        tx.session.add(Theme(slug="orm-thema", name="Orm"))
    assert {"raw-thema", "orm-thema"} <= _themes(app)


@pytest.mark.parametrize("with_session", [False, True])
def test_a_failed_step_leaves_nothing_and_the_connection_usable(app, with_session):
    before = _themes(app)
    with pytest.raises(RuntimeError, match="kapot"), app.db.step() as tx:
        _insert_raw(tx, "weg-thema")
        if with_session:
            tx.session.add(Theme(slug="ook-weg", name="Ook weg"))
            tx.session.flush()
        raise RuntimeError("kapot")
    assert before == _themes(app)
    # The same thread's next step starts clean: nothing of the failed one is left open.
    with app.db.step() as tx:
        _insert_raw(tx, "daarna")
    assert before | {"daarna"} == _themes(app)


def test_a_failed_flush_at_the_end_rolls_back_the_statements_too(app):
    before = _themes(app)
    with pytest.raises(Exception), app.db.step() as tx:  # noqa: B017 - the driver's own error
        _insert_raw(tx, "dubbel")
        tx.session.add(Theme(slug="dubbel", name="Twee keer"))  # flushed at the end: a duplicate
    assert before == _themes(app)


def test_sqlite_steps_hold_one_connection_per_thread_outside_the_pool(app):
    if not app.db.is_sqlite:
        pytest.skip("SQLite only: PostgreSQL steps take a pooled connection")
    pool = app.db.engine.pool
    seen: list[object] = []

    def work(slug: str) -> None:
        for n in range(3):
            with app.db.step() as tx:
                _insert_raw(tx, f"{slug}-{n}")
                seen.append(tx.dbapi)

    threads = [threading.Thread(target=work, args=(f"draad{k}",)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert 3 == len({id(c) for c in seen})  # one per thread, kept across its steps
    assert 0 == pool.checkedout()  # held connections never take a place in the pool
    assert 9 == len({s for s in _themes(app) if s.startswith("draad")})
    drivers = [c.dbapi_connection for c in seen]  # type: ignore[attr-defined]
    app.db.dispose()
    for driver in drivers:  # closed with the database, not left to the garbage collector
        with pytest.raises(Exception, match="closed database"):
            driver.execute("SELECT 1")


def _recipients_of(app: App, initiative_id: int) -> set[str]:
    with app.db.read() as session:
        rows = session.exec(
            select(OutboxMessage.recipient).where(OutboxMessage.initiative_id == initiative_id)
        ).all()
    return set(rows)


def test_recipients_follow_changes_to_users_made_by_another_process(app, people):
    """The write path keeps who receives a step's messages (per `directory_version`); a user
    added, switched off or given a role elsewhere is seen by the very next step."""
    griffie = people["griffie_sliedrecht"]
    first, second, third = (submit(app.engine, people, f"Voorstel {n}") for n in range(3))
    app.engine.fire(first, "adopt_motion", actor=griffie)
    assert "wethouder2@example.nl" not in _recipients_of(app, first)

    other = Database(app.settings.database_url)  # as the CLI in another process would
    try:
        services.add_user(other, app.registry, name="Tweede wethouder",
                          email="wethouder2@example.nl", roles=["college:sliedrecht"])
        app.engine.fire(second, "adopt_motion", actor=griffie)
        assert "wethouder2@example.nl" in _recipients_of(app, second)

        with other.engine.begin() as conn:
            conn.execute(text("UPDATE user_account SET active = false WHERE name = 'Tweede wethouder'"))
        app.engine.fire(third, "adopt_motion", actor=griffie)
        assert "wethouder2@example.nl" not in _recipients_of(app, third)
    finally:
        other.dispose()


def _backend_pid(db: Database) -> int:
    with db.read() as session:
        return int(session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar_one())


def _terminate(url: str, pid: int) -> None:
    killer = Database(url)
    try:
        with killer.engine.begin() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        killer.dispose()


def test_a_connection_idle_for_a_while_is_checked_and_replaced(app, monkeypatch):
    """PostgreSQL: a pooled connection that lay idle is pinged before use; one the server
    dropped meanwhile is replaced without an error (`workflow.db._ping_when_idle`)."""
    if app.db.is_sqlite:
        pytest.skip("PostgreSQL only")
    db = Database(app.settings.database_url)
    try:
        first = _backend_pid(db)
        _terminate(app.settings.database_url, first)
        monkeypatch.setattr(workflow_db, "IDLE_PING_SECONDS", 0.0)  # as if idle long enough
        assert first != _backend_pid(db)
    finally:
        db.dispose()


def test_a_connection_dropped_while_in_busy_use_fails_one_request_only(app):
    if app.db.is_sqlite:
        pytest.skip("PostgreSQL only")
    db = Database(app.settings.database_url)
    try:
        first = _backend_pid(db)
        _terminate(app.settings.database_url, first)
        with pytest.raises(DBAPIError):  # used a moment ago: not pinged, the request fails
            _backend_pid(db)
        assert first != _backend_pid(db)  # the pool dropped it; the next request is served
    finally:
        db.dispose()
