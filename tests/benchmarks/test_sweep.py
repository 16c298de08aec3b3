"""Benchmark of one deadline sweep with 100,000 pending deadlines of which 1,000 are due.

Run on demand (the default run deselects the `benchmark` marker):

    pytest -m benchmark tests/benchmarks/test_sweep.py -s
    INITIATIEF_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test_a \\
        pytest -m benchmark tests/benchmarks/test_sweep.py -s
    BENCH_PROFILE=1 pytest -m benchmark tests/benchmarks/test_sweep.py -s   # + cProfile of the full sweep

The same 1,000 due items (500 deadlines with a due reminder, 500 deadlines past their date) are
swept twice in one run: first as the only rows in the tables (the baseline), then again with
99,000 further open deadlines (each with two future reminders) around them. The ratio shows
whether the indexes keep the idle rows out of the sweep's way. Also measured: the idle sweep
(nothing due, which is what almost every 30-second run finds) and the sweep without rendering
(claim and mark only: the part the database does). Figures are printed, not asserted; what is
asserted is that each sweep handled exactly the 1,000 due items.
"""

import cProfile
import os
import pstats
import statistics
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, insert, text, update
from sqlmodel import select

from workflow.app import settle
from workflow.engine import Engine
from workflow.models import Deadline, Initiative, OutboxMessage, Reminder

pytestmark = pytest.mark.benchmark

PENDING = int(os.environ.get("BENCH_PENDING", "100000"))
DUE = int(os.environ.get("BENCH_DUE", "1000"))
GOAL_MS = 50.0
PROFILE = os.environ.get("BENCH_PROFILE", "") not in ("", "0")
REPEAT = int(os.environ.get("BENCH_REPEAT", "5"))  # the full sweep, timed this often: the median
NOW = datetime.now(UTC).replace(microsecond=0)


def _initiatives(app, count):
    rows = [
        {"flow": "groeiagenda", "flow_version": 1, "state": "with_college", "version": 2,
         "title": f"Voorstel {n}", "summary": "", "municipality": "sliedrecht", "faction": "cda",
         "data": {}, "created_at": NOW, "updated_at": NOW}
        for n in range(count)
    ]
    with app.db.write() as session:
        first = session.exec(select(Initiative.id).order_by(Initiative.id.desc())).first() or 0
        for start in range(0, count, 10_000):
            session.exec(insert(Initiative), params=rows[start:start + 10_000])
        return list(range(first + 1, first + count + 1))


def _deadlines(app, initiative_ids, *, due_at, reminders):
    """One open deadline per initiative, with the given reminder moments."""
    with app.db.write() as session:
        first = session.exec(select(Deadline.id).order_by(Deadline.id.desc())).first() or 0
        rows = [{"initiative_id": i, "state": "with_college", "label": "Reactie van het college",
                 "due_at": due_at, "status": "open", "created_at": NOW} for i in initiative_ids]
        for start in range(0, len(rows), 10_000):
            session.exec(insert(Deadline), params=rows[start:start + 10_000])
        ids = range(first + 1, first + len(rows) + 1)
        reminder_rows = [{"deadline_id": d, "remind_at": at, "cancelled": False} for d in ids for at in reminders]
        for start in range(0, len(reminder_rows), 10_000):
            session.exec(insert(Reminder), params=reminder_rows[start:start + 10_000])
        return list(ids)


def _reset_due(app, deadline_ids):
    with app.db.write() as session:
        session.exec(update(Deadline).where(Deadline.id.in_(deadline_ids))
                     .values(status="open", escalated_at=None, claimed_by=None, claimed_at=None))
        session.exec(update(Reminder).where(Reminder.deadline_id.in_(deadline_ids))
                     .values(sent_at=None, cancelled=False, claimed_by=None, claimed_at=None))
        session.exec(delete(OutboxMessage))
    if not app.db.is_sqlite:
        with app.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE deadline, reminder, outbox_message, initiative"))
    else:
        with app.db.engine.begin() as conn:
            conn.execute(text("ANALYZE"))


def _timed(engine, worker):
    from workflow.deadlines import sweep

    profiler = cProfile.Profile() if PROFILE and worker == "full" else None
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    result = sweep(engine, worker=worker, now=NOW, batch_size=DUE)
    elapsed = (time.perf_counter() - started) * 1000
    if profiler:
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    return elapsed, result


def test_sweep_100k_pending_1k_due(app, people):
    half = DUE // 2
    due_ids = _initiatives(app, DUE)
    reminded = _deadlines(app, due_ids[:half], due_at=NOW + timedelta(days=3),
                          reminders=(NOW - timedelta(hours=1), NOW + timedelta(days=2)))
    passed = _deadlines(app, due_ids[half:], due_at=NOW - timedelta(hours=1),
                        reminders=(NOW - timedelta(days=3),))
    due = reminded + passed
    bare = Engine(app.db, app.registry, renderer=None, clock=lambda: NOW)
    app.engine  # noqa: B018  # built before settling, as `worker` does
    settle()

    # Baseline: the due items alone.
    _reset_due(app, due)
    _timed(app.engine, "warm-up")  # compiles templates, warms statement caches
    _reset_due(app, due)
    _timed(bare, "warm-up-bare")
    _reset_due(app, due)
    base_ms, base = _timed(app.engine, "baseline")
    _reset_due(app, due)
    base_bare_ms, _ = _timed(bare, "baseline-bare")

    # The same due items among PENDING open deadlines.
    idle_ids = _initiatives(app, PENDING - DUE)
    _deadlines(app, idle_ids, due_at=NOW + timedelta(weeks=6),
               reminders=(NOW + timedelta(weeks=4), NOW + timedelta(weeks=5)))
    full_runs, bare_runs = [], []
    for n in range(REPEAT):
        _reset_due(app, due)
        full_ms, full = _timed(app.engine, "full" if n == 0 else "full-again")  # profiles once
        full_runs.append(full_ms)
    idle_ms, idle = _timed(app.engine, "idle")
    for _ in range(REPEAT):
        _reset_due(app, due)
        bare_ms, bare_result = _timed(bare, "bare")
        bare_runs.append(bare_ms)
    full_ms, bare_ms = statistics.median(full_runs), statistics.median(bare_runs)

    expected = (half, half, half * 2)
    assert expected == (base.reminders, base.escalations, base.superseded + base.reminders)
    assert expected == (full.reminders, full.escalations, full.superseded + full.reminders)
    assert (half, half) == (bare_result.reminders, bare_result.escalations)
    assert (0, 0) == (idle.reminders, idle.escalations)
    with app.db.read() as session:
        pending = session.exec(select(Deadline.id).where(Deadline.status == "open")).all()
    assert PENDING - half == len(pending)

    kind = "SQLite" if app.db.is_sqlite else "PostgreSQL"
    print(f"\n== sweep on {kind}: {PENDING:,} open deadlines, {DUE:,} due "
          f"({half} reminders, {half} passed dates; {full.messages:,} messages rendered)")
    print(f"baseline (only the {DUE:,} due rows)      : {base_ms:8.1f} ms")
    print(f"with {PENDING:,} pending, median of {REPEAT}      : {full_ms:8.1f} ms  "
          f"(ratio to baseline {full_ms / base_ms:.2f}; goal {GOAL_MS:.0f} ms; "
          f"fastest {min(full_runs):.1f}, slowest {max(full_runs):.1f})")
    print(f"claim and mark only, baseline            : {base_bare_ms:8.1f} ms")
    print(f"claim and mark only, with {PENDING:,} pending: {bare_ms:8.1f} ms  "
          f"(ratio {bare_ms / base_bare_ms:.2f})")
    print(f"idle sweep (nothing due), {PENDING:,} pending : {idle_ms:8.1f} ms  (goal {GOAL_MS:.0f} ms)")
    print(f"per due item, rendering included         : {full_ms / DUE:8.2f} ms")
