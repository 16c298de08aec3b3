"""Groeiagenda (route A): a fractie's proposal via the council and college to a bestuurlijke werkgroep.

Read top to bottom it is the slide "Hoe wordt een nieuw idee, initiatief of project
geagendeerd t.b.v. meervoudig lokale samenwerking?": states, then steps in process order,
then the guards and effects they use.
"""


from flows import council_tracks, inputs
from flows.common import (
    accountability_steps,
    agreements,
    complete_step,
    completed,
    elaboration,
    executing,
    join_step,
    leave_step,
    open_joint_decision,
    record_agreements_step,
    record_decision,
    record_reason,
    start_elaboration_step,
    stop_step,
    stopped,
    withdraw_step,
    withdrawn,
)
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
from workflow import frameworks
from workflow.calendar import local_date
from workflow.context import InitiativeView, TransitionContext
from workflow.db import Executor
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
council_tracks_open = State(
    "Bij de raden van de mede-indieners", WAITING,
    # Each co-submitting council deals with the proposal; only the griffies whose council has
    # not decided yet are reminded. Nothing moves on until every council has dealt with it.
    deadline=DeadlinePolicy(
        due=Weeks(12), remind=(Days(14), Days(3)),
        remind_audiences=(council_tracks.PENDING_TRACK_CLERKS,),
        escalate_to=(SUBMITTING_FACTION,), label="Besluit van elke raad",
        extend_roles=(HOME_CLERK, SUBMITTING_FACTION),
    ),
    help="Fracties uit meer gemeenten dienen het voorstel samen in; de griffie van elke gemeente "
    "legt het besluit van haar raad vast. Daarna gaat het naar het college, met de gemeenten "
    "waarvan de raad het aannam.",
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
rejected_by_council = State("Verworpen door de raad", FINAL)
handled_locally = State("Lokaal afgehandeld", FINAL)
declined_by_college = State("Afgewezen door het college", FINAL)

# --- guards and effects ---------------------------------------------------------------------


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
    # The initiating municipality takes part unless its college later says otherwise; with
    # joint council tracks, every municipality whose council adopted the proposal.
    for municipality in council_tracks.joining_municipalities(ctx.initiative):
        ctx.initiative.set_participant(municipality, "joined")


def _record_participation(ctx: TransitionContext) -> None:
    status = "joined" if ctx.value("choice") == "join" else "declined"
    ctx.initiative.set_participant(ctx.value("municipality"), status)


def _record_plan(ctx: TransitionContext) -> None:
    plan = {
        "approach": ctx.value("approach"),
        "budget": ctx.value("budget"),
        "planning": ctx.value("planning"),
    }
    plan.update({k: ctx.value(k) for k in ("core_task", "year") if ctx.value(k) is not None})
    ctx.initiative.data["plan"] = plan
    # What the frameworks check and the monitor read: core task, budget in cents, year.
    ctx.initiative.data["core_task"] = ctx.value("core_task")
    ctx.initiative.data["budget_cents"] = int(ctx.value("budget")) * 100
    ctx.initiative.data["framework_year"] = ctx.value("year") or local_date(ctx.now).year


COMMITTING_STATES = ("agreements", "executing")
"""Initiatives in these states hold their budget against the task sheet of their theme and year."""


def frameworks_lookup(
    session: Executor, view: InitiativeView, lock: bool = True
) -> frameworks.FrameworksCheck:
    """The frameworks check of `view`'s plan; in the write path it locks the task sheet row."""
    return frameworks.check(session, initiative_id=view.id, data=view.data,
                            committing_states=COMMITTING_STATES, lock=lock)


def _fits_frameworks(ctx: TransitionContext) -> bool:
    if "frameworks" not in ctx.lookups:
        return True  # listing possible steps outside a transaction: checked when fired
    return bool(ctx.lookup("frameworks").fits)


def _why_not_within_frameworks(ctx: TransitionContext) -> str:
    problems = " ".join(ctx.lookup("frameworks").problems())
    return (
        f"Het plan past niet binnen de kaders: {problems} Kies daarom 'Past niet binnen de "
        "kaders: apart besluit per gemeente'."
    )


def _record_spending(ctx: TransitionContext) -> None:
    cents = frameworks.euros_to_cents(ctx.value("amount"))
    ctx.record["amount_cents"] = cents  # the monitor sums these events: "spent as reported"
    ctx.initiative.data["spent_cents"] = int(ctx.initiative.data.get("spent_cents") or 0) + cents


def _record_shared_date(ctx: TransitionContext) -> None:
    chosen = ctx.value("date")
    ctx.initiative.data["decision_date"] = chosen.isoformat() if chosen else None
    open_joint_decision(ctx, "participant_decisions")


def _record_participant_decision(ctx: TransitionContext) -> None:
    approved = ctx.value("decision") == "approve"
    status = "approved" if approved else "rejected"
    ctx.initiative.set_participant(
        ctx.value("municipality"), status,
        decision_date=ctx.value("date").isoformat(),
        council_decision=ctx.value("council_decision", ""),
    )
    record_decision(ctx, ctx.value("municipality"), status, "for" if approved else "against")


IS_PENDING_PARTICIPANT = Guard("deelnemer_zonder_besluit", _is_participant,
                               _not_a_pending_participant)
ALL_DECIDED = Guard("alle_deelnemers_besloten", _all_decided, "Nog niet alle deelnemers besloten.")
TWO_APPROVED = Guard("minstens_twee_akkoord", _two_or_more_approved,
                     "Minder dan twee gemeenten stemden in.")
FITS_FRAMEWORKS = Guard("past_binnen_de_kaders", _fits_frameworks, _why_not_within_frameworks)
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
add_co_submitter = Transition(
    "add_co_submitter", (submitted, council_tracks_open), council_tracks_open,
    "Mede-indienende fractie uit een andere gemeente toevoegen",
    roles=(SUBMITTING_FACTION,), requires=inputs.CoSubmitterInput,
    guards=(council_tracks.NEW_CO_SUBMITTER,), effect=council_tracks.add_co_submitter,
    notify=(Notify(council_tracks.NEW_TRACK_CLERK, "ingediend"),
            Notify(council_tracks.NEW_CO_SUBMITTING_FACTION, "ingediend"),
            Notify(HOME_CLERK, "status_gewijzigd")),
)
record_council_decision = Transition(
    "record_council_decision", council_tracks_open, None, "Besluit van de raad vastleggen",
    roles=(council_tracks.PENDING_TRACK_CLERKS,), requires=inputs.CouncilTrackInput,
    guards=(council_tracks.PENDING_TRACK,), effect=council_tracks.record_council_decision,
    actor_scope_field="municipality",
)
council_tracks_complete = Transition(
    "council_tracks_complete", council_tracks_open, with_college,
    "Alle raden besloten: naar het college",
    automatic=True, guards=(council_tracks.ALL_COUNCILS_DEALT, council_tracks.SOME_COUNCIL_ADOPTED),
    effect=council_tracks.close_tracks,
    notify=(Notify(HOME_COLLEGE, "naar_college"), Notify(council_tracks.ADOPTING_COLLEGES, "naar_college"),
            Notify(SUBMITTING_FACTION, "status_gewijzigd"),
            Notify(council_tracks.CO_SUBMITTING_FACTIONS, "status_gewijzigd")),
)
council_tracks_rejected = Transition(
    "council_tracks_rejected", council_tracks_open, rejected_by_council,
    "Alle raden besloten: door geen raad aangenomen",
    automatic=True, guards=(council_tracks.ALL_COUNCILS_DEALT, council_tracks.NO_COUNCIL_ADOPTED),
    effect=council_tracks.close_tracks,
    notify=(Notify(SUBMITTING_FACTION, "status_gewijzigd"),
            Notify(council_tracks.CO_SUBMITTING_FACTIONS, "status_gewijzigd")),
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
    roles=(HOME_COLLEGE,), requires=inputs.ReasonInput, effect=record_reason,
    notify=(Notify(SUBMITTING_FACTION, "status_gewijzigd"), Notify(HOME_CLERK, "status_gewijzigd")),
)
decline = Transition(
    "decline", with_college, declined_by_college, "Afwijzen met redenen",
    roles=(HOME_COLLEGE,), requires=inputs.ReasonInput, effect=record_reason,
    notify=(Notify(SUBMITTING_FACTION, "status_gewijzigd"), Notify(HOME_CLERK, "status_gewijzigd")),
)
record_participation = Transition(
    "record_participation", tabled, None, "Deelname vastleggen (meedoen of afzien)",
    roles=(GROUP_SECRETARY,), requires=inputs.ParticipationInput, effect=_record_participation,
)
start_elaboration = start_elaboration_step(tabled, coordinator=GROUP_SECRETARY)
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
    roles=(GROUP_SECRETARY,), requires=inputs.ReasonInput, effect=record_reason,
    notify=(Notify(PARTICIPATING_COLLEGES, "no_go"), Notify(SUBMITTING_FACTION, "no_go")),
)
confirm_fits_frameworks = Transition(
    "confirm_fits_frameworks", frameworks_check, agreements, "Past binnen de kaders",
    roles=(GROUP_SECRETARY,), guards=(FITS_FRAMEWORKS,),
    help="De secretaris bevestigt dat het plan inhoudelijk past; de kernopgave moet in het "
    "opgaveblad staan en de begroting binnen wat er van het budget over is.",
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
record_agreements = record_agreements_step(coordinator=GROUP_SECRETARY)
report_spending = Transition(
    "report_spending", executing, None, "Uitgaven melden",
    roles=(GROUP_SECRETARY,), requires=inputs.SpendingInput, effect=_record_spending,
)
complete = complete_step(coordinator=GROUP_SECRETARY)
stop = stop_step(
    (tabled, elaboration, go_decision, frameworks_check, participant_decisions, agreements,
     executing),
    coordinator=GROUP_SECRETARY,
)
withdraw = withdraw_step((submitted, council_tracks_open, with_college, tabled, elaboration),
                         also_notify=(GROUP_SECRETARY,))

# Joining from the table up to the agreements; leaving also during execution.
join = join_step(
    (tabled, elaboration, go_decision, frameworks_check, participant_decisions, agreements),
    coordinator=GROUP_SECRETARY,
)
leave = leave_step(
    (tabled, elaboration, go_decision, frameworks_check, participant_decisions, agreements,
     executing),
    coordinator=GROUP_SECRETARY,
)
set_accountability, set_portfolio_holder = accountability_steps(
    (with_college, tabled, elaboration, go_decision, frameworks_check, participant_decisions,
     agreements, executing),
    coordinator=GROUP_SECRETARY,
)

COUNCIL_STATES = ("council_tracks",)
"""The states of the joint council tracks (a flow without a council step leaves them out)."""

STATES = {
    "submitted": submitted,
    "council_tracks": council_tracks_open,
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
    add_co_submitter, record_council_decision, council_tracks_complete, council_tracks_rejected,
    route_to_working_group, handle_locally, decline,
    record_participation, start_elaboration, submit_plan, decide_go, decide_no_go,
    confirm_fits_frameworks, require_participant_decisions, record_participant_decision,
    decisions_complete, decisions_insufficient, record_agreements, report_spending, complete, stop, withdraw,
    join, leave, set_accountability, set_portfolio_holder,
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

