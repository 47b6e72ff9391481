"""What every module of ``crm_core.sql`` shares: the engine, the default phone region, the clock, and the
few places where SQLite and PostgreSQL must be spoken to differently so that they answer the same.

Reads run on one connection in one transaction, so a multi-query read (a customer 360, a page with its
phone numbers) sees one snapshot; writes run in ``begin()`` and either all land or none does.
"""

from __future__ import annotations

import asyncio
import functools
import json
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Connection,
    Date,
    Engine,
    Numeric,
    Row,
    Select,
    bindparam,
    create_engine,
    insert,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.orm import DeclarativeBase, InstrumentedAttribute

from crm_core.domain.phones import PhoneNumber
from crm_core.sql.orm import PhoneNumberRow, TagList, UtcDateTime
from crm_core.sql.rows import PHONE_COLUMNS, phone

_Converters = tuple[tuple[int, Callable[[Any], object]], ...]
T = TypeVar("T")


def utc_now() -> datetime:
    return datetime.now(UTC)


class Database:
    def __init__(self, engine: AsyncEngine, region: str, clock: Callable[[], datetime] = utc_now) -> None:
        self.engine = engine
        self.region = region
        self.clock = clock
        self.backend = engine.dialect.name
        self._reader = _file_reader(engine)

    async def close(self) -> None:
        await self.engine.dispose()
        if self._reader is not None:
            self._reader.dispose()

    async def read(self, reading: Callable[[Connection], T]) -> T:
        """``reading`` run with a synchronous connection, in one trip, for the reads of several queries
        agents wait for (the customer 360). On a SQLite file: in a worker thread, on a pysqlite
        connection of its own (one hop to a thread and back, where aiosqlite takes about four per query;
        WAL lets it read beside the writer). Elsewhere: ``run_sync`` on an async connection."""
        if self._reader is None:
            async with self.engine.connect() as connection:
                return await connection.run_sync(reading)
        return await asyncio.to_thread(self._read_file, self._reader, reading)

    async def read_here(self, reading: Callable[[Connection], T]) -> T:
        """``reading`` as ``read`` runs it, but on a SQLite file right here on the caller's thread: for one
        indexed query (the screen pop's lookup, about 0.15 ms), which costs less than a hop to any thread
        and back (bench/CRM.md). It blocks the loop that long; a read of several queries takes ``read``."""
        if self._reader is None:
            return await self.read(reading)
        return self._read_file(self._reader, reading)

    @staticmethod
    def _read_file(reader: Engine, reading: Callable[[Connection], T]) -> T:
        with reader.connect() as connection:
            return reading(connection)

    def bytewise(self, column: ColumnElement[str] | InstrumentedAttribute[str]) -> ColumnElement[str]:
        """``column`` compared and sorted by code point on both backends (SQLite's default; PostgreSQL's
        database collation may be a locale that orders text differently)."""
        if self.backend == "postgresql":
            return column.collate("C")
        return column.expression if isinstance(column, InstrumentedAttribute) else column

    async def reserve_ids(self, connection: AsyncConnection, table: str, count: int) -> list[int]:
        """``count`` fresh ids for rows of ``table`` that the caller inserts with explicit ids.

        A bulk INSERT ... RETURNING cannot promise to return ids in parameter order on SQLite (SQLAlchemy
        then inserts one row per statement), so bulk writers take their ids first. PostgreSQL draws them
        from the table's sequence; SQLite, which lets one writer at a time in, continues after the
        largest id, as it would itself. ``table`` is one of ours, never input.
        """
        if self.backend == "postgresql":
            drawn = text(
                f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, :n)"
            )
            return list((await connection.execute(drawn, {"n": count})).scalars())
        largest = await connection.scalar(text(f"SELECT coalesce(max(id), 0) FROM {table}"))
        return list(range(int(largest or 0) + 1, int(largest or 0) + 1 + count))

    async def fetch_plain(
        self, statement: Select[Any], params: Mapping[str, object]
    ) -> list[tuple[Any, ...]]:
        """The rows of ``statement`` as plain tuples, values as the driver returns them (no SQLAlchemy
        result processing: the caller converts, as ``reports`` does). For reads of many plain rows.

        On SQLite the compiled statement goes straight to aiosqlite, in one trip to its thread instead of
        four (cursor, execute, fetch, close); PostgreSQL takes the ordinary path.
        """
        async with self.engine.connect() as connection:
            if self.backend != "sqlite":
                return [tuple(row) for row in await connection.execute(statement, params)]
            sql, order, defaults = self._plain_statement(statement)
            values = {**defaults, **params}
            driver = (await connection.get_raw_connection()).driver_connection
            assert driver is not None  # a checked-out connection always has one
            return [
                tuple(row) for row in await driver.execute_fetchall(sql, [values[name] for name in order])
            ]

    def plain_instant(self, at: datetime) -> object:
        """``at`` as ``fetch_plain`` must bind it: on SQLite, the naive UTC text the column holds."""
        return _sqlite_instant(at) if self.backend == "sqlite" else at

    @staticmethod
    def read_instant(value: Any) -> datetime:
        """A timestamp column as ``fetch_plain`` returns it (text on SQLite), as an aware UTC datetime."""
        # Parsing the offset with the text is several times faster than replace(tzinfo=...) after it.
        return datetime.fromisoformat(value + "+00:00") if isinstance(value, str) else value

    @functools.lru_cache(maxsize=16)  # noqa: B019 - module-level statements, one Database per store
    def _plain_statement(self, statement: Select[Any]) -> tuple[str, tuple[str, ...], dict[str, object]]:
        compiled = statement.compile(dialect=self.engine.dialect)
        return str(compiled), tuple(compiled.positiontup or ()), dict(compiled.params)

    async def bulk_insert(
        self,
        connection: AsyncConnection,
        table: type[DeclarativeBase],
        names: tuple[str, ...],
        rows: Sequence[Sequence[object]],
    ) -> None:
        """INSERT ``rows`` (each with a value per column of ``names``, in that order) in one executemany.

        The statement is compiled by SQLAlchemy, with a bound parameter per column, but the values skip
        its per-row type processing: the few columns that need it are converted here, column by column,
        to exactly what their types would send (see ``orm``). That triples the rate of a CSV import.
        """
        if not rows:
            return
        sql, arrange, converters = self._bulk_statement(table, names)
        values: Sequence[Sequence[object]] = rows
        if arrange is not None:
            values = [list(arrange(row)) for row in rows]
        elif converters:
            values = [list(row) for row in rows]
        if converters:
            for index, convert in converters:
                for value in values:
                    value[index] = convert(value[index])  # type: ignore[index]
        if self.backend == "sqlite":
            # Straight to aiosqlite, on the same connection and so in the same transaction: SQLAlchemy's
            # cursor layer costs as much again as SQLite's own work here.
            driver = (await connection.get_raw_connection()).driver_connection
            assert driver is not None  # a checked-out connection always has one
            await driver.executemany(sql, values)
        else:
            await connection.exec_driver_sql(sql, [tuple(value) for value in values])

    async def upsert(
        self, connection: AsyncConnection, table: type[DeclarativeBase], row: Mapping[str, object], key: str
    ) -> None:
        """INSERT ``row``, or on a conflict on ``key`` UPDATE every other column of it, in one statement.

        Compiled once per set of columns and sent straight to the driver, like ``bulk_insert``: the
        dialects' INSERT ... ON CONFLICT has no cache key in SQLAlchemy, so building it per call meant
        compiling it per call — most of the CPU of logging a call.
        """
        sql, order, converters = self._upsert_statement(table, tuple(row), key)
        values = [row[name] for name in order]
        for index, convert in converters:
            values[index] = convert(values[index])
        await connection.exec_driver_sql(sql, tuple(values))

    @functools.lru_cache(maxsize=16)  # noqa: B019 - one Database per store, a handful of statements
    def _upsert_statement(
        self, table: type[DeclarativeBase], names: tuple[str, ...], key: str
    ) -> tuple[str, tuple[str, ...], tuple[tuple[int, Callable[[Any], object]], ...]]:
        statement: Any = self.insert(table).values({name: bindparam(name) for name in names})
        columns = table.__table__.c
        changed = {name: statement.excluded[name] for name in names if name != key}
        upsert = statement.on_conflict_do_update(index_elements=[columns[key]], set_=changed)
        return self._positional(upsert, table, names)

    def _positional(
        self, statement: Any, table: type[DeclarativeBase], names: tuple[str, ...]
    ) -> tuple[str, tuple[str, ...], tuple[tuple[int, Callable[[Any], object]], ...]]:
        """``statement`` compiled with one positional parameter per column of ``names``, and the
        converters of the columns whose values the driver cannot take as they are."""
        compiled = statement.compile(dialect=self.engine.dialect)
        order = tuple(compiled.positiontup or ())
        if sorted(order) != sorted(names):
            raise RuntimeError(f"{self.backend} does not compile {table.__name__} to positional parameters")
        columns = table.__table__.c
        converters = tuple(
            (index, convert)
            for index, name in enumerate(order)
            if (convert := self._converter(columns[name].type)) is not None
        )
        return str(compiled), order, converters

    @functools.lru_cache(maxsize=64)  # noqa: B019 - one Database per store, a handful of statements
    def _bulk_statement(
        self, table: type[DeclarativeBase], names: tuple[str, ...]
    ) -> tuple[str, Callable[[Sequence[object]], Sequence[object]] | None, _Converters]:
        """The statement, what puts a row's values (in ``names`` order) in the statement's parameter order
        (None: they are in it already; SQLAlchemy orders them as the table's columns), and the converters
        by parameter position."""
        statement = insert(table).values({name: bindparam(name) for name in names})
        sql, order, converters = self._positional(statement, table, names)
        if order == names:
            return sql, None, converters
        return sql, operator.itemgetter(*(names.index(name) for name in order)), converters

    def _converter(self, kind: object) -> Callable[[Any], object] | None:
        """Money and dates may come as values or as their text (``customer_csv.account_values``)."""
        postgres = self.backend == "postgresql"
        if isinstance(kind, TagList):
            return lambda tags: None if tags is None else _tags_json(tuple(tags))
        if isinstance(kind, Date):
            return _date_value if postgres else _date_text
        if isinstance(kind, Numeric):
            return _money_value if postgres else _money_text
        if isinstance(kind, UtcDateTime) and not postgres:
            return _sqlite_instant  # naive UTC text, as SQLAlchemy writes it on SQLite
        return None

    def insert(self, table: type[DeclarativeBase]) -> postgresql.Insert | sqlite.Insert:
        """The backend's own INSERT, for ``on_conflict_do_update``; both backends spell it the same."""
        if self.backend == "postgresql":
            return postgresql.insert(table)
        return sqlite.insert(table)


def _date_text(day: date | str | None) -> str | None:
    return day.isoformat() if isinstance(day, date) else day


def _date_value(day: date | str | None) -> date | None:
    return date.fromisoformat(day) if isinstance(day, str) else day


def _money_text(amount: Decimal | str | None) -> str | None:
    return None if amount is None else str(amount)


def _money_value(amount: Decimal | str | None) -> Decimal | None:
    return Decimal(amount) if isinstance(amount, str) else amount


def _file_reader(engine: AsyncEngine) -> Engine | None:
    """A synchronous engine on the same SQLite file (None for PostgreSQL and in-memory databases, whose
    second engine would not see the first one's data)."""
    url = engine.url
    if (
        engine.dialect.name != "sqlite"
        or url.database in (None, "", ":memory:")
        or url.query.get("mode") == "memory"
    ):
        return None
    return create_engine(url.set(drivername="sqlite"))


@functools.lru_cache(maxsize=1_024)
def _tags_json(tags: tuple[str, ...]) -> str:
    # Cached: an import's rows mostly share a few tag sets, and json.dumps costs more than the row's SQL.
    return json.dumps(list(tags), ensure_ascii=False)


@functools.lru_cache(maxsize=16)
def _sqlite_instant(at: datetime | None) -> str | None:
    # Cached: every row of an import batch carries the same "now", three times.
    return None if at is None else at.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


async def phones_of(connection: AsyncConnection, ids: Iterable[int]) -> dict[int, tuple[PhoneNumber, ...]]:
    """Each customer's phone numbers, in the order they were added; customers without any are absent."""
    wanted = list(ids)
    if not wanted:
        return {}
    query = select(*PHONE_COLUMNS).where(PhoneNumberRow.customer_id.in_(wanted)).order_by(PhoneNumberRow.id)
    found: dict[int, list[PhoneNumber]] = {}
    for row in await connection.execute(query):
        found.setdefault(row.customer_id, []).append(phone(row))
    return {customer_id: tuple(numbers) for customer_id, numbers in found.items()}


def first_or_none(rows: Iterable[Row[Any]]) -> Row[Any] | None:
    return next(iter(rows), None)
