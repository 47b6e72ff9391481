"""Shared test helpers: which real components a test may need, and what to do when one is missing; a
call record to vary.

Locally a missing Asterisk or PostgreSQL skips the tests that need it; in CI (CI=true) it fails them,
so a broken sandbox can never turn the suite green.
"""

from __future__ import annotations

import dataclasses
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy import URL, make_url

from crm_core.sql.migrate import upgrade_async
from crm_core.sql.store import SqlStore
from routing.ids import CallId
from routing.records import CallRecord, Outcome, Party

IN_CI = os.environ.get("CI", "").lower() == "true"


def unavailable(what: str, how_to_fix: str) -> None:
    message = f"{what} is not reachable ({how_to_fix})"
    if IN_CI:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


DEFAULT_PG_DSN = "postgresql://postgres@127.0.0.1:5432"


def pg_server() -> URL:
    """The PostgreSQL server for tests; ``SWITCHBOARD_TEST_PG_DSN`` overrides (its database is ignored)."""
    return make_url(os.environ.get("SWITCHBOARD_TEST_PG_DSN", DEFAULT_PG_DSN))


async def _admin_connection(server: URL) -> asyncpg.Connection:
    dsn = server.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    try:
        return await asyncpg.connect(dsn, timeout=5)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        where = server.render_as_string(hide_password=True)
        unavailable(f"PostgreSQL at {where} ({error!r})", "set SWITCHBOARD_TEST_PG_DSN or run scripts/setup")
        raise  # unreachable: unavailable() always fails or skips


@asynccontextmanager
async def postgres_database(prefix: str) -> AsyncIterator[str]:
    """A fresh, empty database on the test server, dropped afterwards; yields its SQLAlchemy URL."""
    server = pg_server()
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = await _admin_connection(server)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield server.set(drivername="postgresql+asyncpg", database=name).render_as_string(hide_password=False)
    finally:
        # FORCE (PostgreSQL 13+) ends any connection a failed test left behind, so the drop always works.
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@asynccontextmanager
async def sqlite_store(directory: Path) -> AsyncIterator[SqlStore]:
    """A migrated SQLite store in ``directory`` (US numbers), closed afterwards."""
    url = f"sqlite+aiosqlite:///{directory}/crm.db"
    await upgrade_async(url)
    store = SqlStore.open(url, "US")
    try:
        yield store
    finally:
        await store.close()


def radio_call(call: str, **changes: Any) -> CallRecord:
    """A call from +14155550123 to the radio ad's number that reached no line and was abandoned after
    five seconds; ``changes`` names what a test's own call does differently."""
    abandoned = CallRecord(
        call=CallId(call),
        did="+18005550101",
        source="radio",
        line=None,
        line_name=None,
        queue=None,
        caller_number="+14155550123",
        caller_name=None,
        agent=None,
        arrived_at=0.0,
        answered_at=None,
        ended_at=5.0,
        outcome=Outcome.ABANDONED,
        hung_up_by=Party.CALLER,
        offers=0,
    )
    return dataclasses.replace(abandoned, **changes)
