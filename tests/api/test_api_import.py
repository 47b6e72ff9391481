"""``POST /customers/import`` on SQLite and PostgreSQL: bad rows reported by line, good rows kept,
re-import changes nothing, refused uploads write nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.api.conftest import Api, serve

CSV = (
    "external_id,name,email,phones,tags,balance,currency\r\n"
    "ERP-1,Jane Doe,jane@example.com,mobile:(415) 555-0123,vip;wholesale,10.50,USD\r\n"
    "ERP-2,,nobody@example.com,,,,\r\n"  # line 3: no name
    ",Bob Phone,,office:+1 212 555 0199,,,\r\n"
    "ERP-4,Bad Number,,mobile:12,,,\r\n"  # line 5
    'ERP-5,"Quote ""Q"" O\'Brien; DROP TABLE customers;--",,,,,\r\n'
    ",No Key,,,,,\r\n"  # line 7: nothing to match on
)


async def upload(api: Api, body: Any, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    return await api.call(
        "POST", "/customers/import", data=body, headers={"Content-Type": "text/csv", **(headers or {})}
    )


async def test_given_a_csv_with_bad_rows_when_imported_then_good_rows_kept_bad_reported_by_line(
    api: Api,
) -> None:
    status, result = await upload(api, CSV.encode())
    assert status == 200
    assert result["summary"] == {"lines": 6, "inserted": 3, "updated": 0, "unchanged": 0, "rejected": 3}
    assert [r["line"] for r in result["rejected"]] == [3, 5, 7]
    assert result["rejected"][0]["field"] == "name" and result["rejected"][1]["field"] == "phones"
    assert all(r["reason"] for r in result["rejected"])
    _, found = await api.call("GET", "/customers", params={"q": "O'Brien; DROP"})
    assert [c["name"] for c in found["items"]] == ['Quote "Q" O\'Brien; DROP TABLE customers;--']
    _, card = await api.call("GET", "/customers/by-number/4155550123")
    assert card["account"]["balance"] == "10.50"


async def test_given_an_imported_csv_when_imported_again_then_nothing_changes(api: Api) -> None:
    await upload(api, CSV.encode())
    before = await api.row_counts()
    _, everyone = await api.call("GET", "/customers")
    status, result = await upload(api, CSV.encode())
    assert status == 200
    assert result["summary"] == {"lines": 6, "inserted": 0, "updated": 0, "unchanged": 3, "rejected": 3}
    assert await api.row_counts() == before
    assert (await api.call("GET", "/customers"))[1] == everyone


async def test_given_a_bad_header_when_imported_then_422_and_nothing_written(api: Api) -> None:
    status, body = await upload(api, b"name,shoe_size\r\nJane,43\r\n")
    assert (status, body["error"]) == (422, "invalid-csv-header")
    assert (await api.row_counts())["customers"] == 0


async def test_given_non_utf8_when_imported_then_422_and_nothing_written(api: Api) -> None:
    body = CSV.encode() + "ERP-9,Caf\N{LATIN SMALL LETTER E WITH ACUTE},,,,,\r\n".encode("latin-1")
    status, refused = await upload(api, body)
    assert (status, refused["error"]) == (422, "invalid-encoding")
    assert (await api.row_counts())["customers"] == 0


@pytest.fixture
async def small_cap_api(sqlite_url: str) -> AsyncIterator[Api]:
    async for served in serve(sqlite_url, max_import_bytes=1_000):
        yield served


async def test_given_an_upload_over_the_cap_when_streamed_then_413_and_nothing_written(
    small_cap_api: Api,
) -> None:
    async def chunks() -> Any:
        yield CSV.encode()
        for n in range(50):
            yield f"ERP-x{n},Name {n},,,,,\r\n".encode()

    status, body = await upload(small_cap_api, chunks())
    assert (status, body["error"]) == (413, "too-large")
    big = CSV.encode() * 10
    status, body = await upload(small_cap_api, big)
    assert (status, body["error"]) == (413, "too-large")
    assert (await small_cap_api.row_counts())["customers"] == 0


async def test_given_an_import_without_token_then_401(api: Api) -> None:
    status, body = await upload(api, CSV.encode(), {"Authorization": "Bearer nope"})
    assert (status, body["error"]) == (401, "unauthorized")
    assert (await api.row_counts())["customers"] == 0


@pytest.mark.parametrize("body", [b"", b"\xef\xbb\xbf", b"name\r\n"])
async def test_given_an_empty_file_when_imported_then_a_clean_answer_and_nothing_written(
    api: Api, body: bytes
) -> None:
    status, result = await upload(api, body)
    assert status in (200, 422), result
    assert "error" not in result or result["error"] == "invalid-csv-header"
    assert (await api.row_counts())["customers"] == 0
