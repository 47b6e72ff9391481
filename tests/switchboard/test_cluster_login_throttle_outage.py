"""The shared login throttle through a Redis outage (switchboard/cluster/login_throttle.py), on a
``redis-server`` of the test's own (tests/integration/cluster/private_redis.py): killed, its sign-ins are
counted by the instance alone; frozen, a sign-in waits no longer than the client's timeout; started
again, the counts are shared again."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis import asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from structlog.testing import capture_logs

from switchboard.cluster.login_throttle import RETRY_S, RedisLoginThrottle
from tests.integration.cluster.private_redis import PrivateRedis

QUICK_S = 0.5  # as cluster/node.py's client for a 1 s lease: a request fails after this


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[PrivateRedis]:
    redis = PrivateRedis(tmp_path)
    redis.start()
    try:
        yield redis
    finally:
        redis.stop()


@pytest.fixture
async def throttle(server: PrivateRedis) -> AsyncIterator[RedisLoginThrottle]:
    client = aioredis.Redis.from_url(server.url, socket_timeout=QUICK_S, socket_connect_timeout=QUICK_S,
                                     retry=Retry(NoBackoff(), 0))  # fmt: skip
    try:
        yield RedisLoginThrottle(client, "t", time.time)
    finally:
        await client.aclose()


async def test_given_redis_killed_and_started_again_then_counted_alone_meanwhile_and_shared_after(
    server: PrivateRedis, throttle: RedisLoginThrottle
) -> None:
    held = await throttle.reserve("alice", "10.0.0.1")
    assert held is not None and held.ticket is not None  # counted in Redis
    server.kill()
    with capture_logs() as logged:
        await throttle.settle(held, succeeded=False)  # lost: Redis keeps it as under way
        alone = await throttle.reserve("alice", "10.0.0.1")
        assert alone is not None and alone.ticket is None  # counted by this instance
        await throttle.settle(alone, succeeded=False)
        server.start()
        await asyncio.sleep(RETRY_S + 0.1)
        again = await throttle.reserve("bob", "10.0.0.2")
    assert again is not None and again.ticket is not None
    events = [entry["event"] for entry in logged]
    assert events == ["login-throttle.settle-lost", "login-throttle.local", "login-throttle.shared-again"]


async def test_given_redis_frozen_then_a_sign_in_is_counted_alone_after_the_clients_timeout(
    server: PrivateRedis, throttle: RedisLoginThrottle
) -> None:
    assert await throttle.reserve("alice", "10.0.0.1") is not None  # the connection is open
    server.freeze()
    started = time.monotonic()
    first = await throttle.reserve("alice", "10.0.0.1")
    took = time.monotonic() - started
    assert first is not None and first.ticket is None
    assert took < QUICK_S + 0.5
    started = time.monotonic()
    assert await throttle.reserve("bob", "10.0.0.2") is not None
    assert time.monotonic() - started < 0.1  # Redis is not asked again for RETRY_S
