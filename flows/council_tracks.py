"""Joint council tracks: one proposal co-submitted by factions of several municipalities.

"Raden kunnen al samenwerking zoeken met andere raden en tegelijkertijd hetzelfde voorstel bij
hun colleges neerleggen." Each co-submitting municipality's griffie records its own council's
motion, commitment or rejection; when every council has dealt with it, the proposal goes to the
college step with the councils that adopted it. Those that rejected it drop out, on the timeline.

The tracks live in the initiative's data as `council_tracks`: municipality →
{faction, status (pending | motion | commitment | rejected), date, reference}.
"""

from collections.abc import Iterable
from typing import Any

from flows.roles import CLERK, COLLEGE, FACTION_MEMBER, Data
from workflow.context import InitiativeView, TransitionContext
from workflow.definition import Guard
from workflow.roles import Audience, Scope

PENDING = "pending"
ADOPTED = frozenset({"motion", "commitment"})


def tracks(view: InitiativeView) -> dict[str, dict[str, Any]]:
    found = view.data.get("council_tracks") or {}
    return {m: dict(t) for m, t in found.items()}


def _with_status(view: InitiativeView, wanted: Iterable[str]) -> list[str]:
    statuses = set(wanted)
    return sorted(m for m, t in tracks(view).items() if t.get("status") in statuses)


# --- audiences ----------------------------------------------------------------------------------


def _pending_clerks(view: InitiativeView, data: Data) -> Iterable[Scope]:
    """Griffies whose council has not dealt with the proposal yet; narrowed to the one named."""
    pending = {(m,) for m in _with_status(view, {PENDING})}
    named = (data or {}).get("municipality")
    return pending & {(named,)} if named else pending


def _adopting_colleges(view: InitiativeView, _data: Data) -> Iterable[Scope]:
    return {(m,) for m in _with_status(view, ADOPTED)}


def _co_submitting_factions(view: InitiativeView, _data: Data) -> Iterable[Scope]:
    return {
        (m, str(t.get("faction") or ""))
        for m, t in tracks(view).items()
        if m != view.municipality
    }


def _named_clerk(_view: InitiativeView, data: Data) -> Iterable[Scope]:
    named = (data or {}).get("municipality")
    return {(named,)} if named else set()


def _named_faction(_view: InitiativeView, data: Data) -> Iterable[Scope]:
    named, faction = (data or {}).get("municipality"), (data or {}).get("faction")
    return {(named, faction)} if named and faction else set()


NEW_TRACK_CLERK = Audience("griffie_mede_indiener", CLERK, "de griffie van een mede-indienende gemeente",
                           _named_clerk)
NEW_CO_SUBMITTING_FACTION = Audience("nieuwe_mede_indiener", FACTION_MEMBER, "mede-indienende fractie",
                                     _named_faction)
PENDING_TRACK_CLERKS = Audience(
    "griffies_zonder_raadsbesluit", CLERK, "de griffie van een raad die nog niet besloot",
    _pending_clerks,
)
ADOPTING_COLLEGES = Audience(
    "colleges_van_aannemende_raden", COLLEGE, "het college van een raad die het voorstel aannam",
    _adopting_colleges,
)
CO_SUBMITTING_FACTIONS = Audience(
    "mede_indienende_fracties", FACTION_MEMBER, "een mede-indienende fractie",
    _co_submitting_factions,
)

# --- guards -------------------------------------------------------------------------------------


def _is_new_co_submitter(ctx: TransitionContext) -> bool:
    named = ctx.value("municipality")
    return named != ctx.initiative.municipality and named not in tracks(ctx.initiative)


def _why_not_new(ctx: TransitionContext) -> str:
    named = ctx.value("municipality")
    if named == ctx.initiative.municipality:
        return f"De gemeente {named} is de gemeente van de indienende fractie zelf."
    return f"De gemeente {named} dient dit voorstel al mee in."


def _is_pending_track(ctx: TransitionContext) -> bool:
    return ctx.value("municipality") in _with_status(ctx.initiative, {PENDING})


def _why_not_pending(ctx: TransitionContext) -> str:
    named = ctx.value("municipality")
    track = tracks(ctx.initiative).get(named)
    if track is None:
        return f"De raad van {named} heeft dit voorstel niet voorliggen."
    return f"De griffie van {named} heeft het besluit van de raad al vastgelegd."


def _all_dealt(ctx: TransitionContext) -> bool:
    found = tracks(ctx.initiative)
    return bool(found) and not _with_status(ctx.initiative, {PENDING})


def _some_adopted(ctx: TransitionContext) -> bool:
    return bool(_with_status(ctx.initiative, ADOPTED))


def _none_adopted(ctx: TransitionContext) -> bool:
    return not _some_adopted(ctx)


NEW_CO_SUBMITTER = Guard("nieuwe_mede_indiener", _is_new_co_submitter, _why_not_new)
PENDING_TRACK = Guard("raad_zonder_besluit", _is_pending_track, _why_not_pending)
ALL_COUNCILS_DEALT = Guard("alle_raden_besloten", _all_dealt, "Nog niet alle raden hebben besloten.")
SOME_COUNCIL_ADOPTED = Guard("minstens_een_raad_neemt_aan", _some_adopted,
                             "Geen enkele raad nam het voorstel aan.")
NO_COUNCIL_ADOPTED = Guard("geen_raad_neemt_aan", _none_adopted, "Een of meer raden namen het voorstel aan.")

# --- effects ------------------------------------------------------------------------------------


def add_co_submitter(ctx: TransitionContext) -> None:
    view = ctx.initiative
    found = tracks(view) or {view.municipality: {"faction": view.faction or "", "status": PENDING}}
    found[ctx.value("municipality")] = {"faction": ctx.value("faction"), "status": PENDING}
    view.data["council_tracks"] = found


def record_council_decision(ctx: TransitionContext) -> None:
    found = tracks(ctx.initiative)
    chosen = ctx.value("date") or ctx.now.date()
    found[ctx.value("municipality")].update(
        status=ctx.value("outcome"), date=chosen.isoformat(), reference=ctx.value("reference", ""),
    )
    ctx.initiative.data["council_tracks"] = found


def close_tracks(ctx: TransitionContext) -> None:
    """Records on the timeline who goes on to the college step and who dropped out."""
    view = ctx.initiative
    ctx.record["adopted"] = _with_status(view, ADOPTED)
    ctx.record["dropped_out"] = _with_status(view, {"rejected"})
    home = tracks(view).get(view.municipality, {})
    if home.get("status") in ADOPTED:
        view.data["council"] = {
            "instrument": home["status"], "date": home.get("date"), "reference": home.get("reference", ""),
        }


def joining_municipalities(view: InitiativeView) -> list[str]:
    """Who takes part when the college routes the proposal: the home municipality, or with joint
    tracks every municipality whose council adopted it."""
    if not tracks(view):
        return [view.municipality]
    return _with_status(view, ADOPTED)
