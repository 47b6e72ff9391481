"""A delivery's status reaches the agent's console on every instance (switchboard/cluster/delivery_feed.py):
two real services in one cluster (``build`` with a ``[cluster]``, on a simulated PBX), one fresh database on
the real PostgreSQL, a ``redis-server`` of the test's own. The agent's console is on instance b; the
delivery is marked read on instance a (its read link opened there), so only the feed can tell b. Then
Redis is killed, another delivery is read on a meanwhile (b hears nothing), Redis is started again: once b
has resubscribed, its console shows that delivery read, re-read from the store."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientWebSocketResponse
from aiohttp.test_utils import TestClient, TestServer
from redis import asyncio as aioredis

from agent_console.message_links import token
from config.cluster import ClusterSettings
from config.deliveries import Deliveries
from config.settings import load
from crm_core.domain.deliveries import Channel, DeliveryStatus, NewDelivery
from crm_core.domain.users import Role
from crm_core.sql.migrate import upgrade_async
from crm_core.sql.store import SqlStore
from routing.ids import LineId
from switchboard.bootstrap import Service, build, normaliser
from switchboard.cluster.delivery_feed import channel
from telephony.simulated import SimulatedPbx
from tests.integration.cluster.private_redis import PrivateRedis
from tests.support import postgres_database

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]
SECRET = "a test link secret, forty characters long"
PASSWORD = "correct horse battery"
PREFIX = "sbtest"


async def sent_deliveries(url: str, count: int) -> list[int]:
    """``count`` email deliveries of messages agent 1002 took, already sent (the workers leave them)."""
    await upgrade_async(url)
    store = SqlStore.open(url, "US")
    try:
        await store.users.add("bob", PASSWORD, Role.AGENT, agent="1002")
        content: dict[str, object] = {"call": "c1", "taken_by": "1002", "message": "Call me"}
        new = [NewDelivery(message_id=40 + n, business=LineId("smith"), channel=Channel.EMAIL,
                           recipient="dr@smith.example", content=content) for n in range(count)]  # fmt: skip
        queued = await store.deliveries.enqueue(new)
        for d in queued:
            await store.deliveries.change(d.id, DeliveryStatus.SENT, "250 ok")
        return [d.id for d in queued]
    finally:
        await store.close()


@contextlib.asynccontextmanager
async def instances(url: str, redis: PrivateRedis) -> AsyncIterator[tuple[Service, Service]]:
    shipped = load(ROOT / "config" / "switchboard.toml", normaliser, env={})
    started: list[Service] = []
    try:
        for name in ("a", "b"):
            cluster = ClusterSettings(redis_url=redis.url, instance=name, key_prefix=PREFIX)
            settings = dataclasses.replace(
                shipped, database_url=url, http_port=0, cluster=cluster,
                deliveries=Deliveries(link_secret=SECRET),
            )  # fmt: skip
            service = await build(settings, pbx=SimulatedPbx)
            started.append(service)
            await service.start(http=False)
        yield started[0], started[1]
    finally:
        for service in reversed(started):
            await service.stop()


async def subscribers(redis: PrivateRedis, want: int, timeout_s: float = 15.0) -> None:
    """Until ``want`` clients listen on the deliveries' channel."""
    client = aioredis.Redis.from_url(redis.url)
    try:
        async with asyncio.timeout(timeout_s):
            while True:
                [(_, count)] = await client.pubsub_numsub(channel(PREFIX))
                if count >= want:
                    return
                await asyncio.sleep(0.05)
    finally:
        await client.aclose()


async def console(client: TestClient[Any, Any]) -> ClientWebSocketResponse:
    async with client.post("/login", json={"username": "bob", "password": PASSWORD}) as r:
        assert r.status == 200, await r.text()
    ws = await client.ws_connect("/ws", origin=str(client.make_url("/")).rstrip("/"))
    assert (await ws.receive_json(timeout=5))["type"] == "hello"
    await ws.send_json({"type": "login"})  # on a follower: the leader's router hears it over Redis
    assert (await ws.receive_json(timeout=5))["type"] == "snapshot"
    return ws


async def delivery_news(ws: ClientWebSocketResponse, delivery: int, timeout_s: float) -> dict[str, Any]:
    """The next ``delivery`` message about ``delivery`` (others skipped); fails past ``timeout_s``."""
    async with asyncio.timeout(timeout_s):
        while True:
            message: dict[str, Any] = await ws.receive_json()
            if message.get("type") == "delivery" and message["delivery"] == delivery:
                return message


async def test_given_a_console_on_b_when_read_on_a_then_b_shows_it_also_after_a_redis_restart(
    tmp_path: Path,
) -> None:
    redis = PrivateRedis(tmp_path)
    redis.start()
    try:
        async with postgres_database("sb_delivery_feed") as url:
            first, second = await sent_deliveries(url, 2)
            async with instances(url, redis) as (a, b):
                await subscribers(redis, 2)
                async with TestClient(TestServer(a.web)) as on_a, TestClient(TestServer(b.web)) as on_b:
                    ws = await console(on_b)
                    start = time.monotonic()
                    async with on_a.get(f"/m/{token(SECRET, first)}") as r:
                        assert r.status == 200
                    news = await delivery_news(ws, first, 2.0)
                    took_ms = (time.monotonic() - start) * 1000
                    assert (news["status"], news["detail"], news["call"]) == ("read", "link opened", "c1")

                    redis.kill()
                    async with on_a.get(f"/m/{token(SECRET, second)}") as r:  # b cannot hear of this
                        assert r.status == 200
                    [stored] = await a.store.deliveries.of_message(41)
                    assert stored.status is DeliveryStatus.READ
                    await asyncio.sleep(1.5)  # b's subscription has surely noticed the loss
                    redis.start()
                    start = time.monotonic()
                    again = await delivery_news(ws, second, 15.0)
                    back_s = time.monotonic() - start
                    assert again["status"] == "read"
                    await ws.close()
                    print(f"\nread on a, on b's console {took_ms:.1f} ms later;", end=" ")
                    print(f"after Redis came back {back_s:.2f} s")
    finally:
        redis.stop()
