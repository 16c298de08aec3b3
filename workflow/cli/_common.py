"""Shared pieces of the CLI: opening the app, Dutch errors with exit codes, JSON output."""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Annotated, Any, NoReturn

import typer

from workflow.app import App, open_app
from workflow.errors import InvalidInput, WorkflowError

AsOption = Annotated[str, typer.Option("--as", help="Gebruiker (naam of e-mailadres) die de stap zet.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Uitvoer als JSON, voor scripts.")]


@contextmanager
def running(*, migrated: bool = True) -> Iterator[App]:
    """Open the app; turn our typed errors into a Dutch line on stderr and their exit code."""
    application: App | None = None
    try:
        application = open_app()
        if migrated:
            application.db.require_migrated()
        yield application
    except WorkflowError as exc:
        fail(exc)
    finally:
        if application is not None:
            application.db.dispose()


def fail(exc: WorkflowError) -> NoReturn:
    typer.echo(f"Fout: {exc.message}", err=True)
    raise typer.Exit(exc.exit_code)


def emit_json(payload: Any) -> None:
    typer.echo(json.dumps(payload, indent=2, ensure_ascii=False, default=_json_default))


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def parse_sets(pairs: list[str] | None) -> dict[str, str]:
    data: dict[str, str] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            fail(InvalidInput(f"--set verwacht sleutel=waarde, niet {pair!r}."))
        data[key.strip()] = value.strip()
    return data
