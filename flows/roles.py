"""The Drechtsteden roles and the audiences flows name: who may act, who hears of it."""

from collections.abc import Iterable, Mapping
from typing import Any

from workflow.context import InitiativeView
from workflow.outbox import ContactAudience
from workflow.roles import Audience, RoleKind, Scope

FACTION_MEMBER = "faction_member"
CLERK = "clerk"
COLLEGE = "college"
SECRETARY = "secretary"
STEERING_ROOM = "steering_room"
ADMIN = "admin"

ROLE_KINDS = (
    RoleKind(FACTION_MEMBER, "fractie", "Fractielid", ("municipality", "faction")),
    RoleKind(CLERK, "griffie", "Griffie", ("municipality",)),
    RoleKind(COLLEGE, "college", "College van B&W", ("municipality",)),
    RoleKind(SECRETARY, "secretaris", "Secretaris werkgroep", ("working_group",)),
    RoleKind(STEERING_ROOM, "regiekamer", "Regiekamer"),
    RoleKind(ADMIN, "admin", "Beheerder"),
)


# --- scope rules: which scopes of a role count for an initiative ----------------------------

Data = Mapping[str, Any] | None


def _home(view: InitiativeView, _data: Data) -> Iterable[Scope]:
    return {(view.municipality,)}


def _submitting_faction(view: InitiativeView, _data: Data) -> Iterable[Scope]:
    return {(view.municipality, view.faction or "")}


def _working_group(view: InitiativeView, _data: Data) -> Iterable[Scope]:
    group = view.data.get("working_group")
    return {(group,)} if group else set()


def _working_group_colleges(view: InitiativeView, _data: Data) -> Iterable[Scope]:
    group = view.data.get("working_group")
    return {(m,) for m in view.group_members.get(group, ())} if group else set()


def _participating_colleges(view: InitiativeView, data: Data) -> Iterable[Scope]:
    """The colleges taking part; narrowed to the one named in the input when there is one."""
    taking_part = {(m,) for m in view.participating()}
    named = (data or {}).get("municipality")
    if named:
        return taking_part & {(named,)}
    return taking_part


def _undecided_colleges(view: InitiativeView, _data: Data) -> Iterable[Scope]:
    return {(m,) for m in view.with_status("joined")}


def _all(_view: InitiativeView, _data: Data) -> None:
    return None


SUBMITTING_FACTION = Audience("indienende_fractie", FACTION_MEMBER, "de indienende fractie",
                              _submitting_faction)
HOME_CLERK = Audience("griffie", CLERK, "de griffie van de gemeente", _home)
HOME_COLLEGE = Audience("college", COLLEGE, "het college van de gemeente", _home)
GROUP_SECRETARY = Audience("secretaris", SECRETARY, "de secretaris van de werkgroep",
                           _working_group)
GROUP_COLLEGES = Audience("colleges_werkgroep", COLLEGE, "de colleges in de werkgroep",
                          _working_group_colleges)
PARTICIPATING_COLLEGES = Audience("deelnemende_colleges", COLLEGE,
                                  "de colleges van de deelnemende gemeenten",
                                  _participating_colleges)
UNDECIDED_COLLEGES = Audience("colleges_zonder_besluit", COLLEGE,
                              "de deelnemende colleges die nog niet besloten",
                              _undecided_colleges)
STEERING = Audience("regiekamer", STEERING_ROOM, "de regiekamer", _all)


# --- coalitions, joining and leaving, joint decisions (issue 4) -------------------------------


def _lead_municipality(view: InitiativeView) -> str:
    """The penvoerder: the municipality named as such, else the one the initiative started in."""
    accountability = view.data.get("accountability") or {}
    return str(accountability.get("lead_municipality") or view.municipality)


def _lead_college(view: InitiativeView, _data: Data) -> Iterable[Scope]:
    return {(_lead_municipality(view),)}


def _invited_colleges(view: InitiativeView, data: Data) -> Iterable[Scope]:
    """The colleges the initiative is discussed with; narrowed to the one named in the input."""
    invited = {(m,) for m in view.data.get("coalition", ())} | {(view.municipality,)}
    named = (data or {}).get("municipality")
    return invited & {(named,)} if named else invited


def _unanswered_invited_colleges(view: InitiativeView, _data: Data) -> Iterable[Scope]:
    return {(m,) for m in view.data.get("coalition", ()) if m not in view.participants}


def _own_college(_view: InitiativeView, data: Data) -> Iterable[Scope] | None:
    """Any college for its own municipality: without input every college may, with input only
    the college of the municipality named in it."""
    named = (data or {}).get("municipality")
    return {(named,)} if named else None


def _without_decision(view: InitiativeView, _data: Data) -> Iterable[Scope]:
    return {(m,) for m in view.participating() if "decision" not in view.participants[m].data}


def _participating_clerks(view: InitiativeView, _data: Data) -> Iterable[Scope]:
    return {(m,) for m in view.participating()}


LEAD_COLLEGE = Audience("college_penvoerder", COLLEGE, "het college van de penvoerder",
                        _lead_college)
INVITED_COLLEGES = Audience("colleges_coalitie", COLLEGE, "de colleges waarmee het wordt besproken",
                            _invited_colleges)
UNANSWERED_INVITED_COLLEGES = Audience(
    "colleges_coalitie_zonder_antwoord", COLLEGE,
    "de colleges waarmee het wordt besproken die nog niet hebben geantwoord",
    _unanswered_invited_colleges,
)
OWN_COLLEGE = Audience("eigen_college", COLLEGE, "het college van de gemeente zelf", _own_college)
COLLEGES_WITHOUT_DECISION = Audience(
    "colleges_zonder_stem", COLLEGE, "de deelnemende colleges die nog niet besloten",
    _without_decision,
)
PARTICIPATING_CLERKS = Audience("griffies_deelnemers", CLERK,
                                "de griffie van een deelnemende gemeente", _participating_clerks)


def _initiator(view: InitiativeView) -> Iterable[tuple[str, str]]:
    """The initiator of a civic initiative, by the contact details the college registered."""
    found = view.data.get("initiator") or {}
    email = found.get("email")
    return [(str(found.get("name") or email), str(email))] if email else []


def _nobody(_view: InitiativeView, _data: Data) -> Iterable[Scope]:
    return set()


# The initiator has no account: they are mailed at the address in the initiative's data. The
# role only satisfies flow validation; a contact audience never grants a right.
INITIATOR = ContactAudience("initiatiefnemer", COLLEGE, "initiatiefnemer", _nobody,
                            contacts=_initiator)


def _all_participating_colleges(view: InitiativeView, _data: Data) -> Iterable[Scope]:
    return {(m,) for m in view.participating()}


# Not narrowed by the input: when one municipality joins or leaves, all the others hear of it.
OTHER_PARTICIPATING_COLLEGES = Audience(
    "overige_deelnemende_colleges", COLLEGE, "de colleges van de deelnemende gemeenten",
    _all_participating_colleges,
)
