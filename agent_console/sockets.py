"""The open console websockets by session, so an ended session closes its sockets from the server side.

A socket used to learn that its session had ended only when its browser next sent something, so a
supervisor who had logged out kept getting wallboard pushes and a disabled agent kept getting state
messages. Now:

- a session ended in this process (``POST /logout``, expiry or a disabled user found by a lookup)
  closes its sockets at once: ``Sessions.end`` tells ``ended``;
- a user disabled (or removed, or given another role) by ``switchboard users``, which runs in another
  process and only writes the store, is found by ``sweep``: every ``every_s`` (the app runs it every
  ``WS_RECHECK_S``, 5 s) one query reads the users changed since the last change it saw (less a
  minute, for writers whose clocks differ), and the sessions of the users with an open socket who are
  disabled or in another role are ended; once a minute it reads every user, which also finds those
  removed (whose sessions the removal ends anyway). So such a socket closes within ``every_s`` plus one
  query, whether or not anything is pushed to it. One query per sweep, whatever the number of sockets,
  and a small one: it reads each user's ``Standing`` (four columns, as plain tuples), which holds the
  loop about 5 ms for 5,000 users on PostgreSQL. Whole user rows held it 33-35 ms (a quiet machine;
  more under load), every 5 s on every instance for a minute after a bulk of users was added (all
  within ``MARGIN``), and once a minute always: a tail of the pops at 5,000 consoles (bench/README.md).

A socket closed this way gets ``error`` ``not-logged-in`` and then the close code ``SESSION_ENDED``
(docs/console-protocol.md); the page then finds it is signed out (``GET /session``) and shows the login.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import structlog

from agent_console import messages
from agent_console.error_codes import error_code
from agent_console.errors import NotLoggedIn
from agent_console.hub import Connection
from crm_core.domain.users import Standing, User

log = structlog.get_logger("console")
SESSION_ENDED = 4401  # the websocket close code of a socket whose session ended (like HTTP 401)
FULL_EVERY = 12  # sweeps: every user read again once a minute, whatever the rows' times say
MARGIN = timedelta(seconds=60)  # the writers' clocks (the CLI's, other instances') may be this far apart


class UserStandings(Protocol):
    async def standings(self, since: datetime | None = None) -> Sequence[Standing]: ...


@dataclass(frozen=True, slots=True)
class _Opened:
    session: str
    user: User  # as the socket was opened: a changed role ends the session too


class OpenSockets:
    def __init__(self, users: UserStandings, end_session: Callable[[str], Awaitable[None]]) -> None:
        """``end_session`` is ``Sessions.end``, which tells ``ended`` in turn."""
        self._users = users
        self._end_session = end_session
        self._open: dict[Connection, _Opened] = {}
        self._closing: dict[Connection, asyncio.Task[None]] = {}
        self._mark: datetime | None = None  # the latest change of a user row read so far
        self._sweeps = 0

    def add(self, conn: Connection, session: str, user: User) -> None:
        self._open[conn] = _Opened(session, user)

    def remove(self, conn: Connection) -> None:
        self._open.pop(conn, None)

    def ended(self, session: str) -> None:
        """``session`` has ended: each of its sockets is told and closed (the close runs in a task)."""
        for conn in [c for c, opened in self._open.items() if opened.session == session]:
            del self._open[conn]
            task = asyncio.create_task(_close(conn))
            self._closing[conn] = task
            task.add_done_callback(lambda _, conn=conn: self._closing.pop(conn, None))  # type: ignore[misc]

    async def shut(self, conn: Connection) -> None:
        """Close ``conn`` as a socket whose session ended, or wait for that close if it is under way."""
        if conn in self._open:
            del self._open[conn]
            await _close(conn)
        elif conn in self._closing:
            await asyncio.gather(self._closing[conn], return_exceptions=True)

    async def sweep(self) -> None:
        """End the sessions whose user is disabled, gone or in another role since their sockets opened."""
        if not self._open:
            return  # no query while nobody is connected
        mark, full = self._mark, self._sweeps % FULL_EVERY == 0
        self._sweeps += 1
        if mark is None or full:
            full, read = True, await self._users.standings()
        else:
            read = await self._users.standings(since=mark - MARGIN)
        if read:
            self._mark = max(self._mark or read[0].updated_at, *(u.updated_at for u in read))
        now = {u.username: u for u in read}
        stale = {
            o.session
            for o in self._open.values()
            if (full or o.user.username in now) and _shut_out(o.user, now.get(o.user.username))
        }
        for session in stale:
            log.info("console.session-ended-by-sweep")
            await self._end_session(session)

    async def run(self, every_s: float) -> None:
        while True:
            await asyncio.sleep(every_s)
            try:
                await self.sweep()
            except Exception:
                log.exception("console.sweep-failed")  # a store outage must not stop the sweeps for good

    async def close(self) -> None:
        await asyncio.gather(*self._closing.values(), return_exceptions=True)


def _shut_out(opened: User, now: Standing | None) -> bool:
    return now is None or now.disabled or now.role != opened.role


async def _close(conn: Connection) -> None:
    ended = NotLoggedIn("the session has ended; log in again")
    await conn.end(SESSION_ENDED, "not-logged-in", messages.error(error_code(ended), str(ended)))
