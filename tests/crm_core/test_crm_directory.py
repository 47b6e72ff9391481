"""CustomerDirectory on SqlStore, against SQLite and PostgreSQL: adding customers, screen-pop lookups."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import pytest

from crm_core.domain.errors import InvalidPhoneKind, InvalidPhoneNumber, ValidationFailed
from crm_core.domain.overview import CustomerCard
from crm_core.domain.phones import PhoneKind, PhoneNumber, to_e164
from crm_core.sql.engine import open_engine
from crm_core.sql.store import SqlStore
from tests.crm_core.conftest import EMPTY

REGION = "US"
ANN = "+14155550123"
RowCounts = Callable[[], Awaitable[dict[str, int]]]


@pytest.mark.parametrize(
    "typed", ["+14155550123", "+1 415-555-0123", "(415) 555-0123", "415.555.0123", "1 415 555 0123"]
)
async def test_given_customer_added_in_one_format_when_looked_up_in_another_then_found(
    store: SqlStore, typed: str
) -> None:
    added = await store.add_customer("Ann", [("415 555 0123", "mobile")])
    e164 = to_e164(typed, REGION)
    assert e164 is not None

    assert await store.find_by_number(e164) == added


async def test_given_customer_when_looked_up_by_number_as_dialled_then_found(store: SqlStore) -> None:
    added = await store.add_customer("Ann", [(ANN, "mobile")])

    assert await store.find_by_number("(415) 555-0123") == added


async def test_given_full_customer_when_added_then_card_has_every_field_and_phones_in_order(
    store: SqlStore,
) -> None:
    added = await store.add_customer(
        "Ann Lee",
        [("415-555-0123", "mobile"), ("+44 20 7946 0018", "office"), ("212 555 0199", "home")],
        company="Acme",
        email="ann@acme.example",
        tier="gold",
    )

    expected_phones = (
        PhoneNumber(ANN, PhoneKind.MOBILE),
        PhoneNumber("+442079460018", PhoneKind.OFFICE),
        PhoneNumber("+12125550199", PhoneKind.HOME),
    )
    assert added == CustomerCard(
        id=added.id,
        name="Ann Lee",
        company="Acme",
        email="ann@acme.example",
        tier="gold",
        phones=expected_phones,
    )
    assert await store.find_by_number("+442079460018") == added


async def test_given_defaults_when_added_then_standard_tier_and_no_company_or_email(store: SqlStore) -> None:
    added = await store.add_customer("Bo", [(ANN, "other")])

    assert (added.company, added.email, added.tier) == (None, None, "standard")


async def test_given_customers_when_unknown_number_looked_up_then_none(store: SqlStore) -> None:
    await store.add_customer("Ann", [(ANN, "mobile")])

    assert await store.find_by_number("+14155550124") is None


@pytest.mark.parametrize("not_a_number", ["", "anonymous", "12"])
async def test_given_customers_when_non_number_looked_up_then_none(
    store: SqlStore, not_a_number: str
) -> None:
    await store.add_customer("Ann", [(ANN, "mobile")])

    assert await store.find_by_number(not_a_number) is None


@pytest.mark.parametrize("bad", ["not a number", "12", "", "+999 123"])
async def test_given_one_invalid_number_when_adding_then_invalid_phone_number_and_nothing_written(
    store: SqlStore, row_counts: RowCounts, bad: str
) -> None:
    with pytest.raises(InvalidPhoneNumber) as raised:
        await store.add_customer("Ann", [(ANN, "mobile"), (bad, "office")])

    assert raised.value.raw == bad
    assert await row_counts() == EMPTY
    assert await store.find_by_number(ANN) is None


async def test_given_unknown_kind_when_adding_then_invalid_phone_kind_and_nothing_written(
    store: SqlStore, row_counts: RowCounts
) -> None:
    with pytest.raises(InvalidPhoneKind) as raised:
        await store.add_customer("Ann", [(ANN, "pager")])

    assert raised.value.kind == "pager"
    assert await row_counts() == EMPTY


async def test_given_same_number_twice_when_adding_then_kept_once_with_first_kind(store: SqlStore) -> None:
    added = await store.add_customer("Ann", [(ANN, "mobile"), ("(415) 555-0123", "office")])

    assert added.phones == (PhoneNumber(ANN, PhoneKind.MOBILE),)


async def test_given_no_phones_when_adding_then_customer_kept_without_numbers(
    store: SqlStore, row_counts: RowCounts
) -> None:
    added = await store.add_customer("Walk-in", [])

    assert added.phones == ()
    assert (await row_counts())["customers"] == 1


class FixedTimes:
    """Hands out the given ``updated_at`` stamps in order."""

    def __init__(self, *times: datetime) -> None:
        self._times = list(times)

    def __call__(self) -> datetime:
        return self._times.pop(0)


async def test_given_shared_number_when_looked_up_then_most_recently_updated_customer_wins(
    database_url: str,
) -> None:
    later, earlier = datetime(2024, 5, 2, tzinfo=UTC), datetime(2024, 5, 1, tzinfo=UTC)
    store = SqlStore(open_engine(database_url), REGION, clock=FixedTimes(later, earlier))
    try:
        newer = await store.add_customer("Updated later", [(ANN, "mobile")])
        await store.add_customer("Added after, updated earlier", [(ANN, "office")])

        assert await store.find_by_number(ANN) == newer
    finally:
        await store.close()


async def test_given_shared_number_and_same_update_time_when_looked_up_then_newest_customer_wins(
    database_url: str,
) -> None:
    same = datetime(2024, 5, 1, tzinfo=UTC)
    store = SqlStore(open_engine(database_url), REGION, clock=FixedTimes(same, same))
    try:
        await store.add_customer("First", [(ANN, "mobile")])
        second = await store.add_customer("Second", [(ANN, "mobile")])

        assert await store.find_by_number(ANN) == second
    finally:
        await store.close()


async def test_given_a_number_several_share_when_all_looked_up_then_every_owner_newest_first_with_its_card(
    database_url: str,
) -> None:
    """An office's main line: each colleague's card comes whole (all their numbers, their account)."""
    times = (datetime(2024, 5, day, tzinfo=UTC) for day in (1, 3, 2, 4))
    store = SqlStore(open_engine(database_url), REGION, clock=FixedTimes(*times))
    try:
        ben = await store.add_customer("Ben", [("+12125550151", "mobile"), (ANN, "office")])
        cy = await store.add_customer("Cy", [(ANN, "office"), ("+12125550152", "home")], tier="vip")
        dee = await store.add_customer("Dee", [(ANN, "office")], company="Ortiz & Park")
        await store.add_customer("Someone else", [("+14155550124", "mobile")])

        found = await store.find_all_by_number("(415) 555-0123")

        assert found == (cy, dee, ben)
        assert found[0].phones == (
            PhoneNumber(ANN, PhoneKind.OFFICE),
            PhoneNumber("+12125550152", PhoneKind.HOME),
        )
        assert await store.find_all_by_number(ANN, limit=2) == (cy, dee)
        assert await store.find_by_number(ANN) == cy  # the one-customer lookup: the newest owner, as before
    finally:
        await store.close()


async def test_given_a_number_one_customer_owns_when_all_looked_up_then_that_one_alone(
    store: SqlStore,
) -> None:
    ann = await store.add_customer("Ann", [(ANN, "mobile"), ("+442079460018", "office")])
    await store.add_customer("Bo", [("+14155550124", "mobile")])

    assert await store.find_all_by_number(ANN) == (ann,)
    assert await store.find_all_by_number("+14155550199") == ()
    assert await store.find_all_by_number("not a number") == ()


@pytest.mark.parametrize("limit", [0, -1, 1001])
async def test_given_a_limit_out_of_range_when_all_looked_up_then_validation_failed(
    store: SqlStore, limit: int
) -> None:
    with pytest.raises(ValidationFailed) as raised:
        await store.find_all_by_number(ANN, limit=limit)

    assert raised.value.field == "limit"
