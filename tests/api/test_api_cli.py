"""``switchboard customers import`` / ``export``: a round trip through a CSV file, on SQLite and
PostgreSQL, with a temporary config file."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from switchboard.cli import main

CONFIG = """
region = "US"
[ari]
password = "unused"
[database]
url = "{url}"
[queues.q]
name = "Q"
"""
CSV = (
    "external_id,name,phones,tags\r\n"
    "ERP-1,Jane Doe,mobile:(415) 555-0123,vip\r\n"
    "ERP-2,,,\r\n"
    ",Bob,office:+1 212 555 0199,\r\n"
    "ERP-3,Zoë 李,,\r\n"
)


def config_file(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "switchboard.toml"
    path.write_text(CONFIG.format(url=url), encoding="utf-8")
    return path


# main() runs its own event loop (asyncio.run), so the tests call it from a worker thread.
async def test_given_a_csv_when_imported_exported_and_reimported_then_same_customers(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(config_file(tmp_path, database_url))
    source = tmp_path / "in.csv"
    source.write_text(CSV, encoding="utf-8", newline="")
    assert await asyncio.to_thread(main, ["--config", config, "customers", "import", str(source)]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out) == {"lines": 4, "inserted": 3, "updated": 0, "unchanged": 0, "rejected": 1}
    assert err.startswith("line 3: name: ") and err.count("\n") == 1

    exported = tmp_path / "out.csv"
    assert (
        await asyncio.to_thread(main, ["--config", config, "customers", "export", "--output", str(exported)])
        == 0
    )
    text = exported.read_text(encoding="utf-8")
    assert text.startswith("external_id,name,") and "Zoë 李" in text and "+14155550123" in text
    assert len(text.splitlines()) == 4
    capsys.readouterr()

    assert await asyncio.to_thread(main, ["--config", config, "customers", "import", str(exported)]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out) == {"lines": 3, "inserted": 0, "updated": 0, "unchanged": 3, "rejected": 0}
    assert err == ""

    assert await asyncio.to_thread(main, ["--config", config, "customers", "export"]) == 0
    out, _ = capsys.readouterr()
    assert out.replace("\r\n", "\n") == text.replace("\r\n", "\n")


async def test_given_a_missing_file_when_imported_then_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(config_file(tmp_path, f"sqlite+aiosqlite:///{tmp_path}/crm.db"))
    code = await asyncio.to_thread(
        main, ["--config", config, "customers", "import", str(tmp_path / "nope.csv")]
    )
    assert code == 1
    assert "cannot read" in capsys.readouterr().err
