"""A per-process cache of initiatives' working copies, valid while their version is unchanged.

The one write path raises an initiative's version on every change (state, data, participants),
so a copy kept with its version is exact until the version moves. The inbox asks for the
versions of the candidates (cheap: no JSON), reloads only what changed, and remembers per copy
whether a set of role grants is admitted at all and which steps it is offered, so a repeated
inbox costs little. Guards are pure functions of the copy (DESIGN.md), but they may read the
clock, so offers are kept per minute only.
"""

import threading
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from workflow.context import InitiativeView, ParticipantView
from workflow.engine import Engine
from workflow.models import Initiative, Participant
from workflow.roles import RoleGrant

MAX_ENTRIES = 100_000
MAX_ADMISSIONS = 64  # distinct (grants, members) answers kept per copy
CHUNK = 900  # ids per IN (...) list, well under every driver's parameter limit

AdmissionKey = tuple[frozenset[RoleGrant], int]


@dataclass
class Cached:
    version: int
    flow_version: int
    view: InitiativeView  # without group members: those come fresh with each request
    title: str
    updated_at: datetime | None
    admitted: dict[AdmissionKey, bool] = field(default_factory=dict)
    offered: dict[tuple[AdmissionKey, int], list[Any]] = field(default_factory=dict)


OfferKey = tuple[AdmissionKey, int]  # the grants and group members asked for, and the minute


class ViewCache:
    """Working copies by initiative id; safe to share between the threads of one process."""

    def __init__(self) -> None:
        self._rows: dict[int, Cached] = {}
        self._lock = threading.Lock()
        self._answers: dict[OfferKey, dict[tuple[int, int], list[Any]]] = {}

    def answers(self, key: OfferKey) -> dict[tuple[int, int], list[Any]]:
        """The inbox's answers for `key` by (id, version): the steps that wait for this actor.

        An answer is exact while the version is unchanged (every write raises it) and within
        the minute the key names; answers of earlier minutes are dropped.
        """
        with self._lock:
            found = self._answers.get(key)
            if found is None:
                minute = key[1]
                for old in [k for k in self._answers if k[1] != minute]:
                    del self._answers[old]
                if len(self._answers) >= MAX_ADMISSIONS:
                    self._answers.clear()
                found = self._answers[key] = {}
            return found

    def current(self, session: Session, stubs: Iterable[tuple[int, int]]) -> dict[int, Cached]:
        """The copies of (id, version) pairs, reloading those missing or at another version."""
        wanted = list(stubs)
        with self._lock:
            stale = [iid for iid, version in wanted
                     if (c := self._rows.get(iid)) is None or c.version != version]
        fresh = _load(session, stale) if stale else {}
        with self._lock:
            if len(self._rows) + len(fresh) > MAX_ENTRIES:
                self._rows.clear()  # rare and harmless: the next requests reload what they need
            self._rows.update(fresh)
            return {iid: self._rows[iid] for iid, _v in wanted if iid in self._rows}

    @staticmethod
    def remember(cached: Cached, key: AdmissionKey, admitted: bool) -> None:
        if len(cached.admitted) >= MAX_ADMISSIONS:
            cached.admitted.clear()
        cached.admitted[key] = admitted

    @staticmethod
    def remember_offer(cached: Cached, key: tuple[AdmissionKey, int], offered: list[Any]) -> None:
        if len(cached.offered) >= MAX_ADMISSIONS:
            cached.offered.clear()
        cached.offered[key] = offered


_caches: "weakref.WeakKeyDictionary[Engine, ViewCache]" = weakref.WeakKeyDictionary()
_caches_lock = threading.Lock()


def cache_for(engine: Engine) -> ViewCache:
    with _caches_lock:
        found = _caches.get(engine)
        if found is None:
            found = _caches[engine] = ViewCache()
        return found


_COLUMNS = (
    col(Initiative.id), col(Initiative.version), col(Initiative.flow), col(Initiative.flow_version),
    col(Initiative.state), col(Initiative.municipality), col(Initiative.faction), col(Initiative.data),
    col(Initiative.title), col(Initiative.updated_at),
)


def _load(session: Session, ids: Sequence[int]) -> dict[int, Cached]:
    out: dict[int, Cached] = {}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        participants: dict[int, dict[str, ParticipantView]] = {}
        for iid, municipality, status, pdata in session.connection().execute(
            select(
                col(Participant.initiative_id), col(Participant.municipality),
                col(Participant.status), col(Participant.data),
            ).where(col(Participant.initiative_id).in_(chunk))
        ):
            participants.setdefault(iid, {})[municipality] = ParticipantView(status, dict(pdata))
        rows = session.connection().execute(select(*_COLUMNS).where(col(Initiative.id).in_(chunk)))
        for iid, version, flow, flow_version, state, municipality, faction, data, title, updated in rows:
            view = InitiativeView(
                id=iid, flow=flow, state=state, municipality=municipality, faction=faction,
                data=dict(data), participants=participants.get(iid, {}),
            )
            out[iid] = Cached(version, flow_version, view, title, updated)
    return out
