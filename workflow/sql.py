"""Statements of the hot paths, compiled once per dialect and run on the transaction's own cursor.

SQLAlchemy builds, hashes and compiles a statement on every `execute`; in the write path that
was more than half of the time of a step (measured: 58 %). A `Prepared` statement is an ordinary
Core statement (so the SQL, the quoting and the value conversions are SQLAlchemy's, per dialect),
compiled once; running it only converts the values with the column types' own processors and
hands them to the DBAPI cursor of the session's connection, inside the same transaction.
Use it for the few statements that run on every step; everything else uses the ORM.
"""

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import DateTime, Dialect, TypeDecorator
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.types import TypeEngine

from workflow.db import Executor, WriteTx

Processor = Callable[[Any], Any] | None


@dataclass(frozen=True)
class _Compiled:
    sql: str
    order: tuple[str, ...] | None  # parameter order for positional drivers (sqlite3), else named
    binds: dict[str, Processor]
    defaults: dict[str, Any]  # values written into the statement itself, e.g. `status == "open"`
    results: tuple[Processor, ...]
    ordered: tuple[tuple[str, Processor], ...]  # positional drivers: `binds` in `order`


class Prepared:
    """One Core statement; `run`, `many`, `one` and `all` execute it in a session's transaction."""

    def __init__(
        self,
        statement: ClauseElement,
        fill: Mapping[str, Callable[[], Any]] | None = None,
        *,
        plain: "Prepared | None" = None,
    ) -> None:
        self.statement = statement
        self.plain = plain  # for `insert_id`: the INSERT without its RETURNING
        # Values made when the caller gives none (e.g. a column's default), like Core would.
        self.fill = dict(fill or {})
        self._by_dialect: dict[str, _Compiled] = {}
        self._constants: dict[tuple[str, int], tuple[Mapping[str, Any], dict[str, Any]]] = {}

    def _compile(self, dialect: Dialect) -> _Compiled:
        found = self._by_dialect.get(dialect.name)
        if found is None:
            compiled = cast(SQLCompiler, self.statement.compile(dialect=dialect))
            binds: dict[str, Processor] = {
                name: _bind_processor(param.type, dialect) for name, param in compiled.binds.items()
            }
            defaults = {
                name: param.value for name, param in compiled.binds.items() if not param.required
            }
            columns = getattr(self.statement, "selected_columns", None)
            if columns is None:
                columns = getattr(self.statement, "_returning", ()) or ()
            # The dialect's own variant of each type: e.g. SQLite stores datetimes as text.
            results = tuple(c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns)
            order = tuple(compiled.positiontup or ()) if dialect.positional else None
            ordered = tuple((name, binds[name]) for name in order or ())
            found = _Compiled(str(compiled), order, binds, defaults, results, ordered)
            self._by_dialect[dialect.name] = found
        return found

    def _params(
        self,
        compiled: _Compiled,
        values: Mapping[str, Any],
        binds: Mapping[str, Processor] | None = None,
        fixed: Mapping[str, Any] | None = None,
    ) -> Any:
        if compiled.order is not None and binds is None and not fixed:
            # The write path's case: one list in the driver's order, no dict in between.
            params = []
            for name, proc in compiled.ordered:
                value = values[name] if name in values else self._value(compiled, values, name)
                params.append(value if proc is None else proc(value))
            return params
        converted = dict(fixed) if fixed else {}
        for name, proc in (compiled.binds if binds is None else binds).items():
            value = self._value(compiled, values, name)
            converted[name] = value if proc is None else proc(value)
        if compiled.order is not None:
            return [converted[name] for name in compiled.order]
        return converted

    def _rows(
        self,
        compiled: _Compiled,
        rows: Iterable[Mapping[str, Any]],
        binds: Mapping[str, Processor],
        fixed: Mapping[str, Any],
    ) -> Iterator[Any]:
        """`_params` of each row; for a positional driver (sqlite3) the shared values are put in
        their places once and each row only fills the rest."""
        if compiled.order is None or not fixed:
            for row in rows:
                yield self._params(compiled, row, binds, fixed)
            return
        template = [fixed.get(name) for name in compiled.order]
        slots = [(i, name, binds[name]) for i, name in enumerate(compiled.order) if name not in fixed]
        for row in rows:
            values = template.copy()
            for i, name, proc in slots:
                value = self._value(compiled, row, name)
                values[i] = value if proc is None else proc(value)
            yield values

    def _value(self, compiled: _Compiled, row: Mapping[str, Any], name: str) -> Any:
        """The row's value for a parameter; else what `fill` makes, else the statement's own."""
        if name in row:
            return row[name]
        if name in self.fill:
            return self.fill[name]()
        return compiled.defaults[name]

    def run(self, session: Executor, values: Mapping[str, Any] | None = None) -> Any:
        """Execute once; returns the DBAPI cursor (for `rowcount`)."""
        dialect, dbapi = _connection(session)
        compiled = self._compile(dialect)
        cursor = _cursor(session, dbapi)
        cursor.execute(compiled.sql, self._params(compiled, values or {}))
        return cursor

    def many(
        self,
        session: Executor,
        rows: Iterable[Mapping[str, Any]],
        shared: Mapping[str, Any] | None = None,
        *,
        constant: Mapping[str, Any] | None = None,
    ) -> None:
        """Execute once per row; `shared` holds values equal for every row, converted once
        per call (a step's outbox rows share a dozen), and `constant` such values that never
        change (e.g. `outbox.UNRENDERED`): converted once per process. (The sweep's thousands
        of rows go through `workflow.outbox_rows` instead.)"""
        dialect, dbapi = _connection(session)
        compiled = self._compile(dialect)
        binds: Mapping[str, Processor] = compiled.binds
        fixed: dict[str, Any] = {}
        if constant:
            fixed = dict(self._constant(dialect, constant, binds))
        if shared:
            for name, value in shared.items():
                fixed[name] = value if (proc := binds[name]) is None else proc(value)
        if fixed:
            binds = {name: proc for name, proc in binds.items() if name not in fixed}
        params = list(self._rows(compiled, rows, binds, fixed))
        if params:
            _cursor(session, dbapi).executemany(compiled.sql, params)

    def _constant(
        self, dialect: Dialect, values: Mapping[str, Any], binds: Mapping[str, Processor]
    ) -> Mapping[str, Any]:
        key = (dialect.name, id(values))
        found = self._constants.get(key)
        if found is None or found[0] is not values:
            converted = {
                name: value if (proc := binds[name]) is None else proc(value)
                for name, value in values.items()
            }
            found = self._constants[key] = (values, converted)  # `values` kept: its id stays its
        return found[1]

    def all(self, session: Executor, values: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        dialect, dbapi = _connection(session)
        compiled = self._compile(dialect)
        cursor = _cursor(session, dbapi)
        cursor.execute(compiled.sql, self._params(compiled, values or {}))
        return _convert(cursor.fetchall(), compiled.results)

    def insert_id(self, session: Executor, values: Mapping[str, Any]) -> int:
        """Run an INSERT … RETURNING id made with `plain`, and give the id. On SQLite the
        plain INSERT runs and the driver's `lastrowid` answers: RETURNING costs SQLite a
        temporary table per row (3 µs an insert, measured, against 2 for the insert)."""
        dialect, _dbapi = _connection(session)
        if self.plain is not None and dialect.name == "sqlite":
            return int(self.plain.run(session, values).lastrowid)
        found = self.one(session, values)
        if found is None:
            raise RuntimeError("INSERT … RETURNING gave no row")
        return int(found[0])

    def one(self, session: Executor, values: Mapping[str, Any] | None = None) -> tuple[Any, ...] | None:
        rows = self.all(session, values)
        return rows[0] if rows else None


def _bind_processor(type_: TypeEngine[Any], dialect: Dialect) -> Processor:
    proc = type_.dialect_impl(dialect).bind_processor(dialect)
    if proc is None or not isinstance(type_.impl if isinstance(type_, TypeDecorator) else type_, DateTime):
        return proc
    # One converter per kind of datetime column, shared by every statement (see `_moment`).
    key = (dialect.name, repr(type_))
    found = _MOMENTS.get(key)
    if found is None:
        found = _MOMENTS[key] = _moment(proc)
    return found


_MOMENTS: dict[tuple[str, str], Callable[[Any], Any]] = {}


def _moment(proc: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`proc` remembering its last moment: a step writes the same `now` into six or eight
    columns of five statements, and SQLite's datetime conversion (formatting a string) is the
    costliest of its conversions. Datetimes are immutable: the same object converts the same."""
    last: tuple[Any, Any] = (None, None)  # one tuple: threads see a pair, never half of one

    def convert(value: Any) -> Any:
        nonlocal last
        seen, result = last
        if value is not seen or value is None:
            result = proc(value)
            last = (value, result)
        return result

    return convert


def _connection(session: Executor) -> tuple[Dialect, Any]:
    """The dialect and DB-API connection of the session's current transaction.

    Asking the session each time walks its event and state machinery (measured: a fifth of a
    step); the answer is kept for as long as the same transaction is open.
    """
    if isinstance(session, WriteTx):
        return session.dialect, session.dbapi
    transaction = session.get_transaction()
    kept = session.info.get(_KEPT)
    if kept is not None and transaction is not None and kept[0] is transaction:
        return kept[1], kept[2]
    connection = session.connection()
    dbapi = connection.connection
    session.info[_KEPT] = (session.get_transaction(), connection.dialect, dbapi)
    return connection.dialect, dbapi


_KEPT = "workflow.sql.connection"


def _cursor(session: Executor, dbapi: Any) -> Any:
    """A cursor to run one statement on: a step's own, made once (a statement reads its
    result before the next one runs), else a new one."""
    if isinstance(session, WriteTx):
        return session.cursor()
    return dbapi.cursor()


def _convert(rows: list[Sequence[Any]], processors: tuple[Processor, ...]) -> list[tuple[Any, ...]]:
    """The rows with each column's result processor applied; only the columns that have one are
    touched (the inbox reads hundreds of rows of which one column in three needs converting)."""
    active = [(i, proc) for i, proc in enumerate(processors) if proc is not None]
    if not active:
        return [tuple(row) for row in rows]
    converted = []
    for row in rows:
        values = list(row)
        for i, proc in active:
            values[i] = proc(values[i])
        converted.append(tuple(values))
    return converted
