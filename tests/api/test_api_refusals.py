"""Bad requests on SQLite and PostgreSQL: each a 4xx with a stable code and a message, nothing written."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import AUTH, Api

BAD_BODIES: list[tuple[str, str, Any, int, str]] = [
    ("POST", "/customers", {"name": "X", "shoe_size": 43}, 422, "invalid-input"),
    ("POST", "/customers", {"name": 42}, 422, "invalid-input"),
    ("POST", "/customers", {"name": "X", "tags": "vip"}, 422, "invalid-input"),
    ("POST", "/customers", {"name": "X", "phones": ["4155550123"]}, 422, "invalid-input"),
    ("POST", "/customers", {"name": "X", "phones": [{"number": "4155550123", "extra": 1}]}, 422,
     "invalid-input"),
    ("POST", "/customers", {"company": "no name"}, 422, "invalid-input"),
    ("POST", "/customers", {"name": "   "}, 422, "invalid-input"),
    ("POST", "/customers", {"name": "X", "email": "not-an-email"}, 422, "invalid-input"),
    ("POST", "/customers", {"name": "X", "phones": [{"number": "12"}]}, 422, "invalid-phone-number"),
    ("POST", "/customers", {"name": "X", "phones": [{"number": "4155550123", "kind": "fax"}]}, 422,
     "invalid-phone-kind"),
    ("POST", "/customers", ["a", "list"], 400, "bad-json"),
    ("POST", "/customers", None, 400, "bad-json"),
    ("POST", "/cases", {"customer_id": "1", "subject": "S"}, 422, "invalid-input"),
    ("POST", "/cases", {"customer_id": True, "subject": "S"}, 422, "invalid-input"),
    ("POST", "/cases", {"customer_id": 1, "subject": "S", "priority": "meh"}, 422, "invalid-input"),
    ("POST", "/cases", {"customer_id": 1, "subject": "S", "due_at": "tomorrow"}, 422, "invalid-input"),
]  # fmt: skip


@pytest.mark.parametrize(("method", "path", "body", "status", "code"), BAD_BODIES)
async def test_given_a_bad_body_when_sent_then_refused_with_its_code_and_nothing_written(
    api: Api, method: str, path: str, body: Any, status: int, code: str
) -> None:
    before = await api.row_counts()
    got, refusal = await api.call(method, path, body)
    assert (got, refusal["error"]) == (status, code), refusal
    assert refusal["message"]
    assert await api.row_counts() == before


@pytest.mark.parametrize("raw", [b"{", b"{'name': 'x'}", b"\xff\xfe", b"", b'{"name": "X"} trailing'])
async def test_given_malformed_json_when_posted_then_400_bad_json(api: Api, raw: bytes) -> None:
    status, body = await api.call(
        "POST", "/customers", data=raw, headers={"Content-Type": "application/json"}
    )
    assert (status, body["error"]) == (400, "bad-json")
    assert (await api.row_counts())["customers"] == 0


async def test_given_an_oversized_body_when_posted_then_413_and_nothing_written(api: Api) -> None:
    huge = {"name": "Big", "notes": "x" * 200_000}
    status, body = await api.call("POST", "/customers", huge)
    assert (status, body["error"]) == (413, "too-large")

    async def chunks() -> Any:
        for _ in range(10):
            yield b" " * 10_000  # no Content-Length: the cap must hold while streaming

    status, body = await api.call(
        "POST", "/customers", data=chunks(), headers={"Content-Type": "application/json"}
    )
    assert (status, body["error"]) == (413, "too-large")
    assert (await api.row_counts())["customers"] == 0


async def test_given_a_customer_when_patched_badly_then_unchanged(api: Api) -> None:
    _, created = await api.call(
        "POST", "/customers", {"name": "Keep Me", "phones": [{"number": "4155550123"}]}
    )
    for bad in ({"name": None}, {"phones": [{"number": "nope"}]}, {"nickname": "K"}, {"tags": [1]}):
        status, body = await api.call("PATCH", f"/customers/{created['id']}", bad)
        assert status == 422, body
    _, read = await api.call("GET", f"/customers/{created['id']}")
    assert read == created


async def test_given_an_external_id_in_use_when_reused_then_409_conflict(api: Api) -> None:
    await api.call("POST", "/customers", {"name": "A", "external_id": "ERP-1"})
    status, body = await api.call("POST", "/customers", {"name": "B", "external_id": "ERP-1"})
    assert (status, body["error"]) == (409, "conflict")
    assert (await api.row_counts())["customers"] == 1


@pytest.mark.parametrize("path", ["/customers", "/cases", "/calls"])
@pytest.mark.parametrize("cursor", ["garbage", "eyJ4IjoxfQ", "W10"])
async def test_given_a_foreign_cursor_when_paging_then_400_invalid_cursor(
    api: Api, path: str, cursor: str
) -> None:
    status, body = await api.call("GET", path, params={"cursor": cursor})
    assert (status, body["error"]) == (400, "invalid-cursor")


async def test_given_a_cursor_of_another_list_when_used_then_400(api: Api) -> None:
    for n in range(3):
        await api.call("POST", "/customers", {"name": f"C{n}"})
    _, page = await api.call("GET", "/customers?limit=1")
    status, body = await api.call("GET", "/cases", params={"cursor": page["next_cursor"]})
    assert (status, body["error"]) == (400, "invalid-cursor")


@pytest.mark.parametrize(
    "query", ["limit=0", "limit=501", "limit=ten", "limit=-1", "unknown=1", "customer_id=x", "outcome=maybe"]
)
async def test_given_bad_query_parameters_when_listing_calls_then_422(api: Api, query: str) -> None:
    status, body = await api.call("GET", f"/calls?{query}")
    assert (status, body["error"]) == (422, "invalid-input"), body


UNKNOWN = [("GET", "/customers/abc"), ("GET", "/customers/99999"), ("GET", "/cases/99999"),
           ("POST", "/cases/99999/comments")]  # fmt: skip


@pytest.mark.parametrize(("method", "path"), UNKNOWN)
async def test_given_unknown_ids_when_requested_then_404_not_found(api: Api, method: str, path: str) -> None:
    status, body = await api.call(method, path, {"text": "hello"} if method == "POST" else None)
    assert (status, body["error"]) == (404, "not-found")


async def test_given_a_wrong_method_when_called_then_405_in_the_api_shape(api: Api) -> None:
    async with api.client.put("/api/v1/customers", json={}, headers=AUTH) as response:
        assert response.status == 405
        assert (await response.json())["error"] == "method-not-allowed"
