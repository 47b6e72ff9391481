"""The login throttle's two adapters held to one rule (agent_console/login_throttle.py): the memory one of
a lone instance and the Redis one a cluster shares (switchboard/cluster/login_throttle.py), the latter on
the machine's real Redis. Then what only a shared throttle has: guesses spread over two instances at once
count together (two throttles, and two console apps each with its own), its keys go away when idle, and an
unreachable Redis falls back to counting locally."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from redis import asyncio as aioredis
from structlog.testing import capture_logs

from agent_console.app import GATE
from agent_console.login_throttle import (
    OFFICE_AT_ONCE,
    THROTTLE_FAILURES,
    THROTTLE_WINDOW_S,
    Attempt,
    LoginThrottle,
    MemoryLoginThrottle,
)
from switchboard.cluster.login_throttle import RedisLoginThrottle
from tests.support_redis import redis_keys
from tests.switchboard.test_cluster_session_ends import two_instances

UNREACHABLE_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


Make = Callable[[Clock], LoginThrottle]


@pytest.fixture(params=["memory", "redis"])
async def make(request: pytest.FixtureRequest) -> AsyncIterator[Make]:
    if request.param == "memory":
        yield MemoryLoginThrottle
        return
    async with redis_keys("login-throttle") as (redis, prefix):
        yield lambda clock: RedisLoginThrottle(redis, prefix, clock)


async def fail(throttle: LoginThrottle, username: str, address: str, device: str | None = None) -> None:
    attempt = await throttle.reserve(username, address, device)
    assert attempt is not None
    await throttle.settle(attempt, succeeded=False)


async def test_given_five_failures_for_a_username_then_it_is_refused_until_the_window_passes(
    make: Make,
) -> None:
    clock = Clock()
    throttle = make(clock)
    for n in range(THROTTLE_FAILURES):
        await fail(throttle, "alice", f"10.0.0.{n}")  # from five addresses: only the username's count fills
    assert await throttle.reserve("Alice ", "10.0.1.1") is None
    assert await throttle.reserve("bob", "10.0.1.1") is not None
    clock.now += THROTTLE_WINDOW_S - 0.5
    assert await throttle.reserve("alice", "10.0.1.2") is None
    clock.now += 0.5  # the first failure leaves the window
    assert await throttle.reserve("alice", "10.0.1.2") is not None


async def test_given_attempts_still_being_checked_then_they_count_and_a_success_gives_its_place_back(
    make: Make,
) -> None:
    throttle = make(Clock())
    held = [await throttle.reserve("alice", "10.0.0.1") for _ in range(THROTTLE_FAILURES)]
    assert all(held) and await throttle.reserve("alice", "10.0.0.1") is None
    first = held[0]
    assert first is not None
    await throttle.settle(first, succeeded=True)
    assert await throttle.reserve("alice", "10.0.0.1") is not None


async def test_given_five_failures_from_one_address_then_another_username_from_it_is_refused(
    make: Make,
) -> None:
    throttle = make(Clock())
    for n in range(THROTTLE_FAILURES):
        await fail(throttle, f"guess{n}", "10.0.0.9")
    assert await throttle.reserve("sue", "10.0.0.9") is None
    assert await throttle.reserve("sue", "10.0.0.8") is not None


async def test_given_an_office_signing_in_at_once_then_its_address_allows_many_until_one_fails(
    make: Make,
) -> None:
    throttle = make(Clock())
    held = [await throttle.reserve(f"agent{n}", "10.0.0.1") for n in range(OFFICE_AT_ONCE)]
    assert all(held)
    assert await throttle.reserve("one-too-many", "10.0.0.1") is None
    first = held[0]
    assert first is not None
    await throttle.settle(first, succeeded=False)  # a failure: now the checks under way count as tries
    assert await throttle.reserve("agent-late", "10.0.0.1") is None


async def test_given_a_known_device_guessing_then_it_locks_itself_not_the_username(make: Make) -> None:
    throttle = make(Clock())
    for n in range(THROTTLE_FAILURES):
        await fail(throttle, "alice", f"10.0.0.{n}", device="d1")
    assert await throttle.reserve("alice", "10.0.1.1", device="d1") is None
    assert await throttle.reserve("alice", "10.0.1.1", device="d2") is not None
    assert await throttle.reserve("alice", "10.0.1.2") is not None


async def test_given_two_instances_guessing_at_once_then_no_more_than_the_limit_are_checked_in_all() -> None:
    async with redis_keys("login-throttle") as (redis, prefix):
        clock = Clock()
        a, b = RedisLoginThrottle(redis, prefix, clock), RedisLoginThrottle(redis, prefix, clock)
        guesses = [(a if n % 2 else b).reserve("alice", f"10.0.{n // 250}.{n % 250}") for n in range(200)]
        taken = [attempt for attempt in await asyncio.gather(*guesses) if attempt is not None]
        assert len(taken) == THROTTLE_FAILURES
        await asyncio.gather(*(a.settle(attempt, succeeded=False) for attempt in taken))
        more = await asyncio.gather(*(b.reserve("alice", f"10.9.0.{n}") for n in range(50)))
        assert more == [None] * 50


async def test_given_keys_written_then_each_has_a_ttl_and_none_names_the_username() -> None:
    async with redis_keys("login-throttle") as (redis, prefix):
        throttle = RedisLoginThrottle(redis, prefix, Clock())
        await fail(throttle, "hunter2-typed-as-a-name", "10.0.0.1")
        names = [key async for key in redis.scan_iter(match=f"{prefix}:*")]
        assert len(names) == 2  # the username's failures and the address's; no check under way
        for name in names:
            assert b"hunter2" not in name
            assert 0 < await redis.pttl(name) <= THROTTLE_WINDOW_S * 1000 + 1000


async def test_given_redis_unreachable_then_sign_ins_are_counted_by_this_instance_with_one_warning() -> None:
    redis = aioredis.Redis.from_url(UNREACHABLE_URL, socket_connect_timeout=0.5)
    try:
        throttle = RedisLoginThrottle(redis, "test:unreachable", Clock())
        with capture_logs() as log:
            for n in range(THROTTLE_FAILURES):
                await fail(throttle, "alice", f"10.0.0.{n}")
            refused = await throttle.reserve("alice", "10.0.1.1")
            other: Attempt | None = await throttle.reserve("bob", "10.0.1.1")
        assert refused is None  # the limit still holds, counted here
        assert other is not None and other.ticket is None  # an agent still signs in
        assert [e["event"] for e in log].count(
            "login-throttle.local"
        ) == 1  # once per outage, not per sign-in
    finally:
        await redis.aclose()


async def guesses_over(a: TestClient[Any, Any], b: TestClient[Any, Any], count: int) -> Counter[int]:
    async def guess(n: int) -> int:
        client = a if n % 2 else b
        async with client.post("/login", json={"username": "alice", "password": f"wrong{n}"}) as r:
            return r.status

    return Counter(await asyncio.gather(*(guess(n) for n in range(count))))


async def test_given_two_instances_apps_on_one_redis_when_guesses_are_spread_over_them_then_five_are_checked(
    tmp_path: Path,
) -> None:
    async with two_instances(tmp_path) as (a, b, (redis, prefix)):
        for client in (a, b):  # as cluster/node.py wires each instance
            client.app[GATE].throttle = RedisLoginThrottle(redis, prefix, time.time)
        assert await guesses_over(a, b, 40) == {401: THROTTLE_FAILURES, 429: 40 - THROTTLE_FAILURES}
