"""Opening databases: which backends are accepted and how SQLite connections are set up."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from crm_core.domain.errors import CrmError, UnsupportedDatabase
from crm_core.sql.database import Database
from crm_core.sql.engine import open_engine
from crm_core.sql.store import SqlStore
from tests.support import postgres_database


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


# A setting local to the transaction: the next statement sees it only if it runs in the same one.
_SET_LOCAL = text("SELECT set_config('switchboard.probe', 'set', true)")
_GET = text("SELECT current_setting('switchboard.probe', true)")


@pytest.mark.postgres
async def test_given_postgresql_when_the_store_reads_then_no_transaction_is_begun_for_it() -> None:
    async with postgres_database("sb_crm_test") as url:
        db = Database(open_engine(url), "US")
        try:
            async with db.engine.connect() as connection:  # as a write connects: BEGIN first
                await connection.execute(_SET_LOCAL)
                in_transaction = await connection.scalar(_GET)
            async with db.reads.connect() as connection:
                await connection.execute(_SET_LOCAL)
                reading = await connection.scalar(_GET)
            pool = db.engine.pool
            kept, most = pool.size(), pool.size() + pool._max_overflow  # type: ignore[attr-defined]
        finally:
            await db.close()

    assert in_transaction == "set"
    assert reading in ("", None)  # the first statement's transaction ended with it
    assert (kept, most) == (10, 15)  # as many at most as SQLAlchemy's default, more of them kept


async def test_given_sqlite_when_the_store_reads_then_it_reads_on_the_engine_itself(tmp_path: Path) -> None:
    db = Database(open_engine(f"sqlite+aiosqlite:///{tmp_path}/crm.db"), "US")
    try:
        assert db.reads is db.engine
    finally:
        await db.close()
