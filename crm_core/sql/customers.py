"""``SqlCustomers``: creating, reading, changing, deleting, anonymising and searching customers."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Row, delete, exists, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from crm_core.domain import validation
from crm_core.domain.accounts import Account, checked_account
from crm_core.domain.customers import (
    Customer,
    CustomerChanges,
    CustomerDraft,
    Profile,
    anonymised_name,
    changed_profile,
    checked_profile,
)
from crm_core.domain.errors import CustomerAnonymised, CustomerNotFound, DuplicateExternalId
from crm_core.domain.pagination import DEFAULT_PAGE, MAX_PAGE, Page, decode_cursor, page
from crm_core.domain.phones import PhoneNumber
from crm_core.sql.cases import erase_case_texts
from crm_core.sql.database import Database, first_or_none, phones_of
from crm_core.sql.orm import AccountRow, CallRow, CustomerRow, PhoneNumberRow
from crm_core.sql.rows import CUSTOMER_COLUMNS, account_columns, customer, profile_columns

SEARCH_LIST = "customers"


class SqlCustomers:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, draft: CustomerDraft, account: Account | None = None) -> Customer:
        """Store a new customer (and its account, if given).

        Raises ``ValidationFailed``, ``InvalidPhoneNumber``, ``InvalidPhoneKind`` or ``DuplicateExternalId``
        before writing anything.
        """
        profile = checked_profile(draft, self._db.region)
        checked = None if account is None else checked_account(account)
        now = self._db.clock()
        async with _writing(self._db, profile.external_id) as connection:
            await _check_external_id(connection, profile.external_id, None)
            customer_id = await insert_customer(connection, profile, now)
            if checked is not None:
                await connection.execute(
                    insert(AccountRow).values(
                        customer_id=customer_id, updated_at=now, **account_columns(checked)
                    )
                )
        return Customer.of(customer_id, profile, now, now)

    async def get(self, customer_id: int) -> Customer:
        """Raises ``CustomerNotFound``."""
        async with self._db.reads.connect() as connection:
            return await load_customer(connection, customer_id)

    async def update(self, customer_id: int, changes: CustomerChanges) -> Customer:
        """Apply ``changes``; a change set that changes nothing writes nothing and keeps ``updated_at``.

        Raises ``CustomerNotFound``, ``CustomerAnonymised``, ``DuplicateExternalId``, ``ValidationFailed``
        or a phone error, before writing anything.
        """
        async with _writing(self._db, None) as connection:
            current = await load_customer(connection, customer_id, lock=True)
            if current.anonymised_at is not None:
                raise CustomerAnonymised(customer_id)
            profile = changed_profile(current.profile, changes, self._db.region)
            if profile == current.profile:
                return current
            if profile.external_id != current.external_id:
                await _check_external_id(connection, profile.external_id, customer_id)
            now = self._db.clock()
            await write_profile(
                connection, customer_id, profile, now, phones_changed=profile.phones != current.phones
            )
        return Customer.of(customer_id, profile, current.created_at, now)

    async def delete(self, customer_id: int) -> None:
        """Remove the customer with its phones, account, orders and cases; its calls stay, unlinked.

        Raises ``CustomerNotFound``.
        """
        async with self._db.engine.begin() as connection:
            result = await connection.execute(delete(CustomerRow).where(CustomerRow.id == customer_id))
            if result.rowcount == 0:
                raise CustomerNotFound(customer_id)

    async def anonymise(self, customer_id: int) -> Customer:
        """Erase the personal fields (name, company, email, notes, tags, external id, phone numbers, and the
        caller name, number and agent notes of the customer's calls, the subject, description and comments
        of their cases), keeping every count, status, timestamp and amount: the calls, orders, cases and
        account stay linked. Anonymising twice is the same as once.

        Raises ``CustomerNotFound``.
        """
        async with self._db.engine.begin() as connection:
            current = await load_customer(connection, customer_id, lock=True)
            if current.anonymised_at is not None:
                return current
            now = self._db.clock()
            name = anonymised_name(customer_id)
            erased = Profile(name=name, language=current.language, tier=current.tier)
            values = profile_columns(erased) | {"updated_at": now, "anonymised_at": now}
            await connection.execute(update(CustomerRow).where(CustomerRow.id == customer_id).values(values))
            await connection.execute(delete(PhoneNumberRow).where(PhoneNumberRow.customer_id == customer_id))
            await connection.execute(
                update(CallRow)
                .where(CallRow.customer_id == customer_id)
                .values(caller_number=None, caller_name=None, agent_notes=None)
            )
            await erase_case_texts(connection, customer_id)
        return Customer.of(customer_id, erased, current.created_at, now, now)

    async def search(
        self,
        text: str = "",
        *,
        limit: int = DEFAULT_PAGE,
        cursor: str | None = None,
        include_anonymised: bool = False,
    ) -> Page[Customer]:
        """Customers whose name, company or email contains ``text`` (case-insensitively), or any of whose
        phone numbers contains its digits (``555 01`` finds +14155550123). Empty ``text`` lists everyone.

        Ordered by id (oldest customer first), so pages are stable while customers are added. Raises
        ``ValidationFailed`` (limit) or ``InvalidCursor``.
        """
        validation.limit(limit, MAX_PAGE)
        query = select(*CUSTOMER_COLUMNS).order_by(CustomerRow.id).limit(limit + 1)
        if cursor is not None:
            (after,) = decode_cursor(cursor, SEARCH_LIST, (int,))
            query = query.where(CustomerRow.id > after)
        if not include_anonymised:
            query = query.where(CustomerRow.anonymised_at.is_(None))
        needle = validation.optional_text("text", text)
        if needle is not None:
            query = query.where(_matches(needle))
        async with self._db.reads.connect() as connection:
            rows = list(await connection.execute(query))
            phones = await phones_of(connection, [row.id for row in rows])
        found = [customer(row, phones.get(row.id, ())) for row in rows]
        return page(found, limit, SEARCH_LIST, lambda c: (c.id,))


def _matches(needle: str) -> ColumnElement[bool]:
    pattern = f"%{_like_escaped(needle.casefold())}%"
    condition: ColumnElement[bool] = CustomerRow.search_text.like(pattern, escape="\\")
    digits = "".join(ch for ch in needle if ch.isdigit() and ch.isascii())
    if len(digits) >= 3:
        owns = exists().where(
            PhoneNumberRow.customer_id == CustomerRow.id,
            PhoneNumberRow.e164.like(f"%{digits}%"),
        )
        condition = condition | owns
    return condition


def _like_escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class _writing:
    """``engine.begin()`` that turns a unique-index race on the external id into ``DuplicateExternalId``."""

    def __init__(self, db: Database, external_id: str | None) -> None:
        self._context = db.engine.begin()
        self._external_id = external_id

    async def __aenter__(self) -> AsyncConnection:
        return await self._context.__aenter__()

    async def __aexit__(self, kind: Any, error: Any, traceback: Any) -> None:
        try:
            await self._context.__aexit__(kind, error, traceback)
        except IntegrityError as integrity:
            if "external_id" not in str(integrity.orig):
                raise
            raise DuplicateExternalId(self._external_id or "", None) from integrity
        if isinstance(error, IntegrityError) and "external_id" in str(error.orig):
            raise DuplicateExternalId(self._external_id or "", None) from error


async def _check_external_id(connection: AsyncConnection, external_id: str | None, owner: int | None) -> None:
    if external_id is None:
        return
    holder = await connection.scalar(select(CustomerRow.id).where(CustomerRow.external_id == external_id))
    if holder is not None and holder != owner:
        raise DuplicateExternalId(external_id, holder)


async def insert_customer(connection: AsyncConnection, profile: Profile, now: Any) -> int:
    values = profile_columns(profile) | {"created_at": now, "updated_at": now}
    customer_id: int = (
        await connection.execute(insert(CustomerRow).values(values).returning(CustomerRow.id))
    ).scalar_one()
    await _insert_phones(connection, customer_id, profile.phones)
    return customer_id


async def write_profile(
    connection: AsyncConnection, customer_id: int, profile: Profile, now: Any, *, phones_changed: bool
) -> None:
    values = profile_columns(profile) | {"updated_at": now}
    await connection.execute(update(CustomerRow).where(CustomerRow.id == customer_id).values(values))
    if phones_changed:
        await connection.execute(delete(PhoneNumberRow).where(PhoneNumberRow.customer_id == customer_id))
        await _insert_phones(connection, customer_id, profile.phones)


async def _insert_phones(
    connection: AsyncConnection, customer_id: int, phones: tuple[PhoneNumber, ...]
) -> None:
    if phones:
        rows = [{"customer_id": customer_id, "e164": p.e164, "kind": p.kind.value} for p in phones]
        await connection.execute(insert(PhoneNumberRow), rows)


async def load_customer(connection: AsyncConnection, customer_id: int, *, lock: bool = False) -> Customer:
    query = select(*CUSTOMER_COLUMNS).where(CustomerRow.id == customer_id)
    if lock:
        query = query.with_for_update()  # PostgreSQL: two writers of one customer queue up; SQLite ignores it
    row: Row[Any] | None = first_or_none(await connection.execute(query))
    if row is None:
        raise CustomerNotFound(customer_id)
    phones = await phones_of(connection, [customer_id])
    return customer(row, phones.get(customer_id, ()))
