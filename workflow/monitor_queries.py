"""The voortgangsmonitor's figures as SQL: counted, timed and ranked in the database.

A year's report must not read the whole event log: everything here reads the state changes of
the period and, per initiative, one entry before it, from the partial index `ix_event_move`
(workflow/models.py) that holds every column these statements need. The database finds each
state's start and end (LAG over an initiative's changes), takes the differences and counts and
sums with GROUP BY; Python receives those figures and, for the medians, the durations as plain
numbers. Runs unchanged on SQLite (>= 3.35, for MATERIALIZED) and PostgreSQL; the differences
(JSON, time arithmetic, the index hint) are in the small helpers below.
"""

import statistics
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

MOVE_INDEX = "ix_event_move"
IS_MOVE = "(e.from_state IS NULL OR e.from_state <> e.to_state)"  # as the index's predicate
SPENDING_TRIGGER = "report_spending"
SPENDING = f"e.trigger = '{SPENDING_TRIGGER}'"  # as the predicate of `ix_event_spending`


@dataclass(frozen=True)
class Spread:
    """Durations in days: how many, their median and the longest."""

    count: int
    median: float
    longest: float


@dataclass
class Figures:
    by_municipality: dict[tuple[str, str], int] = field(default_factory=dict)  # (slug, state) → n
    committed_by_group: dict[str | None, int] = field(default_factory=dict)  # cents per group
    waiting: dict[str, Spread] = field(default_factory=dict)  # open states at the end: their age
    stays: dict[str, Spread] = field(default_factory=dict)  # states left in the period
    entered: dict[str, int] = field(default_factory=dict)  # moves into a state in the period
    new: int = 0  # initiatives whose first state change falls in the period


@dataclass(frozen=True)
class Scope:
    """Which initiatives a report covers, as a condition on `initiative i` with its values."""

    condition: str
    params: dict[str, Any]


class Sql:
    """The dialect's spelling of what the statements need."""

    def __init__(self, conn: Connection) -> None:
        self.sqlite = conn.dialect.name == "sqlite"

    def json_text(self, key: str) -> str:
        if self.sqlite:
            return f"json_extract(i.data, '$.{key}')"
        return f"(i.data ->> '{key}')"

    def json_int(self, key: str) -> str:
        if self.sqlite:
            return f"json_extract(i.data, '$.{key}')"
        return f"CAST(i.data ->> '{key}' AS BIGINT)"

    def days(self, later: str, earlier: str) -> str:
        """`later - earlier` in days, as a float."""
        if self.sqlite:
            return f"(julianday({later}) - julianday({earlier}))"
        return f"(CAST(EXTRACT(EPOCH FROM ({later} - {earlier})) AS DOUBLE PRECISION) / 86400)"

    def moment(self, name: str) -> str:
        """A bound time, usable in arithmetic."""
        return f":{name}" if self.sqlite else f"CAST(:{name} AS TIMESTAMPTZ)"

    def time(self, moment: datetime) -> Any:
        """`moment` as the driver compares stored times: SQLAlchemy's SQLite text, else aware."""
        utc = moment.astimezone(UTC)
        return utc.strftime("%Y-%m-%d %H:%M:%S.%f") if self.sqlite else utc

    @property
    def hint(self) -> str:
        # SQLite's planner would take the index on `at` and read every event of the period
        # from the table; the partial index holds all the columns and is smaller still.
        return f" INDEXED BY {MOVE_INDEX}" if self.sqlite else ""

    def state_at(self, before: str) -> str:
        """`state, since` of each `initiative i` at `:before` and the FROM clause that gives them."""
        if self.sqlite:
            return (f"{self.newest_move('to_state', 'i.id', before)} AS state,"
                    f" {self.newest_move('at', 'i.id', before)} AS since FROM initiative i")
        # One index step for both columns.
        return ("m.to_state AS state, m.at AS since FROM initiative i LEFT JOIN LATERAL"
                f" (SELECT e.to_state, e.at FROM event e WHERE e.initiative_id = i.id AND e.at < :{before}"
                f" AND {IS_MOVE} ORDER BY e.at DESC, e.id DESC LIMIT 1) m ON true")

    def newest_move(self, column: str, initiative: str, before: str) -> str:
        """`column` of an initiative's newest state change before `:before`: one index step."""
        return (f"(SELECT e.{column} FROM event e{self.hint} WHERE e.initiative_id = {initiative}"
                f" AND e.at < :{before} AND {IS_MOVE} ORDER BY e.at DESC, e.id DESC LIMIT 1)")


def scope(sql: Sql, as_of: datetime, groups: Collection[str] | None) -> Scope:
    """The initiatives created before `as_of`; with `groups`, only those of these working groups."""
    params: dict[str, Any] = {"high": sql.time(as_of)}
    condition = "i.created_at < :high"
    if groups is not None:
        if not groups:
            return Scope(condition + " AND 1 = 0", params)
        names = [f"g{n}" for n in range(len(groups))]
        params.update(zip(names, sorted(groups), strict=True))
        condition += f" AND {sql.json_text('working_group')} IN ({', '.join(':' + n for n in names)})"
    return Scope(condition, params)


def _in(prefix: str, values: Iterable[str], params: dict[str, Any]) -> str:
    """`(:prefix0, :prefix1, …)` with the values added to `params`; if empty, a list of one
    state name no state has (so that `IN` is never and `NOT IN` always true)."""
    names = []
    for n, value in enumerate(sorted(values)):
        params[f"{prefix}{n}"] = value
        names.append(f":{prefix}{n}")
    return f"({', '.join(names)})" if names else "('')"


def figures(
    conn: Connection,
    scope: Scope,
    start: datetime,
    as_of: datetime,
    *,
    year: int,
    final_states: Collection[str],
    committed_states: Collection[str],
) -> Figures:
    """Everything the monitor counts and times, in one statement.

    `scoped`: per initiative its state at `as_of` and since when (one index step each);
    `moves`: the state changes of the period with the one before (LAG over the initiative's
    changes; for its first change in the period, one index step back to before the period).
    """
    sql = Sql(conn)  # PostgreSQL's JIT is off for our connections (workflow/db.py)
    params = {**scope.params, "low": sql.time(start), "year": year}
    finals = _in("f", final_states, params)
    committed = _in("c", committed_states, params)
    statement = f"""
WITH scoped AS MATERIALIZED (
  SELECT i.id AS id, i.municipality AS municipality, {sql.json_text('working_group')} AS wg,
    {sql.json_int('budget_cents')} AS budget, {sql.json_int('framework_year')} AS fyear,
    {sql.state_at('high')}
  WHERE {scope.condition}
),
waiting AS MATERIALIZED (
  SELECT state, {sql.days(sql.moment('high'), 'since')} AS days FROM scoped
  WHERE since IS NOT NULL AND state NOT IN {finals}
),
moves AS MATERIALIZED (
  SELECT e.initiative_id AS iid, e.at AS at, e.to_state AS state,
    LAG(e.at) OVER w AS prev_at, LAG(e.to_state) OVER w AS prev_state
  FROM event e{sql.hint} WHERE e.at >= :low AND e.at < :high AND {IS_MOVE}
  WINDOW w AS (PARTITION BY e.initiative_id ORDER BY e.at, e.id)
),
period AS MATERIALIZED (
  SELECT m.state AS state, m.at AS at,
    COALESCE(m.prev_at, {sql.newest_move('at', 'm.iid', 'low')}) AS prev_at,
    COALESCE(m.prev_state, {sql.newest_move('to_state', 'm.iid', 'low')}) AS prev_state
  FROM moves m WHERE m.iid IN (SELECT id FROM scoped)
),
stays AS MATERIALIZED (
  SELECT prev_state AS state, {sql.days('at', 'prev_at')} AS days FROM period WHERE prev_at IS NOT NULL
)
SELECT 'count' AS kind, municipality AS name, state, COUNT(*) AS n, CAST(NULL AS DOUBLE PRECISION) AS days
  FROM scoped WHERE state IS NOT NULL GROUP BY municipality, state
UNION ALL SELECT 'committed', wg, NULL, SUM(budget), NULL FROM scoped
  WHERE state IN {committed} AND (fyear IS NULL OR fyear = :year) GROUP BY wg
UNION ALL SELECT 'waiting', state, NULL, NULL, days FROM waiting
UNION ALL SELECT 'stay', state, NULL, NULL, days FROM stays
UNION ALL SELECT 'entered', state, NULL, COUNT(*), NULL FROM period
  WHERE prev_at IS NOT NULL GROUP BY state
UNION ALL SELECT 'new', NULL, NULL, COUNT(*), NULL FROM period WHERE prev_at IS NULL
"""
    out = Figures()
    waiting: dict[str, list[float]] = defaultdict(list)
    stays: dict[str, list[float]] = defaultdict(list)
    for kind, name, state, n, days in conn.execute(text(statement), params).all():
        if kind == "stay":
            stays[name].append(days)
        elif kind == "waiting":
            waiting[name].append(days)
        elif kind == "count":
            out.by_municipality[(name, state)] = int(n)
        elif kind == "committed":
            out.committed_by_group[name] = int(n or 0)
        elif kind == "entered":
            out.entered[name] = int(n)
        else:
            out.new = int(n)
    out.waiting = {state: _spread(found) for state, found in waiting.items()}
    out.stays = {state: _spread(found) for state, found in stays.items()}
    return out


def _spread(days: list[float]) -> Spread:
    # PostgreSQL's EXTRACT gives exact seconds; SQLite's julianday() a float close to them.
    return Spread(len(days), float(statistics.median(days)), float(max(days)))


def spent_by_group(
    conn: Connection, scope: Scope, start: datetime, as_of: datetime
) -> Mapping[str | None, int]:
    """Cents reported spent in the period (events `report_spending`), per working group.

    The trigger is written into the statement (not bound) so that SQLite can prove the partial
    index `ix_event_spending` applies: only the spending events of the period are read.
    """
    sql = Sql(conn)
    amount = ("json_extract(e.data, '$.amount_cents')" if sql.sqlite
              else "CAST(e.data ->> 'amount_cents' AS BIGINT)")
    statement = text(
        f"SELECT {sql.json_text('working_group')}, SUM(CAST({amount} AS BIGINT)) FROM event e"
        " JOIN initiative i ON i.id = e.initiative_id"
        f" WHERE {SPENDING} AND e.at >= :low AND e.at < :high AND {scope.condition}"
        f" GROUP BY {sql.json_text('working_group')}"
    )
    params = {**scope.params, "low": sql.time(start)}
    return {group: int(cents or 0) for group, cents in conn.execute(statement, params)}
