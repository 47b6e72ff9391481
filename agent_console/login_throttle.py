"""The login throttle: how many sign-ins a username, a known device or an address may still try.

After ``limit`` failed logins for one username or from one address within ``window_s``, further attempts
for that username or address are refused until the oldest failure leaves the window.

An attempt takes its place (``reserve``) before its password is checked, and attempts still being checked
count as failures: a check takes about 0.17 s in the password worker, so counting failures only when
checks end let 200 guesses sent at once all be checked. ``settle`` gives a success's place back and keeps
a failure's for the window.

For an address, attempts under way count so only once it has a failure in the window: until then up to
``OFFICE_AT_ONCE`` may be checked at once, since the agents of an office share its address and sign in
together at a shift start (the username's own count still stops guesses at one account).

An attempt from a known device (``devices``: the browser signed in as that user before) counts against the
device instead of the username, so a stranger's failures cannot lock the user's own browser out.

Two adapters of the ``LoginThrottle`` port: ``MemoryLoginThrottle`` here, the one-machine default (a
restart forgetting recent failed logins gives a guesser one more window of five tries, no more), and
``switchboard.cluster.login_throttle.RedisLoginThrottle``, which the instances of a cluster share, so
guesses spread over three instances count as much as guesses at one.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from agent_console.devices import canonical

Clock = Callable[[], float]

THROTTLE_FAILURES = 5
THROTTLE_WINDOW_S = 15 * 60
# Sign-ins being checked at once from one address with no failure in the window: a call center's agents
# sign in from behind one office address, 60 of them within seconds at a shift start.
OFFICE_AT_ONCE = 200
ADDRESS = "addr:"  # how an address's key starts (the other key names a username or a device)


@dataclass(frozen=True, slots=True)
class Attempt:
    """A login attempt that holds its place in the throttle's count while its password is checked.

    ``ticket``: where a shared throttle keeps the place (None: in this process)."""

    keys: tuple[str, str]
    ticket: str | None = None


class LoginThrottle(Protocol):
    async def reserve(self, username: str, address: str, device: str | None = None) -> Attempt | None:
        """A place for one attempt, or None when the username (or ``device``, a known device's nonce,
        which stands in for the username) or the address has no place left."""
        ...

    async def settle(self, attempt: Attempt, *, succeeded: bool) -> None:
        """The attempt's check is over: a failure (or a check that never finished) stays counted."""
        ...


def keys(username: str, address: str, device: str | None) -> tuple[str, str]:
    who = f"user:{canonical(username)}" if device is None else f"device:{device}"
    return who, f"{ADDRESS}{address}"


def full(key: str, failed: int, checking: int, limit: int) -> bool:
    """Whether ``key``, with ``failed`` failures in the window and ``checking`` attempts under way, has
    no place left (the rule both adapters apply; the Redis one in its script, alike)."""
    if key.startswith(ADDRESS) and not failed:
        return checking >= OFFICE_AT_ONCE
    return failed + checking >= limit


class MemoryLoginThrottle:
    """The counts in this process's memory: the throttle of an instance that runs alone."""

    def __init__(
        self, clock: Clock, limit: int = THROTTLE_FAILURES, window_s: float = THROTTLE_WINDOW_S
    ) -> None:
        self._clock = clock
        self._limit = limit
        self._window_s = window_s
        self._failures: dict[str, deque[float]] = {}
        self._checking: dict[str, int] = {}  # attempts reserved and not yet settled

    async def reserve(self, username: str, address: str, device: str | None = None) -> Attempt | None:
        return self.reserve_now(username, address, device)

    async def settle(self, attempt: Attempt, *, succeeded: bool) -> None:
        self.settle_now(attempt, succeeded=succeeded)

    def reserve_now(self, username: str, address: str, device: str | None = None) -> Attempt | None:
        """``reserve``, synchronous: nothing else runs between the count and the place taken."""
        now = self._clock()
        found = keys(username, address, device)
        if any(full(key, self._recent(key, now), self._checking.get(key, 0), self._limit) for key in found):
            return None
        for key in found:
            self._checking[key] = self._checking.get(key, 0) + 1
        return Attempt(found)

    def settle_now(self, attempt: Attempt, *, succeeded: bool) -> None:
        now = self._clock()
        for key in attempt.keys:
            left = self._checking.pop(key, 0) - 1
            if left > 0:
                self._checking[key] = left
            if not succeeded:
                self._recent(key, now)
                self._failures.setdefault(key, deque()).append(now)

    def _recent(self, key: str, now: float) -> int:
        """Failures of ``key`` still in the window; a key with none is forgotten, so idle keys go away."""
        times = self._failures.get(key)
        while times and now - times[0] >= self._window_s:
            times.popleft()
        if not times:
            self._failures.pop(key, None)
            return 0
        return len(times)
