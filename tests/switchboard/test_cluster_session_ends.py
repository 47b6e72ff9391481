"""A session ended on one instance is refused by another at once (switchboard/cluster/session_ends.py):
two real console apps over one real store (SQLite) and the machine's real Redis, each with its own cache
of sessions (the users are a hand-written directory). Their sweep for sessions ended elsewhere is set to
an hour, so only the pub/sub message can end the session on the other instance within the test."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient, TestServer
from redis import asyncio as aioredis

from agent_console.app import GATE, ConsoleBackend, create_app
from agent_console.hub import ConsoleHub
from agent_console.login import COOKIE
from agent_console.sockets import SESSION_ENDED
from crm_core.domain.users import Role
from crm_core.sql.migrate import upgrade_async
from crm_core.sql.store import SqlStore
from routing.router import Router
from switchboard.cluster.session_ends import SessionEnds, subscriber
from tests.agent_console.fakes import PASSWORD, FakeUsers, user
from tests.agent_console.harness import FLOOR, PLAN, FixedDirectory
from tests.support_redis import redis_keys, redis_url

HOUR_S = 3600.0


async def never_asked(_: object) -> list[Any]:
    raise AssertionError("no order goes to the router in these tests")


@contextlib.asynccontextmanager
async def instance(store: SqlStore, sweep_s: float = HOUR_S) -> AsyncIterator[TestClient[Any, Any]]:
    users = FakeUsers(user("alice", Role.AGENT, "a1"))  # the password check's worker takes seconds to start
    backend = ConsoleBackend(never_asked, Router(PLAN), time.time, users, lambda: {},
                             sessions=store.sessions, sweep_s=sweep_s)  # fmt: skip
    client: TestClient[Any, Any] = TestClient(
        TestServer(create_app(ConsoleHub(FixedDirectory(), FLOOR), backend))
    )
    await client.start_server()
    try:
        yield client
    finally:
        await client.close()


@contextlib.asynccontextmanager
async def told(
    client: TestClient[Any, Any], redis: aioredis.Redis, prefix: str
) -> AsyncIterator[SessionEnds]:
    """The instance's sessions joined to the others' over Redis, as cluster/node.py joins them."""
    sessions = client.app[GATE].sessions
    ends = SessionEnds(redis, subscriber(redis_url(), 1.0), prefix, sessions)
    sessions.tell_others.append(ends.publish)
    task = asyncio.create_task(ends.run())
    try:
        await asyncio.wait_for(ends.subscribed.wait(), 5)
        yield ends
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


@contextlib.asynccontextmanager
async def two_instances(
    tmp_path: Path, sweep_s: float = HOUR_S
) -> AsyncIterator[tuple[TestClient[Any, Any], TestClient[Any, Any], Any]]:
    url = f"sqlite+aiosqlite:///{tmp_path}/crm.db"
    await upgrade_async(url)
    store = SqlStore.open(url, "US")
    try:
        async with (
            redis_keys("session-ends") as (redis, prefix),
            instance(store, sweep_s) as a,
            instance(store, sweep_s) as b,
        ):
            yield a, b, (redis, prefix)
    finally:
        await store.close()


async def signed_in_on_both(a: TestClient[Any, Any], b: TestClient[Any, Any]) -> str:
    async with a.post("/login", json={"username": "alice", "password": PASSWORD}) as r:
        assert r.status == 200
        session = r.cookies[COOKIE].value
    b.session.cookie_jar.update_cookies({COOKIE: session}, b.make_url("/"))
    async with b.get("/session") as r:
        assert r.status == 200  # b has it in its cache from here on
    return session


async def refused_after(b: TestClient[Any, Any], limit_s: float) -> float:
    """Seconds until ``b`` refuses the session, polling; fails past ``limit_s``."""
    start = time.monotonic()
    while time.monotonic() - start < limit_s:
        async with b.get("/session") as r:
            if r.status == 401:
                return time.monotonic() - start
        await asyncio.sleep(0.005)
    raise AssertionError(f"still signed in on the other instance after {limit_s} s")


async def test_given_a_logout_on_a_then_b_refuses_the_session_and_closes_its_socket_at_once(
    tmp_path: Path,
) -> None:
    async with (
        two_instances(tmp_path) as (a, b, (redis, prefix)),
        told(a, redis, prefix),
        told(b, redis, prefix),
    ):
        await signed_in_on_both(a, b)
        ws = await b.ws_connect("/ws", origin=str(b.make_url("/")).rstrip("/"))
        assert (await ws.receive_json(timeout=2))["type"] == "hello"
        async with a.post("/logout", headers={"Origin": str(a.make_url("/")).rstrip("/")}) as r:
            assert r.status == 200
        assert await refused_after(b, 1.0) < 1.0
        assert (await ws.receive_json(timeout=1))["error"] == "not-logged-in"
        closing = await ws.receive(timeout=1)
        assert (closing.type, closing.data) == (aiohttp.WSMsgType.CLOSE, SESSION_ENDED)


async def test_given_b_not_listening_at_the_logout_then_it_drops_the_session_once_it_subscribes(
    tmp_path: Path,
) -> None:
    async with two_instances(tmp_path) as (a, b, (redis, prefix)), told(a, redis, prefix):
        await signed_in_on_both(a, b)
        async with a.post("/logout", headers={"Origin": str(a.make_url("/")).rstrip("/")}) as r:
            assert r.status == 200
        async with b.get("/session") as r:
            assert r.status == 200  # b heard nothing: its cache still holds the session
        async with told(b, redis, prefix), b.get("/session") as r:  # b subscribes: what it missed is swept
            assert r.status == 401
