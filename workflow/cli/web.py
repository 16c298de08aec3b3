"""CLI commands for the web app: `serve` and API tokens (issue 6)."""

import typer


def register(app: typer.Typer) -> None:
    """Adds `serve` and `tokens` to the main command."""
