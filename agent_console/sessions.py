"""Console sessions and the login throttle: in memory, one process, time handed in.

Sessions live in a dict, not the database: the service is one process (the router owns the ACD state
in memory too), a restart already logs every agent out of the ACD, and a lookup per websocket message or
API request then costs no query. The session id is 256 random bits from ``secrets``; only the id travels
in the cookie. Sessions expire ``ttl_s`` after their last use (sliding), and never outlive ``max_s``.
"""

from __future__ import annotations

import secrets
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

Clock = Callable[[], float]

SESSION_IDLE_S = 8 * 3600  # a shift, with its breaks
SESSION_MAX_S = 16 * 3600
THROTTLE_FAILURES = 5
THROTTLE_WINDOW_S = 15 * 60


@dataclass(slots=True)
class Session:
    id: str
    username: str
    started: float
    last_used: float


class Sessions:
    def __init__(self, clock: Clock, idle_s: float = SESSION_IDLE_S, max_s: float = SESSION_MAX_S) -> None:
        self._clock = clock
        self._idle_s = idle_s
        self._max_s = max_s
        self._by_id: dict[str, Session] = {}

    def start(self, username: str) -> Session:
        now = self._clock()
        self._expire(now)
        session = Session(secrets.token_urlsafe(32), username, now, now)
        self._by_id[session.id] = session
        return session

    def get(self, session_id: str | None) -> Session | None:
        session = self._by_id.get(session_id or "")
        now = self._clock()
        if session is None or self._expired(session, now):
            self._by_id.pop(session_id or "", None)
            return None
        session.last_used = now
        return session

    def end(self, session_id: str | None) -> None:
        self._by_id.pop(session_id or "", None)

    def _expired(self, session: Session, now: float) -> bool:
        return now - session.last_used > self._idle_s or now - session.started > self._max_s

    def _expire(self, now: float) -> None:
        for gone in [s.id for s in self._by_id.values() if self._expired(s, now)]:
            del self._by_id[gone]


class LoginThrottle:
    """After ``limit`` failed logins for one username or from one address within ``window_s``, refuse
    further attempts for that username or address until the oldest failure leaves the window."""

    def __init__(
        self, clock: Clock, limit: int = THROTTLE_FAILURES, window_s: float = THROTTLE_WINDOW_S
    ) -> None:
        self._clock = clock
        self._limit = limit
        self._window_s = window_s
        self._failures: dict[str, deque[float]] = {}

    def blocked(self, username: str, address: str) -> bool:
        now = self._clock()
        return any(self._recent(key, now) >= self._limit for key in _keys(username, address))

    def failed(self, username: str, address: str) -> None:
        now = self._clock()
        for key in _keys(username, address):
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


def _keys(username: str, address: str) -> tuple[str, str]:
    return f"user:{username.strip().casefold()}", f"addr:{address}"
