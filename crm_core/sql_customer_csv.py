"""``SqlCustomerCsv``: importing and exporting customers in the CSV format of ``customer_csv``.

Import streams: records are read, validated one by one (pure, before any write) and written in batches,
each batch in one transaction. A bad row is reported and skipped, so it never stops or rolls back the
good ones; if the database still refuses a batch (another writer took an external id meanwhile), the
batch is rolled back and written again row by row, each in its own transaction, so only the refused row
is lost. A batch never holds two rows with the same key, so rows apply in file order. Only rows that
change something are written, so importing the same file twice changes nothing the second time.

Reading and validating (phone parsing is most of an import's CPU) go one chunk of ``PARSE_CHUNK`` records
at a time. By default each chunk is validated in a worker thread, never on the event loop, while the loop
writes the previous batch: the interpreter hands the GIL back to the loop within its switch interval
(``sys.getswitchinterval``, 5 ms), so a screen pop or a routing event sharing the loop waits that long at
most, not a whole chunk's validation. The price is throughput: the two threads take turns on the GIL and
the loop waits for it at every database round trip, about a quarter slower on two cores (bench/CRM.md).
A caller that owns its loop and has nothing else on it (the command line) passes
``validate_in_thread=False`` and validates on the loop. Only one chunk is parsed ahead, so memory stays
flat in the file's size.
"""

from __future__ import annotations

import asyncio
import csv
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from crm_core.accounts import Account
from crm_core.customer_csv import (
    COLUMNS,
    ImportRow,
    ImportSummary,
    RejectedLine,
    export_fields,
    header_columns,
    parse_record,
)
from crm_core.customers import Customer
from crm_core.errors import InvalidCsvHeader
from crm_core.interactions import csv_line
from crm_core.orm import AccountRow, CustomerRow, PhoneNumberRow
from crm_core.rows import (
    ACCOUNT_COLUMNS,
    CUSTOMER_COLUMNS,
    account,
    account_columns,
    customer,
    profile_columns,
)
from crm_core.sql_database import Database, phones_of

BATCH = 1_000
PARSE_CHUNK = 1_000  # records read and validated per hand-off to the worker thread
OnRejected = Callable[[RejectedLine], object]
_CUSTOMERS: Any = CustomerRow.__table__
_by_target = update(_CUSTOMERS).where(_CUSTOMERS.c.id == bindparam("target"))


@dataclass(slots=True)
class _Counts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0

    def summary(self) -> ImportSummary:
        return ImportSummary(self.inserted, self.updated, self.unchanged, self.rejected)


@dataclass(frozen=True, slots=True)
class _Stored:
    customer: Customer
    account: Account | None


class SqlCustomerCsv:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def import_csv(
        self,
        lines: Iterable[str],
        *,
        on_rejected: OnRejected | None = None,
        batch_size: int = BATCH,
        validate_in_thread: bool = True,
    ) -> ImportSummary:
        """Upsert the customers in ``lines`` (an open text file, ``newline=""``, or any iterable of lines).

        ``on_rejected`` hears about each rejected line as it happens; the summary counts every line.
        ``validate_in_thread=False`` validates on the event loop: faster, for a loop nothing else uses.
        Raises ``InvalidCsvHeader`` (before writing anything) when the header is unusable.
        """
        counts = _Counts()

        def reject(rejected: RejectedLine) -> None:
            counts.rejected += 1
            if on_rejected is not None:
                on_rejected(rejected)

        parser = await asyncio.to_thread(_Parser, lines, self._db.region)
        batch: list[ImportRow] = []
        keys: set[str] = set()
        ahead = parser.ahead(validate_in_thread)
        try:
            while chunk := await ahead:
                ahead = parser.ahead(validate_in_thread)
                for parsed in chunk:
                    if isinstance(parsed, RejectedLine):
                        reject(parsed)
                        continue
                    row_keys = _keys(parsed)
                    if row_keys & keys or len(batch) >= batch_size:
                        await self._write_batch(batch, counts, reject)
                        batch, keys = [], set()
                    batch.append(parsed)
                    keys |= row_keys
            await self._write_batch(batch, counts, reject)
        finally:
            # A failed write must not leave the thread reading a file the caller is about to close.
            await asyncio.gather(ahead, return_exceptions=True)
        return counts.summary()

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
            async with self._db.engine.connect() as connection:
                rows = list(await connection.execute(query))
                phones = await phones_of(connection, [row.id for row in rows])
            for row in rows:
                stored = customer(row, phones.get(row.id, ()))
                yield csv_line(export_fields(stored.profile, account(row)))
            if len(rows) < chunk:
                return
            after = rows[-1].id

    async def _write_batch(
        self, batch: list[ImportRow], counts: _Counts, reject: Callable[[RejectedLine], None]
    ) -> None:
        if not batch:
            return
        try:
            async with self._db.engine.begin() as connection:
                outcome = await self._apply(connection, batch, reject)
        except IntegrityError:
            for row in batch:  # the database refused the batch; find the row it refuses
                try:
                    async with self._db.engine.begin() as connection:
                        single = await self._apply(connection, [row], reject)
                except IntegrityError as error:
                    reject(
                        RejectedLine(
                            row.line, "external_id", f"conflicts with a concurrent write: {error.orig}"
                        )
                    )
                    continue
                _add(counts, single)
            return
        _add(counts, outcome)

    async def _apply(
        self, connection: AsyncConnection, batch: list[ImportRow], reject: Callable[[RejectedLine], None]
    ) -> _Counts:
        """Match, compare and write ``batch``; rejections of ambiguous rows go to ``reject`` at once."""
        now = self._db.clock()
        targets = await _match(connection, batch)
        stored = await _load(connection, {target for target in targets.values() if isinstance(target, int)})
        inserts: list[ImportRow] = []
        changes: list[tuple[int, ImportRow, _Stored]] = []
        outcome = _Counts()
        for row in batch:
            target = targets[row.line]
            if isinstance(target, RejectedLine):
                reject(target)
            elif target is None:
                inserts.append(row)
            else:
                current = stored[target]
                if row.profile.external_id is None:  # matched by phone: the row says nothing of the id
                    row = replace(row, profile=replace(row.profile, external_id=current.customer.external_id))
                if row.profile == current.customer.profile and row.account in (None, current.account):
                    outcome.unchanged += 1
                else:
                    changes.append((target, row, current))
        await _insert(self._db, connection, inserts, now)
        await _update(self._db, connection, changes, now)
        outcome.inserted, outcome.updated = len(inserts), len(changes)
        return outcome


class _Parser:
    """Reads records and validates them into ``ImportRow``s or ``RejectedLine``s."""

    def __init__(self, lines: Iterable[str], region: str) -> None:
        self._reader = csv.reader(lines)
        header = next(self._reader, None)
        if header is None:
            raise InvalidCsvHeader(("name",), (), ())
        self._columns = header_columns(header)
        self._region = region

    def ahead(self, in_thread: bool) -> asyncio.Future[list[ImportRow | RejectedLine]]:
        """The next chunk: being validated in a worker thread, or already validated here."""
        if in_thread:
            return asyncio.ensure_future(asyncio.to_thread(self.chunk, PARSE_CHUNK))
        done = asyncio.get_running_loop().create_future()
        done.set_result(self.chunk(PARSE_CHUNK))
        return done

    def chunk(self, size: int) -> list[ImportRow | RejectedLine]:
        """Up to ``size`` parsed records (blank ones skipped); an empty list at the end of the file."""
        parsed: list[ImportRow | RejectedLine] = []
        reader = self._reader
        while len(parsed) < size:
            first = reader.line_num + 1
            try:
                record = next(reader)
            except StopIteration:
                break
            except csv.Error as error:
                parsed.append(RejectedLine(first, None, f"unreadable CSV: {error}"))
                continue
            if any(field.strip() for field in record):
                parsed.append(parse_record(record, self._columns, first, self._region))
        return parsed


def _keys(row: ImportRow) -> set[str]:
    keys = {f"p:{phone.e164}" for phone in row.profile.phones}
    if row.profile.external_id is not None:
        keys.add(f"x:{row.profile.external_id}")
    return keys


def _add(counts: _Counts, outcome: _Counts) -> None:
    counts.inserted += outcome.inserted
    counts.updated += outcome.updated
    counts.unchanged += outcome.unchanged


async def _match(connection: AsyncConnection, batch: list[ImportRow]) -> dict[int, int | RejectedLine | None]:
    """Line -> the stored customer it updates, None for a new one, or why it cannot be matched.

    By external id when the row has one; else the customer owning its numbers. When several do, the one
    whose numbers are exactly the row's wins, then the one of the same name; any tie left is rejected.
    """
    ids = [row.profile.external_id for row in batch if row.profile.external_id is not None]
    by_id: dict[str, int] = {}
    if ids:
        holders = select(CustomerRow.external_id, CustomerRow.id).where(CustomerRow.external_id.in_(ids))
        by_id = {str(held.external_id): held.id for held in await connection.execute(holders)}
    numbers = [p.e164 for row in batch if row.profile.external_id is None for p in row.profile.phones]
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
    their_numbers = await phones_of(connection, candidates)
    targets: dict[int, int | RejectedLine | None] = {}
    for row in batch:
        if row.profile.external_id is not None:
            targets[row.line] = by_id.get(row.profile.external_id)
            continue
        found = set().union(*(owners.get(p.e164, set()) for p in row.profile.phones))
        if len(found) > 1:
            wanted = {p.e164 for p in row.profile.phones}
            found = {c for c in found if {p.e164 for p in their_numbers.get(c, ())} == wanted} or found
        if len(found) > 1:
            found = {c for c in found if names[c] == row.profile.name} or found
        if len(found) > 1:
            listed = ", ".join(str(c) for c in sorted(found))
            targets[row.line] = RejectedLine(
                row.line, "phones", f"numbers belong to several customers ({listed})"
            )
        else:
            targets[row.line] = next(iter(found), None)
    return targets


async def _load(connection: AsyncConnection, ids: set[int]) -> dict[int, _Stored]:
    if not ids:
        return {}
    query = (
        select(*CUSTOMER_COLUMNS, *ACCOUNT_COLUMNS)
        .outerjoin(AccountRow, AccountRow.customer_id == CustomerRow.id)
        .where(CustomerRow.id.in_(list(ids)))
    )
    rows = list(await connection.execute(query))
    phones = await phones_of(connection, ids)
    return {row.id: _Stored(customer(row, phones.get(row.id, ())), account(row)) for row in rows}


async def _insert(db: Database, connection: AsyncConnection, rows: list[ImportRow], now: datetime) -> None:
    if not rows:
        return
    ids = await db.reserve_ids(connection, "customers", len(rows))
    values = [
        profile_columns(row.profile) | {"id": customer_id, "created_at": now, "updated_at": now}
        for customer_id, row in zip(ids, rows, strict=True)
    ]
    await db.bulk_insert(connection, CustomerRow, values)
    phones = [
        {"customer_id": customer_id, "e164": p.e164, "kind": p.kind.value}
        for customer_id, row in zip(ids, rows, strict=True)
        for p in row.profile.phones
    ]
    await db.bulk_insert(connection, PhoneNumberRow, phones)
    accounts = [
        {"customer_id": customer_id, "updated_at": now, **account_columns(row.account)}
        for customer_id, row in zip(ids, rows, strict=True)
        if row.account is not None
    ]
    await db.bulk_insert(connection, AccountRow, accounts)


async def _update(
    db: Database, connection: AsyncConnection, changes: list[tuple[int, ImportRow, _Stored]], now: datetime
) -> None:
    profiles = [
        {"target": target, "updated_at": now, **profile_columns(row.profile)}
        for target, row, current in changes
        if row.profile != current.customer.profile
    ]
    if profiles:
        # No .values(): an executemany UPDATE sets the columns named by the parameter keys.
        await connection.execute(_by_target, profiles)
    renumbered = [
        (target, row) for target, row, current in changes if row.profile.phones != current.customer.phones
    ]
    if renumbered:
        await connection.execute(
            delete(PhoneNumberRow).where(PhoneNumberRow.customer_id.in_([target for target, _ in renumbered]))
        )
        phones = [
            {"customer_id": target, "e164": p.e164, "kind": p.kind.value}
            for target, row in renumbered
            for p in row.profile.phones
        ]
        if phones:
            await connection.execute(insert(PhoneNumberRow), phones)
    accounts = [
        {"customer_id": target, "updated_at": now, **account_columns(row.account)}
        for target, row, current in changes
        if row.account is not None and row.account != current.account
    ]
    if accounts:
        statement = db.insert(AccountRow)
        columns = [name for name in accounts[0] if name != "customer_id"]
        upsert = statement.on_conflict_do_update(
            index_elements=[AccountRow.customer_id], set_={name: statement.excluded[name] for name in columns}
        )
        await connection.execute(upsert, accounts)
    touched = [
        {"target": target, "updated_at": now}
        for target, row, current in changes
        if row.profile == current.customer.profile
    ]
    if touched:  # only the account or phones changed: the customer was still updated
        await connection.execute(_by_target, touched)
