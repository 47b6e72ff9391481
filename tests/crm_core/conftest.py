"""Fixtures for crm_core: every store test runs against SQLite and against the real PostgreSQL server.

PostgreSQL tests get a fresh database each, created through asyncpg on the server's ``postgres``
database and dropped afterwards. ``SWITCHBOARD_TEST_PG_DSN`` overrides the server
(default ``postgresql://postgres@127.0.0.1:5432``; any database name in it is ignored). An unreachable
server skips those tests locally but fails them in CI (``CI=true``), so CI never passes on SQLite alone.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from crm_core.sql.engine import open_engine
from crm_core.sql.migrate import upgrade_async
from crm_core.sql.orm import Base
from crm_core.sql.store import SqlStore
from routing.ids import AgentId, CallId, LineId, QueueId
from routing.records import CallRecord, Outcome, Party
from tests.support import postgres_database

REGION = "US"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """The URL of a database with no tables at all."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path}/crm.db"
        return
    async with postgres_database("sb_crm_test") as url:
        yield url


@pytest.fixture
async def database_url(empty_database_url: str) -> str:
    """The URL of a database migrated to the newest schema."""
    await upgrade_async(empty_database_url)
    return empty_database_url


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[SqlStore]:
    opened = SqlStore.open(database_url, REGION)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
def answered_call() -> CallRecord:
    """A complete answered call; tests vary it with ``dataclasses.replace``."""
    return CallRecord(
        call=CallId("1700000000.42"),
        did="+18005550100",
        source="pjsip-trunk",
        line=LineId("sales"),
        line_name="Sales line",
        queue=QueueId("sales-q"),
        caller_number="+14155550123",
        caller_name="Ann Caller",
        agent=AgentId("agent-7"),
        arrived_at=1_700_000_000.25,
        answered_at=1_700_000_012.5,
        ended_at=1_700_000_100.75,
        outcome=Outcome.ANSWERED,
        hung_up_by=Party.CALLER,
        offers=2,
    )


RowCounts = Callable[[], Awaitable[dict[str, int]]]
EMPTY = {name: 0 for name in Base.metadata.tables}  # what row_counts gives before anything is written


@pytest.fixture
def row_counts(database_url: str) -> RowCounts:
    """Counts the rows of every crm_core table, read past the store, to prove what was (not) written."""

    async def count() -> dict[str, int]:
        engine = open_engine(database_url)
        try:
            async with engine.connect() as connection:
                return {
                    name: (await connection.scalar(select(func.count()).select_from(table))) or 0
                    for name, table in Base.metadata.tables.items()
                }
        finally:
            await engine.dispose()

    return count
