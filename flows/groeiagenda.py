"""Groeiagenda (route A): a fractie's proposal via the council and college to a bestuurlijke werkgroep.

Read top to bottom it is the slide "Hoe wordt een nieuw idee, initiatief of project
geagendeerd t.b.v. meervoudig lokale samenwerking?": states, then steps in process order,
then the guards and effects they use.
"""

from flows import inputs
from flows.roles import (
    COLLEGE,
    GROUP_COLLEGES,
    GROUP_SECRETARY,
    HOME_CLERK,
    HOME_COLLEGE,
    PARTICIPATING_COLLEGES,
    SUBMITTING_FACTION,
    UNDECIDED_COLLEGES,
)
from workflow.context import InitiativeView, TransitionContext
from workflow.definition import (
    DateFromInput,
    Days,
    DeadlinePolicy,
    Flow,
    Guard,
    Notify,
    State,
    StateKind,
    Transition,
    Weeks,
)
from workflow.roles import Audience

ACTIVE, WAITING, FINAL = StateKind.ACTIVE, StateKind.WAITING, StateKind.FINAL


# --- deadline audiences -----------------------------------------------------------------------


def _group_colleges_without_answer(view: InitiativeView, _data: object) -> set[tuple[str, ...]]:
    """Colleges of the working group whose answer to "wie doet mee?" is not recorded yet."""
    group = view.data.get("working_group")
    members = view.group_members.get(group, ()) if group else ()
    return {(m,) for m in members if m not in view.participants}


UNANSWERED_GROUP_COLLEGES = Audience(
    "colleges_werkgroep_zonder_antwoord", COLLEGE,
    "de colleges in de werkgroep die nog niet hebben geantwoord", _group_colleges_without_answer,
)

# --- states ---------------------------------------------------------------------------------

submitted = State(
    "Ingediend, bij de raad", WAITING,
    help="De fractie heeft het voorstel ingediend; de griffie legt vast hoe de raad het "
    "aan het college meegeeft (motie of toezegging).",
)
with_college = State(
    "Bij het college", ACTIVE,
    # The college answers an adopted motion or a commitment within 8 weeks. It may announce a
    # later answer itself (as colleges do to their council), or the griffie records one.
    deadline=DeadlinePolicy(
        due=Weeks(8), remind=(Days(14), Days(3)), remind_audiences=(HOME_COLLEGE,),
        escalate_to=(HOME_CLERK, SUBMITTING_FACTION), label="Reactie van het college",
        extend_roles=(HOME_CLERK, HOME_COLLEGE),
    ),
    help="Het college werkt het voorstel uit, weegt het af en leidt het door naar de juiste tafel.",
)
tabled = State(
    "Geagendeerd in de werkgroep", WAITING,
    # The colleges of the working group say within 6 weeks whether they take part; only those
    # that have not answered yet are reminded.
    deadline=DeadlinePolicy(
        due=Weeks(6), remind=(Days(14), Days(3)), remind_audiences=(UNANSWERED_GROUP_COLLEGES,),
        escalate_to=(GROUP_SECRETARY,), label="Antwoord op 'wie doet mee?'",
        extend_roles=(GROUP_SECRETARY,),
    ),
    help="Eerste afweging van haalbaarheid en wenselijkheid, en: wie wil er meedoen?",
)
elaboration = State(
    "In uitwerking", ACTIVE,
    help="Het voorstel wordt uitgewerkt: aanpak, financiën en planning.",
)
go_decision = State(
    "Besluit go/no-go", ACTIVE,
    help="De bestuurlijke werkgroep besluit of het initiatief doorgaat.",
)
frameworks_check = State(
    "Toets aan de kaders", ACTIVE,
    help="Past het voorstel in de huidige kaders (inhoud en geld) van de opgavebladen?",
)
participant_decisions = State(
    "Apart besluit deelnemers", WAITING,
    # The secretary sets one shared date by which every participating college decides
    # ("synchroon gelijkluidende besluitvorming"); those that have not decided are reminded.
    deadline=DeadlinePolicy(
        due=DateFromInput("date"), remind=(Days(14), Days(3)),
        remind_audiences=(UNDECIDED_COLLEGES,), escalate_to=(GROUP_SECRETARY,),
        label="Besluit van elke deelnemende gemeente", extend_roles=(GROUP_SECRETARY,),
    ),
    help="Het voorstel past niet in de kaders: elke deelnemende gemeente besluit apart "
    "(college, en waar nodig de raad). Alleen wie instemt gaat door.",
)
agreements = State(
    "Afspraken vastleggen", ACTIVE,
    help="De deelnemers leggen de afspraken vast (SOK, uitvoeringsovereenkomst, besluit of informeel).",
)
executing = State(
    "In uitvoering", ACTIVE,
    help="De deelnemende gemeenten voeren het initiatief samen met de werkgroep uit; "
    "verantwoording loopt via de P&C-cyclus.",
)
completed = State("Afgerond", FINAL)
rejected_by_council = State("Verworpen door de raad", FINAL)
handled_locally = State("Lokaal afgehandeld", FINAL)
declined_by_college = State("Afgewezen door het college", FINAL)
stopped = State("Gestopt", FINAL)
withdrawn = State("Ingetrokken", FINAL)

# --- guards and effects ---------------------------------------------------------------------


def _at_least_two_take_part(ctx: TransitionContext) -> bool:
    return len(ctx.initiative.participating()) >= 2


def _who_takes_part(ctx: TransitionContext) -> str:
    taking_part = ctx.initiative.participating()
    return (
        "Er moeten minstens twee gemeenten meedoen om met de uitwerking te beginnen; "
        f"nu doen er {len(taking_part)} mee ({', '.join(taking_part) or 'geen'})."
    )


def _is_participant(ctx: TransitionContext) -> bool:
    return ctx.value("municipality") in ctx.initiative.with_status("joined")


def _not_a_pending_participant(ctx: TransitionContext) -> str:
    municipality = ctx.value("municipality")
    participant = ctx.initiative.participants.get(municipality)
    if participant and participant.status in ("approved", "rejected"):
        return f"De gemeente {municipality} heeft al besloten."
    return f"De gemeente {municipality} doet niet mee aan dit initiatief."


def _all_decided(ctx: TransitionContext) -> bool:
    return not ctx.initiative.with_status("joined")


def _two_or_more_approved(ctx: TransitionContext) -> bool:
    return len(ctx.initiative.with_status("approved")) >= 2


def _fewer_than_two_approved(ctx: TransitionContext) -> bool:
    return len(ctx.initiative.with_status("approved")) < 2


def _record_council_instrument(ctx: TransitionContext) -> None:
    kind = "motion" if ctx.trigger == "adopt_motion" else "commitment"
    ctx.initiative.data["council"] = {
        "instrument": kind,
        "date": (ctx.value("date") or ctx.now.date()).isoformat(),
        "reference": ctx.value("reference", ""),
    }


def _route(ctx: TransitionContext) -> None:
    ctx.initiative.data["working_group"] = ctx.value("working_group")
    # The initiating municipality takes part unless its college later says otherwise.
    ctx.initiative.set_participant(ctx.initiative.municipality, "joined")


def _record_participation(ctx: TransitionContext) -> None:
    status = "joined" if ctx.value("choice") == "join" else "declined"
    ctx.initiative.set_participant(ctx.value("municipality"), status)


def _record_reason(ctx: TransitionContext) -> None:
    ctx.initiative.data["closing_reason"] = ctx.value("reason", "")


def _record_plan(ctx: TransitionContext) -> None:
    ctx.initiative.data["plan"] = {
        "approach": ctx.value("approach"),
        "budget": ctx.value("budget"),
        "planning": ctx.value("planning"),
    }


def _record_shared_date(ctx: TransitionContext) -> None:
    chosen = ctx.value("date")
    ctx.initiative.data["decision_date"] = chosen.isoformat() if chosen else None


def _record_participant_decision(ctx: TransitionContext) -> None:
    status = "approved" if ctx.value("decision") == "approve" else "rejected"
    ctx.initiative.set_participant(
        ctx.value("municipality"), status,
        decision_date=ctx.value("date").isoformat(),
        council_decision=ctx.value("council_decision", ""),
    )


def _record_agreements(ctx: TransitionContext) -> None:
    ctx.initiative.data["agreements"] = {
        "form": ctx.value("form"),
        "date": ctx.value("date").isoformat(),
    }


def _record_result(ctx: TransitionContext) -> None:
    ctx.initiative.data["result"] = ctx.value("result", "")


AT_LEAST_TWO = Guard("minstens_twee_deelnemers", _at_least_two_take_part, _who_takes_part)
IS_PENDING_PARTICIPANT = Guard("deelnemer_zonder_besluit", _is_participant,
                               _not_a_pending_participant)
ALL_DECIDED = Guard("alle_deelnemers_besloten", _all_decided, "Nog niet alle deelnemers besloten.")
TWO_APPROVED = Guard("minstens_twee_akkoord", _two_or_more_approved,
                     "Minder dan twee gemeenten stemden in.")
FEWER_THAN_TWO_APPROVED = Guard("minder_dan_twee_akkoord", _fewer_than_two_approved,
                                "Twee of meer gemeenten stemden in.")

# --- transitions, in process order -----------------------------------------------------------

submit = Transition(
    "submit", None, submitted, "Voorstel indienen",
    roles=(SUBMITTING_FACTION,), requires=inputs.SubmitInput,
    notify=(Notify(HOME_CLERK, "ingediend"), Notify(SUBMITTING_FACTION, "ingediend")),
)
adopt_motion = Transition(
    "adopt_motion", submitted, with_college, "Motie aangenomen",
    roles=(HOME_CLERK,), requires=inputs.CouncilInput, effect=_record_council_instrument,
    notify=(Notify(HOME_COLLEGE, "naar_college"), Notify(SUBMITTING_FACTION, "status_gewijzigd")),
)
record_commitment = Transition(
    "record_commitment", submitted, with_college, "Toezegging vastgelegd",
    roles=(HOME_CLERK,), requires=inputs.CouncilInput, effect=_record_council_instrument,
    notify=(Notify(HOME_COLLEGE, "naar_college"), Notify(SUBMITTING_FACTION, "status_gewijzigd")),
)
reject_motion = Transition(
    "reject_motion", submitted, rejected_by_council, "Motie verworpen",
    roles=(HOME_CLERK,), requires=inputs.CouncilInput,
    notify=(Notify(SUBMITTING_FACTION, "status_gewijzigd"),),
)
route_to_working_group = Transition(
    "route_to_working_group", with_college, tabled, "Doorgeleiden naar werkgroep",
    roles=(HOME_COLLEGE,), requires=inputs.RoutingInput, effect=_route,
    notify=(
        Notify(GROUP_SECRETARY, "geagendeerd"),
        Notify(GROUP_COLLEGES, "wie_doet_mee"),
        Notify(SUBMITTING_FACTION, "status_gewijzigd"),
    ),
)
handle_locally = Transition(
    "handle_locally", with_college, handled_locally, "Lokaal afhandelen",
    roles=(HOME_COLLEGE,), requires=inputs.ReasonInput, effect=_record_reason,
    notify=(Notify(SUBMITTING_FACTION, "status_gewijzigd"), Notify(HOME_CLERK, "status_gewijzigd")),
)
decline = Transition(
    "decline", with_college, declined_by_college, "Afwijzen met redenen",
    roles=(HOME_COLLEGE,), requires=inputs.ReasonInput, effect=_record_reason,
    notify=(Notify(SUBMITTING_FACTION, "status_gewijzigd"), Notify(HOME_CLERK, "status_gewijzigd")),
)
record_participation = Transition(
    "record_participation", tabled, None, "Deelname vastleggen (meedoen of afzien)",
    roles=(GROUP_SECRETARY,), requires=inputs.ParticipationInput, effect=_record_participation,
)
start_elaboration = Transition(
    "start_elaboration", tabled, elaboration, "Uitwerking starten",
    roles=(GROUP_SECRETARY,), guards=(AT_LEAST_TWO,),
    notify=(Notify(PARTICIPATING_COLLEGES, "status_gewijzigd"),
            Notify(SUBMITTING_FACTION, "status_gewijzigd")),
)
submit_plan = Transition(
    "submit_plan", elaboration, go_decision, "Uitwerking indienen",
    roles=(GROUP_SECRETARY,), requires=inputs.PlanInput, effect=_record_plan,
    notify=(Notify(PARTICIPATING_COLLEGES, "plan_ingediend"),),
)
decide_go = Transition(
    "decide_go", go_decision, frameworks_check, "Besluit: go",
    roles=(GROUP_SECRETARY,),
    notify=(Notify(PARTICIPATING_COLLEGES, "go"), Notify(SUBMITTING_FACTION, "go")),
)
decide_no_go = Transition(
    "decide_no_go", go_decision, stopped, "Besluit: no-go",
    roles=(GROUP_SECRETARY,), requires=inputs.ReasonInput, effect=_record_reason,
    notify=(Notify(PARTICIPATING_COLLEGES, "no_go"), Notify(SUBMITTING_FACTION, "no_go")),
)
confirm_fits_frameworks = Transition(
    "confirm_fits_frameworks", frameworks_check, agreements, "Past binnen de kaders",
    roles=(GROUP_SECRETARY,),
    notify=(Notify(PARTICIPATING_COLLEGES, "status_gewijzigd"),),
)
require_participant_decisions = Transition(
    "require_participant_decisions", frameworks_check, participant_decisions,
    "Past niet binnen de kaders: apart besluit per gemeente",
    roles=(GROUP_SECRETARY,), requires=inputs.ParticipantDecisionsInput,
    effect=_record_shared_date,
    notify=(Notify(PARTICIPATING_COLLEGES, "besluit_gevraagd"),
            Notify(SUBMITTING_FACTION, "status_gewijzigd")),
)
record_participant_decision = Transition(
    "record_participant_decision", participant_decisions, None, "Besluit van de gemeente vastleggen",
    roles=(PARTICIPATING_COLLEGES,), requires=inputs.ParticipantDecisionInput,
    guards=(IS_PENDING_PARTICIPANT,), effect=_record_participant_decision,
    actor_scope_field="municipality",
    notify=(Notify(GROUP_SECRETARY, "deelnemer_besloten"),),
)
decisions_complete = Transition(
    "decisions_complete", participant_decisions, agreements,
    "Alle deelnemers besloten: minstens twee gaan door",
    automatic=True, guards=(ALL_DECIDED, TWO_APPROVED),
    notify=(Notify(PARTICIPATING_COLLEGES, "status_gewijzigd"),
            Notify(GROUP_SECRETARY, "status_gewijzigd"),
            Notify(SUBMITTING_FACTION, "status_gewijzigd")),
)
decisions_insufficient = Transition(
    "decisions_insufficient", participant_decisions, stopped,
    "Alle deelnemers besloten: te weinig gaan door",
    automatic=True, guards=(ALL_DECIDED, FEWER_THAN_TWO_APPROVED),
    notify=(Notify(GROUP_SECRETARY, "status_gewijzigd"),
            Notify(SUBMITTING_FACTION, "status_gewijzigd")),
)
record_agreements = Transition(
    "record_agreements", agreements, executing, "Afspraken vastgelegd",
    roles=(GROUP_SECRETARY,), requires=inputs.AgreementsInput, effect=_record_agreements,
    notify=(Notify(PARTICIPATING_COLLEGES, "status_gewijzigd"),
            Notify(SUBMITTING_FACTION, "status_gewijzigd")),
)
complete = Transition(
    "complete", executing, completed, "Afronden",
    roles=(GROUP_SECRETARY,), requires=inputs.CompleteInput, effect=_record_result,
    notify=(Notify(PARTICIPATING_COLLEGES, "afgerond"), Notify(SUBMITTING_FACTION, "afgerond")),
)
stop = Transition(
    "stop",
    (tabled, elaboration, go_decision, frameworks_check, participant_decisions, agreements,
     executing),
    stopped, "Stoppen",
    roles=(GROUP_SECRETARY,), requires=inputs.ReasonInput, effect=_record_reason,
    notify=(Notify(PARTICIPATING_COLLEGES, "status_gewijzigd"),
            Notify(SUBMITTING_FACTION, "status_gewijzigd")),
)
withdraw = Transition(
    "withdraw", (submitted, with_college, tabled, elaboration), withdrawn, "Intrekken",
    roles=(SUBMITTING_FACTION,), requires=inputs.OptionalReasonInput, effect=_record_reason,
    notify=(Notify(HOME_CLERK, "ingetrokken"), Notify(HOME_COLLEGE, "ingetrokken"),
            Notify(GROUP_SECRETARY, "ingetrokken")),
)

STATES = {
    "submitted": submitted,
    "with_college": with_college,
    "tabled": tabled,
    "elaboration": elaboration,
    "go_decision": go_decision,
    "frameworks_check": frameworks_check,
    "participant_decisions": participant_decisions,
    "agreements": agreements,
    "executing": executing,
    "completed": completed,
    "rejected_by_council": rejected_by_council,
    "handled_locally": handled_locally,
    "declined_by_college": declined_by_college,
    "stopped": stopped,
    "withdrawn": withdrawn,
}

TRANSITIONS = (
    submit, adopt_motion, record_commitment, reject_motion,
    route_to_working_group, handle_locally, decline,
    record_participation, start_elaboration, submit_plan, decide_go, decide_no_go,
    confirm_fits_frameworks, require_participant_decisions, record_participant_decision,
    decisions_complete, decisions_insufficient, record_agreements, complete, stop, withdraw,
)


def build(*, known_roles: frozenset[str], known_templates: frozenset[str] | None) -> Flow:
    return Flow(
        name="groeiagenda",
        version=1,
        label="Groeiagenda: voorstel via een bestuurlijke werkgroep",
        description=__doc__ or "",
        states=STATES,
        transitions=TRANSITIONS,
        known_roles=known_roles,
        known_templates=known_templates,
    )

