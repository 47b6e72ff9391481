"""Accounts and orders over HTTP on SQLite and PostgreSQL: read and change an account, list and add
orders with cursor pagination, and refusals that write nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Api

ACCOUNT = {"balance": "12.50", "currency": "eur", "credit_limit": "500.00"}
ORDER = {"ordered_on": "2026-01-31", "item": "Widget", "quantity": 2, "amount": "19.98"}


async def customer(api: Api) -> int:
    status, created = await api.call("POST", "/customers", {"name": "Jane Doe"})
    assert status == 201
    return int(created["id"])


async def test_given_no_account_when_patched_with_balance_and_currency_then_opened_and_read_back(
    api: Api,
) -> None:
    jane = await customer(api)
    status, missing = await api.call("GET", f"/customers/{jane}/account")
    assert (status, missing["error"]) == (404, "not-found")

    status, opened = await api.call("PATCH", f"/customers/{jane}/account", ACCOUNT)

    assert status == 200
    assert opened == {
        "balance": "12.50", "currency": "EUR", "credit_limit": "500.00", "status": "ok",
        "last_payment_on": None, "on_credit_hold": False,
    }  # fmt: skip
    assert await api.call("GET", f"/customers/{jane}/account") == (200, opened)


async def test_given_an_account_when_patched_then_only_named_fields_change_and_null_erases(api: Api) -> None:
    jane = await customer(api)
    await api.call("PATCH", f"/customers/{jane}/account", {**ACCOUNT, "last_payment_on": "2026-01-02"})

    status, held = await api.call(
        "PATCH", f"/customers/{jane}/account", {"status": "on-hold", "balance": "-3"}
    )
    assert status == 200
    assert (held["status"], held["on_credit_hold"], held["balance"]) == ("on-hold", True, "-3.00")
    assert (held["currency"], held["credit_limit"], held["last_payment_on"]) == (
        "EUR",
        "500.00",
        "2026-01-02",
    )
    _, erased = await api.call("PATCH", f"/customers/{jane}/account", {"last_payment_on": None})
    assert erased == {**held, "last_payment_on": None}
    _, seen = await api.call("GET", f"/customers/{jane}/overview")
    assert seen["account"] == erased


BAD_ACCOUNTS: list[dict[str, Any]] = [
    {"balance": "12.50"},  # no account yet: a currency is needed to open one
    {**ACCOUNT, "balance": 12.5},
    {**ACCOUNT, "balance": "12.505"},
    {**ACCOUNT, "balance": "1e3"},
    {**ACCOUNT, "currency": "euro"},
    {**ACCOUNT, "credit_limit": "-1.00"},
    {**ACCOUNT, "status": "bankrupt"},
    {**ACCOUNT, "last_payment_on": "31/01/2026"},
    {**ACCOUNT, "last_payment_on": "20260131"},
    {**ACCOUNT, "overdraft": "1.00"},
]


@pytest.mark.parametrize("body", BAD_ACCOUNTS)
async def test_given_a_bad_account_change_when_patched_then_422_and_nothing_written(
    api: Api, body: dict[str, Any]
) -> None:
    jane = await customer(api)
    before = await api.row_counts()
    status, refusal = await api.call("PATCH", f"/customers/{jane}/account", body)
    assert (status, refusal["error"]) == (422, "invalid-input"), refusal
    assert refusal["field"] in {*body, "balance", "currency"}
    assert await api.row_counts() == before


async def test_given_an_account_when_a_bad_change_is_patched_then_the_account_is_unchanged(api: Api) -> None:
    jane = await customer(api)
    _, opened = await api.call("PATCH", f"/customers/{jane}/account", ACCOUNT)
    status, _ = await api.call("PATCH", f"/customers/{jane}/account", {"balance": "1.00", "currency": "x"})
    assert status == 422
    assert await api.call("GET", f"/customers/{jane}/account") == (200, opened)


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("GET", "account", None),
        ("PATCH", "account", ACCOUNT),
        ("GET", "orders", None),
        ("POST", "orders", ORDER),
    ],
)
async def test_given_no_such_customer_when_account_or_orders_used_then_404(
    api: Api, method: str, suffix: str, body: Any
) -> None:
    for missing in ("404", "x1"):
        status, refusal = await api.call(method, f"/customers/{missing}/{suffix}", body)
        assert (status, refusal["error"]) == (404, "not-found")
    assert (await api.row_counts())["orders"] == 0


async def test_given_orders_when_listed_then_newest_first_in_pages_that_join_up(api: Api) -> None:
    jane = await customer(api)
    days = ["2026-01-03", "2026-01-01", "2026-01-03", "2026-01-02", "2026-01-05"]
    added = []
    for n, day in enumerate(days):
        status, order = await api.call(
            "POST", f"/customers/{jane}/orders", {**ORDER, "ordered_on": day, "quantity": n + 1}
        )
        assert status == 201
        assert (order["customer_id"], order["amount"], order["special_price"]) == (jane, "19.98", None)
        added.append(order)

    seen: list[dict[str, Any]] = []
    cursor = ""
    while True:
        status, listed = await api.call("GET", f"/customers/{jane}/orders?limit=2{cursor}")
        assert status == 200 and len(listed["items"]) <= 2
        seen += listed["items"]
        if listed["next_cursor"] is None:
            break
        cursor = f"&cursor={listed['next_cursor']}"

    assert [o["quantity"] for o in seen] == [5, 3, 1, 4, 2]
    assert sorted(seen, key=lambda o: o["id"]) == added


async def test_given_a_special_price_when_order_added_then_kept_as_decimal_string(api: Api) -> None:
    jane = await customer(api)
    status, order = await api.call("POST", f"/customers/{jane}/orders", {**ORDER, "special_price": "9.99"})
    assert (status, order["special_price"], order["ordered_on"]) == (201, "9.99", "2026-01-31")


BAD_ORDERS: list[dict[str, Any]] = [
    {**ORDER, "quantity": 0},
    {**ORDER, "quantity": "2"},
    {**ORDER, "quantity": True},
    {**ORDER, "amount": 19.98},
    {**ORDER, "amount": "NaN"},
    {**ORDER, "special_price": "-1.00"},
    {**ORDER, "ordered_on": "2026-02-30"},
    {**ORDER, "item": "  "},
    {**ORDER, "colour": "red"},
    {key: value for key, value in ORDER.items() if key != "item"},
]


@pytest.mark.parametrize("body", BAD_ORDERS)
async def test_given_a_bad_order_when_posted_then_422_and_nothing_written(
    api: Api, body: dict[str, Any]
) -> None:
    jane = await customer(api)
    status, refusal = await api.call("POST", f"/customers/{jane}/orders", body)
    assert (status, refusal["error"]) == (422, "invalid-input"), refusal
    assert (await api.row_counts())["orders"] == 0


@pytest.mark.parametrize("query", ["limit=0", "limit=x", "cursor=bogus", "page=2"])
async def test_given_a_bad_order_query_when_listed_then_refused_with_a_code(api: Api, query: str) -> None:
    jane = await customer(api)
    status, refusal = await api.call("GET", f"/customers/{jane}/orders?{query}")
    assert status in {400, 422} and refusal["error"] in {"invalid-input", "invalid-cursor"}
