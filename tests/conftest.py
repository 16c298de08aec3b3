"""Fixtures: a real database per test (SQLite by default, PostgreSQL when configured)."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from workflow.app import App, open_app
from workflow.testing import People, default_people, fresh_postgres, fresh_sqlite, test_settings

PG_URL = os.environ.get("INITIATIEF_TEST_DATABASE_URL", "")


def pytest_report_header() -> str:
    return f"database: {'PostgreSQL ' + PG_URL if PG_URL else 'SQLite (per-test file)'}"


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """The suite runs on whichever database CI names; SQLite files otherwise."""
    if PG_URL:
        return fresh_postgres(PG_URL)
    return fresh_sqlite(tmp_path)


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> Iterator[App]:
    application = open_app(test_settings(tmp_path, database_url))
    yield application
    application.db.dispose()


@pytest.fixture
def people(app: App) -> People:
    return default_people(app)


@pytest.fixture
def engine(app: App):
    return app.engine
