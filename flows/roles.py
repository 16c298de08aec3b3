"""The Drechtsteden roles and the audiences flows name: who may act, who hears of it."""

from collections.abc import Iterable, Mapping
from typing import Any

from workflow.context import InitiativeView
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
