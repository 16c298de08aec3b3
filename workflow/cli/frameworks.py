"""CLI commands for the frameworks (kaders): the task sheets and the check of one plan."""

from typing import Annotated

import typer

from workflow import frameworks
from workflow.cli._common import JsonOption, emit_json, running

frameworks_app = typer.Typer(help="Kaders: opgavebladen en de toets van een plan.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Adds `frameworks` to the main command."""
    app.add_typer(frameworks_app, name="frameworks")


@frameworks_app.command("list")
def frameworks_list(
    year: Annotated[int | None, typer.Option("--year", help="Alleen de opgavebladen van dit jaar.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Toon de opgavebladen per thema en jaar, met hun kernopgaven en budget."""
    with running() as application:
        sheets = frameworks.task_sheets(application.db, year=year)
        if as_json:
            emit_json(sheets)
            return
        if not sheets:
            typer.echo("Geen opgavebladen gevonden. Vul ze aan met: initiatief db seed")
            return
        for sheet in sheets:
            budget = frameworks.format_cents(sheet["budget_cents"])
            typer.echo(f"{sheet['theme_name']} {sheet['year']}: budget {budget}")
            for task in sheet["core_tasks"]:
                typer.echo(f"  {task['code']:<6} {task['name']}")


@frameworks_app.command("check")
def frameworks_check(
    initiative_id: Annotated[int, typer.Argument(help="Nummer van het initiatief.")],
    as_json: JsonOption = False,
) -> None:
    """Toets het plan van een initiatief aan de kaders: kernopgave en budget van het opgaveblad."""
    with running() as application:
        found = frameworks.check_for(application.engine, initiative_id)
        if as_json:
            emit_json(found.as_dict())
            return
        fmt = frameworks.format_cents
        theme = found.theme_name or found.theme or "onbekend"
        typer.echo(f"Opgaveblad:   {theme} {found.year or ''}".rstrip())
        task = found.core_task or "geen"
        known = "staat in het opgaveblad" if found.content_fits else "staat NIET in het opgaveblad"
        typer.echo(f"Kernopgave:   {task}" + (f" – {found.core_task_name}" if found.core_task_name else "")
                   + f" ({known})")
        typer.echo(f"Budget:       {fmt(found.budget_cents)}")
        typer.echo(f"Vastgelegd:   {fmt(found.committed_cents)} "
                   "(initiatieven met afspraken of in uitvoering)")
        typer.echo(f"Over:         {fmt(found.remaining_cents)}")
        plan = fmt(found.plan_cents) if found.plan_cents is not None else "geen"
        typer.echo(f"Dit plan:     {plan}")
        if found.fits:
            typer.echo("Uitkomst:     past binnen de kaders (de secretaris bevestigt de inhoud).")
        else:
            typer.echo("Uitkomst:     past NIET binnen de kaders: " + " ".join(found.problems()))


@frameworks_app.command("set-budget")
def frameworks_set_budget(
    theme: Annotated[str, typer.Argument(help="Thema, bijvoorbeeld bouwen-en-wonen.")],
    year: Annotated[int, typer.Argument(help="Jaar van het opgaveblad.")],
    budget: Annotated[str, typer.Argument(help="Budget in euro's, bijvoorbeeld 2.100.000 of 1250,50.")],
) -> None:
    """Leg het budget van een opgaveblad vast (maakt het opgaveblad aan als het er nog niet is)."""
    with running() as application:
        sheet = frameworks.save_task_sheet(application.db, theme=theme, year=year, budget=budget)
        typer.echo(f"Opgaveblad {theme} {year}: budget {frameworks.format_cents(sheet.budget_cents)}.")


@frameworks_app.command("set-task")
def frameworks_set_task(
    theme: Annotated[str, typer.Argument(help="Thema, bijvoorbeeld bouwen-en-wonen.")],
    year: Annotated[int, typer.Argument(help="Jaar van het opgaveblad.")],
    code: Annotated[str, typer.Argument(help="Code van de kernopgave, bijvoorbeeld BW-5.")],
    name: Annotated[str, typer.Argument(help="Omschrijving van de kernopgave.")],
) -> None:
    """Voeg een kernopgave toe aan een opgaveblad, of wijzig de omschrijving ervan."""
    with running() as application:
        task = frameworks.save_core_task(application.db, theme=theme, year=year, code=code, name=name)
        typer.echo(f"Kernopgave {task.code} op het opgaveblad {theme} {year}: {task.name}.")
