"""Redis's clock read locally (switchboard/cluster/redis_clock.py), against the real Redis's TIME."""

from __future__ import annotations

import pytest

from switchboard.cluster.redis_clock import RedisClock, time_ms
from tests.support_redis import redis_keys


async def test_given_a_measured_clock_then_it_reads_what_redis_time_says() -> None:
    async with redis_keys("clock") as (redis, _):
        clock = RedisClock(redis)
        await clock.measure()
        before = clock.now_ms()
        told = time_ms(await redis.time())
        after = clock.now_ms()
    # TIME was read between the two local readings, give or take the estimate's own uncertainty (and
    # TIME's whole milliseconds-and-micros are exact, so no other slack is needed).
    slack = clock.uncertainty_ms + 1.0
    assert before - slack <= told <= after + slack, (before, told, after, clock.uncertainty_ms)


def test_given_a_clock_never_measured_then_reading_it_is_a_bug() -> None:
    with pytest.raises(RuntimeError, match=r"before RedisClock\.measure"):
        RedisClock(None).now_ms()  # type: ignore[arg-type]
