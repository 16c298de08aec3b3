"""Small example flows for engine tests, independent of the Drechtsteden flows."""

from workflow.definition import Flow, Guard, State, StateKind, Transition
from workflow.roles import Audience

OWNER = Audience("owner", "owner", "de eigenaar", lambda view, data: {(view.municipality,)})
GHOST = Audience("ghost", "ghost", "een onbekende rol", lambda view, data: None)
ROLES = frozenset({"owner"})


def _always(ctx):
    return True


def sound() -> Flow:
    draft = State("Concept")
    review = State("In behandeling")
    done = State("Klaar", StateKind.FINAL)
    return Flow(
        name="voorbeeld", version=1, label="Voorbeeld",
        states={"draft": draft, "review": review, "done": done},
        transitions=[
            Transition("create", None, draft, "Aanmaken", roles=[OWNER]),
            Transition("send", draft, review, "Insturen", roles=[OWNER]),
            Transition("finish", review, done, "Afronden", roles=[OWNER]),
        ],
        known_roles=ROLES, known_templates=frozenset({"bericht"}),
    )


def broken() -> Flow:
    """Every kind of mistake at once: the error must name each offender."""
    draft = State("Concept")
    review = State("In behandeling")  # a dead end that is not final
    orphan = State("Wees")  # nobody leads here
    done = State("Klaar", StateKind.FINAL)
    stray = State("Niet aangemeld")  # used by a transition but not in the flow
    return Flow(
        name="kapot", version=3, label="Kapot",
        states={"draft": draft, "review": review, "orphan": orphan, "done": done},
        transitions=[
            Transition("create", None, draft, "Aanmaken", roles=[OWNER]),
            Transition("send", draft, review, "Insturen", roles=[GHOST]),
            Transition("leave", orphan, done, "Weg", roles=[OWNER]),
            Transition("reopen", done, draft, "Heropenen", roles=[OWNER]),
            Transition("wander", draft, stray, "Dwalen", roles=[OWNER]),
            Transition("nobody", draft, done, "Niemand"),
            Transition("auto", draft, done, "Vanzelf", automatic=True),
            Transition("mail", draft, done, "Mailen", roles=[OWNER],
                       notify=[]),
            Transition("send", draft, done, "Nog eens insturen", roles=[OWNER],
                       guards=[Guard("altijd", _always, "")]),
        ],
        known_roles=ROLES, known_templates=frozenset(),
    )
