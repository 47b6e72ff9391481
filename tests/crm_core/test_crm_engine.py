"""Opening databases: which backends are accepted and how SQLite connections are set up."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from crm_core.domain.errors import CrmError, UnsupportedDatabase
from crm_core.sql.engine import open_engine
from crm_core.sql.store import SqlStore


@pytest.mark.parametrize("url", ["mysql+aiomysql://root@localhost/crm", "mssql+aioodbc://sa@localhost/crm"])
def test_given_unsupported_backend_when_opening_then_unsupported_database(url: str) -> None:
    with pytest.raises(UnsupportedDatabase) as raised:
        SqlStore.open(url, "US")

    assert isinstance(raised.value, CrmError)
    assert raised.value.backend in {"mysql", "mssql"}


@pytest.mark.parametrize(("enforce", "expected"), [(True, 1), (False, 0)])
async def test_given_sqlite_file_when_connected_then_wal_and_foreign_keys_as_asked(
    tmp_path: Path, enforce: bool, expected: int
) -> None:
    engine = open_engine(f"sqlite+aiosqlite:///{tmp_path}/crm.db", enforce_foreign_keys=enforce)
    try:
        async with engine.connect() as connection:
            journal = await connection.scalar(text("PRAGMA journal_mode"))
            foreign_keys = await connection.scalar(text("PRAGMA foreign_keys"))
    finally:
        await engine.dispose()

    assert (journal, foreign_keys) == ("wal", expected)
