"""Text that looks like SQL, quotes, wildcards and any Unicode is data: stored and found verbatim."""

from __future__ import annotations

from dataclasses import replace

import pytest

from crm_core.domain.calls import LoggedCall
from crm_core.domain.cases import NewCase
from crm_core.domain.customers import CustomerDraft
from crm_core.sql.store import SqlStore
from routing.ids import CallId
from routing.records import CallRecord

HOSTILE = [
    "Robert'); DROP TABLE customers;--",
    'O\'Brien "the" `tick` \\ backslash',
    "1 OR 1=1; DELETE FROM calls WHERE '1'='1",
    "%_ LIKE wildcards %%",
    ":name $1 ? %s {}",
    "Zoë Ñúñez — 株式会社 ☎️ 🎧 עִבְרִית",
    "tab\tnew\nline\rcarriage",
    "  spaced  ",
    "x" * 5000,
]


@pytest.mark.parametrize("hostile", HOSTILE)
async def test_given_hostile_customer_text_when_added_and_looked_up_then_returned_verbatim(
    store: SqlStore, hostile: str
) -> None:
    added = await store.add_customer(
        hostile, [("+14155550123", "mobile")], company=hostile, email=hostile, tier=hostile
    )

    found = await store.find_by_number("+14155550123")

    assert found == added
    assert found is not None
    assert (found.name, found.company, found.email, found.tier) == (hostile, hostile, hostile, hostile)


@pytest.mark.parametrize("hostile", HOSTILE)
async def test_given_hostile_call_text_when_recorded_then_found_by_its_id_verbatim(
    store: SqlStore, answered_call: CallRecord, hostile: str
) -> None:
    call = replace(
        answered_call,
        call=CallId(hostile),
        did=hostile,
        source=hostile,
        line_name=hostile,
        caller_number=hostile,
        caller_name=hostile,
    )

    await store.record(call, None)

    assert await store.get_call(hostile) == LoggedCall.from_record(call, None)
    assert await store.recent_calls() == [LoggedCall.from_record(call, None)]


@pytest.mark.parametrize("hostile", HOSTILE)
async def test_given_hostile_text_as_number_when_looked_up_then_none_and_store_intact(
    store: SqlStore, hostile: str
) -> None:
    added = await store.add_customer("Ann", [("+14155550123", "mobile")])

    assert await store.find_by_number(hostile) is None
    assert await store.find_by_number("+14155550123") == added


@pytest.mark.parametrize("hostile", HOSTILE)
async def test_given_hostile_text_when_searched_then_data_not_sql_and_found_verbatim(
    store: SqlStore, hostile: str
) -> None:
    plain = await store.customers.create(CustomerDraft(name="Plain Customer"))
    odd = await store.customers.create(CustomerDraft(name=f"x{hostile}x"[:1000], notes=hostile))

    found = await store.customers.search(hostile.strip()[:200])

    assert odd.id in [c.id for c in found.items]
    assert plain.id not in [c.id for c in found.items] or hostile.strip() == ""
    assert (await store.customers.get(odd.id)).notes == hostile.strip()


@pytest.mark.parametrize("hostile", HOSTILE)
async def test_given_hostile_case_text_when_stored_then_history_returns_it_verbatim(
    store: SqlStore, hostile: str
) -> None:
    customer = await store.customers.create(CustomerDraft(name="Ann"))
    case = await store.cases.open(
        NewCase(customer_id=customer.id, subject=f"s{hostile[:900]}s", owner=hostile[:100]),
        author=hostile[:100],
    )

    event = await store.cases.comment(case.id, f"c{hostile}c", author=hostile[:100])
    listed = await store.cases.list(owner=hostile[:100].strip())

    assert (await store.cases.history(case.id))[-1] == event
    assert event.comment == f"c{hostile}c".strip()
    assert [c.id for c in listed.items] == [case.id]
