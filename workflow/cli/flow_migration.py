"""The `flows migrate` command: move running initiatives to another version of their flow."""

from typing import Annotated

import typer

from workflow import services
from workflow.cli._common import AsOption, JsonOption, emit_json, running
from workflow.cli.initiatives import flows_app
from workflow.migrate_flows import migrate, parse_mapping


def register(_app: typer.Typer) -> None:
    """The command lives under `flows`; importing this module adds it there."""


@flows_app.command("migrate")
def flows_migrate(
    name: Annotated[str, typer.Argument(help="Naam van het proces, bijvoorbeeld groeiagenda.")],
    from_version: Annotated[int, typer.Option("--from", help="De versie waar de initiatieven nu op lopen.")],
    to_version: Annotated[int, typer.Option("--to", help="De versie waar ze naartoe gaan.")],
    as_user: AsOption,
    maps: Annotated[
        list[str] | None,
        typer.Option("--map", help="Toewijzing oud=nieuw, per status, herhaalbaar. Elke status waarin "
                     "een lopend initiatief staat moet erin staan."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Laat zien wat er zou gebeuren; wijzig niets.")
    ] = False,
    comment: Annotated[str, typer.Option("--comment", help="Toelichting, komt op elke tijdlijn.")] = "",
    as_json: JsonOption = False,
) -> None:
    """Zet lopende initiatieven over naar een andere versie van hun proces, met een toewijzing per status."""
    with running() as application:
        actor = services.resolve_actor(application.db, as_user)
        result = migrate(
            application.engine, flow=name, from_version=from_version, to_version=to_version,
            mapping=parse_mapping(maps or []), actor=actor, dry_run=dry_run, comment=comment,
        )
        if as_json:
            emit_json(result.as_dict())
            return
        verb = "zou overzetten" if dry_run else "overgezet"
        if not result.moves:
            typer.echo(f"Geen lopende initiatieven op {name} versie {from_version}; niets {verb}.")
            return
        for move in result.moves:
            typer.echo(f"  {move.initiative_id:>6}  {move.from_state} → {move.to_state}  {move.title}")
        count = len(result.moves)
        if dry_run:
            typer.echo(f"Proefdraai: {count} initiatief/initiatieven {verb} van {name} versie "
                       f"{from_version} naar {to_version}. Er is niets gewijzigd.")
        else:
            typer.echo(f"{count} initiatief/initiatieven {verb} van {name} versie {from_version} "
                       f"naar {to_version}; elk heeft een gebeurtenis op de tijdlijn.")
