"""Customer search and cursor pagination, against SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from crm_core.domain.customers import CustomerDraft
from crm_core.domain.errors import InvalidCursor, ValidationFailed
from crm_core.domain.pagination import encode_cursor
from crm_core.sql.store import SqlStore

PEOPLE = [
    CustomerDraft(
        name="Zoë Ñúñez",
        company="Café Zürich",
        email="zoe@cafe.example",
        phones=[("+41 44 668 18 00", "office")],
    ),
    CustomerDraft(
        name="Ann Lee", company="Acme", email="ann@acme.example", phones=[("415 555 0123", "mobile")]
    ),
    CustomerDraft(name="Bo Acker", company="Bo's 100% Pure_Honey", phones=[("212 555 0199", "home")]),
    CustomerDraft(name="ANNA STRASSE", company=None, email="anna@strasse.example"),
]


@pytest.fixture
async def people(store: SqlStore) -> list[int]:
    return [(await store.customers.create(draft)).id for draft in PEOPLE]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ann", [1, 3]),  # name, either case, and inside "anna"
        ("ZOË", [0]),  # case-folded beyond ASCII, the same on both databases
        ("café zü", [0]),
        ("acme", [1]),  # company and email
        ("@strasse", [3]),
        ("555 01", [1, 2]),  # digits of any part of a phone number
        ("(415) 555", [1]),
        ("4466818", [0]),
        ("100%", [2]),  # LIKE wildcards are plain characters
        ("pure_h", [2]),
        ("%", [2]),  # only the one customer with a literal % in a field
        ("_", [2]),
        ("nobody", []),
        ("", [0, 1, 2, 3]),
    ],
)
async def test_given_customers_when_searching_then_matches_in_id_order(
    store: SqlStore, people: list[int], text: str, expected: list[int]
) -> None:
    page = await store.customers.search(text)

    assert [customer.id for customer in page.items] == [people[i] for i in expected]
    assert page.next_cursor is None


async def test_given_many_customers_when_paging_then_every_customer_once_in_order(store: SqlStore) -> None:
    ids = [(await store.customers.create(CustomerDraft(name=f"Pat {n}"))).id for n in range(7)]
    seen: list[int] = []
    cursor: str | None = None
    pages = 0

    while True:
        page = await store.customers.search("pat", limit=3, cursor=cursor)
        seen += [customer.id for customer in page.items]
        pages += 1
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
        await store.customers.create(CustomerDraft(name="Pat late"))  # added while paging: lands at the end

    assert seen[:7] == ids
    assert len(seen) == len(set(seen))
    assert pages >= 3


async def test_given_exact_page_size_when_paging_then_no_empty_last_page(store: SqlStore) -> None:
    for n in range(4):
        await store.customers.create(CustomerDraft(name=f"Quinn {n}"))

    first = await store.customers.search("quinn", limit=2)
    second = await store.customers.search("quinn", limit=2, cursor=first.next_cursor)

    assert len(first.items) == len(second.items) == 2
    assert second.next_cursor is None


@pytest.mark.parametrize(
    "cursor",
    ["", "garbage!!", "bm90IGpzb24", encode_cursor("cases", (3,)), encode_cursor("customers", ("3",)), "W10"],
)
async def test_given_foreign_or_broken_cursor_when_searching_then_invalid_cursor(
    store: SqlStore, cursor: str
) -> None:
    with pytest.raises(InvalidCursor) as raised:
        await store.customers.search("", cursor=cursor)

    assert raised.value.cursor == cursor


@pytest.mark.parametrize("limit", [0, -1, 501, True])
async def test_given_limit_out_of_range_when_searching_then_validation_failed(
    store: SqlStore, limit: int
) -> None:
    with pytest.raises(ValidationFailed) as raised:
        await store.customers.search("", limit=limit)

    assert raised.value.field == "limit"


async def test_given_anonymised_customer_when_searching_then_only_listed_on_request(
    store: SqlStore, people: list[int]
) -> None:
    await store.customers.anonymise(people[1])

    assert people[1] not in [c.id for c in (await store.customers.search("")).items]
    everyone = await store.customers.search("anonymised", include_anonymised=True)
    assert [c.id for c in everyone.items] == [people[1]]
