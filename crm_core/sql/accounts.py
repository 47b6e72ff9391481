"""``SqlAccounts``: a customer's account (one per customer, optional) and their orders."""

from __future__ import annotations

from datetime import date

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from crm_core.domain import validation
from crm_core.domain.accounts import Account, AccountChanges, changed_account, checked_account
from crm_core.domain.errors import CustomerNotFound, InvalidCursor
from crm_core.domain.orders import NewOrder, Order, checked_order
from crm_core.domain.pagination import DEFAULT_PAGE, MAX_PAGE, Page, decode_cursor, page
from crm_core.sql.database import Database, first_or_none
from crm_core.sql.orm import AccountRow, CustomerRow, OrderRow
from crm_core.sql.rows import ACCOUNT_COLUMNS, ORDER_COLUMNS, account, account_columns, field_values, order

ORDER_LIST = "orders"


class SqlAccounts:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, customer_id: int) -> Account | None:
        """The customer's account, or None when the business keeps none. Raises ``CustomerNotFound``."""
        async with self._db.reads.connect() as connection:
            return await _load_account(connection, customer_id)

    async def set(self, customer_id: int, value: Account) -> Account:
        """Create or replace the customer's account. Raises ``CustomerNotFound`` or ``ValidationFailed``."""
        checked = checked_account(value)
        async with self._db.engine.begin() as connection:
            await _require_customer(connection, customer_id)
            await self._write(connection, customer_id, checked)
        return checked

    async def update(self, customer_id: int, changes: AccountChanges) -> Account:
        """Apply ``changes`` to the account (opening one if the customer has none and the changes give a
        balance and a currency); changing nothing writes nothing.

        Raises ``CustomerNotFound`` or ``ValidationFailed`` before writing anything.
        """
        async with self._db.engine.begin() as connection:
            current = await _load_account(connection, customer_id, lock=True)
            changed = changed_account(current, changes)
            if changed != current:
                await self._write(connection, customer_id, changed)
        return changed

    async def _write(self, connection: AsyncConnection, customer_id: int, checked: Account) -> None:
        columns = account_columns(checked) | {"updated_at": self._db.clock()}
        statement = self._db.dialect.insert(AccountRow).values(customer_id=customer_id, **columns)
        upsert = statement.on_conflict_do_update(
            index_elements=[AccountRow.customer_id], set_={name: statement.excluded[name] for name in columns}
        )
        await connection.execute(upsert)

    async def remove(self, customer_id: int) -> None:
        """Forget the customer's account (a no-op when there is none). Raises ``CustomerNotFound``."""
        async with self._db.engine.begin() as connection:
            await _require_customer(connection, customer_id)
            await connection.execute(delete(AccountRow).where(AccountRow.customer_id == customer_id))

    async def add_order(self, customer_id: int, new: NewOrder) -> Order:
        """Raises ``CustomerNotFound`` or ``ValidationFailed`` before writing anything."""
        checked = checked_order(new)
        now = self._db.clock()
        values = {"customer_id": customer_id, **field_values(checked), "created_at": now}
        async with self._db.engine.begin() as connection:
            await _require_customer(connection, customer_id)
            order_id: int = (
                await connection.execute(insert(OrderRow).values(values).returning(OrderRow.id))
            ).scalar_one()
        return Order(id=order_id, **values)  # type: ignore[arg-type]

    async def orders(
        self, customer_id: int, *, limit: int = DEFAULT_PAGE, cursor: str | None = None
    ) -> Page[Order]:
        """The customer's orders, newest order date first (ties: newest entry first).

        Raises ``CustomerNotFound``, ``ValidationFailed`` (limit) or ``InvalidCursor``.
        """
        validation.limit(limit, MAX_PAGE)
        query = (
            select(*ORDER_COLUMNS)
            .where(OrderRow.customer_id == customer_id)
            .order_by(OrderRow.ordered_on.desc(), OrderRow.id.desc())
            .limit(limit + 1)
        )
        if cursor is not None:
            day, before = decode_cursor(cursor, ORDER_LIST, (str, int))
            on = _date(cursor, str(day))
            query = query.where(
                (OrderRow.ordered_on < on) | ((OrderRow.ordered_on == on) & (OrderRow.id < before))
            )
        async with self._db.reads.connect() as connection:
            await _require_customer(connection, customer_id)
            rows = [order(row) for row in await connection.execute(query)]
        return page(rows, limit, ORDER_LIST, lambda o: (o.ordered_on.isoformat(), o.id))


async def _load_account(
    connection: AsyncConnection, customer_id: int, *, lock: bool = False
) -> Account | None:
    query = (
        select(CustomerRow.id, *ACCOUNT_COLUMNS)
        .outerjoin(AccountRow, AccountRow.customer_id == CustomerRow.id)
        .where(CustomerRow.id == customer_id)
    )
    if lock:
        # The customer row, not the account: PostgreSQL cannot lock the nullable side of an outer join,
        # and locking the customer also queues two writers opening the same account.
        query = query.with_for_update(of=CustomerRow)
    row = first_or_none(await connection.execute(query))
    if row is None:
        raise CustomerNotFound(customer_id)
    return account(row)


async def _require_customer(connection: AsyncConnection, customer_id: int) -> None:
    if await connection.scalar(select(CustomerRow.id).where(CustomerRow.id == customer_id)) is None:
        raise CustomerNotFound(customer_id)


def _date(cursor: str, text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidCursor(cursor) from None
