"""Accounts and orders, against SQLite and PostgreSQL: exact money, upserts, newest orders first."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from crm_core.domain.accounts import Account, AccountStatus
from crm_core.domain.customers import CustomerDraft
from crm_core.domain.errors import CustomerNotFound, InvalidCursor, ValidationFailed
from crm_core.domain.orders import NewOrder
from crm_core.sql.store import SqlStore
from tests.crm_core.conftest import EMPTY, RowCounts


@pytest.fixture
async def customer_id(store: SqlStore) -> int:
    return (await store.customers.create(CustomerDraft(name="Ann", phones=[("+14155550123", "mobile")]))).id


async def test_given_customer_without_account_when_asked_then_none(store: SqlStore, customer_id: int) -> None:
    assert await store.accounts.get(customer_id) is None
    card = await store.find_by_number("+14155550123")
    assert card is not None and card.account is None


async def test_given_account_when_set_twice_then_second_replaces_first_exactly(
    store: SqlStore, customer_id: int
) -> None:
    await store.accounts.set(customer_id, Account(Decimal("10"), "usd"))
    stored = await store.accounts.set(
        customer_id,
        Account(Decimal("-0.10"), "EUR", Decimal("99999999999.99"), AccountStatus.OVERDUE, date(2026, 2, 28)),
    )

    assert await store.accounts.get(customer_id) == stored
    assert stored.balance == Decimal("-0.10") and str(stored.credit_limit) == "99999999999.99"
    assert stored.status is AccountStatus.OVERDUE and not stored.on_credit_hold


@pytest.mark.parametrize(
    ("account", "field"),
    [
        (Account(Decimal("0.001"), "USD"), "balance"),
        (Account(Decimal("1e12"), "USD"), "balance"),
        (Account(Decimal("NaN"), "USD"), "balance"),
        (Account(0.1, "USD"), "balance"),  # type: ignore[arg-type]  # a float is refused, never rounded
        (Account(Decimal(1), "US Dollar"), "currency"),
        (Account(Decimal(1), "USD", Decimal("-1")), "credit_limit"),
        (Account(Decimal(1), "USD", status="frozen"), "account_status"),  # type: ignore[arg-type]
    ],
)
async def test_given_bad_account_when_set_then_validation_failed_and_nothing_written(
    store: SqlStore, customer_id: int, row_counts: RowCounts, account: Account, field: str
) -> None:
    before = await row_counts()
    with pytest.raises(ValidationFailed) as raised:
        await store.accounts.set(customer_id, account)

    assert raised.value.field == field
    assert await row_counts() == before


async def test_given_unknown_customer_when_account_or_order_written_then_not_found_and_nothing_written(
    store: SqlStore, row_counts: RowCounts
) -> None:
    with pytest.raises(CustomerNotFound):
        await store.accounts.set(404, Account(Decimal(1), "USD"))
    with pytest.raises(CustomerNotFound):
        await store.accounts.add_order(404, NewOrder(date(2026, 1, 1), "Widget", 1, Decimal(1)))
    with pytest.raises(CustomerNotFound):
        await store.accounts.orders(404)

    assert await row_counts() == EMPTY


async def test_given_account_when_removed_then_none_and_customer_kept(
    store: SqlStore, customer_id: int
) -> None:
    await store.accounts.set(customer_id, Account(Decimal(5), "USD"))

    await store.accounts.remove(customer_id)

    assert await store.accounts.get(customer_id) is None
    assert (await store.customers.get(customer_id)).id == customer_id


async def test_given_orders_when_listed_then_newest_date_first_with_exact_amounts(
    store: SqlStore, customer_id: int
) -> None:
    days = [date(2026, 1, 5), date(2026, 3, 1), date(2026, 1, 5), date(2025, 12, 31)]
    added = [
        await store.accounts.add_order(
            customer_id, NewOrder(day, f"Item {n}", n + 1, Decimal("0.1") * (n + 1), Decimal("0.10"))
        )
        for n, day in enumerate(days)
    ]

    page = await store.accounts.orders(customer_id)

    assert [order.id for order in page.items] == [added[1].id, added[2].id, added[0].id, added[3].id]
    assert page.items[0] == added[1]
    assert sum(order.amount for order in page.items) == Decimal("1.00")
    assert {order.special_price for order in page.items} == {Decimal("0.10")}


async def test_given_many_orders_when_paged_then_each_once(store: SqlStore, customer_id: int) -> None:
    for n in range(5):
        await store.accounts.add_order(
            customer_id, NewOrder(date(2026, 1, 1 + n % 2), "Widget", 1, Decimal(n))
        )
    seen: list[int] = []
    cursor: str | None = None
    while True:
        page = await store.accounts.orders(customer_id, limit=2, cursor=cursor)
        seen += [order.id for order in page.items]
        if (cursor := page.next_cursor) is None:
            break

    assert len(seen) == len(set(seen)) == 5


async def test_given_cursor_of_other_list_when_listing_orders_then_invalid_cursor(
    store: SqlStore, customer_id: int
) -> None:
    page = await store.customers.search("", limit=1)
    with pytest.raises(InvalidCursor):
        await store.accounts.orders(customer_id, cursor=page.next_cursor or "eyJ4Ijp9")


@pytest.mark.parametrize(
    ("order", "field"),
    [
        (NewOrder(date(2026, 1, 1), " ", 1, Decimal(1)), "item"),
        (NewOrder(date(2026, 1, 1), "Widget", 0, Decimal(1)), "quantity"),
        (NewOrder(date(2026, 1, 1), "Widget", 1, Decimal("1.005")), "amount"),
        (NewOrder(date(2026, 1, 1), "Widget", 1, Decimal(1), Decimal("-1")), "special_price"),
        (NewOrder(datetime(2026, 1, 1), "Widget", 1, Decimal(1)), "ordered_on"),
    ],
)
async def test_given_bad_order_when_added_then_validation_failed_and_nothing_written(
    store: SqlStore, customer_id: int, row_counts: RowCounts, order: NewOrder, field: str
) -> None:
    with pytest.raises(ValidationFailed) as raised:
        await store.accounts.add_order(customer_id, order)

    assert raised.value.field == field
    assert (await row_counts())["orders"] == 0
