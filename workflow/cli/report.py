"""CLI commands for reports and open data: the voortgangsmonitor, the council list, exports (issue 5)."""

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from workflow.cli._common import running
from workflow.errors import InvalidInput
from workflow.exports import export_json, export_zgw
from workflow.monitor import progress_monitor
from workflow.reports import council_list as listing
from workflow.reports import monitor_view

report_app = typer.Typer(help="Rapportages: voortgangsmonitor en lijst van moties en toezeggingen.",
                         no_args_is_help=True)


class MonitorFormat(StrEnum):
    html = "html"
    pdf = "pdf"
    json = "json"


class ListFormat(StrEnum):
    csv = "csv"
    xlsx = "xlsx"
    pdf = "pdf"


class ExportFormat(StrEnum):
    json = "json"
    zgw = "zgw"


OutputOption = Annotated[Path, typer.Option("-o", "--output", help="Het bestand dat wordt geschreven.")]


def register(app: typer.Typer) -> None:
    """Adds `report monitor`, `report council-list` and `export` to the main command."""
    app.add_typer(report_app, name="report")
    app.command("export")(export)


@report_app.command("monitor")
def monitor(
    year: Annotated[int, typer.Option("--year", min=2000, max=2100, help="Het jaar van de monitor.")],
    output: OutputOption,
    theme: Annotated[str | None, typer.Option("--theme", help="Alleen dit thema (slug).")] = None,
    fmt: Annotated[MonitorFormat, typer.Option("--format", help="html, pdf of json.")] = MonitorFormat.html,
) -> None:
    """Schrijf de voortgangsmonitor van een jaar (hele regio of één thema) naar een bestand."""
    with running() as application:
        if theme:
            from workflow.models import Theme

            with application.db.read() as session:
                if session.get(Theme, theme) is None:
                    raise InvalidInput(f"Onbekend thema {theme!r}.")
        report = progress_monitor(application.db, application.registry, year=year, theme=theme)
        if fmt is MonitorFormat.pdf:
            output.write_bytes(monitor_view.to_pdf(report))
        elif fmt is MonitorFormat.json:
            output.write_text(json.dumps(report.as_dict(), indent=2, ensure_ascii=False), "utf-8")
        else:
            output.write_text(monitor_view.standalone_html(report), "utf-8")
    typer.echo(f"{monitor_view.title(report)} geschreven naar {output}.")


@report_app.command("council-list")
def council_list(
    municipality: Annotated[
        str, typer.Option("--municipality", help="De gemeente (slug), bijv. sliedrecht.")
    ],
    output: OutputOption,
    fmt: Annotated[ListFormat, typer.Option("--format", help="csv, xlsx of pdf.")] = ListFormat.csv,
    status: Annotated[str, typer.Option("--status", help="lopend of afgedaan (standaard: alle).")] = "",
) -> None:
    """Schrijf de lijst van moties en toezeggingen van een gemeente naar een bestand."""
    writers = {ListFormat.csv: listing.to_csv, ListFormat.xlsx: listing.to_xlsx,
               ListFormat.pdf: listing.to_pdf}
    with running() as application:
        found = listing.council_list(application.db, application.registry,
                                     municipality=municipality, status=status)
        output.write_bytes(writers[fmt](found))
    typer.echo(f"{len(found.items)} moties en toezeggingen van {found.municipality_name} "
               f"geschreven naar {output}.")


def export(
    output: OutputOption,
    fmt: Annotated[ExportFormat, typer.Option("--format", help="json (open data) of zgw (zaaksysteem).")]
    = ExportFormat.json,
    quiet: Annotated[bool, typer.Option("--quiet", help="Geen voortgangsbalk.")] = False,
) -> None:
    """Exporteer alle initiatieven met hun gebeurtenissen: als JSON (met schema) of in ZGW-termen."""
    # Imported here: only this command draws a progress bar, and rich costs every start 20 ms.
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with running() as application, Progress(
        TextColumn("Exporteren"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
        console=Console(stderr=True), disable=quiet, transient=True,  # stdout stays for the result
    ) as bar:
        task = bar.add_task("export", total=None)

        def step(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        write = export_zgw if fmt is ExportFormat.zgw else export_json
        data = write(application.db, application.registry, base_url=application.settings.base_url,
                     progress=step)
        output.write_text(json.dumps(data, indent=2, ensure_ascii=False), "utf-8")
    count = len(data["zaken"] if fmt is ExportFormat.zgw else data["initiatives"])
    typer.echo(f"{count} initiatieven geëxporteerd naar {output}.")
