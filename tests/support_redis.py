"""The machine's real Redis for tests, shared by everyone: each test gets its own key prefix, and every key
under it is deleted afterwards.

``SWITCHBOARD_TEST_REDIS_URL`` overrides the server (default redis://127.0.0.1:6379/0). A Redis that
cannot be reached skips the test locally and fails it in CI (``tests.support.unavailable``). Tests that
stop or freeze their Redis use ``tests/integration/cluster/private_redis.py`` instead.

    async with redis_keys("asks") as (redis, prefix):
        ...  # every key the test writes starts with f"{prefix}:"
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis import asyncio as aioredis
from redis.exceptions import RedisError

from tests.support import unavailable

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def redis_url() -> str:
    return os.environ.get("SWITCHBOARD_TEST_REDIS_URL", DEFAULT_REDIS_URL)


async def reachable_redis() -> aioredis.Redis:
    """A client of the test server that has answered a PING; skips (locally) or fails (CI) otherwise."""
    client = aioredis.Redis.from_url(redis_url(), socket_connect_timeout=2)
    try:
        await client.ping()
    except (RedisError, OSError) as error:
        await client.aclose()
        unavailable(
            f"Redis at {redis_url()} ({error!r})", "set SWITCHBOARD_TEST_REDIS_URL or run scripts/setup"
        )
        raise  # unreachable: unavailable() always fails or skips
    return client


async def delete_keys(client: aioredis.Redis, prefix: str) -> None:
    keys = [key async for key in client.scan_iter(match=f"{prefix}:*", count=1000)]
    if keys:
        await client.delete(*keys)


@asynccontextmanager
async def redis_keys(name: str) -> AsyncIterator[tuple[aioredis.Redis, str]]:
    """A client of the test server and a key prefix no other test uses; its keys are gone afterwards."""
    client = await reachable_redis()
    prefix = f"test:{name}:{uuid.uuid4().hex[:12]}"
    try:
        yield client, prefix
    finally:
        await delete_keys(client, prefix)
        await client.aclose()
