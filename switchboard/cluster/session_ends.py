"""Sessions ended on one instance, dropped by every other at once, over Redis pub/sub.

Each instance keeps the sessions it has seen in a cache (``agent_console.sessions.Sessions``), so a logout
on instance A left the session good on instance B until B's sweep (``Sessions.drop_ended``, every
``WS_RECHECK_S``, 5 s) found its row gone: measured, up to 5 s of requests still accepted and sockets
still open on B. Now the instance that ends a session publishes its store key (the hash of the id, never
the id, which is the secret the cookie carries) on one channel, after the store has lost the row, and
every instance ``forget``s it: B refuses the session's next request and closes its sockets within the
message's delivery (milliseconds).

Pub/sub delivers at most once: a message published while an instance's subscription is down (Redis
restarted, the connection lost) is lost to it. So on each (re)subscription the instance sweeps once, and
the app's sweep every 5 s stays as the fallback; a failed publish is logged and leaves the others to
their sweep. Sessions ended by the CLI (``switchboard users sessions --end``, a password change) are
published the same way (``announce``) once the store has lost their rows, when the config names a cluster;
a publish that fails is a warning, and the sweep ends them within 5 s all the same.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

import structlog
from redis import asyncio as aioredis

from agent_console.sessions import Sessions
from switchboard.cluster.subscription import UNREACHABLE, Subscription
from switchboard.cluster.subscription import subscriber as subscriber

log = structlog.get_logger("cluster.session-ends")


def channel(prefix: str) -> str:
    return f"{prefix}:sessions-ended"


PUBLISH_TIMEOUT_S = 2.0  # the CLI's wait for Redis; the sweep is there if it does not answer


async def announce(url: str, prefix: str, keys: Sequence[str]) -> str | None:
    """Tell the running instances that the sessions whose store keys are ``keys`` ended (the CLI, after
    the store has lost them): None, or why it could not (they then drop them at their next sweep)."""
    if not keys:
        return None
    redis = aioredis.Redis.from_url(
        url, socket_timeout=PUBLISH_TIMEOUT_S, socket_connect_timeout=PUBLISH_TIMEOUT_S
    )
    try:
        async with redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.publish(channel(prefix), key)
            await pipe.execute()
    except UNREACHABLE as error:
        return f"{type(error).__name__}: {error}"
    finally:
        with contextlib.suppress(*UNREACHABLE):
            await redis.aclose()
    return None


class SessionEnds:
    """``publish`` is one of ``Sessions.tell_others``; ``run`` subscribes until cancelled.

    ``redis`` publishes (a client whose requests fail fast); ``subscriber`` is a client of its own for
    the subscription, which holds its connection."""

    def __init__(
        self, redis: aioredis.Redis, subscriber: aioredis.Redis, prefix: str, sessions: Sessions
    ) -> None:
        self._redis = redis
        self._channel = channel(prefix)
        self._sessions = sessions
        # On each (re)subscription, the sessions ended while we were not listening; the app's sweep is the
        # fallback when the store is down then.
        self._subscription = Subscription(subscriber, self._channel, self._heard, sessions.drop_ended)
        self.subscribed = self._subscription.subscribed

    async def publish(self, key: str) -> None:
        try:
            await self._redis.publish(self._channel, key)
        except UNREACHABLE as error:
            log.warning("session-ends.publish-failed", reason=type(error).__name__)

    async def run(self) -> None:
        await self._subscription.run()

    def _heard(self, data: bytes | str) -> None:
        self._sessions.forget(data.decode() if isinstance(data, bytes) else str(data))
