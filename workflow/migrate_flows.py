"""Moving running initiatives from one version of a flow to another, with an explicit state mapping.

A migration is all or nothing: one transaction moves every running initiative of the old
version, each with its own `Event`, or, when any of them is in a state the mapping leaves out,
refuses and writes nothing. A dry run reads the same plan and writes nothing.
"""

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from workflow.definition import Flow
from workflow.engine import Engine
from workflow.errors import InvalidInput, PermissionDenied
from workflow.models import Deadline, Event, Initiative, Reminder
from workflow.roles import Actor

MIGRATE_FLOW = "migrate_flow"  # the Event trigger of a migration (no flow transition)
ADMIN_ROLE = "admin"
LIVE_DEADLINE = ("open", "escalated")  # as in the write path: running until the state is left


@dataclass(frozen=True)
class Move:
    initiative_id: int
    title: str
    from_state: str
    to_state: str


@dataclass(frozen=True)
class MigrationResult:
    flow: str
    from_version: int
    to_version: int
    mapping: dict[str, str]
    dry_run: bool
    moves: list[Move] = field(default_factory=list)
    event_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "flow": self.flow,
            "from_version": self.from_version,
            "to_version": self.to_version,
            "mapping": dict(self.mapping),
            "dry_run": self.dry_run,
            "moves": [m.__dict__ for m in self.moves],
            "event_ids": list(self.event_ids),
        }


def parse_mapping(pairs: list[str]) -> dict[str, str]:
    """`["old=new", ...]` into a mapping; a Dutch error for a pair that is not `old=new`."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        old, sep, new = pair.partition("=")
        if not sep or not old.strip() or not new.strip():
            raise InvalidInput(f"--map verwacht oud=nieuw, niet {pair!r}.", field_errors={"map": pair})
        if old.strip() in mapping:
            raise InvalidInput(f"De status {old.strip()!r} staat twee keer in --map.",
                               field_errors={"map": pair})
        mapping[old.strip()] = new.strip()
    return mapping


def migrate(
    engine: Engine,
    *,
    flow: str,
    from_version: int,
    to_version: int,
    mapping: Mapping[str, str],
    actor: Actor,
    dry_run: bool = False,
    comment: str = "",
) -> MigrationResult:
    """Move every running initiative of `flow` version `from_version` to `to_version`.

    Commits nothing unless every running initiative's state is mapped and every write succeeds.
    """
    if not any(g.role == ADMIN_ROLE for g in actor.grants):
        raise PermissionDenied(
            "Alleen een beheerder mag initiatieven naar een andere procesversie overzetten."
        )
    old, new = engine.registry.get(flow, from_version), engine.registry.get(flow, to_version)
    if from_version == to_version:
        raise InvalidInput("Kies twee verschillende versies met --from en --to.")
    _check_mapping(old, new, mapping)
    result = MigrationResult(flow, from_version, to_version, dict(mapping), dry_run)
    if dry_run:
        with engine.db.read() as session:
            rows = _running(session, old, lock=False)
            _refuse_unmapped(rows, mapping, old)
            result.moves.extend(_move(r, mapping) for r in rows)
        return result
    with engine.db.write() as session:
        rows = _running(session, old, lock=True)
        _refuse_unmapped(rows, mapping, old)
        now = engine.clock()
        for row in rows:
            move = _move(row, mapping)
            if move.from_state != move.to_state:
                _cancel_deadlines(session, row, move.from_state, now)
            row.flow_version = to_version
            row.state = move.to_state
            row.version += 1
            row.updated_at = now
            session.add(row)
            event = Event(
                initiative_id=move.initiative_id,
                version=row.version,
                at=now,
                actor_id=actor.user_id,
                actor_name=actor.name,
                trigger=MIGRATE_FLOW,
                from_state=move.from_state,
                to_state=move.to_state,
                data={"flow": flow, "from_version": from_version, "to_version": to_version,
                      "mapping": {move.from_state: move.to_state}},
                comment=comment.strip(),
            )
            session.add(event)
            session.flush()
            result.moves.append(move)
            result.event_ids.append(int(event.id or 0))
    return result


def _check_mapping(old: Flow, new: Flow, mapping: Mapping[str, str]) -> None:
    errors: dict[str, str] = {}
    for source, target in mapping.items():
        if source not in old.states:
            errors[source] = f"geen status van versie {old.version}"
        if target not in new.states:
            errors[target] = f"geen status van versie {new.version}"
    if errors:
        listing = "; ".join(f"{k}: {v}" for k, v in errors.items())
        raise InvalidInput(
            f"Ongeldige toewijzing: {listing}. Statussen van versie {new.version}: "
            + ", ".join(new.states) + ".",
            field_errors=errors,
        )


def _running(session: Session, old: Flow, *, lock: bool) -> list[Initiative]:
    finals = [name for name, s in old.states.items() if s.final]
    query = (
        select(Initiative)
        .where(Initiative.flow == old.name, Initiative.flow_version == old.version,
               col(Initiative.state).not_in(finals))
        .order_by(col(Initiative.id))
    )
    if lock:
        query = query.with_for_update()
    return list(session.exec(query))


def _refuse_unmapped(rows: list[Initiative], mapping: Mapping[str, str], old: Flow) -> None:
    unmapped = Counter(r.state for r in rows if r.state not in mapping)
    if unmapped:
        listing = ", ".join(
            f"{state} ({old.state(state).label}, {n} initiatief{'en' if n > 1 else ''})"
            for state, n in sorted(unmapped.items())
        )
        raise InvalidInput(
            f"Niet overgezet: voor deze statussen ontbreekt een toewijzing: {listing}. "
            "Voeg ze toe met --map oud=nieuw; er is niets gewijzigd.",
            field_errors={state: "geen toewijzing" for state in unmapped},
        )


def _move(row: Initiative, mapping: Mapping[str, str]) -> Move:
    return Move(int(row.id or 0), row.title, row.state, mapping[row.state])


def _cancel_deadlines(session: Session, row: Initiative, state: str, now: Any) -> None:
    """The running deadline of a state the initiative no longer is in stops, with its reminders."""
    deadlines = session.exec(
        select(Deadline).where(Deadline.initiative_id == row.id, Deadline.state == state,
                               col(Deadline.status).in_(LIVE_DEADLINE))
    ).all()
    for deadline in deadlines:
        deadline.status = "cancelled"
        deadline.closed_at = now
        session.add(deadline)
        for reminder in session.exec(
            select(Reminder).where(Reminder.deadline_id == deadline.id, col(Reminder.sent_at).is_(None))
        ):
            reminder.cancelled = True
            session.add(reminder)
