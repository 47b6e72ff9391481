"""``SqlCalls``: the call log — recording calls, the agent's wrap-up, queries by what supervisors ask, and
the CSV export, streamed in chunks so a month of calls is never held in memory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Select, or_, select, update

from crm_core.csv.calls import CALL_CSV_COLUMNS, call_csv_fields
from crm_core.csv.lines import csv_line
from crm_core.domain import validation
from crm_core.domain.calls import (
    CallFilter,
    CallToLog,
    LoggedCall,
    Practice,
    WrapUp,
    checked_filter,
    checked_wrap_up,
)
from crm_core.domain.errors import CallNotFound, CaseNotFound, CustomerNotFound, InvalidCursor
from crm_core.domain.pagination import DEFAULT_PAGE, MAX_PAGE, Page, decode_cursor, page
from crm_core.sql.database import Database, first_or_none
from crm_core.sql.orm import CallRow, CaseRow, CustomerRow
from crm_core.sql.rows import CALL_COLUMNS, call_columns, logged_call
from routing.records import CallRecord, Outcome

CALL_LIST = "calls"
EXPORT_CHUNK = 1_000
LOGGED_CHUNK = 500
EVERY_CALL = CallFilter()


class SqlCalls:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(
        self, record: CallRecord, customer_id: int | None, practice: Practice | None = None
    ) -> None:
        """Keep ``record``; recording the same call again replaces its row but keeps its wrap-up, and its
        practice mark unless ``practice`` gives one.

        Raises ``CustomerNotFound`` when ``customer_id`` names no customer.
        """
        columns = _columns(CallToLog(record, customer_id, practice))
        async with self._db.engine.begin() as connection:
            if customer_id is not None:
                found = await connection.scalar(select(CustomerRow.id).where(CustomerRow.id == customer_id))
                if found is None:
                    raise CustomerNotFound(customer_id)
            # INSERT ... ON CONFLICT (call_id) DO UPDATE: one statement, so two writers cannot race.
            await self._db.upsert(connection, CallRow, columns, "call_id")

    async def record_many(self, calls: Sequence[CallToLog]) -> frozenset[str]:
        """Keep every call of ``calls`` in one transaction (the call recorder's batches: one commit for many
        calls, where one each made the writer the first part of the service to fall behind under load,
        bench/README.md ``service_ceiling.py``). A call whose customer no longer exists is kept without
        one; their ids are returned."""
        wanted = {c.customer_id for c in calls if c.customer_id is not None}
        async with self._db.engine.begin() as connection:
            found: set[int] = set()
            if wanted:
                query = select(CustomerRow.id).where(CustomerRow.id.in_(wanted))
                found = {int(row[0]) for row in await connection.execute(query)}
            gone = {c.record.call for c in calls if c.customer_id is not None and c.customer_id not in found}
            rows = [_columns(c if c.record.call not in gone else replace(c, customer_id=None)) for c in calls]
            await self._db.upsert_many(connection, CallRow, rows, "call_id")
        return frozenset(gone)

    async def logged(self, call_ids: Collection[str]) -> set[str]:
        """Which of ``call_ids`` have a row (asked a chunk at a time: a statement's parameters are few)."""
        wanted, found = sorted(call_ids), set[str]()
        async with self._db.reads.connect() as connection:
            for start in range(0, len(wanted), LOGGED_CHUNK):
                chunk = wanted[start : start + LOGGED_CHUNK]
                rows = await connection.execute(select(CallRow.call_id).where(CallRow.call_id.in_(chunk)))
                found.update(str(row[0]) for row in rows)
        return found

    async def get(self, call_id: str) -> LoggedCall | None:
        async with self._db.reads.connect() as connection:
            row = first_or_none(
                await connection.execute(select(*CALL_COLUMNS).where(CallRow.call_id == call_id))
            )
        return None if row is None else logged_call(row)

    async def recent(self, limit: int = 50, customer_id: int | None = None) -> list[LoggedCall]:
        """Up to ``limit`` calls, newest arrival first, optionally only one customer's."""
        if limit < 0:
            raise ValueError(f"limit must not be negative, got {limit}")
        query = select(*CALL_COLUMNS).order_by(*self._newest_first()).limit(limit)
        if customer_id is not None:
            query = query.where(CallRow.customer_id == customer_id)
        async with self._db.reads.connect() as connection:
            return [logged_call(row) for row in await connection.execute(query)]

    async def last_answered(self, number: str | None, customer_id: int | None = None) -> LoggedCall | None:
        """The caller's latest answered call (by end time), matched by caller number or by customer."""
        matches = [CallRow.caller_number == number] if number else []
        if customer_id is not None:
            matches.append(CallRow.customer_id == customer_id)
        if not matches:
            return None
        query = (
            select(*CALL_COLUMNS)
            .where(or_(*matches), CallRow.outcome == Outcome.ANSWERED.value)
            .order_by(CallRow.ended_at.desc(), self._db.dialect.bytewise(CallRow.call_id).desc())
            .limit(1)
        )
        async with self._db.reads.connect() as connection:
            row = first_or_none(await connection.execute(query))
        return None if row is None else logged_call(row)

    async def wrap_up(self, call_id: str, wrap_up: WrapUp) -> LoggedCall:
        """Set the call's disposition, agent notes or linked case (``KEEP`` leaves one as it is).

        Raises ``CallNotFound``, ``CaseNotFound`` or ``ValidationFailed`` before writing anything.
        """
        values = checked_wrap_up(wrap_up)
        async with self._db.engine.begin() as connection:
            case_id = values.get("case_id")
            if (
                case_id is not None
                and await connection.scalar(select(CaseRow.id).where(CaseRow.id == case_id)) is None
            ):
                raise CaseNotFound(int(str(case_id)))
            if values:
                result = await connection.execute(
                    update(CallRow).where(CallRow.call_id == call_id).values(values)
                )
                if result.rowcount == 0:
                    raise CallNotFound(call_id)
            row = first_or_none(
                await connection.execute(select(*CALL_COLUMNS).where(CallRow.call_id == call_id))
            )
            if row is None:
                raise CallNotFound(call_id)
            return logged_call(row)

    async def query(
        self, where: CallFilter = EVERY_CALL, *, limit: int = DEFAULT_PAGE, cursor: str | None = None
    ) -> Page[LoggedCall]:
        """Calls matching every field of ``where``, newest arrival first (ties by call id, bytewise).

        Raises ``ValidationFailed`` (naive time, bad outcome, limit) or ``InvalidCursor``.
        """
        validation.limit(limit, MAX_PAGE)
        query = self._filtered(checked_filter(where)).order_by(*self._newest_first()).limit(limit + 1)
        if cursor is not None:
            arrived, call_id = decode_cursor(cursor, CALL_LIST, (str, str))
            at = _instant(cursor, str(arrived))
            newer_tie = self._db.dialect.bytewise(CallRow.call_id) < str(call_id)
            query = query.where(or_(CallRow.arrived_at < at, (CallRow.arrived_at == at) & newer_tie))
        async with self._db.reads.connect() as connection:
            calls = [logged_call(row) for row in await connection.execute(query)]
        return page(calls, limit, CALL_LIST, lambda c: (c.arrived_at.isoformat(), c.record.call))

    async def export_csv(self, where: CallFilter = EVERY_CALL) -> AsyncIterator[str]:
        """The header line, then one CSV line per matching call, oldest first.

        Read in chunks of ``EXPORT_CHUNK`` calls, each in its own short read, so memory stays flat and no
        transaction is held open while the consumer writes the lines out.
        """
        checked = checked_filter(where)
        yield csv_line(list(CALL_CSV_COLUMNS))
        after: tuple[datetime, str] | None = None
        while True:
            query = self._filtered(checked).order_by(
                CallRow.arrived_at, self._db.dialect.bytewise(CallRow.call_id)
            )
            if after is not None:
                later_tie = self._db.dialect.bytewise(CallRow.call_id) > after[1]
                query = query.where(
                    or_(CallRow.arrived_at > after[0], (CallRow.arrived_at == after[0]) & later_tie)
                )
            async with self._db.reads.connect() as connection:
                chunk = [logged_call(row) for row in await connection.execute(query.limit(EXPORT_CHUNK))]
            for call in chunk:
                yield csv_line(call_csv_fields(call))
            if len(chunk) < EXPORT_CHUNK:
                return
            after = (chunk[-1].arrived_at, chunk[-1].record.call)

    def _newest_first(self) -> tuple[Any, ...]:
        return (CallRow.arrived_at.desc(), self._db.dialect.bytewise(CallRow.call_id).desc())

    def _filtered(self, where: CallFilter) -> Select[Any]:
        query = select(*CALL_COLUMNS)
        equal: list[tuple[Any, object]] = [
            (CallRow.line_id, where.line),
            (CallRow.did, where.did),
            (CallRow.source, where.source),
            (CallRow.queue_id, where.queue),
            (CallRow.agent_id, where.agent),
            (CallRow.outcome, None if where.outcome is None else where.outcome.value),
            (CallRow.customer_id, where.customer_id),
            (CallRow.case_id, where.case_id),
            (CallRow.after_hours, where.after_hours),
        ]
        for column, value in equal:
            if value is not None:
                query = query.where(column == value)
        if where.since is not None:
            query = query.where(CallRow.arrived_at >= where.since)
        if where.until is not None:
            query = query.where(CallRow.arrived_at < where.until)
        return query


def _instant(cursor: str, text: str) -> datetime:
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidCursor(cursor) from None
    if at.utcoffset() is None:
        raise InvalidCursor(cursor)
    return at


def _columns(call: CallToLog) -> dict[str, object]:
    """The call's row; ``practice`` only when given, so a later write keeps the mark an earlier one set."""
    columns = call_columns(LoggedCall.from_record(call.record, call.customer_id))
    if call.practice is not None:
        columns["practice"] = call.practice.value
    return columns
