"""Customers on SqlStore, against SQLite and PostgreSQL: create, read, update, delete, anonymise."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from crm_core.domain.accounts import Account, AccountStatus
from crm_core.domain.calls import WrapUp
from crm_core.domain.cases import NewCase
from crm_core.domain.customers import CustomerChanges, CustomerDraft
from crm_core.domain.errors import (
    CustomerAnonymised,
    CustomerNotFound,
    DuplicateExternalId,
    InvalidPhoneNumber,
    ValidationFailed,
)
from crm_core.domain.orders import NewOrder
from crm_core.domain.phones import PhoneKind, PhoneNumber
from crm_core.sql.engine import open_engine
from crm_core.sql.store import SqlStore
from routing.records import CallRecord
from tests.crm_core.conftest import EMPTY, REGION, RowCounts

ANN = CustomerDraft(
    name="  Ann Lee ",
    phones=[("(415) 555-0123", "mobile"), ("+44 20 7946 0018", PhoneKind.OFFICE)],
    company="Acme",
    email="ann@acme.example",
    language="en-GB",
    tier="vip",
    tags=["wholesale", " vip ", "", "wholesale"],
    notes="Prefers mornings.\nSecond line.",
    external_id="ERP-1",
)


class Clock:
    """Hands out times one minute apart, so every write has its own stamp."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


@pytest.fixture
async def timed(database_url: str) -> AsyncIterator[SqlStore]:
    store = SqlStore(open_engine(database_url), REGION, clock=Clock())
    yield store
    await store.close()


async def test_given_full_draft_when_created_then_stored_normalised_and_read_back(store: SqlStore) -> None:
    created = await store.customers.create(ANN)

    assert (created.name, created.company, created.language, created.tier) == (
        "Ann Lee",
        "Acme",
        "en-GB",
        "vip",
    )
    assert created.tags == ("wholesale", "vip")
    assert created.phones == (
        PhoneNumber("+14155550123", PhoneKind.MOBILE),
        PhoneNumber("+442079460018", PhoneKind.OFFICE),
    )
    assert (created.external_id, created.notes, created.anonymised_at) == ("ERP-1", ANN.notes, None)
    assert await store.customers.get(created.id) == created


async def test_given_customer_with_account_when_looked_up_by_number_then_card_shows_account(
    store: SqlStore,
) -> None:
    hold = Account(Decimal("120.5"), "usd", Decimal("100"), AccountStatus.ON_HOLD, date(2026, 1, 2))
    created = await store.customers.create(ANN, hold)

    card = await store.find_by_number("415 555 0123")

    assert card is not None and card.id == created.id
    assert card.language == "en-GB"
    assert card.account == Account(
        Decimal("120.50"), "USD", Decimal("100.00"), AccountStatus.ON_HOLD, date(2026, 1, 2)
    )
    assert card.account.on_credit_hold


@pytest.mark.parametrize(
    ("draft", "field"),
    [
        (CustomerDraft(name="   "), "name"),
        (CustomerDraft(name="Ann", email="not-an-email"), "email"),
        (CustomerDraft(name="Ann", language="english please"), "language"),
        (CustomerDraft(name="Ann", tags=["a;b"]), "tags"),
        (CustomerDraft(name="Ann", tags="vip"), "tags"),
        (CustomerDraft(name="Ann\x00"), "name"),
        (CustomerDraft(name="Ann", notes="\ud800"), "notes"),
        (CustomerDraft(name="Ann", tier=""), "tier"),
        (CustomerDraft(name="x" * 1001), "name"),
    ],
)
async def test_given_invalid_field_when_creating_then_validation_failed_naming_it_and_nothing_written(
    store: SqlStore, row_counts: RowCounts, draft: CustomerDraft, field: str
) -> None:
    with pytest.raises(ValidationFailed) as raised:
        await store.customers.create(draft)

    assert raised.value.field == field
    assert await row_counts() == EMPTY


async def test_given_invalid_phone_when_creating_then_invalid_phone_number_and_nothing_written(
    store: SqlStore, row_counts: RowCounts
) -> None:
    with pytest.raises(InvalidPhoneNumber) as raised:
        await store.customers.create(replace(ANN, phones=[("+14155550123", "mobile"), ("12", "home")]))

    assert (raised.value.raw, raised.value.field) == ("12", "phones")
    assert await row_counts() == EMPTY


async def test_given_taken_external_id_when_creating_then_duplicate_names_holder_and_nothing_written(
    store: SqlStore, row_counts: RowCounts
) -> None:
    first = await store.customers.create(ANN)
    before = await row_counts()

    with pytest.raises(DuplicateExternalId) as raised:
        await store.customers.create(
            CustomerDraft(name="Bo", external_id="ERP-1", phones=[("+14155550199", "home")])
        )

    assert (raised.value.external_id, raised.value.customer_id) == ("ERP-1", first.id)
    assert await row_counts() == before


async def test_given_unknown_id_when_reading_changing_or_deleting_then_customer_not_found(
    store: SqlStore,
) -> None:
    for attempt in (
        store.customers.get(404),
        store.customers.update(404, CustomerChanges(name="X")),
        store.customers.delete(404),
        store.customers.anonymise(404),
        store.overview(404),
    ):
        with pytest.raises(CustomerNotFound) as raised:
            await attempt
        assert raised.value.id == 404


async def test_given_customer_when_some_fields_changed_then_others_kept_and_none_erases(
    timed: SqlStore,
) -> None:
    created = await timed.customers.create(ANN)

    updated = await timed.customers.update(
        created.id, CustomerChanges(company=None, tags=["gold"], tier=" standard ")
    )

    assert (updated.company, updated.tags, updated.tier) == (None, ("gold",), "standard")
    assert (updated.name, updated.email, updated.phones, updated.external_id) == (
        created.name,
        created.email,
        created.phones,
        created.external_id,
    )
    assert updated.updated_at > created.updated_at and updated.created_at == created.created_at
    assert await timed.customers.get(created.id) == updated


async def test_given_customer_when_update_changes_nothing_then_updated_at_kept(timed: SqlStore) -> None:
    created = await timed.customers.create(ANN)

    same = await timed.customers.update(
        created.id,
        CustomerChanges(name="Ann Lee", phones=[("+14155550123", "mobile"), ("+442079460018", "office")]),
    )

    assert same == created
    assert await timed.customers.get(created.id) == created


async def test_given_customer_when_phones_replaced_then_old_numbers_no_longer_find_it(
    store: SqlStore,
) -> None:
    created = await store.customers.create(ANN)

    await store.customers.update(created.id, CustomerChanges(phones=[("212 555 0199", "home")]))

    assert await store.find_by_number("+14155550123") is None
    card = await store.find_by_number("+12125550199")
    assert card is not None and card.phones == (PhoneNumber("+12125550199", PhoneKind.HOME),)


async def test_given_two_customers_when_one_takes_the_others_external_id_then_duplicate_and_unchanged(
    store: SqlStore,
) -> None:
    ann = await store.customers.create(ANN)
    bo = await store.customers.create(CustomerDraft(name="Bo", external_id="ERP-2"))

    with pytest.raises(DuplicateExternalId):
        await store.customers.update(bo.id, CustomerChanges(external_id="ERP-1", name="Bo B"))

    assert await store.customers.get(bo.id) == bo
    assert (await store.customers.get(ann.id)).external_id == "ERP-1"


async def test_given_invalid_change_when_updating_then_validation_failed_and_unchanged(
    store: SqlStore,
) -> None:
    created = await store.customers.create(ANN)

    with pytest.raises(ValidationFailed):
        await store.customers.update(created.id, CustomerChanges(name="Ann", email="nope"))

    assert await store.customers.get(created.id) == created


async def test_given_customer_with_history_when_deleted_then_everything_of_theirs_gone_but_calls(
    store: SqlStore, answered_call: CallRecord, row_counts: RowCounts
) -> None:
    created = await store.customers.create(ANN, Account(Decimal("1"), "EUR"))
    await store.record(answered_call, created.id)
    await store.accounts.add_order(created.id, NewOrder(date(2026, 1, 1), "Widget", 2, Decimal("9.98")))
    case = await store.cases.open(
        NewCase(customer_id=created.id, subject="Broken widget", calls=[answered_call.call])
    )
    await store.cases.comment(case.id, "Called back")

    await store.customers.delete(created.id)

    assert await row_counts() == {**EMPTY, "calls": 1}
    logged = await store.get_call(answered_call.call)
    assert logged is not None and (logged.customer_id, logged.case_id) == (None, None)


async def test_given_customer_with_history_when_anonymised_then_personal_fields_gone_statistics_kept(
    store: SqlStore, answered_call: CallRecord, row_counts: RowCounts
) -> None:
    created = await store.customers.create(ANN, Account(Decimal("12.34"), "EUR"))
    await store.record(answered_call, created.id)
    await store.calls.wrap_up(answered_call.call, WrapUp(agent_notes="Ann said her card ends 4242"))
    await store.accounts.add_order(created.id, NewOrder(date(2026, 1, 1), "Widget", 2, Decimal("9.98")))
    await store.cases.open(NewCase(customer_id=created.id, subject="Broken widget"))
    before = await row_counts()

    anonymised = await store.customers.anonymise(created.id)

    assert anonymised.name == f"anonymised #{created.id}"
    assert (anonymised.company, anonymised.email, anonymised.notes, anonymised.external_id) == (None,) * 4
    assert (anonymised.tags, anonymised.phones) == ((), ())
    assert anonymised.anonymised_at is not None
    assert (anonymised.tier, anonymised.language) == ("vip", "en-GB")
    assert await row_counts() == {**before, "phone_numbers": 0}
    view = await store.overview(created.id)
    assert view.account is not None and view.account.balance == Decimal("12.34")
    assert [o.amount for o in view.recent_orders] == [Decimal("9.98")]
    assert len(view.open_cases) == 1
    (call,) = view.recent_calls
    assert (call.record.caller_number, call.record.caller_name, call.agent_notes) == (None, None, None)
    assert call.talk_s == answered_call.talk_s
    assert await store.find_by_number("+14155550123") is None
    assert (await store.customers.search("Ann")).items == ()


async def test_given_anonymised_customer_when_anonymised_again_or_changed_then_same_or_refused(
    store: SqlStore,
) -> None:
    created = await store.customers.create(ANN)
    first = await store.customers.anonymise(created.id)

    assert await store.customers.anonymise(created.id) == first
    with pytest.raises(CustomerAnonymised):
        await store.customers.update(created.id, CustomerChanges(name="Ann again"))


async def test_given_customer_when_card_for_legacy_add_then_same_shape_as_before(store: SqlStore) -> None:
    added = await store.add_customer("Cy", [("+14155550177", "home")], "Cyco", None, "gold")

    customer = await store.customers.get(added.id)

    assert (customer.name, customer.company, customer.tier, customer.phones) == (
        "Cy",
        "Cyco",
        "gold",
        added.phones,
    )
    assert (customer.tags, customer.external_id) == ((), None)
    assert (await store.customers.search("cyco")).items == (customer,)
