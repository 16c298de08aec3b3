"""CLI commands for the web app: `serve`, API tokens and one-time login links."""

import os
from dataclasses import replace
from typing import Annotated

import typer

from workflow import services
from workflow.app import open_app, settle
from workflow.cli._common import JsonOption, emit_json, fail, running
from workflow.errors import WorkflowError
from workflow.settings import load_settings

tokens_app = typer.Typer(help="API-tokens: aanmaken, tonen en intrekken.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Adds `serve`, `tokens` and `login-link` to the main command."""
    app.command("serve")(serve)
    app.command("login-link")(login_link)
    app.add_typer(tokens_app, name="tokens")


def serve(
    host: Annotated[str, typer.Option("--host", help="Adres waarop de server luistert.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Poort waarop de server luistert.")] = 8000,
) -> None:
    """Start de webapp, de API en de planner in één proces (maakt een lege database eerst klaar)."""
    import uvicorn

    from workflow.web import accounts, create_app

    settings = load_settings()
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    address = f"http://{shown_host}:{port}"
    if not os.environ.get("INITIATIEF_BASE_URL"):
        # Links in e-mails must point where this server really listens.
        settings = replace(settings, base_url=address)
    try:
        application = open_app(settings)
        before = application.db.current_revision()
        if before != application.db.head_revision():
            application.db.upgrade()
            state = "aangemaakt" if before is None else "bijgewerkt"
            typer.echo(f"Database {state} (versie {application.db.current_revision()}).")
        added = services.seed_reference(application.db, application.registry)
        if any(added.values()):
            summary = ", ".join(f"{n} {kind}" for kind, n in added.items())
            typer.echo(f"Referentiegegevens toegevoegd: {summary}.")
        typer.echo(f"Initiatief draait op {address}  (API-documentatie: {address}/api/docs)")
        if accounts.needs_first_admin(application.db):
            token = accounts.make_setup_link(application.db)
            typer.echo(
                "Eerste keer: maak de beheerder aan via deze eenmalige link (48 uur geldig):\n"
                f"  {settings.base_url}/eerste-keer/{token}\n"
                "Of op de opdrachtregel:\n"
                '  initiatief users add "Uw naam" --email u@gemeente.nl --role admin\n'
                "  initiatief login-link u@gemeente.nl"
            )
    except WorkflowError as exc:
        fail(exc)
    web = create_app(application)
    settle()
    uvicorn.run(web, host=host, port=port, log_level="warning")


def login_link(
    user: Annotated[str, typer.Argument(help="Gebruiker (naam of e-mailadres).")],
) -> None:
    """Toon een eenmalige inloglink voor een gebruiker (20 minuten geldig)."""
    from workflow.web import accounts

    with running() as application:
        with application.db.read() as session:
            found = services.find_user(session, user)
        if found.id is None:
            raise RuntimeError("user has no id")
        token = accounts.make_login_link(application.db, found.id)
        typer.echo(f"{application.settings.base_url}/inloggen/link/{token}")


@tokens_app.command("create")
def tokens_create(
    user: Annotated[str, typer.Argument(help="Gebruiker (naam of e-mailadres).")],
    name: Annotated[str, typer.Option("--name", help="Waarvoor het token is.")] = "opdrachtregel",
) -> None:
    """Maak een API-token; het token wordt één keer getoond (op stdout)."""
    from workflow.web import accounts

    with running() as application:
        with application.db.read() as session:
            found = services.find_user(session, user)
        if found.id is None:
            raise RuntimeError("user has no id")
        token, row = accounts.create_api_token(application.db, found.id, name)
        typer.echo(
            f"Token {row.id} voor {found.name} aangemaakt. Bewaar het nu: het wordt niet meer getoond.",
            err=True,
        )
        typer.echo(token)


@tokens_app.command("revoke")
def tokens_revoke(
    token_id: Annotated[int, typer.Argument(help="Nummer van het token (zie: initiatief tokens list).")],
) -> None:
    """Trek een API-token in; het werkt daarna niet meer."""
    from workflow.web import accounts

    with running() as application:
        row = accounts.revoke_api_token(application.db, token_id)
        typer.echo(f"Token {row.id} ({row.name}) is ingetrokken.")


@tokens_app.command("list")
def tokens_list(as_json: JsonOption = False) -> None:
    """Toon alle API-tokens (niet de tokens zelf)."""
    from workflow.web import accounts

    with running() as application:
        rows = accounts.list_api_tokens(application.db)
        if as_json:
            emit_json(rows)
            return
        if not rows:
            typer.echo("Nog geen tokens. Maak er een met: initiatief tokens create GEBRUIKER")
        for r in rows:
            state = "ingetrokken" if r["revoked_at"] else "actief"
            typer.echo(f"{r['id']:>4}  {r['prefix']}…  {r['user']:<24} {r['name']}  ({state})")
