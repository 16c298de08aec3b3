"""CLI commands for time and mail: the worker, the outbox and deadlines (issue 3)."""

import asyncio
import signal
from datetime import date
from typing import Annotated, Any

import typer

from workflow import services
from workflow.app import App, settle
from workflow.cli._common import AsOption, JsonOption, emit_json, running
from workflow.deadline_listing import list_deadlines

outbox_app = typer.Typer(help="Uitgaande e-mail bekijken en opnieuw proberen.", no_args_is_help=True)
deadlines_app = typer.Typer(help="Termijnen bekijken en verlengen.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Adds `worker`, `outbox` and `deadlines` to the main command."""
    app.command("worker")(worker)
    app.add_typer(outbox_app, name="outbox")
    app.add_typer(deadlines_app, name="deadlines")


# --- worker ---------------------------------------------------------------------------------


def worker(
    once: Annotated[
        bool, typer.Option("--once", help="Eén keer termijnen nalopen en e-mail versturen, dan stoppen.")
    ] = False,
    sweep_seconds: Annotated[
        float, typer.Option("--sweep-seconds", help="Om de hoeveel seconden termijnen worden nagelopen.")
    ] = 30,
    drain_seconds: Annotated[
        float, typer.Option("--drain-seconds", help="Om de hoeveel seconden e-mail wordt verstuurd.")
    ] = 10,
    as_json: JsonOption = False,
) -> None:
    """Verstuur herinneringen, escalaties en e-mail: doorlopend, of met --once één keer (voor cron)."""
    from workflow.scheduler import run_once

    with running() as application:
        if once:
            counts = asyncio.run(run_once(application))
            if as_json:
                emit_json(counts)
            else:
                typer.echo(_summary(counts))
            return
        typer.echo(
            f"Worker gestart: termijnen elke {sweep_seconds:g} s, e-mail elke {drain_seconds:g} s "
            f"({_mail_target(application)}). Stoppen met Ctrl+C."
        )
        asyncio.run(_serve(application, sweep_seconds, drain_seconds))
        typer.echo("Worker gestopt.")


async def _serve(application: App, sweep_seconds: float, drain_seconds: float) -> None:
    from workflow.scheduler import build_scheduler

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    scheduler = build_scheduler(application, sweep_seconds=sweep_seconds, drain_seconds=drain_seconds)
    application.engine  # noqa: B018  # built before settling, so it is frozen with the rest
    settle()
    scheduler.start()
    try:
        await stop.wait()
    finally:
        # Let a job in progress finish its batch, so its claims are recorded, not left to expire.
        scheduler.shutdown(wait=True)
        await asyncio.sleep(0)


def _mail_target(application: App) -> str:
    if application.settings.smtp_url:
        from notifications.transport import parse_smtp_url

        return f"via {parse_smtp_url(application.settings.smtp_url).redacted()}"
    return f"als bestanden in {application.settings.mail_dir}"


def _summary(counts: dict[str, int]) -> str:
    return (
        f"Klaar: {counts['reminders']} herinnering(en), {counts['escalations']} verstreken "
        f"termijn(en), {counts['messages']} bericht(en) klaargezet; {counts['sent']} e-mail(s) "
        f"verzonden, {counts['retried']} later opnieuw, {counts['failed']} mislukt."
    )


# --- outbox ---------------------------------------------------------------------------------


@outbox_app.command("list")
def outbox_list(
    failed: Annotated[bool, typer.Option("--failed", help="Alleen mislukte berichten.")] = False,
    include_sent: Annotated[bool, typer.Option("--all", help="Ook verzonden berichten.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Toon de berichten die nog verzonden moeten worden en de mislukte, oudste eerst."""
    from notifications.delivery import list_outbox

    with running() as application:
        rows = list_outbox(application.db, failed_only=failed, include_sent=include_sent)
        if as_json:
            emit_json(rows)
            return
        if not rows:
            typer.echo("Geen mislukte berichten." if failed else "De outbox is leeg: alles is verzonden.")
            return
        for r in rows:
            typer.echo(
                f"{r['id']:>6}  {r['status_label']:<16} {r['attempts']:>2}x  {r['recipient']:<32}  "
                f"{r['subject']}"
            )
            if r["status"] == "pending" and r["attempts"]:
                typer.echo(f"        volgende poging {r['next_attempt_at']:%d-%m-%Y %H:%M} (UTC)")
            if r["last_error"] and r["status"] != "sent":
                typer.echo(f"        reden: {r['last_error']}")


@outbox_app.command("retry")
def outbox_retry(
    message_id: Annotated[int | None, typer.Argument(help="Nummer van het bericht.")] = None,
    all_failed: Annotated[bool, typer.Option("--all-failed", help="Alle mislukte berichten.")] = False,
) -> None:
    """Zet een mislukt bericht (of alle) opnieuw klaar voor verzending."""
    from notifications.delivery import retry_failed

    with running() as application:
        count = retry_failed(application.db, message_id=message_id, all_failed=all_failed)
        if count == 0:
            typer.echo("Er waren geen mislukte berichten.")
        else:
            typer.echo(
                f"{count} bericht(en) opnieuw klaargezet; de worker verstuurt ze bij de volgende ronde "
                "(of direct met: initiatief worker --once)."
            )


@outbox_app.command("dismiss")
def outbox_dismiss(message_id: Annotated[int, typer.Argument(help="Nummer van het bericht.")]) -> None:
    """Schrijf een mislukt bericht af: het wordt niet meer verzonden maar blijft zichtbaar."""
    from notifications.delivery import dismiss

    with running() as application:
        dismiss(application.db, message_id)
        typer.echo(f"Bericht {message_id} afgeschreven.")


# --- deadlines ------------------------------------------------------------------------------


@deadlines_app.command("list")
def deadlines_list(
    overdue: Annotated[bool, typer.Option("--overdue", help="Alleen verstreken termijnen.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Toon de lopende termijnen, de eerstvolgende eerst."""
    with running() as application:
        rows = list_deadlines(application.engine, overdue=overdue)
        if as_json:
            emit_json(rows)
            return
        if not rows:
            typer.echo("Geen verstreken termijnen." if overdue else "Geen lopende termijnen.")
            return
        for r in rows:
            typer.echo(f"{r['initiative_id']:>5}  {_when(r):<26}  {r['label']}  –  {r['title']}")


def _when(row: dict[str, Any]) -> str:
    day = f"{row['due_date']:%d-%m-%Y}"
    if row["status"] == "escalated":
        return f"{day} verstreken, gemeld"
    if row["overdue"]:
        return f"{day} verstreken"
    left = row["days_left"]
    return f"{day} (nog {left} dag{'' if left == 1 else 'en'})"


@deadlines_app.command("extend")
def deadlines_extend(
    initiative_id: Annotated[int, typer.Argument(help="Nummer van het initiatief.")],
    until: Annotated[str, typer.Option("--until", help="Nieuwe uiterste datum, JJJJ-MM-DD.")],
    reason: Annotated[str, typer.Option("--reason", help="Waarom de termijn wordt verlengd.")],
    as_user: AsOption,
    expect_version: Annotated[
        int | None,
        typer.Option("--expect-version", help="Weiger als het initiatief intussen is gewijzigd."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Verleng de lopende termijn van een initiatief (met reden; komt in de tijdlijn en wordt gemeld)."""
    from workflow.errors import InvalidInput

    with running() as application:
        try:
            new_day = date.fromisoformat(until)
        except ValueError:
            raise InvalidInput(f"--until verwacht een datum als 2026-09-10, niet {until!r}.") from None
        actor = services.resolve_actor(application.db, as_user)
        result = application.engine.extend_deadline(
            initiative_id, actor=actor, until=new_day, reason=reason, expected_version=expect_version
        )
        rows = list_deadlines(application.engine, initiative_id=initiative_id)
        if as_json:
            emit_json({"id": result.initiative_id, "version": result.version, "deadlines": rows,
                       "messages": result.messages})
            return
        for r in rows:
            typer.echo(
                f"Termijn '{r['label']}' van initiatief {initiative_id} verlengd tot "
                f"{r['due_date']:%d-%m-%Y}; {result.messages} bericht(en) klaargezet."
            )
