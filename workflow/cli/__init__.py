"""The `initiatief` command: a thin layer over the service functions, Dutch for people, --json for scripts.

Exit codes: 0 ok, 2 wrong use of the command, 3 not allowed, 4 conflict (stale version or a
step not possible now), 5 invalid input, 6 not found, 7 database not migrated.
Each module of this package registers its own commands.
"""

import typer

from workflow.cli import decisions, flow_migration, frameworks, initiatives, ops, report, web

app = typer.Typer(
    help="Initiatief: voorstellen voor meervoudig lokale samenwerking, van fractie tot uitvoering.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
initiatives.register(app)
decisions.register(app)
ops.register(app)
web.register(app)
report.register(app)
frameworks.register(app)
flow_migration.register(app)


def main() -> None:
    app()
