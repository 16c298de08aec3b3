"""CLI command for joint decisions: who has been asked, who decided what, who is overdue."""

from typing import Annotated

import typer

from workflow import joint
from workflow.cli._common import JsonOption, emit_json, running

decisions_app = typer.Typer()


def register(app: typer.Typer) -> None:
    app.registered_commands.extend(decisions_app.registered_commands)


@decisions_app.command("decisions")
def decisions(
    initiative_id: Annotated[int, typer.Argument(help="Nummer van het initiatief.")],
    as_json: JsonOption = False,
) -> None:
    """Toon het gezamenlijke besluit: per gemeente gevraagd, besloten (voor, tegen) of te laat."""
    with running() as application:
        found = joint.overview(application.engine, initiative_id)
        if as_json:
            emit_json(found.as_dict())
            return
        echo = typer.echo
        echo(f"Gezamenlijk besluit bij initiatief {found.initiative_id}: {found.title}")
        if found.text:
            echo(f"  Conceptbesluit: {found.text}")
        if found.due:
            echo(f"  Uiterlijk:      {found.due:%d-%m-%Y}" + ("" if found.open else " (afgesloten)"))
        if found.rule:
            echo(f"  Besluitregel:   {found.rule_label}")
        counts = found.counts()
        echo(
            f"  Gevraagd: {counts['asked']}; voor: {counts['for']}, tegen: {counts['against']}, "
            f"onthouding: {counts['abstain']}, nog niet besloten: {counts['undecided']}, "
            f"te laat: {counts['overdue']}."
        )
        for a in found.answers:
            when = f" op {a.decided_on}" if a.decided_on else ""
            late = "  TE LAAT" if a.overdue else ""
            left = "" if a.taking_part or a.decision else f" ({a.status_label})"
            echo(f"    - {a.name:<24} {a.decision_label}{when}{left}{late}")
        if found.outcome:
            echo(f"  Uitkomst: {found.outcome['summary']}")
