"""Redis's clock (``TIME``), read in this process without a round trip each time.

Instances on several machines disagree about the time; Redis's clock is one they share. ``RedisClock``
measures its offset from this process's monotonic clock with one round trip (the best of a few, each
taken to have been read half way through), so a deadline written with it means the same to every
instance that checks it against ``TIME``. ``uncertainty_ms`` is half that round trip: how far off the
estimate may be.
"""

from __future__ import annotations

import time
from typing import Any

from redis import asyncio as aioredis

SAMPLES = 3  # round trips per measure; the shortest gives the tightest estimate


def time_ms(reply: Any) -> float:
    """A ``TIME`` reply, (seconds, microseconds), in milliseconds."""
    return float(reply[0]) * 1000.0 + float(reply[1]) / 1000.0


class RedisClock:
    def __init__(self, redis: aioredis.Redis) -> None:
        self._redis = redis
        self._offset_ms: float | None = None
        self.uncertainty_ms = 0.0

    async def measure(self) -> None:
        best: tuple[float, float] | None = None
        for _ in range(SAMPLES):
            sent = time.monotonic()
            redis_ms = time_ms(await self._redis.time())
            took_ms = (time.monotonic() - sent) * 1000.0
            if best is None or took_ms < best[0]:
                best = (took_ms, redis_ms - (sent * 1000.0 + took_ms / 2))
        assert best is not None
        self.uncertainty_ms, self._offset_ms = best[0] / 2, best[1]

    def now_ms(self) -> float:
        if self._offset_ms is None:
            raise RuntimeError("RedisClock.now_ms before RedisClock.measure")
        return time.monotonic() * 1000.0 + self._offset_ms
