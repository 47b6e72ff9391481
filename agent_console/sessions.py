"""Console sessions, time handed in.

Sessions are kept by the store (``crm_core.domain.ports.SessionStore``), so a restart or a crash of the
service signs nobody out: the router's state is durable now (switchboard/journal.py), and an agent whose
calls survive a restart must not have to sign in again to see them. The session id is 256 random bits
from ``secrets``; only the id travels in the cookie, and the store keeps only its hash
(``crm_core.domain.sessions.key_of``). Sessions expire ``idle_s`` after their last use (sliding), and never
outlive ``max_s``.

``Sessions`` keeps what it has seen in a dict in front of the store, since every websocket message and
API request looks its session up: a hit costs no query. A miss (the first request of a console after a
restart) reads the store. ``last_used`` is written back at most every ``touch_every_s`` per session,
not on every request: the console acknowledges every pop, and a write per message would put a commit
per agent action on the store, which the call log and the router's journal share. What that costs is
bounded and small: after a crash a session may expire up to ``touch_every_s`` early (the store's
``last_used`` lags by less than that), out of an idle allowance of hours.

Several instances each keep such a cache: a session ended on one (a logout) is still in the others'.
``drop_ended`` (run every few seconds by the app) finds such sessions gone from the store; in a cluster,
the instance that ends a session tells the others at once (``tell_others``, over Redis pub/sub:
switchboard/cluster/session_ends.py), and they ``forget`` it, so the sweep is only the fallback.
The login throttle is in agent_console/login_throttle.py.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog

from crm_core.domain.ports import SessionStore
from crm_core.domain.sessions import StoredSession, key_of

log = structlog.get_logger("sessions")

Clock = Callable[[], float]

SESSION_IDLE_S = 8 * 3600  # a shift, with its breaks
SESSION_MAX_S = 16 * 3600
TOUCH_EVERY_S = 60.0  # how often a session in use writes its last use back to the store
SWEEP_EVERY_S = 600.0  # how often expired sessions are dropped from the store


@dataclass(slots=True)
class Session:
    id: str
    username: str
    started: float
    last_used: float
    written: float  # the ``last_used`` the store holds


class Sessions:
    def __init__(
        self,
        store: SessionStore,
        clock: Clock,
        idle_s: float = SESSION_IDLE_S,
        max_s: float = SESSION_MAX_S,
        *,
        touch_every_s: float = TOUCH_EVERY_S,
        sweep_every_s: float = SWEEP_EVERY_S,
    ) -> None:
        self._store = store
        self._clock = clock
        self._idle_s = idle_s
        self._max_s = max_s
        self._touch_every_s = touch_every_s
        self._sweep_every_s = sweep_every_s
        self._by_id: dict[str, Session] = {}
        self._swept = float("-inf")
        self._ended = 0  # sessions ended so far: a lookup that read the store meanwhile reads again
        self.on_end: list[Callable[[str], None]] = []  # told each session id that ends (its sockets close)
        # Told the store key of each session this process ends, for the other instances' caches.
        self.tell_others: list[Callable[[str], Awaitable[None]]] = []

    async def start(self, username: str) -> Session:
        now = self._clock()
        await self._sweep_if_due(now)
        session = Session(secrets.token_urlsafe(32), username, now, now, now)
        await self._store.add(StoredSession(key_of(session.id), username, now, now))
        self._by_id[session.id] = session
        return session

    async def get(self, session_id: str | None) -> Session | None:
        if not session_id:
            return None
        session = self._by_id.get(session_id) or await self._load(session_id)
        now = self._clock()
        if session is not None and self._expired(session, now) and session_id in self._by_id:
            del self._by_id[session_id]
            # Several instances share the store: another may have seen the session in use since this one
            # cached it. The store's last use is the one to judge by.
            session = await self._load(session_id)
        if session is None or self._expired(session, now):
            if session is not None:
                await self.end(session_id)
            return None
        session.last_used = now
        if now - session.written >= self._touch_every_s:
            await self._write_back(session, now)
        await self._sweep_if_due(now)
        return session

    async def _write_back(self, session: Session, now: float) -> None:
        """The last use, to the store, best effort: a store busy for a moment (its connections all taken,
        SQLite's writer lock held past its timeout) must not fail the request, which closed the agent's
        console when it was a websocket message (bench/service_ceiling.py). The next use tries again."""
        written, session.written = session.written, now  # requests meanwhile do not write it again
        try:
            await self._store.touch(key_of(session.id), now)
        except Exception as exc:
            session.written = written
            log.warning("session.touch-failed", user=session.username, error=repr(exc))

    async def end(self, session_id: str | None) -> None:
        if not session_id:
            return
        self._by_id.pop(session_id, None)
        await self._store.remove(key_of(session_id))
        # Again: a lookup that missed the cache may have read the row before it went and cached it since.
        self._by_id.pop(session_id, None)
        self._ended += 1
        for observer in self.on_end:
            observer(session_id)
        for tell in self.tell_others:
            await tell(key_of(session_id))

    def forget(self, key: str) -> bool:
        """Another instance ended the session whose store key is ``key``: out of the cache, its sockets
        closed, as at a logout here (the store has already lost it). Whether this process held it."""
        self._ended += 1  # a lookup reading the store meanwhile reads again
        found = [session_id for session_id in self._by_id if key_of(session_id) == key]
        for session_id in found:
            del self._by_id[session_id]
            for observer in self.on_end:
                observer(session_id)
        return bool(found)

    async def drop_ended(self) -> int:
        """End the sessions this process holds that the store no longer keeps: another process ended them
        (``switchboard users sessions NAME --end``, a password change). One query; their sockets close as
        at a logout (``on_end``). How many ended."""
        keys = {key_of(session_id): session_id for session_id in self._by_id}
        if not keys:
            return 0
        kept = await self._store.kept(keys)
        gone = [session_id for key, session_id in keys.items() if key not in kept]
        for session_id in gone:
            await self.end(session_id)
        return len(gone)

    async def _load(self, session_id: str) -> Session | None:
        """The session as the store keeps it (a console's first request after a restart), now cached."""
        key = key_of(session_id)
        ended = self._ended
        stored = await self._store.get(key)
        if self._ended != ended:  # an end finished while we read: what we read may be gone
            stored = await self._store.get(key)
        if stored is None:
            return None
        session = Session(session_id, stored.username, stored.started, stored.last_used, stored.last_used)
        return self._by_id.setdefault(session_id, session)

    def _expired(self, session: Session, now: float) -> bool:
        return now - session.last_used > self._idle_s or now - session.started > self._max_s

    async def _sweep_if_due(self, now: float) -> None:
        """Not on every sign-in: 200 agents signing in at a shift start would be 200 more writes, queued
        for the store's one writer (SQLite) beside the call log and the router's journal."""
        if now - self._swept < self._sweep_every_s:
            return
        self._swept = now
        for gone in [s.id for s in self._by_id.values() if self._expired(s, now)]:
            del self._by_id[gone]
        # The store's last use lags by less than touch_every_s: older than that plus the idle time is
        # surely expired, whereas a session used in between may still be alive in a cache.
        used_before = now - self._idle_s - self._touch_every_s
        await self._store.expire(used_before=used_before, started_before=now - self._max_s)
