"""CLI commands for the database, users, initiatives and flows."""

import sys
from collections.abc import Callable
from typing import Annotated, Any

import typer

from workflow import services
from workflow.cli._common import AsOption, JsonOption, emit_json, fail, parse_sets, running
from workflow.diagram import to_mermaid
from workflow.errors import InvalidInput

initiatives = typer.Typer()
db_app = typer.Typer(help="Database bijwerken en vullen.", no_args_is_help=True)
users_app = typer.Typer(help="Gebruikers en hun rollen.", no_args_is_help=True)
flows_app = typer.Typer(
    help="Processen (flows) bekijken en lopende initiatieven naar een nieuwe versie overzetten.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.registered_commands.extend(initiatives.registered_commands)
    app.add_typer(db_app, name="db")
    app.add_typer(users_app, name="users")
    app.add_typer(flows_app, name="flows")


# --- database -------------------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Maak of werk het databaseschema bij tot de nieuwste versie."""
    with running(migrated=False) as application:
        before = application.db.current_revision()
        application.db.upgrade()
        after = application.db.current_revision()
        if before == after:
            typer.echo(f"De database is al bijgewerkt (versie {after}).")
        else:
            typer.echo(f"Database bijgewerkt van {before or 'leeg'} naar versie {after}.")


@db_app.command("seed")
def db_seed() -> None:
    """Vul de referentiegegevens aan: gemeenten, thema's en werkgroepen (bestaande blijven staan)."""
    with running() as application:
        added = services.seed_reference(application.db, application.registry)
        summary = ", ".join(f"{n} {kind}" for kind, n in added.items())
        typer.echo(f"Referentiegegevens aangevuld: {summary} toegevoegd.")


# --- users ----------------------------------------------------------------------------------


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="Volledige naam.")],
    email: Annotated[str, typer.Option("--email", help="E-mailadres.")],
    role: Annotated[
        list[str],
        typer.Option(
            "--role",
            help="Rol, herhaalbaar: fractie:<gemeente>:<fractie>, griffie:<gemeente>, "
            "college:<gemeente>, secretaris:<werkgroep>, regiekamer, admin.",
        ),
    ],
    as_json: JsonOption = False,
) -> None:
    """Voeg een gebruiker toe met een of meer rollen."""
    with running() as application:
        user = services.add_user(
            application.db, application.registry, name=name, email=email, roles=role
        )
        if as_json:
            emit_json({"id": user.id, "name": user.name, "email": user.email, "roles": role})
        else:
            typer.echo(f"Gebruiker {user.name} <{user.email}> toegevoegd met rol(len): {', '.join(role)}.")


@users_app.command("list")
def users_list(as_json: JsonOption = False) -> None:
    """Toon alle gebruikers en hun rollen."""
    with running() as application:
        users = services.list_users(application.db, application.registry)
        if as_json:
            emit_json(users)
            return
        if not users:
            typer.echo("Nog geen gebruikers. Voeg er een toe met: initiatief users add")
        for u in users:
            typer.echo(f"{u['id']:>4}  {u['name']} <{u['email']}>  {', '.join(u['roles'])}")


# --- initiatives ----------------------------------------------------------------------------


@initiatives.command("submit")
def submit(
    as_user: AsOption,
    title: Annotated[str, typer.Option("--title", help="Titel van het voorstel.")],
    summary: Annotated[str, typer.Option("--summary", help="Samenvatting van het voorstel.")],
    flow: Annotated[str, typer.Option("--flow", help="Proces.")] = "groeiagenda",
    sets: Annotated[
        list[str] | None,
        typer.Option("--set", help="Extra gegevens, sleutel=waarde (bv. municipality=sliedrecht)."),
    ] = None,
    comment: Annotated[str, typer.Option("--comment", help="Toelichting.")] = "",
    as_json: JsonOption = False,
) -> None:
    """Dien een nieuw voorstel in (als lid van een fractie)."""
    with running() as application:
        actor = services.resolve_actor(application.db, as_user)
        data = {"title": title, "summary": summary, **parse_sets(sets)}
        result = application.engine.submit(actor=actor, flow=flow, data=data, comment=comment)
        _report(result, as_json, f"Initiatief {result.initiative_id} ingediend")


@initiatives.command("fire")
def fire(
    initiative_id: Annotated[int, typer.Argument(help="Nummer van het initiatief.")],
    trigger: Annotated[str, typer.Argument(help="De stap, bv. adopt_motion.")],
    as_user: AsOption,
    sets: Annotated[
        list[str] | None, typer.Option("--set", help="Invoer van de stap, sleutel=waarde (herhaalbaar).")
    ] = None,
    comment: Annotated[str, typer.Option("--comment", help="Toelichting voor de tijdlijn.")] = "",
    expect_version: Annotated[
        int | None,
        typer.Option("--expect-version", help="Weiger als het initiatief intussen is gewijzigd."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Zet een stap in het proces van een initiatief."""
    with running() as application:
        actor = services.resolve_actor(application.db, as_user)
        result = application.engine.fire(
            initiative_id,
            trigger,
            actor=actor,
            data=parse_sets(sets),
            comment=comment,
            expected_version=expect_version,
        )
        _report(result, as_json, f"Stap '{trigger}' gezet bij initiatief {initiative_id}")


def _report(result: Any, as_json: bool, done: str) -> None:
    if as_json:
        emit_json(
            {
                "id": result.initiative_id,
                "state": result.state,
                "state_label": result.state_label,
                "version": result.version,
                "events": result.event_ids,
            }
        )
    else:
        typer.echo(f"{done}. Status nu: {result.state_label} ({result.state}), versie {result.version}.")


@initiatives.command("show")
def show(
    initiative_id: Annotated[int, typer.Argument(help="Nummer van het initiatief.")],
    as_user: Annotated[
        str | None, typer.Option("--as", help="Toon ook welke stappen deze gebruiker nu kan zetten.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Toon status, deelnemers, termijnen, mogelijke stappen en de tijdlijn van een initiatief."""
    with running() as application:
        actor = services.resolve_actor(application.db, as_user) if as_user else None
        detail = services.show_initiative(application.engine, initiative_id, actor)
        if as_json:
            emit_json(detail.as_dict())
            return
        _print_detail(detail, actor is not None)


def _print_detail(d: services.InitiativeDetail, with_actor: bool) -> None:
    echo: Callable[[str], None] = typer.echo
    echo(f"Initiatief {d.id}: {d.title}")
    echo(f"  Proces:    {d.flow_label} (versie {d.flow_version})")
    echo(f"  Gemeente:  {d.municipality_name}" + (f", fractie {d.faction}" if d.faction else ""))
    echo(f"  Status:    {d.state_label} ({d.state}), versie {d.version}")
    if d.state_help:
        echo(f"             {d.state_help}")
    if d.participants:
        echo("  Deelnemers:")
        for p in d.participants:
            echo(f"    - {p['name']}: {p['status_label']}")
    open_deadlines = [x for x in d.deadlines if x["status"] == "open"]
    for x in open_deadlines:
        echo(f"  Termijn:   {x['label']}: uiterlijk {x['due_at']:%d-%m-%Y}")
    if with_actor:
        if d.allowed:
            echo("  U kunt nu:")
            for a in d.allowed:
                fields = ", ".join(
                    f"{f['name']}{'' if f['required'] else '?'}" for f in a["fields"]
                )
                extra = f"  [--set {fields}]" if fields else ""
                blocked = f"  (nu niet: {a['blocked']})" if a["blocked"] else ""
                echo(f"    - {a['trigger']}: {a['label']}{extra}{blocked}")
        else:
            echo("  U kunt nu geen stap zetten.")
    echo("  Tijdlijn:")
    for e in d.timeline:
        comment = f" – {e['comment']}" if e["comment"] else ""
        echo(f"    {e['at']:%d-%m-%Y %H:%M}  {e['label']} door {e['actor']} → {e['to_label']}{comment}")


@initiatives.command("list")
def list_(
    state: Annotated[str | None, typer.Option("--state", help="Alleen deze status (code).")] = None,
    municipality: Annotated[
        str | None, typer.Option("--municipality", help="Alleen deze gemeente.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Toon initiatieven, nieuwste eerst."""
    with running() as application:
        rows = services.list_initiatives(application.engine, state=state, municipality=municipality)
        if as_json:
            emit_json(rows)
            return
        if not rows:
            typer.echo("Geen initiatieven gevonden.")
        for r in rows:
            typer.echo(f"{r['id']:>5}  {r['state_label']:<30}  {r['municipality']:<22}  {r['title']}")


# --- flows ----------------------------------------------------------------------------------


@flows_app.command("list")
def flows_list() -> None:
    """Toon de processen en hun nieuwste versie."""
    with running(migrated=False) as application:
        for flow in application.registry.latest():
            typer.echo(f"{flow.name} (versie {flow.version}): {flow.label}")


@flows_app.command("show")
def flows_show(
    name: Annotated[str, typer.Argument(help="Naam van het proces, bv. groeiagenda.")],
    fmt: Annotated[str, typer.Option("--format", help="mermaid of text.")] = "text",
    version: Annotated[int | None, typer.Option("--version", help="Versie (standaard de nieuwste).")] = None,
) -> None:
    """Toon een proces: als tekst, of als Mermaid-diagram."""
    with running(migrated=False) as application:
        flow = application.registry.get(name, version)
        if fmt == "mermaid":
            sys.stdout.write(to_mermaid(flow))
            return
        if fmt != "text":
            fail(InvalidInput(f"Onbekend formaat {fmt!r}; kies mermaid of text."))
        typer.echo(f"{flow.label} ({flow.name}, versie {flow.version})")
        typer.echo("Statussen:")
        for state_name, state in flow.states.items():
            typer.echo(f"  {state_name:<24} {state.label} [{state.kind.value}]")
        typer.echo("Stappen:")
        for t in flow.transitions:
            sources = ", ".join(s.name for s in t.sources) or "(nieuw)"
            dest = t.dest.name if t.dest else "(blijft)"
            who = "automatisch" if t.automatic else ", ".join(a.label for a in t.roles)
            typer.echo(f"  {t.trigger:<30} {sources} → {dest}  ({who})")
