"""Initiatives from society: inhabitants, a company, a civil-society organisation or a knowledge
institution bring in an initiative at the college; from there it travels as a Groeiagenda one.

There is no council step: the college registers the initiative on the initiator's behalf, with
their contact details, and the initiator is kept informed by e-mail without an account. Every
step after the college is the Groeiagenda's own (shared, not copied); only who is told differs:
the initiator instead of a submitting faction, and no griffie.
"""

from dataclasses import replace

from flows import groeiagenda, inputs
from flows.roles import HOME_CLERK, HOME_COLLEGE, INITIATOR, STEERING, SUBMITTING_FACTION
from workflow.context import TransitionContext
from workflow.definition import Days, DeadlinePolicy, Flow, Notify, State, StateKind, Transition, Weeks

STATUS_TEMPLATE = "samenleving_status"

# --- states ---------------------------------------------------------------------------------

with_college = State(
    "Bij het college", StateKind.ACTIVE,
    # The college answers the initiator within 8 weeks; the regiekamer hears when it does not.
    deadline=DeadlinePolicy(
        due=Weeks(8), remind=(Days(14), Days(3)), remind_audiences=(HOME_COLLEGE,),
        escalate_to=(STEERING,), label="Reactie van het college aan de initiatiefnemer",
        extend_roles=(HOME_COLLEGE,),
    ),
    help="Het college heeft het initiatief uit de samenleving geregistreerd, werkt het uit, "
    "weegt het af en leidt het door naar de juiste tafel.",
)

# The council part of the Groeiagenda does not apply: a civic initiative enters at the college.
LEFT_OUT = frozenset({"submitted", "rejected_by_council", *groeiagenda.COUNCIL_STATES})
_LEFT_OUT_IDS = frozenset(id(groeiagenda.STATES[name]) for name in LEFT_OUT)


def _record_initiator(ctx: TransitionContext) -> None:
    ctx.initiative.data["initiator"] = {
        "name": ctx.value("initiator_name"),
        "organisation": ctx.value("initiator_organisation", ""),
        "kind": ctx.value("initiator_kind"),
        "email": ctx.value("initiator_email"),
    }


register = Transition(
    "register", None, with_college, "Initiatief uit de samenleving registreren",
    roles=(HOME_COLLEGE,), requires=inputs.CivicRegistrationInput, effect=_record_initiator,
    notify=(Notify(INITIATOR, "samenleving_ontvangen"),),
    help="Het college registreert het initiatief namens de initiatiefnemer, met diens "
    "contactgegevens; de initiatiefnemer krijgt bij elke stap bericht per e-mail.",
)

# --- the shared steps, told to the initiator instead of a faction -----------------------------


def _for_society(t: Transition) -> Transition | None:
    """The Groeiagenda step `t` as it runs for a civic initiative, or None if it does not apply."""
    old = groeiagenda.with_college
    # States are matched by identity: their names are only set when a flow is built.
    sources = [with_college if s is old else s for s in t.sources if id(s) not in _LEFT_OUT_IDS]
    if t.source is None or not sources or (t.dest is not None and id(t.dest) in _LEFT_OUT_IDS):
        return None
    dest = with_college if t.dest is old else t.dest
    notify: list[Notify] = []
    for n in t.notify:
        if n.audience is SUBMITTING_FACTION:
            notify.append(Notify(INITIATOR, STATUS_TEMPLATE))
        elif n.audience is not HOME_CLERK:  # the council has no part in a civic initiative
            notify.append(n)
    # The initiator has no account: the college records on their behalf what they ask.
    roles = tuple(HOME_COLLEGE if a is SUBMITTING_FACTION else a for a in t.roles)
    return replace(t, source=tuple(sources), dest=dest, notify=tuple(notify), roles=roles)


STATES = {
    "with_college": with_college,
    **{k: s for k, s in groeiagenda.STATES.items() if k not in LEFT_OUT and k != "with_college"},
}
TRANSITIONS = (
    register,
    *(found for t in groeiagenda.TRANSITIONS if (found := _for_society(t)) is not None),
)


def build(*, known_roles: frozenset[str], known_templates: frozenset[str] | None) -> Flow:
    return Flow(
        name="samenleving",
        version=1,
        label="Initiatief uit de samenleving: via het college",
        description=__doc__ or "",
        states=STATES,
        transitions=TRANSITIONS,
        known_roles=known_roles,
        known_templates=known_templates,
    )
