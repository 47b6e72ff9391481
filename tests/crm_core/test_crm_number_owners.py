"""The customers sharing one number a page at a time (``SqlStore.number_owners``, the lookup API's paging),
on SQLite and PostgreSQL: the pages together are every owner once, in the lookup's order (most recently
updated first, then the higher id), with owners updated at the same instant split across pages."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crm_core.domain.errors import InvalidCursor, ValidationFailed
from crm_core.domain.overview import CustomerCard
from crm_core.domain.pagination import encode_cursor
from crm_core.sql.engine import open_engine
from crm_core.sql.overview import NUMBER_OWNERS
from crm_core.sql.store import SqlStore
from tests.crm_core.test_crm_directory import ANN, REGION, FixedTimes

DAYS = (1, 2, 2, 2, 3, 1)  # three owners updated at the same instant; the last customer owns another number


async def owners_at(database_url: str) -> tuple[SqlStore, list[CustomerCard]]:
    times = (datetime(2024, 5, day, 12, 0, 0, 250_000, tzinfo=UTC) for day in DAYS)
    store = SqlStore(open_engine(database_url), REGION, clock=FixedTimes(*times))
    added = [await store.add_customer(f"Colleague {n}", [(ANN, "office")]) for n in range(5)]
    await store.add_customer("Someone else", [("+14155550124", "mobile")])
    return store, added


async def test_given_five_owners_when_paged_by_two_then_every_owner_once_in_the_lookups_order(
    database_url: str,
) -> None:
    store, added = await owners_at(database_url)
    try:
        pages, cursor = [], None
        while True:
            found = await store.number_owners("(415) 555-0123", 2, cursor)
            pages.append([card.name for card in found.items])
            if found.next_cursor is None:
                break
            cursor = found.next_cursor
        c0, c1, c2, c3, c4 = (card.name for card in added)
        # Day 3 first; then the three of day 2, higher id first (split over two pages); then day 1.
        assert pages == [[c4, c3], [c2, c1], [c0]]
        assert [c for page in pages for c in page] == [c.name for c in await store.find_all_by_number(ANN)]
        whole = await store.number_owners(ANN)
        assert (len(whole.items), whole.next_cursor) == (5, None)
        assert (await store.number_owners(ANN, 5)).next_cursor is None
    finally:
        await store.close()


async def test_given_an_unknown_number_or_a_non_number_then_an_empty_last_page(database_url: str) -> None:
    store, _ = await owners_at(database_url)
    try:
        for number in ("+14155550199", "not a number"):
            found = await store.number_owners(number, 2)
            assert (found.items, found.next_cursor) == ((), None)
    finally:
        await store.close()


@pytest.mark.parametrize(
    "cursor",
    [
        encode_cursor("customers", (1,)),  # another list's
        encode_cursor(NUMBER_OWNERS, ("2024-05-02T12:00:00", 3)),  # an instant without its zone
        encode_cursor(NUMBER_OWNERS, ("yesterday", 3)),
        encode_cursor(NUMBER_OWNERS, (3, "2024-05-02T12:00:00+00:00")),
        "not base64 !",
    ],
)
async def test_given_a_cursor_not_of_this_list_then_invalid_cursor(database_url: str, cursor: str) -> None:
    store, _ = await owners_at(database_url)
    try:
        with pytest.raises(InvalidCursor):
            await store.number_owners(ANN, 2, cursor)
    finally:
        await store.close()


@pytest.mark.parametrize("limit", [0, 1001])
async def test_given_a_page_size_out_of_range_then_validation_failed(database_url: str, limit: int) -> None:
    store, _ = await owners_at(database_url)
    try:
        with pytest.raises(ValidationFailed):
            await store.number_owners(ANN, limit)
    finally:
        await store.close()
