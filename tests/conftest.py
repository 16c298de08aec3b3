"""Fixtures: a real database per test (SQLite by default, PostgreSQL when configured)."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.mail_fixtures import Apps, SmtpServer
from workflow.app import App, open_app
from workflow.cli import app as cli
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


@pytest.fixture
def run(app, people):
    """Invoke the `initiatief` CLI in-process against the test database; returns (exit code, stdout, stderr)."""
    runner = CliRunner()
    env = {"INITIATIEF_DATA_DIR": str(app.settings.data_dir),
           "INITIATIEF_DATABASE_URL": app.settings.database_url}

    def invoke(*args):
        result = runner.invoke(cli, [str(a) for a in args], env=env)
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result.exit_code, result.stdout, result.stderr

    return invoke


@pytest.fixture
def apps(app, tmp_path):
    """More App instances on the test database (other workers, other settings)."""
    factory = Apps(app, tmp_path)
    yield factory
    factory.close()


@pytest.fixture
def smtp():
    """A real SMTP server (aiosmtpd) on loopback that records what it receives."""
    server = SmtpServer()
    server.start()
    yield server
    server.stop()
