"""The `initiatief` command itself: each module of this package registers its own commands."""

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
