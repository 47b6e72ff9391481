"""Customers over HTTP on SQLite and PostgreSQL: create, read, change, delete, anonymise, search,
caller-number lookup, the 360, and hostile strings kept verbatim."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from crm_core.domain.accounts import Account
from crm_core.domain.orders import NewOrder
from tests.api.conftest import AUTH, Api, MakeCall

JANE = {
    "name": "Jane Doe",
    "company": "Doe Plumbing",
    "email": "jane@example.com",
    "tier": "vip",
    "tags": ["wholesale", "vip"],
    "phones": [{"number": "(415) 555-0123", "kind": "mobile"}, {"number": "+44 20 7946 0018"}],
}


async def test_given_a_new_customer_when_created_then_read_back_with_e164_numbers(api: Api) -> None:
    status, created = await api.call("POST", "/customers", JANE)
    assert status == 201
    assert created["phones"] == [
        {"number": "+14155550123", "kind": "mobile"},
        {"number": "+442079460018", "kind": "other"},
    ]
    status, read = await api.call("GET", f"/customers/{created['id']}")
    assert status == 200 and read == created
    assert read["tags"] == ["wholesale", "vip"] and read["anonymised_at"] is None


async def test_given_a_customer_when_patched_then_only_named_fields_change_and_null_erases(api: Api) -> None:
    _, created = await api.call("POST", "/customers", JANE)
    status, changed = await api.call("PATCH", f"/customers/{created['id']}", {"email": None, "tier": "gold"})
    assert status == 200
    assert (changed["email"], changed["tier"], changed["name"]) == (None, "gold", "Jane Doe")
    assert changed["phones"] == created["phones"]
    _, phones_replaced = await api.call("PATCH", f"/customers/{created['id']}", {"phones": []})
    assert phones_replaced["phones"] == []


async def test_given_a_customer_when_deleted_then_gone(api: Api) -> None:
    _, created = await api.call("POST", "/customers", JANE)
    async with api.client.delete(
        f"/api/v1/customers/{created['id']}", headers={"Authorization": "Bearer second-token"}
    ) as response:
        assert response.status == 204
    status, body = await api.call("GET", f"/customers/{created['id']}")
    assert (status, body["error"]) == (404, "not-found")
    status, body = await api.call("DELETE", f"/customers/{created['id']}")
    assert (status, body["error"]) == (404, "not-found")


async def test_given_a_customer_when_anonymised_then_personal_data_erased_and_changes_refused(
    api: Api,
) -> None:
    _, created = await api.call("POST", "/customers", JANE)
    status, gone = await api.call("POST", f"/customers/{created['id']}/anonymise")
    assert status == 200
    assert gone["anonymised_at"] is not None and gone["email"] is None and gone["phones"] == []
    status, body = await api.call("PATCH", f"/customers/{created['id']}", {"name": "Jane Again"})
    assert (status, body["error"]) == (409, "conflict")


async def test_given_many_customers_when_searched_in_pages_then_every_one_once_in_stable_order(
    api: Api,
) -> None:
    ids = []
    for n in range(7):
        _, created = await api.call("POST", "/customers", {"name": f"Pager {n}", "company": "Paging Co"})
        ids.append(created["id"])
    await api.call("POST", "/customers", {"name": "Someone Else"})
    seen: list[int] = []
    cursor = None
    for _ in range(10):
        query = "?q=paging&limit=3" + (f"&cursor={cursor}" if cursor else "")
        status, page = await api.call("GET", f"/customers{query}")
        assert status == 200 and len(page["items"]) <= 3
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ids


@pytest.mark.parametrize(
    "typed", ["4155550123", "(415) 555-0123", "+1 415-555-0123", "+14155550123", "415.555.0123"]
)
async def test_given_a_number_in_any_format_when_looked_up_then_the_owner(api: Api, typed: str) -> None:
    _, created = await api.call("POST", "/customers", JANE)
    await api.store.accounts.set(created["id"], Account(Decimal("12.50"), "USD"))
    status, card = await api.call("GET", f"/customers/by-number/{typed}")
    assert status == 200
    assert card["id"] == created["id"] and card["account"]["balance"] == "12.50"
    assert [match["id"] for match in card["matches"]] == [created["id"]]


async def test_given_a_number_several_customers_share_when_looked_up_then_every_owner_newest_first(
    api: Api,
) -> None:
    office = {"number": "(212) 555-0150", "kind": "office"}
    _, ben = await api.call("POST", "/customers", {"name": "Ben Ortiz", "phones": [office]})
    ann_phones = [office, {"number": "212 555 0151"}]
    _, ann = await api.call("POST", "/customers", {"name": "Ann Park", "phones": ann_phones})
    await api.store.accounts.set(ben["id"], Account(Decimal("40.00"), "USD"))
    await api.call("PATCH", f"/customers/{ben['id']}", {"email": "ben@ortiz.example"})  # Ben updated last

    status, found = await api.call("GET", "/customers/by-number/2125550150")

    assert status == 200
    assert [m["name"] for m in found["matches"]] == ["Ben Ortiz", "Ann Park"]
    first, second = found["matches"]
    old = {k: v for k, v in found.items() if k not in ("matches", "next", "next_cursor")}
    assert old == first  # the old fields: the newest owner
    assert (found["next"], found["next_cursor"]) == (None, None)  # every owner on the one page
    assert (first["email"], first["account"]["balance"], second["account"]) == (
        "ben@ortiz.example",
        "40.00",
        None,
    )
    assert second["phones"] == [{"number": "+12125550150", "kind": "office"},
                                {"number": "+12125550151", "kind": "other"}]  # fmt: skip
    assert second["id"] == ann["id"]


async def test_given_three_owners_when_looked_up_two_a_page_then_the_next_link_gives_the_rest(
    api: Api,
) -> None:
    office = {"number": "(212) 555-0150", "kind": "office"}
    made = [(await api.call("POST", "/customers", {"name": name, "phones": [office]}))[1]
            for name in ("Ann", "Ben", "Cy")]  # fmt: skip
    status, whole = await api.call("GET", "/customers/by-number/2125550150")
    assert status == 200 and (whole["next"], whole["next_cursor"]) == (None, None)
    status, first = await api.call("GET", "/customers/by-number/2125550150?limit=2")
    assert status == 200
    assert first["next"].startswith("/api/v1/customers/by-number/2125550150?limit=2&cursor=")
    assert first["next"].endswith(first["next_cursor"])
    async with api.client.get(first["next"], headers=AUTH) as r:
        assert r.status == 200
        second = await r.json()
    paged = [m["id"] for m in first["matches"]] + [m["id"] for m in second["matches"]]
    assert paged == [m["id"] for m in whole["matches"]] and sorted(paged) == sorted(c["id"] for c in made)
    assert second["id"] == second["matches"][0]["id"]  # the page's first owner's card, as on the first page
    assert (second["next"], second["next_cursor"]) == (None, None)


@pytest.mark.parametrize(
    ("query", "status", "error"),
    [("limit=0", 422, "invalid-input"), ("limit=1001", 422, "invalid-input"),
     ("limit=x", 422, "invalid-input"), ("cursor=nonsense", 400, "invalid-cursor"),
     ("page=2", 422, "invalid-input")],
)  # fmt: skip
async def test_given_a_bad_page_request_when_looked_up_then_refused(
    api: Api, query: str, status: int, error: str
) -> None:
    await api.call("POST", "/customers", JANE)
    code, body = await api.call("GET", f"/customers/by-number/+14155550123?{query}")
    assert (code, body["error"]) == (status, error)


async def test_given_a_non_number_or_unknown_number_when_looked_up_then_400_or_404(api: Api) -> None:
    status, body = await api.call("GET", "/customers/by-number/not-a-number")
    assert (status, body["error"]) == (400, "invalid-phone-number")
    status, body = await api.call("GET", "/customers/by-number/+14155559999")
    assert (status, body["error"]) == (404, "not-found")


async def test_given_calls_cases_orders_when_overview_read_then_everything_on_one_page(
    api: Api, record_call: MakeCall
) -> None:
    _, created = await api.call("POST", "/customers", JANE)
    cid = created["id"]
    await api.store.accounts.set(cid, Account(Decimal("-3.00"), "usd"))
    await api.store.accounts.add_order(cid, NewOrder(date(2026, 1, 2), "Pipe", 3, Decimal("30.00")))
    await record_call(cid)
    _, case = await api.call("POST", "/cases", {"customer_id": cid, "subject": "Leak"})
    status, seen = await api.call("GET", f"/customers/{cid}/overview")
    assert status == 200
    assert seen["customer"]["id"] == cid
    assert seen["account"]["currency"] == "USD" and seen["account"]["balance"] == "-3.00"
    assert [c["id"] for c in seen["open_cases"]] == [case["id"]]
    assert len(seen["recent_calls"]) == 1 and seen["recent_orders"][0]["amount"] == "30.00"
    status, body = await api.call("GET", "/customers/999999/overview")
    assert (status, body["error"]) == (404, "not-found")


HOSTILE = [
    "Robert'); DROP TABLE customers;--",
    "100% _match_ \\ backslash",
    "quote \" and ' and `tick`",
    "Zoë Ünïcødé 李小龍 🚀",
    "' OR '1'='1",
]


@pytest.mark.parametrize("text", HOSTILE)
async def test_given_hostile_strings_when_stored_then_kept_verbatim_and_searched_literally(
    api: Api, text: str
) -> None:
    await api.call("POST", "/customers", {"name": "Plain Person", "company": "Acme"})
    status, created = await api.call("POST", "/customers", {"name": text, "notes": text, "tags": ["x"]})
    assert status == 201 and created["name"] == text and created["notes"] == text
    _, read = await api.call("GET", f"/customers/{created['id']}")
    assert read["name"] == text
    status, found = await api.call("GET", "/customers", params={"q": text})
    assert status == 200
    assert [item["id"] for item in found["items"]] == [created["id"]]
    assert (await api.row_counts())["customers"] == 2
