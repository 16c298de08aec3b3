"""Migrations make the schema; the app refuses an unmigrated database with the command to run."""

import pytest
from sqlalchemy import inspect

from workflow.db import HEAD_REVISION, Database
from workflow.errors import DatabaseNotReady


def test_upgrade_creates_every_table(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(DatabaseNotReady) as err:
        db.require_migrated()
    assert "Voer eerst uit: initiatief db upgrade" in err.value.message
    db.upgrade()
    db.require_migrated()
    tables = set(inspect(db.engine).get_table_names())
    assert {"initiative", "event", "participant", "deadline", "reminder", "outbox_message",
            "user_account", "role_grant", "municipality", "working_group", "theme",
            "recess", "alembic_version"} <= tables
    db.dispose()


def test_the_head_revision_is_the_newest_migration(tmp_path):
    from alembic.script import ScriptDirectory

    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    assert HEAD_REVISION == ScriptDirectory.from_config(db.alembic_config()).get_current_head()
    assert None is db.current_revision()
    db.upgrade()
    assert HEAD_REVISION == db.current_revision()
    db.dispose()


def test_sqlite_runs_in_wal_mode(app):
    if not app.db.is_sqlite:
        pytest.skip("SQLite only")
    with app.db.engine.connect() as conn:
        assert "wal" == conn.exec_driver_sql("PRAGMA journal_mode").scalar()
        assert 1 == conn.exec_driver_sql("PRAGMA foreign_keys").scalar()
        conn.rollback()


def test_reference_data_is_seeded(app):
    from sqlmodel import select

    from workflow.models import Municipality, WorkingGroup, WorkingGroupMember
    with app.db.read() as s:
        slugs = set(s.exec(select(Municipality.slug)).all())
        groups = set(s.exec(select(WorkingGroup.slug)).all())
        members = s.exec(select(WorkingGroupMember).where(
            WorkingGroupMember.working_group_slug == "energie")).all()
    assert {"alblasserdam", "dordrecht", "hardinxveld-giessendam", "hendrik-ido-ambacht",
            "papendrecht", "sliedrecht", "zwijndrecht", "gorinchem", "molenlanden"} <= slugs
    assert {"bouwen-en-wonen", "economie-en-werken", "bereikbaarheid", "energie"} == groups
    assert 7 == len(members)


def test_seed_keeps_edits(app):
    from workflow import services
    from workflow.models import Municipality
    with app.db.write() as s:
        m = s.get(Municipality, "sliedrecht")
        m.inhabitants = 26_123
    assert {"gemeenten": 0, "thema's": 0, "werkgroepen": 0, "opgavebladen": 0, "kernopgaven": 0} == services.seed_reference(app.db, app.registry)
    with app.db.read() as s:
        assert 26_123 == s.get(Municipality, "sliedrecht").inhabitants
