"""Concurrent writers: optimistic versions and row locks let exactly one of two equal writers win."""

import threading
import time

import pytest
from sqlmodel import func, select

from tests.routes import drive
from workflow.app import open_app
from workflow.errors import Conflict, StaleVersion, TransitionNotAllowed
from workflow.models import Event, Initiative, Participant


def _writers(app, n):
    """Engines with their own connection pools: real parallel connections to the database."""
    engines = [open_app(app.settings).engine for _ in range(n)]
    for e in engines:
        # Hold the lock a while inside the transaction so that the writers really overlap.
        e._fault = lambda point: time.sleep(0.15) if point == "after_state_update" else None
    return engines


def _race(engines, work):
    barrier = threading.Barrier(len(engines))
    outcomes = [None] * len(engines)

    def run(i):
        barrier.wait()
        try:
            outcomes[i] = work(i, engines[i])
        except Exception as exc:  # the outcome is what we assert on
            outcomes[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(engines))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    for e in engines:
        e.db.dispose()
    return outcomes


@pytest.mark.parametrize("round_", range(3))
def test_same_expected_version_exactly_one_wins(app, engine, people, round_):
    iid = drive(engine, people, "go_decision")
    with app.db.read() as s:
        version = s.get(Initiative, iid).version
    sec = people["secretaris_wonen"]

    def work(i, e):
        if i == 0:
            return e.fire(iid, "decide_go", actor=sec, expected_version=version)
        return e.fire(iid, "decide_no_go", actor=sec, data={"reason": "Te duur."},
                      expected_version=version)

    outcomes = _race(_writers(app, 2), work)

    conflicts = [o for o in outcomes if isinstance(o, StaleVersion)]
    wins = [o for o in outcomes if not isinstance(o, Exception)]
    assert (1, 1) == (len(wins), len(conflicts)), outcomes
    assert "verouderde_versie" == conflicts[0].code
    with app.db.read() as s:
        row = s.get(Initiative, iid)
        assert (wins[0].state, version + 1) == (row.state, row.version)
        n_events = s.exec(select(func.count()).select_from(Event).where(Event.initiative_id == iid)).one()
        assert version + 1 == n_events


def test_same_step_twice_without_version_second_sees_new_state(app, engine, people):
    iid = drive(engine, people, "go_decision")
    sec = people["secretaris_wonen"]
    outcomes = _race(_writers(app, 2), lambda i, e: e.fire(iid, "decide_go", actor=sec))
    assert 1 == sum(isinstance(o, TransitionNotAllowed) for o in outcomes), outcomes
    assert 1 == sum(not isinstance(o, Exception) for o in outcomes), outcomes


def test_parallel_participation_answers_are_all_kept(app, engine, people):
    """No lost update: every writer's change is in the participants and the version count."""
    iid = drive(engine, people, "tabled")
    sec = people["secretaris_wonen"]
    municipalities = ["dordrecht", "papendrecht", "zwijndrecht", "alblasserdam"]

    def work(i, e):
        return e.fire(iid, "record_participation", actor=sec,
                      data={"municipality": municipalities[i], "choice": "join"})

    engines = _writers(app, len(municipalities))
    for e in engines:
        e._fault = lambda point: None  # no sleep: maximal contention on the same row
    outcomes = _race(engines, work)
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    with app.db.read() as s:
        row = s.get(Initiative, iid)
        statuses = {p.municipality: p.status for p in
                    s.exec(select(Participant).where(Participant.initiative_id == iid))}
    assert {"sliedrecht", *municipalities} == set(statuses)
    assert 3 + len(municipalities) == row.version
    assert sorted(o.version for o in outcomes) == list(range(4, 4 + len(municipalities)))


def test_conflict_is_a_conflict(app):
    assert issubclass(StaleVersion, Conflict)
    assert issubclass(TransitionNotAllowed, Conflict)
    assert (409, 4) == (StaleVersion.http_status, StaleVersion.exit_code)
