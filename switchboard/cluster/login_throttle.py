"""The login throttle the instances of a cluster share, in Redis (``agent_console.login_throttle``).

With the counts in each process, three instances gave a guesser three times the tries (spread over the
instances behind a load balancer), and a restart forgot them. Here every instance counts in the same
Redis keys, with the same rule as ``MemoryLoginThrottle``.

Each counted key (a username, a known device, an address) is two sorted sets: its failures and its
attempts under way, each member an attempt's ticket, scored with its time. ``reserve`` and ``settle`` are
one Lua script each, so two instances reserving at once cannot both take the last place. The time is
handed in (``now``, the service's clock, as the memory throttle's), never Redis's, so tests drive the
window; the keys' TTL (the window, renewed on every write) only cleans idle keys up. An attempt whose
settle never arrived (the instance died during the check) counts as a failure until the window passes.
Key names carry a hash of what they count, not the text typed as a username (a password typed into the
wrong field must not land in Redis).

Redis unreachable at a sign-in: the attempt is counted by this instance's own ``MemoryLoginThrottle``
instead, with a warning in the log when that starts and when Redis counts again. A call center expects
its agents to be able to sign in during an outage (the calls themselves wait for Redis anyway, and an
agent locked out at a shift start costs more than the outage); what that costs is bounded: for the
outage, each instance allows its own ``limit`` guesses per window, as a lone instance does. After a
failure, Redis is tried again only ``RETRY_S`` later, so a shift's sign-ins do not each wait for it.

The Redis client is the instance's quick one, which the leader's lease renewals use too: at most
``AT_ONCE`` scripts of this throttle are under way at once, so 200 sign-ins in a burst never take every
connection of its pool (they did, and the burst's overflow was counted locally, past the limit).
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import secrets
import time

import structlog
from redis import asyncio as aioredis
from redis.exceptions import RedisError

from agent_console.login_throttle import (
    OFFICE_AT_ONCE,
    THROTTLE_FAILURES,
    THROTTLE_WINDOW_S,
    Attempt,
    Clock,
    MemoryLoginThrottle,
    keys,
)

log = structlog.get_logger("cluster.login-throttle")

# KEYS: the who key's failures and checks, the address's failures and checks. ARGV: now, now - window,
# limit, OFFICE_AT_ONCE, the ticket, the keys' TTL in ms. Times go in as Python wrote them (repr), so
# Redis compares the same doubles the memory throttle does. Returns 1 for a place taken, 0 for none.
RESERVE = """
for i = 1, 3, 2 do
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', ARGV[2])
  redis.call('ZREMRANGEBYSCORE', KEYS[i + 1], '-inf', ARGV[2])
  local failed = redis.call('ZCARD', KEYS[i])
  local checking = redis.call('ZCARD', KEYS[i + 1])
  if i == 3 and failed == 0 then
    if checking >= tonumber(ARGV[4]) then return 0 end
  elseif failed + checking >= tonumber(ARGV[3]) then
    return 0
  end
end
for i = 2, 4, 2 do
  redis.call('ZADD', KEYS[i], ARGV[1], ARGV[5])
  redis.call('PEXPIRE', KEYS[i], ARGV[6])
end
return 1
"""
# KEYS as RESERVE's. ARGV: now, the ticket, "1" for a failure, the keys' TTL in ms.
SETTLE = """
for i = 1, 3, 2 do
  redis.call('ZREM', KEYS[i + 1], ARGV[2])
  if ARGV[3] == '1' then
    redis.call('ZADD', KEYS[i], ARGV[1], ARGV[2])
    redis.call('PEXPIRE', KEYS[i], ARGV[4])
  end
end
return 1
"""
UNREACHABLE = (RedisError, OSError, TimeoutError)
AT_ONCE = 8  # scripts under way at once (each takes well under a millisecond in Redis)
RETRY_S = 1.0  # after Redis failed, how long sign-ins are counted locally before it is tried again


class RedisLoginThrottle:
    """``LoginThrottle`` on Redis, shared by every instance with the same ``prefix``."""

    def __init__(
        self,
        redis: aioredis.Redis,
        prefix: str,
        clock: Clock,
        limit: int = THROTTLE_FAILURES,
        window_s: float = THROTTLE_WINDOW_S,
    ) -> None:
        self._clock = clock
        self._limit = limit
        self._window_s = window_s
        self._prefix = f"{prefix}:login-throttle"
        self._ttl_ms = math.ceil(window_s * 1000) + 1000
        self._reserve = redis.register_script(RESERVE)
        self._settle = redis.register_script(SETTLE)
        self.local = MemoryLoginThrottle(clock, limit, window_s)  # while Redis cannot be reached
        self._alone = False  # counting locally since Redis failed
        self._retry_at = float("-inf")  # time.monotonic(): not the injected clock, which tests move
        self._at_once = asyncio.Semaphore(AT_ONCE)

    async def reserve(self, username: str, address: str, device: str | None = None) -> Attempt | None:
        found = keys(username, address, device)
        ticket = secrets.token_hex(12)
        now = self._clock()
        if time.monotonic() < self._retry_at:
            return self.local.reserve_now(username, address, device)
        args: list[str | int] = [repr(now), repr(now - self._window_s), self._limit, OFFICE_AT_ONCE, ticket,
                                 self._ttl_ms]  # fmt: skip
        try:
            async with self._at_once:
                taken = await self._reserve(keys=self._names(found), args=args)
        except UNREACHABLE as error:
            if not self._alone:
                log.warning("login-throttle.local", reason=type(error).__name__)
            self._alone, self._retry_at = True, time.monotonic() + RETRY_S
            return self.local.reserve_now(username, address, device)
        if self._alone:
            log.info("login-throttle.shared-again")
            self._alone = False
        return Attempt(found, ticket) if taken else None

    async def settle(self, attempt: Attempt, *, succeeded: bool) -> None:
        if attempt.ticket is None:  # reserved while Redis was out of reach
            self.local.settle_now(attempt, succeeded=succeeded)
            return
        args = [repr(self._clock()), attempt.ticket, "0" if succeeded else "1", self._ttl_ms]
        try:
            async with self._at_once:
                await self._settle(keys=self._names(attempt.keys), args=args)
        except UNREACHABLE as error:
            # The place stays taken: it counts as a failure until the window passes, as an attempt
            # whose check never finished.
            log.warning("login-throttle.settle-lost", reason=type(error).__name__)

    def _names(self, found: tuple[str, str]) -> list[str]:
        names = []
        for key in found:
            digest = hashlib.sha256(key.encode()).hexdigest()[:32]
            names += [f"{self._prefix}:{digest}:failed", f"{self._prefix}:{digest}:checking"]
        return names
