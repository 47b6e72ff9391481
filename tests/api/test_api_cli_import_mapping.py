"""``switchboard customers import`` of another system's file: --map, --value, --default and --dry-run,
on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from crm_core.sql.store import SqlStore
from switchboard.cli import main
from tests.api.test_api_cli import config_file

OTHER = (
    "external_id,name,company,email,phone,phone2,tier,balance,credit_status,notes_old\r\n"
    "C-1,Ann Lee,Acme,ann@acme.example,(415) 555-0123,415 555 0124,gold,12.50,hold,x\r\n"
    "C-2,Bo,,,212 555 0199,,,0,ok,\r\n"
    "C-1,Ann again,,,,,,,ok,\r\n"
    "C-3,Cy,,,212 555 0198,,,1,frozen,\r\n"
)
MAPPING = [
    "--map", "phone=phones,phone2=phones", "--map", "credit_status=account_status,notes_old=-",
    "--value", "credit_status:hold=on-hold", "--default", "currency=USD",
]  # fmt: skip


def _files(tmp_path: Path, url: str) -> tuple[Path, str]:
    """A config file for ``url``, and the other system's CSV file's path."""
    source = tmp_path / "other.csv"
    source.write_text(OTHER, encoding="utf-8", newline="")
    return config_file(tmp_path, url), str(source)


async def _import(config: Path, *args: str) -> int:
    return await asyncio.to_thread(main, ["--config", str(config), "customers", "import", *args])


async def _customers(url: str) -> list[tuple[str, str]]:
    store = SqlStore.open(url, "US")
    try:
        return [(c.name, c.phones[0].e164) for c in (await store.customers.search("")).items if c.phones]
    finally:
        await store.close()


async def test_given_another_systems_file_when_dry_run_then_every_line_reported_and_nothing_written(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, source = _files(tmp_path, database_url)

    assert await _import(config, source, *MAPPING, "--dry-run") == 0

    out, err = capsys.readouterr()
    *lines, summary = out.splitlines()
    assert lines == [
        "line 2: would add",
        "line 3: would add",
        "line 4: rejected: external_id: 'C-1' already on line 2",
        "line 5: rejected: credit_status: no value mapping for 'frozen' "
        "(account_status takes ok, overdue, on-hold)",
    ]
    assert json.loads(summary) == {
        "lines": 4, "inserted": 2, "updated": 0, "unchanged": 0, "rejected": 2, "dry_run": True
    }  # fmt: skip
    assert err == "" and await _customers(database_url) == []


async def test_given_another_systems_file_when_imported_twice_then_added_then_unchanged(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, source = _files(tmp_path, database_url)

    assert await _import(config, source, *MAPPING) == 0
    out, err = capsys.readouterr()
    assert json.loads(out) == {"lines": 4, "inserted": 2, "updated": 0, "unchanged": 0, "rejected": 2}
    assert err.splitlines()[0] == "line 4: external_id: 'C-1' already on line 2"
    assert sorted(await _customers(database_url)) == [("Ann Lee", "+14155550123"), ("Bo", "+12125550199")]

    assert await _import(config, source, *MAPPING) == 0
    out, _ = capsys.readouterr()
    assert json.loads(out) == {"lines": 4, "inserted": 0, "updated": 0, "unchanged": 2, "rejected": 2}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "switchboard: bad CSV header (unknown: phone, phone2, credit_status, notes_old); map them"),
        (("--map", "fax=phones"), "switchboard: mapping 'fax=phones': the file has no column 'fax'"),
        (
            ("--map", "phone=phone_numbers"),
            "switchboard: mapping 'phone=phone_numbers': 'phone_numbers' is not",
        ),
        (("--value", "credit_status=ok"), "switchboard: mapping 'credit_status=ok': write COLUMN:FROM=TO"),
    ],
)
async def test_given_a_mapping_that_does_not_fit_when_imported_then_one_line_exit_1_nothing_written(
    sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], message: str
) -> None:
    config, source = _files(tmp_path, sqlite_url)

    assert await _import(config, source, *args) == 1

    out, err = capsys.readouterr()
    assert out == "" and err.startswith(message) and err.count("\n") == 1
    assert await _customers(sqlite_url) == []
