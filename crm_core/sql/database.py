"""What every module of ``crm_core.sql`` shares: the engine, its ``dialect`` (every place where SQLite and
PostgreSQL must be spoken to differently so that they answer the same), the default phone region, the
clock, and the fast paths for many plain rows.

Reads connect with ``reads``: on PostgreSQL each statement is its own transaction (at READ COMMITTED a
statement sees its own snapshot either way), which saves a BEGIN and a ROLLBACK a read; on SQLite a
multi-query read (a customer 360, a page with its phone numbers) runs in one read transaction. Writes run
in ``begin()`` and either all land or none does.
"""

from __future__ import annotations

import asyncio
import functools
import json
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import (
    Connection,
    Date,
    Engine,
    Numeric,
    Row,
    Select,
    bindparam,
    insert,
    select,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.orm import DeclarativeBase

from crm_core.domain.phones import PhoneNumber
from crm_core.sql.dialect import dialect_named
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
        self.dialect = dialect_named(engine.dialect.name)
        self.reads = self.dialect.reads(engine)  # what every read connects with (``reads.connect()``)
        self._reader = self.dialect.file_reader(engine)

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
            async with self.reads.connect() as connection:
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

    async def fetch_plain(
        self, statement: Select[Any], params: Mapping[str, object]
    ) -> list[tuple[Any, ...]]:
        """The rows of ``statement`` as plain tuples, values as the driver returns them (no SQLAlchemy
        result processing: the caller converts, with ``dialect.read_instant`` for timestamps, as
        ``reports`` does). For reads of many plain rows; on SQLite, past SQLAlchemy to the driver."""
        async with self.reads.connect() as connection:
            return await self.dialect.fetch_plain(connection, statement, params)

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
        await self.dialect.executemany(connection, sql, values)

    async def upsert(
        self, connection: AsyncConnection, table: type[DeclarativeBase], row: Mapping[str, object], key: str
    ) -> None:
        """INSERT ``row``, or on a conflict on ``key`` UPDATE every other column of it, in one statement.

        Compiled once per set of columns and sent straight to the driver, like ``bulk_insert``: the
        dialects' INSERT ... ON CONFLICT has no cache key in SQLAlchemy, so building it per call meant
        compiling it per call — most of the CPU of logging a call.
        """
        sql, order, converters = self._upsert_statement(table, tuple(row), key)
        await connection.exec_driver_sql(sql, tuple(_ordered(row, order, converters)))

    async def upsert_many(
        self,
        connection: AsyncConnection,
        table: type[DeclarativeBase],
        rows: Sequence[Mapping[str, object]],
        key: str,
    ) -> None:
        """``upsert`` of every row of ``rows``, as one executemany per set of columns, in
        ``connection``'s transaction (the call log's writer: one transaction for a batch of calls)."""
        by_columns: dict[tuple[str, ...], list[Mapping[str, object]]] = {}
        for row in rows:
            by_columns.setdefault(tuple(row), []).append(row)
        for names, group in by_columns.items():
            sql, order, converters = self._upsert_statement(table, names, key)
            await self.dialect.executemany(
                connection, sql, [_ordered(row, order, converters) for row in group]
            )

    @functools.lru_cache(maxsize=16)  # noqa: B019 - one Database per store, a handful of statements
    def _upsert_statement(
        self, table: type[DeclarativeBase], names: tuple[str, ...], key: str
    ) -> tuple[str, tuple[str, ...], tuple[tuple[int, Callable[[Any], object]], ...]]:
        statement: Any = self.dialect.insert(table).values({name: bindparam(name) for name in names})
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
            backend = self.dialect.name
            raise RuntimeError(f"{backend} does not compile {table.__name__} to positional parameters")
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
        if isinstance(kind, TagList):
            return lambda tags: None if tags is None else _tags_json(tuple(tags))
        if isinstance(kind, Date):
            return self.dialect.date_param
        if isinstance(kind, Numeric):
            return self.dialect.money_param
        if isinstance(kind, UtcDateTime):
            return self.dialect.instant_param
        return None


@functools.lru_cache(maxsize=1_024)
def _tags_json(tags: tuple[str, ...]) -> str:
    # Cached: an import's rows mostly share a few tag sets, and json.dumps costs more than the row's SQL.
    return json.dumps(list(tags), ensure_ascii=False)


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


def _ordered(row: Mapping[str, object], order: tuple[str, ...], converters: _Converters) -> list[object]:
    """``row``'s values in the statement's parameter ``order``, converted where the driver needs it."""
    values = [row[name] for name in order]
    for index, convert in converters:
        values[index] = convert(values[index])
    return values
