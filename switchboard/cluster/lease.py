"""The leader's lease in Redis, with a fencing token.

``<prefix>:leader`` holds ``"<instance> <token>"`` with a time to live; whoever sets it while it is absent
leads until it expires or is given back. ``<prefix>:fence`` counts leaderships: each new one takes the
next token, so an older leader's token never matches again (``journal_stream`` checks it before every
append).

The leader renews every quarter of the lease. It counts its lease as valid only until ``SAFETY`` of the
time to live after it *sent* the renewal that Redis accepted: Redis starts the key's new life when the
request arrives, later than that, so the instance always believes it lost the lease before Redis lets
another take it, by at least a quarter of the lease, whatever the request's delay. A process frozen
(SIGSTOP, a swap storm) finds on waking that its own clock says the lease is gone, and sends nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import redis.asyncio as aioredis
import structlog

from telephony.errors import AriUnavailable

log = structlog.get_logger("cluster.lease")

SAFETY = 0.75  # of the lease, counted from sending the renewal: the margin for clocks and delays
RENEW_SHARE = 0.25  # renew this often, as a share of the lease

# Take the lease if nobody holds it: the fence counts one more leadership, and its value is our token.
# A fence Redis lost (restarted without its data) starts again from the time in milliseconds, above
# every token handed out before, so a follower never takes a new leadership for the one it followed.
_ACQUIRE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return nil end
if redis.call('EXISTS', KEYS[2]) == 0 then redis.call('SET', KEYS[2], ARGV[3]) end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. token, 'PX', ARGV[2])
return token
"""
# Extend the lease only if it is still ours (same instance, same token).
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
# Give the lease back on a clean stop, so a standby need not wait for it to expire.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class NotLeading(AriUnavailable):
    """This instance may not command the PBX: it does not hold a valid lease."""

    def __init__(self, instance: str) -> None:
        super().__init__("(not sent)", f"instance {instance} does not lead")


@dataclass(frozen=True, slots=True)
class Holder:
    instance: str
    token: int


def holder_of(value: str | bytes | None) -> Holder | None:
    """The lease key's value read back; anything else (written by another program) is nobody."""
    if value is None:
        return None
    text = value.decode() if isinstance(value, bytes) else value
    instance, _, token = text.rpartition(" ")
    return Holder(instance, int(token)) if instance and token.isdigit() else None


def leader_key(prefix: str) -> str:
    return f"{prefix}:leader"


class Lease:
    def __init__(
        self,
        redis: aioredis.Redis,
        prefix: str,
        instance: str,
        lease_ms: int,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        if " " in instance:
            raise ValueError(f"instance name {instance!r} may not hold a space")
        self._redis = redis
        self.key = leader_key(prefix)
        self._fence = f"{prefix}:fence"
        self.instance = instance
        self.lease_ms = lease_ms
        self._monotonic = monotonic
        self._wall = wall
        self.token: int | None = None  # ours while we lead
        self._valid_until = 0.0

    @property
    def value(self) -> str:
        """What the lease key holds while we lead (the stream's fence compares it)."""
        return f"{self.instance} {self.token}"

    @property
    def renew_every_s(self) -> float:
        return self.lease_ms * RENEW_SHARE / 1000

    def valid(self) -> bool:
        return self.token is not None and self._monotonic() < self._valid_until

    def remaining_s(self) -> float:
        return self._valid_until - self._monotonic() if self.token is not None else 0.0

    def check(self) -> None:
        """Raise unless we may command now: ``AriClient.gate``."""
        if not self.valid():
            raise NotLeading(self.instance)

    async def acquire(self) -> int | None:
        """Our token if the lease was free and is now ours; None if another holds it."""
        sent = self._monotonic()
        seed = int(self._wall() * 1000)
        token = await self._redis.eval(_ACQUIRE, 2, self.key, self._fence, self.instance, self.lease_ms, seed)
        if token is None:
            return None
        self.token = int(token)
        self._valid_until = sent + self.lease_ms * SAFETY / 1000
        log.info("lease.acquired", instance=self.instance, token=self.token)
        return self.token

    async def renew(self) -> bool:
        """Extend the lease; False (and we no longer lead) if it is not ours any more."""
        if self.token is None:
            return False
        sent = self._monotonic()
        kept = await self._redis.eval(_RENEW, 1, self.key, self.value, self.lease_ms)
        if kept:
            self._valid_until = sent + self.lease_ms * SAFETY / 1000
            return True
        self.lost("another instance holds the lease")
        return False

    def lost(self, why: str) -> None:
        if self.token is not None:
            log.warning("lease.lost", instance=self.instance, token=self.token, why=why)
        self.token = None
        self._valid_until = 0.0

    async def release(self) -> None:
        if self.token is not None:
            await self._redis.eval(_RELEASE, 1, self.key, self.value)
            self.lost("given back")

    async def holder(self) -> Holder | None:
        return holder_of(await self._redis.get(self.key))
