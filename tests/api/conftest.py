"""Fixtures for the customer API: the console app with the API mounted, on a real ``SqlStore`` over
SQLite and over the real PostgreSQL server.

PostgreSQL tests get a fresh database each (``tests.support.postgres_database``);
``SWITCHBOARD_TEST_PG_DSN`` overrides the server; an unreachable server skips locally and fails in CI.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from agent_console.api.context import ApiConfig
from agent_console.app import ConsoleBackend, create_app
from agent_console.hub import ConsoleHub
from crm_core.domain.overview import Caller
from crm_core.sql.engine import open_engine
from crm_core.sql.migrate import upgrade_async
from crm_core.sql.orm import Base
from crm_core.sql.store import SqlStore
from routing.ids import AgentId, CallId, LineId, QueueId
from routing.plan import Plan
from routing.records import CallRecord, Outcome, Party
from routing.router import Router
from tests.support import postgres_database

REGION = "US"
TOKEN = "test-token-\N{SNOWMAN}-not-secret"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """The URL of a database migrated to the newest schema, on each backend."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path}/crm.db"
        await upgrade_async(url)
        yield url
        return
    async with postgres_database("sb_api_test") as url:
        await upgrade_async(url)
        yield url


@pytest.fixture
async def sqlite_url(tmp_path: Path) -> str:
    """For tests about the HTTP layer alone (auth, the route table), where the backend does not matter."""
    url = f"sqlite+aiosqlite:///{tmp_path}/crm.db"
    await upgrade_async(url)
    return url


class NoCallers:
    async def caller(self, call: CallId, number: str | None) -> Caller:
        return Caller(None)

    def peek_caller(self, call: CallId) -> tuple[bool, Caller | None]:
        return True, Caller(None)


@dataclass
class Api:
    client: TestClient[Any, Any]
    store: SqlStore
    url: str

    async def call(self, method: str, path: str, json: Any = None, **kwargs: Any) -> tuple[int, Any]:
        """``method`` on ``/api/v1{path}`` with the test token; the status and the decoded JSON body."""
        headers = {**AUTH, **kwargs.pop("headers", {})}
        async with self.client.request(method, f"/api/v1{path}", json=json, headers=headers, **kwargs) as r:
            body = await r.json() if r.content_type == "application/json" else await r.text()
            return r.status, body

    async def row_counts(self) -> dict[str, int]:
        """Rows of every crm_core table, read past the store: proves what was (not) written."""
        engine = open_engine(self.url)
        try:
            async with engine.connect() as connection:
                return {
                    name: (await connection.scalar(select(func.count()).select_from(table))) or 0
                    for name, table in Base.metadata.tables.items()
                }
        finally:
            await engine.dispose()


async def serve(url: str, max_import_bytes: int = 1024 * 1024) -> AsyncIterator[Api]:
    store = SqlStore.open(url, REGION)
    router = Router(Plan(dids={}, lines={}, queues={}, agents={}))

    async def ask(_: object) -> list[Any]:
        return []

    backend = ConsoleBackend(  # the router as a RouterReader: /training lists its trainees
        ask, router, lambda: 0.0, store.users, lambda: {"ok": True}, sessions=store.sessions
    )
    config = ApiConfig(store, (TOKEN, "second-token"), REGION, max_import_bytes=max_import_bytes)
    client: TestClient[Any, Any] = TestClient(
        TestServer(create_app(ConsoleHub(NoCallers()), backend, config))
    )
    await client.start_server()
    try:
        yield Api(client, store, url)
    finally:
        await client.close()
        await store.close()


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    async for served in serve(database_url):
        yield served


@pytest.fixture
async def sqlite_api(sqlite_url: str) -> AsyncIterator[Api]:
    async for served in serve(sqlite_url):
        yield served


MakeCall = Callable[..., Awaitable[CallRecord]]


@pytest.fixture
def record_call(api: Api) -> MakeCall:
    """Logs a call (fields as keyword overrides) through the store, as the call recorder would."""

    async def record(customer_id: int | None = None, **changes: Any) -> CallRecord:
        fields: dict[str, Any] = {
            "call": CallId(f"1700000000.{uuid.uuid4().int % 10_000}"),
            "did": "+18005550100", "source": "radio", "line": LineId("sales"), "line_name": "Sales line",
            "queue": QueueId("sales-q"), "caller_number": "+14155550123", "caller_name": "Ann Caller",
            "agent": AgentId("agent-7"), "arrived_at": 1_700_000_000.25, "answered_at": 1_700_000_012.5,
            "ended_at": 1_700_000_100.75, "outcome": Outcome.ANSWERED, "hung_up_by": Party.CALLER,
            "offers": 1,
        }  # fmt: skip
        fields.update(changes)
        record = CallRecord(**fields)
        await api.store.record(record, customer_id)
        return record

    return record
