"""Every difference between the two databases the store runs on, in one object per backend.

The rest of ``crm_core.sql`` speaks SQLAlchemy and asks ``Database.dialect`` (or ``dialect_named``) where
SQLite and PostgreSQL must be spoken to differently so that they store and answer exactly the same:

- connecting: SQLite needs foreign keys switched on per connection and WAL for readers beside a writer;
- migrating: SQLite alters tables by rebuilding them (Alembic's batch mode);
- values: SQLite has no time zones, dates or decimals, so it is sent naive UTC text and plain text;
- ordering: PostgreSQL's collation may be a locale, so text is compared bytewise ("C") to match SQLite;
- upserts and ids: each backend's own INSERT ... ON CONFLICT, and ids drawn ahead for bulk inserts;
- speed: on SQLite the store talks to aiosqlite (or to the file, on a thread) past SQLAlchemy's layers;
- reports: time buckets, durations, greatest and least are spelled differently in SQL.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Engine, Integer, Select, cast, create_engine, func, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine.interfaces import Dialect as SqlAlchemyDialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.orm import DeclarativeBase, InstrumentedAttribute

from crm_core.domain.errors import UnsupportedDatabase
from crm_core.sql.instance import AdvisoryClaim, FileClaim, InstanceClaim, NoClaim

Convert = Callable[[Any], object]
Text = ColumnElement[str] | InstrumentedAttribute[str]


class Dialect(Protocol):
    """What the store must know of a backend. ``SQLITE`` and ``POSTGRESQL`` are the two there are."""

    @property
    def name(self) -> str:
        """SQLAlchemy's name of the backend (``engine.dialect.name``)."""
        ...

    @property
    def render_as_batch(self) -> bool:
        """Whether migrations alter a table by copying it into a new one (Alembic's batch mode)."""
        ...

    @property
    def date_param(self) -> Convert:
        """A date column's value (a date, or its ISO text) as the driver takes it."""
        ...

    @property
    def money_param(self) -> Convert:
        """A money column's value (a Decimal, or its text) as the driver takes it."""
        ...

    @property
    def instant_param(self) -> Convert | None:
        """An aware datetime as the driver takes it for a ``UtcDateTime`` column; None: as it is."""
        ...

    def connect_statements(self, *, enforce_foreign_keys: bool) -> tuple[str, ...]:
        """What to run on every new connection before the store uses it."""
        ...

    @property
    def engine_options(self) -> Mapping[str, object]:
        """``create_async_engine``'s keywords for this backend (its connection pool)."""
        ...

    def reads(self, engine: AsyncEngine) -> AsyncEngine:
        """``engine`` as the store's reads take it (``engine.connect()``, never a write)."""
        ...

    def stored_instant(self, at: datetime) -> datetime:
        """An aware UTC datetime as ``UtcDateTime`` hands it to SQLAlchemy."""
        ...

    def plain_instant(self, at: datetime) -> object:
        """``at`` as a statement sent past SQLAlchemy's type processing must bind it."""
        ...

    def read_instant(self, value: Any) -> datetime:
        """A timestamp column as ``fetch_plain`` returns it, as an aware UTC datetime."""
        ...

    def bytewise(self, column: Text) -> ColumnElement[str]:
        """``column`` compared and sorted by code point."""
        ...

    def insert(self, table: type[DeclarativeBase]) -> postgresql.Insert | sqlite.Insert:
        """The backend's own INSERT, for ``on_conflict_do_update``; both spell that the same."""
        ...

    async def reserve_ids(self, connection: AsyncConnection, table: str, count: int) -> list[int]:
        """``count`` fresh ids for rows of ``table`` that the caller inserts with explicit ids."""
        ...

    async def fetch_plain(
        self, connection: AsyncConnection, statement: Select[Any], params: Mapping[str, object]
    ) -> list[tuple[Any, ...]]:
        """The rows of ``statement`` as plain tuples, values as the driver returns them."""
        ...

    async def executemany(
        self, connection: AsyncConnection, sql: str, rows: Sequence[Sequence[object]]
    ) -> None:
        """Run the compiled, positional ``sql`` once per row, in ``connection``'s transaction."""
        ...

    def file_reader(self, engine: AsyncEngine) -> Engine | None:
        """A synchronous engine reading the same database on a thread, where that is faster; else None."""
        ...

    def instance_claim(self, engine: AsyncEngine) -> InstanceClaim:
        """How one service claims the database for itself (``crm_core.sql.instance``)."""
        ...

    def bucket(self, at: Any, seconds: int) -> ColumnElement[int]:
        """The ``seconds``-long UTC bucket a timestamp column falls in: Unix seconds // ``seconds``."""
        ...

    def seconds_between(self, start: Any, end: Any) -> Any:
        """``end - start`` in seconds, to the millisecond."""
        ...

    def greatest(self, a: Any, b: Any) -> Any: ...

    def least(self, a: Any, b: Any) -> Any: ...


class _Sqlite:
    name = "sqlite"
    render_as_batch = True  # SQLite's ALTER TABLE cannot change or drop most things

    def __init__(self) -> None:
        self.date_param: Convert = _date_text
        self.money_param: Convert = _money_text
        self.instant_param: Convert | None = _sqlite_instant  # naive UTC text, as SQLAlchemy writes it

    def connect_statements(self, *, enforce_foreign_keys: bool) -> tuple[str, ...]:
        # Foreign keys are off per connection unless asked, which would skip the ON DELETE rules in orm;
        # WAL lets the screen pop read while a call is being logged.
        return f"PRAGMA foreign_keys={'ON' if enforce_foreign_keys else 'OFF'}", "PRAGMA journal_mode=WAL"

    @property
    def engine_options(self) -> Mapping[str, object]:
        return {}

    def reads(self, engine: AsyncEngine) -> AsyncEngine:
        return engine  # the driver begins no transaction for a SELECT: nothing to save

    def stored_instant(self, at: datetime) -> datetime:
        return at.replace(tzinfo=None)  # no time zones: naive UTC, which also sorts correctly as text

    def plain_instant(self, at: datetime) -> object:
        return _sqlite_instant(at)

    def read_instant(self, value: Any) -> datetime:
        # Text; parsing the offset with it is several times faster than replace(tzinfo=...) after it.
        return datetime.fromisoformat(value + "+00:00") if isinstance(value, str) else value

    def bytewise(self, column: Text) -> ColumnElement[str]:
        return column.expression if isinstance(column, InstrumentedAttribute) else column  # its default

    def insert(self, table: type[DeclarativeBase]) -> postgresql.Insert | sqlite.Insert:
        return sqlite.insert(table)

    async def reserve_ids(self, connection: AsyncConnection, table: str, count: int) -> list[int]:
        # One writer at a time: continue after the largest id, as SQLite itself would. ``table`` is ours.
        largest = await connection.scalar(text(f"SELECT coalesce(max(id), 0) FROM {table}"))
        return list(range(int(largest or 0) + 1, int(largest or 0) + 1 + count))

    async def fetch_plain(
        self, connection: AsyncConnection, statement: Select[Any], params: Mapping[str, object]
    ) -> list[tuple[Any, ...]]:
        # Straight to aiosqlite, in one trip to its thread instead of four (cursor, execute, fetch, close).
        sql, order, defaults = _plain_statement(statement, connection.dialect)
        values = {**defaults, **params}
        driver = (await connection.get_raw_connection()).driver_connection
        assert driver is not None  # a checked-out connection always has one
        return [tuple(row) for row in await driver.execute_fetchall(sql, [values[name] for name in order])]

    async def executemany(
        self, connection: AsyncConnection, sql: str, rows: Sequence[Sequence[object]]
    ) -> None:
        # Straight to aiosqlite, on the same connection and so in the same transaction: SQLAlchemy's
        # cursor layer costs as much again as SQLite's own work here.
        driver = (await connection.get_raw_connection()).driver_connection
        assert driver is not None  # a checked-out connection always has one
        await driver.executemany(sql, rows)

    def file_reader(self, engine: AsyncEngine) -> Engine | None:
        # Not for an in-memory database: a second engine would not see the first one's data.
        if _in_memory(engine):
            return None
        return create_engine(engine.url.set(drivername="sqlite"))

    def instance_claim(self, engine: AsyncEngine) -> InstanceClaim:
        database = engine.url.database
        return NoClaim() if _in_memory(engine) or database is None else FileClaim(Path(database).resolve())

    def bucket(self, at: Any, seconds: int) -> ColumnElement[int]:
        return cast(func.strftime("%s", at), Integer) // seconds

    def seconds_between(self, start: Any, end: Any) -> Any:
        # julianday arithmetic keeps milliseconds exactly.
        return func.round((func.julianday(end) - func.julianday(start)) * 86400.0, 3)

    def greatest(self, a: Any, b: Any) -> Any:
        return func.max(a, b)

    def least(self, a: Any, b: Any) -> Any:
        return func.min(a, b)


def _in_memory(engine: AsyncEngine) -> bool:
    url = engine.url
    return url.database in (None, "", ":memory:") or url.query.get("mode") == "memory"


class _PostgreSql:
    name = "postgresql"
    render_as_batch = False

    def instance_claim(self, engine: AsyncEngine) -> InstanceClaim:
        return AdvisoryClaim(engine)

    def __init__(self) -> None:
        self.date_param: Convert = _date_value
        self.money_param: Convert = _money_value
        self.instant_param: Convert | None = None  # asyncpg takes aware datetimes as they are

    def connect_statements(self, *, enforce_foreign_keys: bool) -> tuple[str, ...]:
        return ()  # foreign keys are always on; a migration's table rebuilds need no switch

    @property
    def engine_options(self) -> Mapping[str, object]:
        # As many connections at most as SQLAlchemy's default (5 + 10 overflow), but 10 kept open: past
        # the fifth, each was opened for a burst and closed after it (a TLS attempt, a login and asyncpg's
        # type set-up every time), which a follower at 50 calls/s did all the time (bench/README.md).
        return {"pool_size": 10, "max_overflow": 5}

    def reads(self, engine: AsyncEngine) -> AsyncEngine:
        # Each statement in its own transaction: asyncpg otherwise sends a BEGIN before the first and a
        # ROLLBACK when the connection goes back to the pool, three round trips for a one-query read (the
        # screen pop's lookup, a session or user check). Nothing changes for what a read sees: at READ
        # COMMITTED, the default and ours, every statement of a transaction takes a snapshot of its own.
        return engine.execution_options(isolation_level="AUTOCOMMIT")

    def stored_instant(self, at: datetime) -> datetime:
        return at  # timestamptz

    def plain_instant(self, at: datetime) -> object:
        return at

    def read_instant(self, value: Any) -> datetime:
        at: datetime = value  # asyncpg's own aware datetime
        return at

    def bytewise(self, column: Text) -> ColumnElement[str]:
        return column.collate("C")  # the database's collation may be a locale ordering text otherwise

    def insert(self, table: type[DeclarativeBase]) -> postgresql.Insert | sqlite.Insert:
        return postgresql.insert(table)

    async def reserve_ids(self, connection: AsyncConnection, table: str, count: int) -> list[int]:
        # Drawn from the table's sequence, so concurrent writers never share one. ``table`` is ours.
        drawn = text(f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, :n)")
        return list((await connection.execute(drawn, {"n": count})).scalars())

    async def fetch_plain(
        self, connection: AsyncConnection, statement: Select[Any], params: Mapping[str, object]
    ) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in await connection.execute(statement, params)]

    async def executemany(
        self, connection: AsyncConnection, sql: str, rows: Sequence[Sequence[object]]
    ) -> None:
        await connection.exec_driver_sql(sql, [tuple(row) for row in rows])

    def file_reader(self, engine: AsyncEngine) -> Engine | None:
        return None  # a server: its async driver is as quick as any second engine

    def bucket(self, at: Any, seconds: int) -> ColumnElement[int]:
        return cast(func.floor(func.extract("epoch", at) / seconds), Integer)

    def seconds_between(self, start: Any, end: Any) -> Any:
        return func.round(func.extract("epoch", end - start), 3)

    def greatest(self, a: Any, b: Any) -> Any:
        return func.greatest(a, b)

    def least(self, a: Any, b: Any) -> Any:
        return func.least(a, b)


def _date_text(day: date | str | None) -> str | None:
    return day.isoformat() if isinstance(day, date) else day


def _date_value(day: date | str | None) -> date | None:
    return date.fromisoformat(day) if isinstance(day, str) else day


def _money_text(amount: Decimal | str | None) -> str | None:
    return None if amount is None else str(amount)


def _money_value(amount: Decimal | str | None) -> Decimal | None:
    return Decimal(amount) if isinstance(amount, str) else amount


@functools.lru_cache(maxsize=16)
def _sqlite_instant(at: datetime | None) -> str | None:
    # Cached: every row of an import batch carries the same "now", three times.
    return None if at is None else at.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


@functools.lru_cache(maxsize=16)  # module-level statements, compiled once per engine's dialect
def _plain_statement(
    statement: Select[Any], dialect: SqlAlchemyDialect
) -> tuple[str, tuple[str, ...], dict[str, object]]:
    compiled = statement.compile(dialect=dialect)
    return str(compiled), tuple(compiled.positiontup or ()), dict(compiled.params)


SQLITE: Dialect = _Sqlite()
POSTGRESQL: Dialect = _PostgreSql()
_BY_NAME: dict[str, Dialect] = {dialect.name: dialect for dialect in (SQLITE, POSTGRESQL)}


def dialect_named(name: str) -> Dialect:
    """The dialect of SQLAlchemy's backend ``name``; raises ``UnsupportedDatabase`` for any other."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise UnsupportedDatabase(name) from None
