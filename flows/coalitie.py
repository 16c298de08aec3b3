"""Coalitie (route B): the college takes a proposal to an ad-hoc coalition of colleges.

The council part (with joint council tracks) and the college's own choices are the
Groeiagenda's, imported from it rather than copied. From there the college does not route to
a werkgroep but asks other colleges ("bespreken met Molenlanden en Gorinchem"). Each college
says whether it joins; the penvoerder's college has the plan worked out and puts one concept
decision with one shared date to all; every college votes for, against or abstains, and the
decision rule chosen when routing gives the go or no-go.
"""

from typing import Any

from flows import council_tracks, inputs
from flows.common import (
    AT_LEAST_TWO,
    accountability_steps,
    agreements,
    complete_step,
    completed,
    elaboration,
    executing,
    invalid,
    join_step,
    leave_step,
    open_joint_decision,
    record_agreements_step,
    record_decision,
    record_plan,
    start_elaboration_step,
    stop_step,
    stopped,
    withdraw_step,
    withdrawn,
)
from flows.groeiagenda import (
    add_co_submitter,
    adopt_motion,
    council_tracks_complete,
    council_tracks_open,
    council_tracks_rejected,
    decline,
    declined_by_college,
    handle_locally,
    handled_locally,
    record_commitment,
    record_council_decision,
    reject_motion,
    rejected_by_council,
    submit,
    submitted,
    with_college,
)
from flows.roles import (
    COLLEGES_WITHOUT_DECISION,
    HOME_COLLEGE,
    INVITED_COLLEGES,
    LEAD_COLLEGE,
    PARTICIPATING_COLLEGES,
    SUBMITTING_FACTION,
    UNANSWERED_INVITED_COLLEGES,
)
from workflow import decisions
from workflow.context import TransitionContext
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

WAITING = StateKind.WAITING

# --- states ---------------------------------------------------------------------------------

tabled = State(
    "Bespreken met de coalitie", WAITING,
    # The invited colleges say within 6 weeks whether they join; only those that have not
    # answered yet are reminded.
    deadline=DeadlinePolicy(
        due=Weeks(6), remind=(Days(14), Days(3)), remind_audiences=(UNANSWERED_INVITED_COLLEGES,),
        escalate_to=(LEAD_COLLEGE,), label="Antwoord op 'wie doet mee?'",
        extend_roles=(LEAD_COLLEGE,),
    ),
    help="Eerste afweging van de wenselijkheid met de andere colleges, en: wie doet er mee?",
)
go_decision = State(
    "Besluit go/no-go door de colleges", WAITING,
    # One concept decision, one shared date; only colleges that have not voted are reminded.
    # Nothing moves on until every participating college has voted (or left).
    deadline=DeadlinePolicy(
        due=DateFromInput("date"), remind=(Days(14), Days(3)),
        remind_audiences=(COLLEGES_WITHOUT_DECISION,), escalate_to=(LEAD_COLLEGE,),
        label="Stem van elk deelnemend college", extend_roles=(LEAD_COLLEGE,),
    ),
    help="Elk deelnemend college stemt over hetzelfde conceptbesluit: voor, tegen of "
    "onthouding. De besluitregel bepaalt de uitkomst.",
)

# --- guards and effects ---------------------------------------------------------------------


def _route_to_coalition(ctx: TransitionContext) -> None:
    known = ctx.lookup("municipalities")
    # The initiating municipality takes part unless its college later says otherwise; with
    # joint council tracks, every municipality whose council adopted the proposal.
    joining = council_tracks.joining_municipalities(ctx.initiative)
    chosen = [m for m in ctx.input.slugs if m not in joining]  # type: ignore[union-attr]
    unknown = [m for m in chosen if m not in known]
    if unknown:
        raise invalid(f"Onbekende gemeente(n): {', '.join(unknown)}.",
                      municipalities=f"onbekend: {', '.join(unknown)}")
    if not chosen:
        raise invalid("Noem minstens één andere gemeente om het voorstel mee te bespreken.",
                      municipalities="geen andere gemeente")
    ctx.initiative.data["coalition"] = chosen
    ctx.initiative.data["decision_rule"] = ctx.value("rule")
    for municipality in joining:
        ctx.initiative.set_participant(municipality, "joined")


def _invited_without_answer(ctx: TransitionContext) -> bool:
    municipality = ctx.value("municipality")
    invited = municipality in ctx.initiative.data.get("coalition", ())
    return invited and municipality not in ctx.initiative.participants


def _why_not_invited(ctx: TransitionContext) -> str:
    municipality = ctx.value("municipality")
    if municipality in ctx.initiative.participants:
        return (f"De gemeente {municipality} heeft al geantwoord; wie afzag kan later "
                "toetreden, wie meedoet kan uittreden.")
    return (f"Het voorstel wordt niet met {municipality} besproken; een andere gemeente kan "
            "later toetreden.")


def _answer_participation(ctx: TransitionContext) -> None:
    status = "joined" if ctx.value("choice") == "join" else "declined"
    ctx.initiative.set_participant(ctx.value("municipality"), status)


def _submit_plan(ctx: TransitionContext) -> None:
    record_plan(ctx)
    open_joint_decision(ctx, "go_decision")
    ctx.initiative.data["joint_decision"]["rule"] = ctx.initiative.data.get(
        "decision_rule", decisions.Rule.CONSENSUS.value
    )


def _has_not_voted(ctx: TransitionContext) -> bool:
    participant = ctx.initiative.participants.get(ctx.value("municipality"))
    return participant is not None and participant.active and "decision" not in participant.data


def _why_no_vote(ctx: TransitionContext) -> str:
    municipality = ctx.value("municipality")
    participant = ctx.initiative.participants.get(municipality)
    if participant is not None and participant.active:
        return f"Het college van {municipality} heeft al gestemd."
    return f"De gemeente {municipality} doet niet mee aan dit initiatief."


def _cast_vote(ctx: TransitionContext) -> None:
    municipality = ctx.value("municipality")
    record_decision(ctx, municipality, "joined", ctx.value("vote"))
    ctx.record["municipality_name"] = ctx.lookup("municipalities")[municipality]["name"]


def _all_voted(ctx: TransitionContext) -> bool:
    taking_part = ctx.initiative.participating()
    return bool(taking_part) and all(
        "decision" in ctx.initiative.participants[m].data for m in taking_part
    )


def outcome(ctx: TransitionContext) -> decisions.Outcome:
    """The go/no-go by the initiative's decision rule over the votes of the participants."""
    votes = {m: ctx.initiative.participants[m].data["decision"]
             for m in ctx.initiative.participating()}
    rule = decisions.Rule(ctx.initiative.data.get("decision_rule", decisions.Rule.CONSENSUS))
    if rule is not decisions.Rule.WEIGHTED:
        return decisions.decide(rule, votes)
    facts: dict[str, dict[str, Any]] = ctx.lookup("municipalities")
    return decisions.decide(
        rule, votes,
        weights={m: facts[m]["inhabitants"] for m in votes},
        blocs={m: facts[m]["bloc"] for m in votes},
    )


def _passes(ctx: TransitionContext) -> bool:
    return outcome(ctx).passed


def _fails(ctx: TransitionContext) -> bool:
    return not outcome(ctx).passed


def _not_the_penvoerder(ctx: TransitionContext) -> bool:
    accountability = ctx.initiative.data.get("accountability") or {}
    lead = accountability.get("lead_municipality") or ctx.initiative.municipality
    return bool(ctx.value("municipality") != lead)


def _record_outcome(ctx: TransitionContext) -> None:
    result = outcome(ctx).as_dict()
    ctx.record["outcome"] = result  # the rule, the weights and the arithmetic, in the event
    ctx.initiative.data["go_outcome"] = result


IS_INVITED = Guard("uitgenodigd_zonder_antwoord", _invited_without_answer, _why_not_invited)
NOT_THE_PENVOERDER = Guard(
    "niet_de_penvoerder", _not_the_penvoerder,
    "De penvoerder coördineert de coalitie en kan niet uittreden; wijs eerst een andere "
    "penvoerder aan (Bestuurlijk trekker en penvoerder vastleggen).",
)
HAS_NOT_VOTED = Guard("deelnemer_zonder_stem", _has_not_voted, _why_no_vote)
ALL_VOTED = Guard("alle_colleges_gestemd", _all_voted, "Nog niet elk deelnemend college heeft gestemd.")
PASSES = Guard("besluitregel_go", _passes, "De stemming leidt niet tot go.")
FAILS = Guard("besluitregel_no_go", _fails, "De stemming leidt tot go.")

# --- transitions, in process order -----------------------------------------------------------

route_to_coalition = Transition(
    "route_to_coalition", with_college, tabled, "Bespreken met andere colleges",
    roles=(HOME_COLLEGE,), requires=inputs.CoalitionInput, effect=_route_to_coalition,
    notify=(Notify(INVITED_COLLEGES, "bespreken_met"), Notify(SUBMITTING_FACTION, "status_gewijzigd")),
)
answer_participation = Transition(
    "answer_participation", tabled, None, "Meedoen of afzien (eigen gemeente)",
    roles=(INVITED_COLLEGES, LEAD_COLLEGE), requires=inputs.ParticipationInput,
    guards=(IS_INVITED,), effect=_answer_participation, actor_scope_field="municipality",
    notify=(Notify(LEAD_COLLEGE, "status_gewijzigd"),),
)
start_elaboration = start_elaboration_step(tabled, coordinator=LEAD_COLLEGE)
submit_plan = Transition(
    "submit_plan", elaboration, go_decision, "Uitwerking en conceptbesluit voorleggen",
    roles=(LEAD_COLLEGE,), requires=inputs.CoalitionPlanInput, guards=(AT_LEAST_TWO,),
    effect=_submit_plan,
    notify=(Notify(PARTICIPATING_COLLEGES, "stem_gevraagd"),),
)
cast_vote = Transition(
    "cast_vote", go_decision, None, "Stem van het college vastleggen",
    roles=(PARTICIPATING_COLLEGES,), requires=inputs.VoteInput, guards=(HAS_NOT_VOTED,),
    effect=_cast_vote, actor_scope_field="municipality",
    notify=(Notify(LEAD_COLLEGE, "stem_uitgebracht"),),
)
votes_go = Transition(
    "votes_go", go_decision, agreements, "Alle colleges gestemd: go",
    automatic=True, guards=(ALL_VOTED, PASSES), effect=_record_outcome,
    notify=(Notify(PARTICIPATING_COLLEGES, "coalitie_besluit"),
            Notify(SUBMITTING_FACTION, "coalitie_besluit")),
)
votes_no_go = Transition(
    "votes_no_go", go_decision, stopped, "Alle colleges gestemd: no-go",
    automatic=True, guards=(ALL_VOTED, FAILS), effect=_record_outcome,
    notify=(Notify(PARTICIPATING_COLLEGES, "coalitie_besluit"),
            Notify(SUBMITTING_FACTION, "coalitie_besluit")),
)
record_agreements = record_agreements_step(coordinator=LEAD_COLLEGE)
complete = complete_step(coordinator=LEAD_COLLEGE)
stop = stop_step((tabled, elaboration, go_decision, agreements, executing), coordinator=LEAD_COLLEGE)
withdraw = withdraw_step((submitted, council_tracks_open, with_college, tabled, elaboration),
                         also_notify=(LEAD_COLLEGE,))
join = join_step((tabled, elaboration, go_decision, agreements), coordinator=LEAD_COLLEGE)
leave = leave_step((tabled, elaboration, go_decision, agreements, executing), coordinator=LEAD_COLLEGE,
                   guards=(NOT_THE_PENVOERDER,))
set_accountability, set_portfolio_holder = accountability_steps(
    (with_college, tabled, elaboration, go_decision, agreements, executing),
    coordinator=LEAD_COLLEGE,
)

STATES = {
    "submitted": submitted,
    "council_tracks": council_tracks_open,
    "with_college": with_college,
    "tabled": tabled,
    "elaboration": elaboration,
    "go_decision": go_decision,
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
    route_to_coalition, handle_locally, decline,
    answer_participation, start_elaboration, submit_plan, cast_vote, votes_go, votes_no_go,
    record_agreements, complete, stop, withdraw,
    join, leave, set_accountability, set_portfolio_holder,
)


def build(*, known_roles: frozenset[str], known_templates: frozenset[str] | None) -> Flow:
    return Flow(
        name="coalitie",
        version=1,
        label="Coalitie: voorstel via een coalitie van colleges",
        description=__doc__ or "",
        states=STATES,
        transitions=TRANSITIONS,
        known_roles=known_roles,
        known_templates=known_templates,
        data_defaults={"decision_rule": decisions.Rule.CONSENSUS.value},
    )
