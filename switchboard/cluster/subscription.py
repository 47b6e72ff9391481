"""One Redis pub/sub channel, held until cancelled: subscribed again after every loss, and caught up.

Pub/sub delivers at most once: what is published while a subscription is down (Redis restarted, the
connection lost) is lost to it. So each user says how to catch up once subscribed again (``caught_up``:
read what the store has now), before ``subscribed`` is set; a catch-up that fails (the store down) is
logged, and the user's own fallback (a sweep, the next change) stands.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import structlog
from redis import asyncio as aioredis
from redis.exceptions import RedisError

log = structlog.get_logger("cluster.subscription")

RESUBSCRIBE_S = 1.0  # after the subscription failed, the next try
WAIT_S = 1.0  # one wait for a message; the loop checks its connection between waits
UNREACHABLE = (RedisError, OSError, TimeoutError)


def subscriber(url: str, connect_timeout_s: float) -> aioredis.Redis:
    """A client for a subscription: no read timeout (it waits for messages), a quick connect."""
    return aioredis.Redis.from_url(url, socket_connect_timeout=connect_timeout_s, health_check_interval=10)


class Subscription:
    """``run`` holds ``channel`` on ``client`` (its own: a subscription holds its connection) until
    cancelled, handing each message's data to ``heard``; ``lost`` is told of each loss."""

    def __init__(
        self,
        client: aioredis.Redis,
        channel: str,
        heard: Callable[[bytes | str], None],
        caught_up: Callable[[], Awaitable[object]],
        lost: Callable[[], None] = lambda: None,
    ) -> None:
        self._client = client
        self.channel = channel
        self._heard = heard
        self._caught_up = caught_up
        self._lost = lost
        self.subscribed = asyncio.Event()  # set while subscribed, once caught up

    async def run(self) -> None:
        try:
            while True:
                try:
                    await self._listen()
                except UNREACHABLE as error:
                    log.warning("subscription.lost", channel=self.channel, reason=type(error).__name__)
                self.subscribed.clear()
                self._lost()
                await asyncio.sleep(RESUBSCRIBE_S)
        finally:
            await self._client.aclose()

    async def _listen(self) -> None:
        pubsub = self._client.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(self.channel)
            try:
                await self._caught_up()  # what was published while we were not listening
            except Exception:
                log.exception("subscription.catch-up-failed", channel=self.channel)
            self.subscribed.set()
            while True:
                message = await pubsub.get_message(timeout=WAIT_S)
                if message is not None and message["type"] == "message":
                    self._heard(message["data"])
        finally:
            with contextlib.suppress(*UNREACHABLE):
                await pubsub.aclose()
