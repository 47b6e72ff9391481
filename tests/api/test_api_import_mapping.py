"""``POST /customers/import`` of another system's file: the ``map``, ``value`` and ``default`` query
parameters and ``dry_run``, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import Api
from tests.api.test_api_import import upload

OTHER = (
    "external_id,name,company,email,phone,phone2,tier,balance,credit_status\r\n"
    "C-1,Ann Lee,Acme,ann@acme.example,(415) 555-0123,415 555 0124,gold,12.50,hold\r\n"
    "C-2,Bo,,,212 555 0199,,,0,ok\r\n"
    "C-1,Ann again,,,,,,,ok\r\n"
    "C-3,Cy,,,212 555 0198,,,1,frozen\r\n"
)
MAPPING: list[tuple[str, str]] = [
    ("map", "phone=phones,phone2=phones"),
    ("map", "credit_status=account_status"),
    ("value", "credit_status:hold=on-hold"),
    ("default", "currency=USD"),
]
REJECTED = [
    {"line": 4, "field": "external_id", "reason": "'C-1' already on line 2"},
    {"line": 5, "field": "credit_status",
     "reason": "no value mapping for 'frozen' (account_status takes ok, overdue, on-hold)"},
]  # fmt: skip


async def _upload(api: Api, query: list[tuple[str, str]]) -> tuple[int, Any]:
    return await api.call(
        "POST", "/customers/import", data=OTHER.encode(), params=query, headers={"Content-Type": "text/csv"}
    )


async def test_given_another_systems_file_when_dry_run_then_each_line_listed_and_nothing_written(
    api: Api,
) -> None:
    before = await api.row_counts()

    status, result = await _upload(api, [*MAPPING, ("dry_run", "true")])

    assert status == 200, result
    assert result == {
        "summary": {"lines": 4, "inserted": 2, "updated": 0, "unchanged": 0, "rejected": 2},
        "rejected": REJECTED,
        "rejected_truncated": False,
        "dry_run": True,
        "lines": [{"line": 2, "outcome": "add"}, {"line": 3, "outcome": "add"}],
        "lines_truncated": False,
    }
    assert await api.row_counts() == before


async def test_given_another_systems_file_when_mapped_then_imported_and_again_unchanged(api: Api) -> None:
    status, result = await _upload(api, MAPPING)

    assert (status, result["summary"]["inserted"], result["rejected"]) == (200, 2, REJECTED)
    assert result["dry_run"] is False and "lines" not in result
    _, card = await api.call("GET", "/customers/by-number/4155550124")
    assert card["name"] == "Ann Lee" and card["account"]["status"] == "on-hold"
    _, again = await _upload(api, MAPPING)
    assert again["summary"] == {"lines": 4, "inserted": 0, "updated": 0, "unchanged": 2, "rejected": 2}


async def test_given_a_mapping_that_does_not_fit_when_uploaded_then_422_and_nothing_written(api: Api) -> None:
    before = await api.row_counts()

    unmapped = await upload(api, OTHER.encode())
    no_column = await _upload(api, [("map", "fax=phones")])
    bad_value = await _upload(api, [*MAPPING, ("value", "credit_status:late=overdue-ish")])

    assert (unmapped[0], unmapped[1]["error"]) == (422, "invalid-csv-header")
    assert "unknown: phone, phone2, credit_status" in unmapped[1]["message"]
    assert no_column[1] == {
        "error": "invalid-import-mapping", "message": "mapping 'fax=phones': the file has no column 'fax'"
    }  # fmt: skip
    assert (bad_value[0], bad_value[1]["error"]) == (422, "invalid-import-mapping")
    assert await api.row_counts() == before


async def test_given_a_repeated_dry_run_flag_when_uploaded_then_422(api: Api) -> None:
    status, body = await _upload(api, [("dry_run", "true"), ("dry_run", "false")])

    assert (status, body["field"]) == (422, "dry_run")
