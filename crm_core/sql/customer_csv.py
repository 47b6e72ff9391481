"""``SqlCustomerCsv``: importing and exporting customers in the CSV format of ``customer_csv``.

Import streams: records are read (in a thread, off the loop), validated one chunk of ``PARSE_CHUNK`` at a
time (``record_validation``: in a worker process, so on two cores validation runs beside the writes) and
written in batches, each batch in one transaction. At most ``AHEAD`` chunks are out being validated, so
memory stays flat in the file's size. A bad row is reported and skipped, so it never stops or rolls back
the good ones; if the database still refuses a batch (another writer took an external id meanwhile), the
batch is rolled back and written again row by row, each in its own transaction, so only the refused row
is lost. A batch never holds two rows with the same key, so rows apply in file order. Only rows that
change something are written, so importing the same file twice changes nothing the second time. A row
repeating an earlier row's external id is rejected (``import_keys``: the first wins). A dry run matches
and compares every batch the same way on a read-only connection and writes nothing.

Rows arrive as ``PackedRow``s, plain tuples in the tables' column order, and are written and compared as
they are: the loop that writes does no per-field work.
"""

from __future__ import annotations

import asyncio
import csv
import heapq
from collections import deque
from collections.abc import AsyncIterator, Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from crm_core.csv.customers import (
    ACCOUNT_FIELDS,
    COLUMNS,
    CUSTOMER_FIELDS,
    AccountValues,
    PackedRow,
    export_fields,
)
from crm_core.csv.lines import csv_line
from crm_core.csv.mapping import layout
from crm_core.csv.record_validation import PendingChunk, Records, RecordValidation
from crm_core.domain.customers import ImportSummary, RejectedLine, RowOutcome
from crm_core.domain.errors import InvalidCsvHeader
from crm_core.domain.import_mapping import ImportMapping
from crm_core.sql.database import Database, phones_of
from crm_core.sql.import_keys import FileKeys
from crm_core.sql.import_report import Applied, Batches, ImportReport, OnRejected, OnRow
from crm_core.sql.orm import AccountRow, CustomerRow, PhoneNumberRow
from crm_core.sql.rows import ACCOUNT_COLUMNS, CUSTOMER_COLUMNS, PACKED_COLUMNS, account, customer, packed

BATCH = 1_000
PARSE_CHUNK = 1_000  # records read and validated per hand-off to the worker
AHEAD = 2  # chunks out being validated while the loop writes: enough to keep the worker busy
_CUSTOMER_INSERT = ("id", "external_id", *CUSTOMER_FIELDS, "created_at", "updated_at")
_PHONE_INSERT = ("customer_id", "e164", "kind")
_ACCOUNT_INSERT = ("customer_id", "updated_at", *ACCOUNT_FIELDS)
_CUSTOMERS: Any = CustomerRow.__table__
_by_target = update(_CUSTOMERS).where(_CUSTOMERS.c.id == bindparam("target"))
NO_MAPPING = ImportMapping()


class SqlCustomerCsv:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def import_csv(
        self,
        lines: Iterable[str],
        *,
        on_rejected: OnRejected | None = None,
        on_row: OnRow | None = None,
        mapping: ImportMapping = NO_MAPPING,
        dry_run: bool = False,
        batch_size: int = BATCH,
        chunk_size: int = PARSE_CHUNK,
        worker_process: bool = True,
    ) -> ImportSummary:
        """Upsert the customers in ``lines`` (an open text file, ``newline=""``, or any iterable of lines).

        ``on_rejected`` and ``on_row`` hear about each line, in file order, as its batch is written:
        ``on_rejected`` of a rejected one, ``on_row`` of what was done with any other. ``mapping``: the
        file's columns and values mapped onto the import's (``crm_core.csv.mapping``). ``dry_run``: every
        line is matched, compared and reported as it would be, and nothing is written.
        ``worker_process=False`` validates in threads only (see ``record_validation``).
        Raises ``InvalidCsvHeader`` or ``InvalidImportMapping`` (before writing anything) when the header
        is unusable or the mapping does not fit it.
        """
        report = ImportReport(on_rejected, on_row)
        reader = await asyncio.to_thread(_Reader, lines, mapping)
        run = Batches(self._write_batch, report, batch_size, dry_run)
        pending: deque[tuple[PendingChunk, list[RejectedLine]]] = deque()
        file_keys = FileKeys()
        validation = RecordValidation(
            reader.columns, self._db.region, worker_process=worker_process, remapping=reader.remapping
        )
        async with validation as check:
            try:
                while True:
                    while len(pending) < AHEAD and not reader.finished:
                        records, unreadable = await asyncio.to_thread(reader.chunk, chunk_size)
                        pending.append((check.submit(records), unreadable))
                    if not pending:
                        break
                    chunk, unreadable = pending.popleft()
                    parsed = await check.result(chunk)
                    repeated = await asyncio.to_thread(file_keys.repeated, parsed)
                    # Unreadable records are reported among the others, so rejections come in file order.
                    for row in heapq.merge(parsed, unreadable, key=_line) if unreadable else parsed:
                        await run.take(repeated.get(row.line, row))
                await run.flush()
            finally:
                # A failed write must not leave a thread reading a file the caller is about to close.
                await asyncio.gather(*(chunk.result for chunk, _ in pending), return_exceptions=True)
                await asyncio.to_thread(file_keys.close)
        return report.summary()

    async def export_csv(self, *, chunk: int = BATCH) -> AsyncIterator[str]:
        """The header line and one line per customer (anonymised ones left out), oldest customer first;
        read in chunks, so memory stays flat. ``import_csv`` reads it back to the same customers."""
        yield csv_line(list(COLUMNS))
        after = 0
        while True:
            query = (
                select(*CUSTOMER_COLUMNS, *ACCOUNT_COLUMNS)
                .outerjoin(AccountRow, AccountRow.customer_id == CustomerRow.id)
                .where(CustomerRow.id > after, CustomerRow.anonymised_at.is_(None))
                .order_by(CustomerRow.id)
                .limit(chunk)
            )
            async with self._db.reads.connect() as connection:
                rows = list(await connection.execute(query))
                phones = await phones_of(connection, [row.id for row in rows])
            for row in rows:
                stored = customer(row, phones.get(row.id, ()))
                yield csv_line(export_fields(stored.profile, account(row)))
            if len(rows) < chunk:
                return
            after = rows[-1].id

    async def _write_batch(self, batch: list[PackedRow], dry_run: bool) -> Applied:
        """What became of each row of ``batch``; written in one transaction unless ``dry_run``."""
        if not batch:
            return [], []
        if dry_run:
            async with self._db.engine.connect() as connection:  # read only, rolled back on leaving
                return await self._apply(connection, batch, write=False)
        try:
            async with self._db.engine.begin() as connection:
                return await self._apply(connection, batch)
        except IntegrityError:
            outcomes: list[tuple[int, RowOutcome]] = []
            rejected: list[RejectedLine] = []
            for row in batch:  # the database refused the batch; find the row it refuses
                try:
                    async with self._db.engine.begin() as connection:
                        single, refused = await self._apply(connection, [row])
                except IntegrityError as error:
                    reason = f"conflicts with a concurrent write: {error.orig}"
                    rejected.append(RejectedLine(row.line, "external_id", reason))
                    continue
                outcomes += single
                rejected += refused
            return outcomes, rejected

    async def _apply(
        self, connection: AsyncConnection, batch: list[PackedRow], *, write: bool = True
    ) -> Applied:
        """Match, compare and (if ``write``) write ``batch``: each row's outcome, and the ambiguous rows."""
        now = self._db.clock()
        targets, stored = await _match(connection, batch)
        by_phone = {target for target in targets.values() if isinstance(target, int) and target not in stored}
        if by_phone:
            stored |= await _load(connection, CustomerRow.id.in_(by_phone))
        inserts: list[PackedRow] = []
        changes: list[tuple[int, PackedRow, PackedRow]] = []
        outcomes: list[tuple[int, RowOutcome]] = []
        rejected: list[RejectedLine] = []
        for row in batch:
            target = targets[row.line]
            if isinstance(target, RejectedLine):
                rejected.append(target)
                continue
            if target is None:
                inserts.append(row)
                outcomes.append((row.line, RowOutcome.ADD))
                continue
            current = stored[target]
            if row.external_id is None:  # matched by phone: the row says nothing of the id
                row = row._replace(external_id=current.external_id)
            if row.same_profile(current) and row.account in (None, current.account):
                outcomes.append((row.line, RowOutcome.UNCHANGED))
            else:
                changes.append((target, row, current))
                outcomes.append((row.line, RowOutcome.UPDATE))
        if write:
            await _insert(self._db, connection, inserts, now)
            await _update(self._db, connection, changes, now)
        return outcomes, rejected


class _Reader:
    """Reads the header, then records in chunks; a record that cannot be read is rejected, not fatal."""

    def __init__(self, lines: Iterable[str], mapping: ImportMapping) -> None:
        self._reader = csv.reader(lines)
        header = next(self._reader, None)
        if header is None:
            raise InvalidCsvHeader(("name",), (), ())
        self.columns, self.remapping = layout(header, mapping)
        self.finished = False

    def chunk(self, size: int) -> tuple[Records, list[RejectedLine]]:
        """Up to ``size`` records with their first line numbers, and the unreadable ones met on the way."""
        records: Records = []
        unreadable: list[RejectedLine] = []
        reader = self._reader
        while len(records) < size:
            first = reader.line_num + 1
            try:
                records.append((first, next(reader)))
            except StopIteration:
                self.finished = True
                break
            except csv.Error as error:
                unreadable.append(RejectedLine(first, None, f"unreadable CSV: {error}"))
        return records, unreadable


def _line(row: PackedRow | RejectedLine) -> int:
    return row.line


async def _match(
    connection: AsyncConnection, batch: list[PackedRow]
) -> tuple[dict[int, int | RejectedLine | None], dict[int, PackedRow]]:
    """Line -> the stored customer it updates, None for a new one, or why it cannot be matched; and the
    customers matched by external id, loaded on the way.

    By external id when the row has one; else the customer owning its numbers. When several do, the one
    whose numbers are exactly the row's wins, then the one of the same name; any tie left is rejected.
    """
    ids = [row.external_id for row in batch if row.external_id is not None]
    holders = await _load(connection, CustomerRow.external_id.in_(ids)) if ids else {}
    by_id = {str(holder.external_id): customer_id for customer_id, holder in holders.items()}
    numbers = [e164 for row in batch if row.external_id is None for e164, _ in row.phones]
    owners: dict[str, set[int]] = {}
    names: dict[int, str] = {}
    if numbers:
        owning = (
            select(PhoneNumberRow.e164, CustomerRow.id, CustomerRow.name)
            .join(CustomerRow, CustomerRow.id == PhoneNumberRow.customer_id)
            .where(PhoneNumberRow.e164.in_(numbers), CustomerRow.anonymised_at.is_(None))
        )
        for owner in await connection.execute(owning):
            owners.setdefault(owner.e164, set()).add(owner.id)
            names[owner.id] = owner.name
    candidates = set().union(*owners.values()) if owners else set()
    their_numbers = await _numbers_of(connection, candidates)
    targets: dict[int, int | RejectedLine | None] = {}
    for row in batch:
        if row.external_id is not None:
            targets[row.line] = by_id.get(row.external_id)
            continue
        found = set().union(*(owners.get(e164, set()) for e164, _ in row.phones))
        if len(found) > 1:
            wanted = {e164 for e164, _ in row.phones}
            found = {c for c in found if {e164 for e164, _ in their_numbers.get(c, ())} == wanted} or found
        if len(found) > 1:
            found = {c for c in found if names[c] == row.name} or found
        if len(found) > 1:
            listed = ", ".join(str(c) for c in sorted(found))
            targets[row.line] = RejectedLine(
                row.line, "phones", f"numbers belong to several customers ({listed})"
            )
        else:
            targets[row.line] = next(iter(found), None)
    return targets, holders


async def _load(connection: AsyncConnection, where: ColumnElement[bool]) -> dict[int, PackedRow]:
    """The stored customers ``where`` says, packed as an import row would be, to compare rows with."""
    query = (
        select(*PACKED_COLUMNS).outerjoin(AccountRow, AccountRow.customer_id == CustomerRow.id).where(where)
    )
    rows = list(await connection.execute(query))
    numbers = await _numbers_of(connection, [row.id for row in rows])
    return {row.id: packed(row, numbers.get(row.id, ())) for row in rows}


async def _numbers_of(
    connection: AsyncConnection, ids: Iterable[int]
) -> dict[int, tuple[tuple[str, str], ...]]:
    """Each customer's (E.164, kind) numbers in the order they were added, as a ``PackedRow`` has them."""
    wanted = list(ids)
    if not wanted:
        return {}
    query = (
        select(PhoneNumberRow.customer_id, PhoneNumberRow.e164, PhoneNumberRow.kind)
        .where(PhoneNumberRow.customer_id.in_(wanted))
        .order_by(PhoneNumberRow.id)
    )
    found: dict[int, list[tuple[str, str]]] = {}
    for customer_id, e164, kind in await connection.execute(query):
        found.setdefault(customer_id, []).append((e164, kind))
    return {customer_id: tuple(numbers) for customer_id, numbers in found.items()}


async def _insert(db: Database, connection: AsyncConnection, rows: list[PackedRow], now: datetime) -> None:
    if not rows:
        return
    ids = await db.dialect.reserve_ids(connection, "customers", len(rows))
    numbered = list(zip(ids, rows, strict=True))
    customers = [(customer_id, row.external_id, *row.customer, now, now) for customer_id, row in numbered]
    await db.bulk_insert(connection, CustomerRow, _CUSTOMER_INSERT, customers)
    phones = [(customer_id, e164, kind) for customer_id, row in numbered for e164, kind in row.phones]
    await db.bulk_insert(connection, PhoneNumberRow, _PHONE_INSERT, phones)
    accounts = [(customer_id, now, *row.account) for customer_id, row in numbered if row.account is not None]
    await db.bulk_insert(connection, AccountRow, _ACCOUNT_INSERT, accounts)


async def _update(
    db: Database, connection: AsyncConnection, changes: list[tuple[int, PackedRow, PackedRow]], now: datetime
) -> None:
    profiles = [
        {
            "target": target,
            "updated_at": now,
            "external_id": row.external_id,
            **dict(zip(CUSTOMER_FIELDS, row.customer, strict=True)),
        }
        for target, row, current in changes
        if not row.same_profile(current)
    ]
    if profiles:
        # No .values(): an executemany UPDATE sets the columns named by the parameter keys.
        await connection.execute(_by_target, profiles)
    renumbered = [(target, row) for target, row, current in changes if row.phones != current.phones]
    if renumbered:
        await connection.execute(
            delete(PhoneNumberRow).where(PhoneNumberRow.customer_id.in_([target for target, _ in renumbered]))
        )
        phones = [
            {"customer_id": target, "e164": e164, "kind": kind}
            for target, row in renumbered
            for e164, kind in row.phones
        ]
        if phones:
            await connection.execute(insert(PhoneNumberRow), phones)
    accounts = [
        {"customer_id": target, "updated_at": now, **_account_columns(row.account)}
        for target, row, current in changes
        if row.account is not None and row.account != current.account
    ]
    if accounts:
        statement = db.dialect.insert(AccountRow)
        columns = [name for name in accounts[0] if name != "customer_id"]
        upsert = statement.on_conflict_do_update(
            index_elements=[AccountRow.customer_id], set_={name: statement.excluded[name] for name in columns}
        )
        await connection.execute(upsert, accounts)
    touched = [
        {"target": target, "updated_at": now} for target, row, current in changes if row.same_profile(current)
    ]
    if touched:  # only the account changed: the customer was still updated
        await connection.execute(_by_target, touched)


def _account_columns(values: AccountValues) -> dict[str, object]:
    """The packed account's text as the values SQLAlchemy binds (the bulk insert takes the text itself)."""
    balance, currency, credit_limit, status, paid = values
    paid_on = None if paid is None else date.fromisoformat(paid)
    return {"balance": Decimal(balance), "currency": currency, "credit_limit": Decimal(credit_limit),
            "status": status, "last_payment_on": paid_on}  # fmt: skip
