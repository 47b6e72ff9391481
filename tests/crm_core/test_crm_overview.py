"""The customer 360 in one call, against SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from crm_core.domain.accounts import Account
from crm_core.domain.cases import NewCase
from crm_core.domain.customers import CustomerDraft
from crm_core.domain.errors import ValidationFailed
from crm_core.domain.orders import NewOrder
from crm_core.sql.store import SqlStore
from routing.ids import CallId
from routing.records import CallRecord


async def test_given_busy_customer_when_viewed_then_profile_account_last_calls_open_cases_recent_orders(
    store: SqlStore, answered_call: CallRecord
) -> None:
    ann = await store.customers.create(
        CustomerDraft(name="Ann", phones=[("+14155550123", "mobile")]), Account(Decimal("5"), "USD")
    )
    bo = await store.customers.create(CustomerDraft(name="Bo"))
    for n in range(4):
        shifted = replace(answered_call, call=CallId(f"call-{n}"), arrived_at=answered_call.arrived_at + n)
        await store.record(shifted, ann.id if n != 1 else bo.id)
    open_case = await store.cases.open(NewCase(customer_id=ann.id, subject="Open", calls=["call-0"]))
    done = await store.cases.open(NewCase(customer_id=ann.id, subject="Done"))
    await store.cases.close(done.id)
    await store.cases.open(NewCase(customer_id=bo.id, subject="Bo's"))
    for month in (1, 3, 2):
        await store.accounts.add_order(ann.id, NewOrder(date(2026, month, 1), f"M{month}", 1, Decimal(month)))

    view = await store.overview(ann.id, calls=2, orders=2)

    assert view.customer == ann
    assert view.account == Account(Decimal("5.00"), "USD")
    assert [c.record.call for c in view.recent_calls] == ["call-3", "call-2"]
    assert [(c.id, c.calls) for c in view.open_cases] == [(open_case.id, ("call-0",))]
    assert [o.item for o in view.recent_orders] == ["M3", "M2"]


async def test_given_quiet_customer_when_viewed_then_empty_parts(store: SqlStore) -> None:
    quiet = await store.customers.create(CustomerDraft(name="Quiet"))

    view = await store.overview(quiet.id)

    assert (view.customer, view.account, view.recent_calls, view.open_cases, view.recent_orders) == (
        quiet,
        None,
        (),
        (),
        (),
    )


@pytest.mark.parametrize("counts", [{"calls": 0}, {"orders": 101}, {"cases": -1}])
async def test_given_count_out_of_range_when_viewed_then_validation_failed(
    store: SqlStore, counts: dict[str, int]
) -> None:
    quiet = await store.customers.create(CustomerDraft(name="Quiet"))

    with pytest.raises(ValidationFailed):
        await store.overview(quiet.id, **counts)
