"""Benchmark of the one write path (`Engine.submit` / `Engine.fire`) against the raw driver.

Run on demand (the default test run deselects the `benchmark` marker):

    pytest -m benchmark tests/benchmarks/test_write_path.py -s
    BENCH_N=500 pytest -m benchmark tests/benchmarks/test_write_path.py -s
    BENCH_PROFILE=1 pytest -m benchmark tests/benchmarks/test_write_path.py -s   # + cProfile of the engine

N initiatives go through the full Groeiagenda route (submit and nine steps: ten transitions each),
once through the engine and once as a baseline: the same rows written with the plain driver
(`sqlite3` / `psycopg`), one transaction per transition, against a database made the same way
(a migrated, seeded copy from `workflow.testing`, so tables, indexes and foreign keys are the
same). The baseline replays exactly what the engine wrote for a warm-up initiative: per
transition it locks/selects the initiative, updates state, version and data, inserts the event and
the participants, closes the old state's deadlines (cancelling their reminders) on every change of
state, opens the new state's deadline and reminders, and inserts the same outbox rows: unrendered, with
the frozen context the engine wrote (the drain renders them; see test_drain.py). Same durability settings: WAL,
synchronous=NORMAL, foreign keys on, BEGIN IMMEDIATE (see `workflow/db.py`).

The two runs take turns (BENCH_ROUNDS parts each, default 10), so that a change in the machine's
load during the run weighs on both alike; on PostgreSQL the baseline gets a database of its own
(`<database>_baseline`, made when missing), and where it cannot be made the engine runs first and
the baseline after it in the one database.

Speed is printed, not asserted; what is asserted is that both runs completed and wrote the
expected number of rows.
"""

import cProfile
import io
import itertools
import json
import os
import pstats
import secrets
import sqlite3
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from workflow.app import App, open_app, settle
from workflow.testing import People, default_people, fresh_postgres, fresh_sqlite
from workflow.testing import test_settings as settings_for  # aliased: pytest would collect test_*

pytestmark = pytest.mark.benchmark

N = int(os.environ.get("BENCH_N", "200"))
WARMUP = 2  # initiatives driven before the clock starts (template compile, statement caches)
PROFILE = os.environ.get("BENCH_PROFILE", "") not in ("", "0")
PROFILE_N = int(os.environ.get("BENCH_PROFILE_N", "50"))
PG_URL = os.environ.get("INITIATIEF_TEST_DATABASE_URL", "")
GOAL = 0.5
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "10"))  # turns the two runs take (SQLite)

SUBMIT = ("fractie_sliedrecht", {
    "title": "Betaalbare woningen langs de Merwede",
    "summary": "Samen bouwen aan betaalbare woningen voor starters in de Drechtsteden.",
})
ROUTE: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("adopt_motion", "griffie_sliedrecht", {}),
    ("route_to_working_group", "college_sliedrecht", {"working_group": "bouwen-en-wonen"}),
    ("record_participation", "secretaris_wonen", {"municipality": "dordrecht", "choice": "join"}),
    ("start_elaboration", "secretaris_wonen", {}),
    ("submit_plan", "secretaris_wonen",
     {"approach": "Gezamenlijke aanpak per kern", "budget": 250000, "planning": "Q1-Q4 2027",
      "core_task": "BW-2", "year": 2027}),
    ("decide_go", "secretaris_wonen", {}),
    ("confirm_fits_frameworks", "secretaris_wonen", {}),
    ("record_agreements", "secretaris_wonen", {"form": "sok", "date": "2026-12-01"}),
    ("complete", "secretaris_wonen", {"result": "Tweehonderd starterswoningen opgeleverd."}),
)
TRANSITIONS_PER_ROUTE = 1 + len(ROUTE)
TABLES = ("initiative", "event", "participant", "deadline", "reminder", "outbox_message")


# --- driving the engine ---------------------------------------------------------------------


def drive_route(app: App, people: People) -> int:
    engine = app.engine
    who, data = SUBMIT
    iid = engine.submit(actor=people[who], flow="groeiagenda", data=data).initiative_id
    for trigger, who, data in ROUTE:
        engine.fire(iid, trigger, actor=people[who], data=data)
    return iid


def run_engine(app: App, people: People, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        drive_route(app, people)
    return time.perf_counter() - start


# --- what the engine wrote for one initiative: the baseline's script ------------------------


@dataclass
class Step:
    trigger: str
    actor_name: str
    from_state: str | None
    to_state: str
    event_data: str
    comment: str
    participants: list[tuple[str, str, str]] = field(default_factory=list)  # municipality, status, data
    deadline: tuple[str, str, Any] | None = None  # state, label, due_at
    reminders: list[Any] = field(default_factory=list)  # remind_at
    messages: list[tuple[str, str, str, str, str, str, str, str, str]] = field(default_factory=list)


@dataclass
class Plan:
    flow: str
    flow_version: int
    title: str
    summary: str
    municipality: str
    faction: str | None
    data: str  # the initiative's data after the route; written on every step (an upper bound)
    steps: list[Step]
    rows: dict[str, int]  # rows per table for one initiative


def _json(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def capture_plan(app: App, initiative_id: int) -> Plan:
    """Read back every row the engine wrote for one initiative, step by step.

    Rows belong to the step whose event has the same timestamp: the engine stamps the event,
    participants, deadlines and reminders of one step with the same `ctx.now`.
    """
    with app.db.engine.connect() as conn:
        one = {"i": initiative_id}
        ini = conn.execute(text(
            "SELECT flow, flow_version, title, summary, municipality, faction, data"
            " FROM initiative WHERE id = :i"), one).one()
        events = conn.execute(text(
            "SELECT id, at, actor_name, \"trigger\", from_state, to_state, data, comment"
            " FROM event WHERE initiative_id = :i ORDER BY id"), one).all()
        participants = conn.execute(text(
            "SELECT municipality, status, data, updated_at FROM participant"
            " WHERE initiative_id = :i ORDER BY id"), one).all()
        deadlines = conn.execute(text(
            "SELECT id, state, label, due_at, created_at FROM deadline"
            " WHERE initiative_id = :i ORDER BY id"), one).all()
        reminders = conn.execute(text(
            "SELECT r.deadline_id, r.remind_at FROM reminder r JOIN deadline d ON d.id = r.deadline_id"
            " WHERE d.initiative_id = :i ORDER BY r.id"), one).all()
        messages = conn.execute(text(
            "SELECT event_id, template, recipient, recipient_name, audience, context, subject,"
            " body_text, body_html, attachments"
            " FROM outbox_message WHERE initiative_id = :i ORDER BY id"), one).all()
    steps = []
    for e in events:
        step = Step(e.trigger, e.actor_name, e.from_state, e.to_state, _json(e.data), e.comment)
        step.participants = [
            (p.municipality, p.status, _json(p.data)) for p in participants if p.updated_at == e.at
        ]
        for d in deadlines:
            if d.created_at == e.at:
                step.deadline = (d.state, d.label, d.due_at)
                step.reminders = [r.remind_at for r in reminders if r.deadline_id == d.id]
        step.messages = [
            (m.template, m.recipient, m.recipient_name, m.audience, m.context, m.subject,
             m.body_text, m.body_html, _json(m.attachments))
            for m in messages
            if m.event_id == e.id
        ]
        steps.append(step)
    rows = {
        "initiative": 1,
        "event": len(events),
        "participant": len(participants),
        "deadline": len(deadlines),
        "reminder": len(reminders),
        "outbox_message": len(messages),
    }
    assert sum(len(s.participants) for s in steps) == len(participants), "participant not matched"
    assert sum(s.deadline is not None for s in steps) == len(deadlines), "deadline not matched"
    return Plan(ini.flow, ini.flow_version, ini.title, ini.summary, ini.municipality, ini.faction,
                _json(ini.data), steps, rows)


# --- the baselines: the same writes with the plain driver -----------------------------------


def _sqlite_ts(moment: datetime) -> str:
    # How SQLAlchemy stores a (UTC) datetime in SQLite.
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


_ids = itertools.count(1)
_prefix = secrets.token_hex(8)


def _message_id() -> str:
    # Made as `workflow.outbox.new_message_id` makes them: a process's prefix and a counter, so
    # the unique index on message_id grows at one end in both runs.
    return f"<{_prefix}.{next(_ids)}@initiatief.local>"


def run_sqlite_baseline(path: str, plan: Plan, user_ids: dict[str, int], n: int) -> float:
    conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    for pragma in ("journal_mode=WAL", "foreign_keys=ON", "busy_timeout=30000", "synchronous=NORMAL"):
        conn.execute(f"PRAGMA {pragma}")
    cur = conn.cursor()
    submitter = user_ids[plan.steps[0].actor_name]
    start = time.perf_counter()
    for _ in range(n):
        iid = 0
        for step in plan.steps:
            now = _sqlite_ts(datetime.now(UTC))
            cur.execute("BEGIN IMMEDIATE")
            try:
                if step.from_state is None:
                    cur.execute(
                        "INSERT INTO initiative (flow, flow_version, state, version, title, summary,"
                        " municipality, faction, submitted_by, data, created_at, updated_at)"
                        " VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (plan.flow, plan.flow_version, step.to_state, plan.title, plan.summary,
                         plan.municipality, plan.faction, submitter, plan.data, now, now),
                    )
                    iid, version = int(cur.lastrowid or 0), 1
                else:
                    state, version, _data = cur.execute(
                        "SELECT state, version, data FROM initiative WHERE id = ?", (iid,)
                    ).fetchone()
                    assert state == step.from_state
                    version += 1
                    cur.execute(
                        "UPDATE initiative SET state = ?, version = ?, data = ?, updated_at = ?"
                        " WHERE id = ?",
                        (step.to_state, version, plan.data, now, iid),
                    )
                cur.execute(
                    "INSERT INTO event (initiative_id, version, at, actor_id, actor_name, \"trigger\","
                    " from_state, to_state, data, comment) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (iid, version, now, user_ids[step.actor_name], step.actor_name, step.trigger,
                     step.from_state, step.to_state, step.event_data, step.comment),
                )
                event_id = cur.lastrowid
                cur.executemany(
                    "INSERT INTO participant (initiative_id, municipality, status, data, updated_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    [(iid, m, s, d, now) for m, s, d in step.participants],
                )
                if step.from_state is not None and step.from_state != step.to_state:
                    cur.execute(
                        "UPDATE reminder SET cancelled = 1 WHERE sent_at IS NULL AND deadline_id IN"
                        " (SELECT id FROM deadline WHERE initiative_id = ? AND state = ?"
                        " AND status = 'open')",
                        (iid, step.from_state),
                    )
                    cur.execute(
                        "UPDATE deadline SET status = 'met', closed_at = ?"
                        " WHERE initiative_id = ? AND state = ? AND status = 'open'",
                        (now, iid, step.from_state),
                    )
                if step.deadline is not None:
                    state, label, due_at = step.deadline
                    cur.execute(
                        "INSERT INTO deadline (initiative_id, state, label, due_at, status, created_at)"
                        " VALUES (?, ?, ?, ?, 'open', ?)",
                        (iid, state, label, due_at, now),
                    )
                    deadline_id = cur.lastrowid
                    cur.executemany(
                        "INSERT INTO reminder (deadline_id, remind_at, cancelled) VALUES (?, ?, 0)",
                        [(deadline_id, at) for at in step.reminders],
                    )
                cur.executemany(
                    "INSERT INTO outbox_message (message_id, initiative_id, event_id, template,"
                    " recipient, recipient_name, audience, context, subject, body_text, body_html,"
                    " attachments, status, attempts, next_attempt_at, last_error, created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, '', ?)",
                    [(_message_id(), iid, event_id, *m, now, now)
                     for m in step.messages],
                )
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def run_postgres_baseline(url: str, plan: Plan, user_ids: dict[str, int], n: int) -> float:
    import psycopg
    from psycopg.types.json import Json

    def as_json(value: str) -> Json:
        return Json(json.loads(value))

    ini_data = as_json(plan.data)
    steps = [
        (s, as_json(s.event_data), [(m, st, as_json(d)) for m, st, d in s.participants],
         [(*m[:8], as_json(m[8])) for m in s.messages])
        for s in plan.steps
    ]
    submitter = user_ids[plan.steps[0].actor_name]
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        cur = conn.cursor()
        start = time.perf_counter()
        for _ in range(n):
            iid = 0
            for step, event_data, participants, messages in steps:
                now = datetime.now(UTC)
                with conn.transaction():
                    if step.from_state is None:
                        cur.execute(
                            "INSERT INTO initiative (flow, flow_version, state, version, title, summary,"
                            " municipality, faction, submitted_by, data, created_at, updated_at)"
                            " VALUES (%s, %s, %s, 1, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
                            (plan.flow, plan.flow_version, step.to_state, plan.title, plan.summary,
                             plan.municipality, plan.faction, submitter, ini_data, now, now),
                        )
                        iid, version = cur.fetchone()[0], 1  # type: ignore[index]
                    else:
                        state, version, _data = cur.execute(
                            "SELECT state, version, data FROM initiative WHERE id = %s FOR UPDATE",
                            (iid,),
                        ).fetchone()  # type: ignore[misc]
                        assert state == step.from_state
                        version += 1
                        cur.execute(
                            "UPDATE initiative SET state = %s, version = %s, data = %s, updated_at = %s"
                            " WHERE id = %s",
                            (step.to_state, version, ini_data, now, iid),
                        )
                    event_id = cur.execute(
                        "INSERT INTO event (initiative_id, version, at, actor_id, actor_name, \"trigger\","
                        " from_state, to_state, data, comment)"
                        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
                        (iid, version, now, user_ids[step.actor_name], step.actor_name, step.trigger,
                         step.from_state, step.to_state, event_data, step.comment),
                    ).fetchone()[0]  # type: ignore[index]
                    if participants:
                        cur.executemany(
                            "INSERT INTO participant (initiative_id, municipality, status, data,"
                            " updated_at) VALUES (%s, %s, %s, %s, %s)",
                            [(iid, m, s, d, now) for m, s, d in participants],
                        )
                    if step.from_state is not None and step.from_state != step.to_state:
                        cur.execute(
                            "UPDATE reminder SET cancelled = true WHERE sent_at IS NULL AND deadline_id IN"
                            " (SELECT id FROM deadline WHERE initiative_id = %s AND state = %s"
                            " AND status = 'open')",
                            (iid, step.from_state),
                        )
                        cur.execute(
                            "UPDATE deadline SET status = 'met', closed_at = %s"
                            " WHERE initiative_id = %s AND state = %s AND status = 'open'",
                            (now, iid, step.from_state),
                        )
                    if step.deadline is not None:
                        state, label, due_at = step.deadline
                        deadline_id = cur.execute(
                            "INSERT INTO deadline (initiative_id, state, label, due_at, status,"
                            " created_at) VALUES (%s, %s, %s, %s, 'open', %s) RETURNING id",
                            (iid, state, label, due_at, now),
                        ).fetchone()[0]  # type: ignore[index]
                        if step.reminders:
                            cur.executemany(
                                "INSERT INTO reminder (deadline_id, remind_at, cancelled)"
                                " VALUES (%s, %s, false)",
                                [(deadline_id, at) for at in step.reminders],
                            )
                    if messages:
                        cur.executemany(
                            "INSERT INTO outbox_message (message_id, initiative_id, event_id, template,"
                            " recipient, recipient_name, audience, context, subject, body_text,"
                            " body_html, attachments, status, attempts, next_attempt_at, last_error,"
                            " created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s,"
                            " 'pending', 0, %s, '', %s)",
                            [(_message_id(), iid, event_id, *m, now, now)
                             for m in messages],
                        )
        elapsed = time.perf_counter() - start
    return elapsed


# --- the shared procedure -------------------------------------------------------------------


@dataclass
class Outcome:
    backend: str
    run: str
    transitions: int
    seconds: float
    outbox_rows: int

    @property
    def rate(self) -> float:
        return self.transitions / self.seconds


@contextmanager
def opened(directory: Path, url: str) -> Iterator[tuple[App, People]]:
    directory.mkdir(parents=True, exist_ok=True)
    app = open_app(settings_for(directory, url))
    try:
        yield app, default_people(app)
    finally:
        app.db.dispose()


def counts(app: App) -> dict[str, int]:
    queries = {t: f"SELECT count(*) FROM {t}" for t in TABLES}
    queries["deadline met"] = "SELECT count(*) FROM deadline WHERE status = 'met'"
    queries["reminder cancelled"] = "SELECT count(*) FROM reminder WHERE cancelled"
    with app.db.engine.connect() as conn:
        return {k: int(conn.execute(text(q)).scalar_one()) for k, q in queries.items()}


def states(app: App) -> dict[str, int]:
    with app.db.engine.connect() as conn:
        return dict(conn.execute(text("SELECT state, count(*) FROM initiative GROUP BY state")).all())


def user_ids(app: App) -> dict[str, int]:
    with app.db.engine.connect() as conn:
        return dict(conn.execute(text("SELECT name, id FROM user_account")).all())


def first_id(app: App) -> int:
    with app.db.engine.connect() as conn:
        return int(conn.execute(text("SELECT min(id) FROM initiative")).scalar_one())


def expect(plan: Plan, initiatives: int) -> dict[str, int]:
    rows = {t: plan.rows[t] * initiatives for t in TABLES}
    # The route leaves every state with a deadline, so each is met and its reminders cancelled.
    rows["deadline met"] = rows["deadline"]
    rows["reminder cancelled"] = rows["reminder"]
    return rows


def _parts(n: int, rounds: int) -> list[int]:
    base, extra = divmod(n, rounds)
    return [base + (1 if k < extra else 0) for k in range(rounds) if base or k < extra]


def _checked(app: App, plan: Plan, initiatives: int) -> dict[str, int]:
    rows = counts(app)
    assert rows == expect(plan, initiatives)
    assert states(app) == {"completed": initiatives}
    return rows


def _baseline_ready(
    app: App, url: str, plan: Plan, baseline: Callable[[str, Plan, dict[str, int], int], float]
) -> dict[str, int]:
    """The baseline's warm-up, and the honesty check: its first initiative, read back the same
    way as the engine's, has the same rows."""
    ids = user_ids(app)
    baseline(url, plan, ids, WARMUP)
    assert capture_plan(app, first_id(app)) == plan
    return ids


def benchmark(
    backend: str,
    engine_db: Callable[[], str],
    baseline_db: Callable[[], str],
    baseline: Callable[[str, Plan, dict[str, int], int], float],
    tmp_path: Path,
    *,
    shared_database: bool = False,
) -> None:
    transitions = N * TRANSITIONS_PER_ROUTE
    total = N + WARMUP
    with opened(tmp_path / "engine", engine_db()) as (app, people):
        first = drive_route(app, people)
        for _ in range(WARMUP - 1):
            drive_route(app, people)
        plan = capture_plan(app, first)
        assert [s.trigger for s in plan.steps] == ["submit", *(t for t, _, _ in ROUTE)]
        settle()  # as `serve` and `worker` do once they are up
        if shared_database:
            # PostgreSQL: one database, so the engine runs first, then it is emptied and reseeded.
            engine_seconds = run_engine(app, people, N)
            engine_rows = _checked(app, plan, total)
            if PROFILE:
                profile_engine(app, people, min(N, PROFILE_N), backend)
            app.db.dispose()
            url = baseline_db()
            with opened(tmp_path / "baseline", url) as (base, _people):
                ids = _baseline_ready(base, url, plan, baseline)
                baseline_seconds = baseline(url, plan, ids, N)
                baseline_rows = _checked(base, plan, total)
        else:
            # Two databases: the runs take turns in ROUNDS parts, so that a change in the
            # machine's load during the run weighs on both alike.
            url = baseline_db()
            with opened(tmp_path / "baseline", url) as (base, _people):
                ids = _baseline_ready(base, url, plan, baseline)
                engine_seconds = baseline_seconds = 0.0
                for part in _parts(N, ROUNDS):
                    engine_seconds += run_engine(app, people, part)
                    baseline_seconds += baseline(url, plan, ids, part)
                baseline_rows = _checked(base, plan, total)
            engine_rows = _checked(app, plan, total)
            if PROFILE:
                profile_engine(app, people, min(N, PROFILE_N), backend)
    assert baseline_rows == engine_rows

    messages = plan.rows["outbox_message"] * N
    report(
        Outcome(backend, "engine", transitions, engine_seconds, messages),
        Outcome(backend, "baseline", transitions, baseline_seconds, messages),
        plan,
    )


def report(engine: Outcome, baseline: Outcome, plan: Plan) -> None:
    ratio = engine.rate / baseline.rate
    per_route = ", ".join(f"{t} {plan.rows[t]}" for t in TABLES)
    lines = [
        "",
        f"write path, {engine.backend}: N={N} initiatives x {TRANSITIONS_PER_ROUTE} transitions"
        f" (full Groeiagenda route; {WARMUP} warm-up initiatives not timed)",
        f"rows per initiative: {per_route}",
        f"{'backend':<10} {'run':<9} {'transitions':>11} {'seconds':>9} {'transitions/s':>14}"
        f" {'outbox rows':>12}",
    ]
    for o in (engine, baseline):
        lines.append(
            f"{o.backend:<10} {o.run:<9} {o.transitions:>11} {o.seconds:>9.3f} {o.rate:>14.1f}"
            f" {o.outbox_rows:>12}"
        )
    verdict = "meets" if ratio >= GOAL else "below"
    lines.append(f"ratio engine/baseline: {ratio:.3f} ({verdict} the goal of {GOAL})")
    print("\n".join(lines))


# --- profiling (BENCH_PROFILE=1) ------------------------------------------------------------

AREAS = (
    ("jinja2 (template rendering)", ("/jinja2/", "<template>", "notifications/")),
    ("sqlalchemy (ORM, core, compile)", ("/sqlalchemy/",)),
    ("sqlmodel", ("/sqlmodel/",)),
    ("pydantic", ("/pydantic/", "pydantic_core")),
    ("transitions (state machine)", ("/transitions/",)),
    ("driver (sqlite3 / psycopg)", ("sqlite3.", "/psycopg/", "psycopg", "_sqlite3")),
    ("workflow + flows (project code)", ("/workflow/", "/flows/")),
    ("zoneinfo / holidays / datetime", ("/holidays/", "zoneinfo", "datetime")),
    ("json", ("/json/", "json.")),
    ("uuid", ("uuid",)),
)


def _area(key: tuple[str, int, str]) -> str:
    filename, _line, name = key
    where = f"{filename}:{name}"
    for label, marks in AREAS:
        if any(m in where for m in marks):
            return label
    return "other (stdlib, builtins)"


def profile_engine(app: App, people: People, n: int, backend: str) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    start = time.perf_counter()
    for _ in range(n):
        drive_route(app, people)
    elapsed = time.perf_counter() - start
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = sum(v[2] for v in stats.stats.values())  # type: ignore[attr-defined]
    by_area: dict[str, float] = defaultdict(float)
    for key, value in stats.stats.items():  # type: ignore[attr-defined]
        by_area[_area(key)] += value[2]
    print(f"\nprofile of the engine, {backend}: {n} initiatives, {elapsed:.2f}s under cProfile")
    print("self time by area:")
    for label, seconds in sorted(by_area.items(), key=lambda kv: -kv[1]):
        print(f"  {label:<34} {seconds:7.2f}s {100 * seconds / total:5.1f}%")
    for order, count in (("cumulative", 45), ("tottime", 25)):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(order).print_stats(count)
        print(f"top {count} by {order}:")
        print("\n".join(out.getvalue().splitlines()[6:]))


# --- the tests ------------------------------------------------------------------------------


def test_write_path_sqlite(tmp_path: Path) -> None:
    def engine_db() -> str:
        (tmp_path / "engine").mkdir()
        return fresh_sqlite(tmp_path / "engine")

    def baseline_db() -> str:
        (tmp_path / "baseline").mkdir()
        return fresh_sqlite(tmp_path / "baseline")

    def sqlite_baseline(url: str, plan: Plan, ids: dict[str, int], n: int) -> float:
        return run_sqlite_baseline(url.removeprefix("sqlite:///"), plan, ids, n)

    benchmark("sqlite", engine_db, baseline_db, sqlite_baseline, tmp_path)


def test_write_path_postgres(tmp_path: Path) -> None:
    if not PG_URL.startswith(("postgresql", "postgres:")):
        pytest.skip(
            "PostgreSQL part skipped: set INITIATIEF_TEST_DATABASE_URL to a PostgreSQL URL "
            "(e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test) to run it"
        )
    url = PG_URL
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url.removeprefix(prefix)
    second = _second_database(url)
    if second is None:
        # One database: the engine runs first, then it is emptied and reseeded for the baseline.
        benchmark("postgresql", lambda: fresh_postgres(url), lambda: fresh_postgres(url),
                  run_postgres_baseline, tmp_path, shared_database=True)
    else:  # a database of its own for the baseline: the runs take turns, as on SQLite
        benchmark("postgresql", lambda: fresh_postgres(url), lambda: fresh_postgres(second),
                  run_postgres_baseline, tmp_path)


def _second_database(url: str) -> str | None:
    """`<database>_baseline` on the same server, made when missing; None when the user may
    not make databases."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    given = make_url(url)
    name = f"{given.database}_baseline"
    engine = create_engine(given, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
            if exists is None:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    except SQLAlchemyError:
        return None
    finally:
        engine.dispose()
    return given.set(database=name).render_as_string(hide_password=False)
