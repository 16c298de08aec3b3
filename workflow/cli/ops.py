"""CLI commands for time and mail: the worker, the outbox and deadlines (issue 3)."""

import typer


def register(app: typer.Typer) -> None:
    """Adds `worker`, `outbox` and `deadlines` to the main command."""
