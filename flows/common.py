"""What every Drechtsteden route shares once an initiative lies at a table.

The states from elaboration to the end, the steps whose only difference between routes is who
takes them (the werkgroep secretary in route A, the penvoerder's college in route B), joining
and leaving, accountability, and the one concept decision all participants take by one date.
Route modules import these; none of them declares its own copy.
"""

from collections.abc import Sequence
from typing import Any

from sqlmodel import col, select

from flows import inputs
from flows.roles import (
    HOME_CLERK,
    HOME_COLLEGE,
    OTHER_PARTICIPATING_COLLEGES,
    OWN_COLLEGE,
    PARTICIPATING_CLERKS,
    PARTICIPATING_COLLEGES,
    SUBMITTING_FACTION,
)
from workflow.calendar import local_date
from workflow.context import InitiativeView, ParticipantView, TransitionContext
from workflow.db import Executor, session_of
from workflow.definition import Guard, Notify, State, StateKind, Transition
from workflow.errors import InvalidInput
from workflow.models import Municipality
from workflow.roles import Audience

ACTIVE, WAITING, FINAL = StateKind.ACTIVE, StateKind.WAITING, StateKind.FINAL

# --- states ---------------------------------------------------------------------------------

elaboration = State(
    "In uitwerking", ACTIVE,
    help="Het voorstel wordt uitgewerkt: aanpak, financiën en planning.",
)
agreements = State(
    "Afspraken vastleggen", ACTIVE,
    help="De deelnemers leggen de afspraken vast (SOK, uitvoeringsovereenkomst, besluit of informeel).",
)
executing = State(
    "In uitvoering", ACTIVE,
    help="De deelnemende gemeenten voeren het initiatief samen uit; verantwoording loopt via "
    "de P&C-cyclus, elke portefeuillehouder in de eigen raad.",
)
completed = State("Afgerond", FINAL)
stopped = State("Gestopt", FINAL)
withdrawn = State("Ingetrokken", FINAL)

# --- reference data a guard or effect reads (a region lookup) ------------------------------


def municipality_facts(session: Executor, _view: InitiativeView) -> dict[str, dict[str, Any]]:
    """Name, inhabitants and bloc per municipality slug, read inside the step's transaction."""
    rows = session_of(session).exec(
        select(col(Municipality.slug), col(Municipality.name), col(Municipality.inhabitants),
               col(Municipality.bloc))
    )
    return {slug: {"name": name, "inhabitants": int(n or 0), "bloc": bloc or ""}
            for slug, name, n, bloc in rows}


def _name(ctx: TransitionContext, slug: str) -> str:
    facts: dict[str, dict[str, Any]] = ctx.lookup("municipalities")
    return str(facts.get(slug, {}).get("name", slug))


# --- guards and effects ---------------------------------------------------------------------


def _at_least_two_take_part(ctx: TransitionContext) -> bool:
    return len(ctx.initiative.participating()) >= 2


def _who_takes_part(ctx: TransitionContext) -> str:
    taking_part = ctx.initiative.participating()
    return (
        "Er moeten minstens twee gemeenten meedoen om met de uitwerking te beginnen; "
        f"nu doen er {len(taking_part)} mee ({', '.join(taking_part) or 'geen'})."
    )


def record_reason(ctx: TransitionContext) -> None:
    ctx.initiative.data["closing_reason"] = ctx.value("reason", "")


def record_plan(ctx: TransitionContext) -> None:
    ctx.initiative.data["plan"] = {
        "approach": ctx.value("approach"),
        "budget": ctx.value("budget"),
        "planning": ctx.value("planning"),
    }


def _record_agreements(ctx: TransitionContext) -> None:
    ctx.initiative.data["agreements"] = {
        "form": ctx.value("form"),
        "date": ctx.value("date").isoformat(),
    }


def _record_result(ctx: TransitionContext) -> None:
    ctx.initiative.data["result"] = ctx.value("result", "")


AT_LEAST_TWO = Guard("minstens_twee_deelnemers", _at_least_two_take_part, _who_takes_part)

# --- one concept decision, one shared date ---------------------------------------------------


def open_joint_decision(ctx: TransitionContext, state: str) -> None:
    """Ask every participant the same decision (`decision_text`) by one date (`date`).

    Earlier answers are cleared: a new joint decision is a new question to everyone.
    """
    chosen = ctx.value("date")
    ctx.initiative.data["joint_decision"] = {
        "state": state,
        "text": ctx.value("decision_text", "") or "",
        "date": chosen.isoformat() if chosen else None,
        "asked": ctx.initiative.participating(),
    }
    for municipality, participant in ctx.initiative.participants.items():
        if "decision" in participant.data:
            data = {k: v for k, v in participant.data.items() if k not in ("decision", "decided_on")}
            ctx.initiative.participants[municipality] = ParticipantView(participant.status, data)


def record_decision(ctx: TransitionContext, municipality: str, status: str, decision: str) -> None:
    """One participant's answer to the joint decision: `for`, `against` or `abstain`."""
    day = ctx.value("date") or local_date(ctx.now)
    ctx.initiative.set_participant(municipality, status, decision=decision,
                                   decided_on=day.isoformat())


# --- joining and leaving (toe- en uittreding) ------------------------------------------------


def _not_taking_part(ctx: TransitionContext) -> bool:
    return ctx.value("municipality") not in ctx.initiative.participating()


def _takes_part(ctx: TransitionContext) -> bool:
    return ctx.value("municipality") in ctx.initiative.participating()


def _join(ctx: TransitionContext) -> None:
    municipality = ctx.value("municipality")
    ctx.initiative.set_participant(municipality, "joined", joined_on=local_date(ctx.now).isoformat(),
                                   joined_in=ctx.initiative.state)
    for stale in ("left_on", "left_reason", "decision", "decided_on"):
        ctx.initiative.participants[municipality].data.pop(stale, None)
    ctx.record["municipality_name"] = _name(ctx, municipality)


def _leave(ctx: TransitionContext) -> None:
    municipality = ctx.value("municipality")
    ctx.initiative.set_participant(municipality, "left", left_on=local_date(ctx.now).isoformat(),
                                   left_reason=ctx.value("reason"))
    ctx.record["municipality_name"] = _name(ctx, municipality)


NOT_TAKING_PART = Guard(
    "doet_nog_niet_mee", _not_taking_part,
    lambda ctx: f"De gemeente {ctx.value('municipality')} doet al mee aan dit initiatief.",
)
TAKES_PART = Guard(
    "doet_mee", _takes_part,
    lambda ctx: f"De gemeente {ctx.value('municipality')} doet niet mee aan dit initiatief.",
)


def join_step(sources: Sequence[State], *, coordinator: Audience) -> Transition:
    """A municipality, also a neighbouring one, joins by its own college."""
    return Transition(
        "join", sources, None, "Toetreden (eigen gemeente)",
        optional=True,
        roles=(OWN_COLLEGE,), requires=inputs.JoinInput, guards=(NOT_TAKING_PART,),
        effect=_join, actor_scope_field="municipality",
        notify=(Notify(coordinator, "toegetreden"), Notify(OTHER_PARTICIPATING_COLLEGES, "toegetreden"),
                Notify(SUBMITTING_FACTION, "toegetreden")),
        help="Het college van een gemeente die (nog) niet meedoet, treedt toe namens de eigen gemeente.",
    )


def leave_step(
    sources: Sequence[State], *, coordinator: Audience, guards: Sequence[Guard] = ()
) -> Transition:
    """A participant leaves by its own college, with a reason; a route may add `guards`."""
    return Transition(
        "leave", sources, None, "Uittreden (eigen gemeente, met reden)",
        optional=True,
        roles=(PARTICIPATING_COLLEGES,), requires=inputs.LeaveInput, guards=(TAKES_PART, *guards),
        effect=_leave, actor_scope_field="municipality",
        notify=(Notify(coordinator, "uitgetreden"), Notify(OTHER_PARTICIPATING_COLLEGES, "uitgetreden"),
                Notify(SUBMITTING_FACTION, "uitgetreden")),
        help="Het college van een deelnemende gemeente treedt uit namens de eigen gemeente.",
    )


# --- accountability (verantwoording) ---------------------------------------------------------


def _accountability(ctx: TransitionContext) -> dict[str, Any]:
    current = dict(ctx.initiative.data.get("accountability") or {})
    current.setdefault("portfolio_holders", {})
    return current


def _lead_is_in(ctx: TransitionContext) -> bool:
    lead = ctx.value("lead_municipality")
    return lead == ctx.initiative.municipality or lead in ctx.initiative.participating()


def _set_accountability(ctx: TransitionContext) -> None:
    current = _accountability(ctx)
    alderman_from = ctx.value("lead_alderman_municipality")
    lead = ctx.value("lead_municipality")
    current.update(
        lead_alderman={"name": ctx.value("lead_alderman"), "municipality": alderman_from,
                       "municipality_name": _name(ctx, alderman_from)},
        lead_municipality=lead,
        lead_municipality_name=_name(ctx, lead),
    )
    ctx.initiative.data["accountability"] = current


def _set_portfolio_holder(ctx: TransitionContext) -> None:
    current = _accountability(ctx)
    municipality = ctx.value("municipality")
    holders = dict(current["portfolio_holders"])
    holders[municipality] = {"name": ctx.value("portfolio_holder"),
                             "municipality_name": _name(ctx, municipality)}
    current["portfolio_holders"] = holders
    ctx.initiative.data["accountability"] = current


LEAD_TAKES_PART = Guard(
    "penvoerder_doet_mee", _lead_is_in,
    lambda ctx: f"De penvoerder moet een deelnemende gemeente zijn; "
    f"{ctx.value('lead_municipality')} doet niet mee.",
)


def accountability_steps(
    sources: Sequence[State], *, coordinator: Audience
) -> tuple[Transition, Transition]:
    """Name the lead alderman and the penvoerder; each participant names its portfolio holder."""
    set_accountability = Transition(
        "set_accountability", sources, None, "Bestuurlijk trekker en penvoerder vastleggen",
        optional=True,
        roles=(coordinator, HOME_COLLEGE), requires=inputs.AccountabilityInput,
        guards=(LEAD_TAKES_PART,), effect=_set_accountability,
        notify=(Notify(PARTICIPATING_COLLEGES, "verantwoording"),
                Notify(PARTICIPATING_CLERKS, "verantwoording")),
    )
    set_portfolio_holder = Transition(
        "set_portfolio_holder", sources, None, "Portefeuillehouder van de eigen gemeente vastleggen",
        optional=True,
        roles=(PARTICIPATING_COLLEGES,), requires=inputs.PortfolioHolderInput,
        guards=(TAKES_PART,), effect=_set_portfolio_holder, actor_scope_field="municipality",
        notify=(Notify(OTHER_PARTICIPATING_COLLEGES, "verantwoording"),
                Notify(PARTICIPATING_CLERKS, "verantwoording")),
    )
    return set_accountability, set_portfolio_holder


# --- steps that differ between routes only in who takes them ---------------------------------


def start_elaboration_step(source: State, *, coordinator: Audience) -> Transition:
    return Transition(
        "start_elaboration", source, elaboration, "Uitwerking starten",
        roles=(coordinator,), guards=(AT_LEAST_TWO,),
        notify=(Notify(PARTICIPATING_COLLEGES, "status_gewijzigd"),
                Notify(SUBMITTING_FACTION, "status_gewijzigd")),
    )


def record_agreements_step(*, coordinator: Audience) -> Transition:
    return Transition(
        "record_agreements", agreements, executing, "Afspraken vastgelegd",
        roles=(coordinator,), requires=inputs.AgreementsInput, effect=_record_agreements,
        notify=(Notify(PARTICIPATING_COLLEGES, "status_gewijzigd"),
                Notify(SUBMITTING_FACTION, "status_gewijzigd")),
    )


def complete_step(*, coordinator: Audience) -> Transition:
    return Transition(
        "complete", executing, completed, "Afronden",
        roles=(coordinator,), requires=inputs.CompleteInput, effect=_record_result,
        notify=(Notify(PARTICIPATING_COLLEGES, "afgerond"), Notify(SUBMITTING_FACTION, "afgerond")),
    )


def stop_step(sources: Sequence[State], *, coordinator: Audience) -> Transition:
    return Transition(
        "stop", sources, stopped, "Stoppen",
        roles=(coordinator,), requires=inputs.ReasonInput, effect=record_reason,
        notify=(Notify(PARTICIPATING_COLLEGES, "status_gewijzigd"),
                Notify(SUBMITTING_FACTION, "status_gewijzigd")),
    )


def withdraw_step(sources: Sequence[State], *, also_notify: Sequence[Audience]) -> Transition:
    return Transition(
        "withdraw", sources, withdrawn, "Intrekken",
        roles=(SUBMITTING_FACTION,), requires=inputs.OptionalReasonInput, effect=record_reason,
        notify=(Notify(HOME_CLERK, "ingetrokken"), Notify(HOME_COLLEGE, "ingetrokken"),
                *(Notify(a, "ingetrokken") for a in also_notify)),
    )


def invalid(message: str, **fields: str) -> InvalidInput:
    """A Dutch input error raised from an effect: the step's transaction then writes nothing."""
    return InvalidInput(message, field_errors=fields)
