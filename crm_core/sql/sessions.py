"""``SqlSessions``: the ``console_sessions`` table (crm_core/domain/sessions.py), one row per session.

Each call is one statement in its own transaction. The console reads a row only when its own cache
misses (the first request of a console after a restart) and writes ``last_used`` back at most about
once a minute per session, so this table is far from the hot path. ``kept`` is the console's one query
every few seconds that finds sessions ended by another process (``switchboard users sessions --end``,
a password change); ``of_user`` and ``remove_user`` are that command's.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import delete, insert, or_, select, update

from crm_core.domain.sessions import StoredSession
from crm_core.sql.database import Database
from crm_core.sql.orm import ConsoleSessionRow

_ROW = ConsoleSessionRow
_KEYS_AT_ONCE = 500  # keys per ``IN (...)``: well under any database's limit on bound parameters


class SqlSessions:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, session: StoredSession) -> None:
        row = {"key": session.key, "username": session.username, "started": session.started,
               "last_used": session.last_used}  # fmt: skip
        async with self._db.engine.begin() as connection:
            await connection.execute(insert(_ROW).values(row))

    async def get(self, key: str) -> StoredSession | None:
        query = select(_ROW.key, _ROW.username, _ROW.started, _ROW.last_used).where(_ROW.key == key)
        async with self._db.reads.connect() as connection:
            row = (await connection.execute(query)).first()
        return None if row is None else StoredSession(row.key, row.username, row.started, row.last_used)

    async def touch(self, key: str, last_used: float) -> None:
        async with self._db.engine.begin() as connection:
            await connection.execute(update(_ROW).where(_ROW.key == key).values(last_used=last_used))

    async def remove(self, key: str) -> None:
        async with self._db.engine.begin() as connection:
            await connection.execute(delete(_ROW).where(_ROW.key == key))

    async def of_user(self, username: str) -> list[StoredSession]:
        """``username``'s sessions, the oldest sign-in first."""
        query = select(_ROW.key, _ROW.username, _ROW.started, _ROW.last_used).where(_ROW.username == username)
        async with self._db.reads.connect() as connection:
            rows = (await connection.execute(query.order_by(_ROW.started, _ROW.key))).all()
        return [StoredSession(row.key, row.username, row.started, row.last_used) for row in rows]

    async def remove_user(self, username: str) -> list[str]:
        """End every session of ``username``; the store keys of those there were (for the instances that
        cache them: switchboard/cluster/session_ends.py)."""
        async with self._db.engine.begin() as connection:
            done = await connection.execute(delete(_ROW).where(_ROW.username == username).returning(_ROW.key))
            return sorted(done.scalars())

    async def kept(self, keys: Collection[str]) -> set[str]:
        """Which of ``keys`` the table still holds."""
        wanted, found = list(keys), set[str]()
        async with self._db.reads.connect() as connection:
            for start in range(0, len(wanted), _KEYS_AT_ONCE):
                query = select(_ROW.key).where(_ROW.key.in_(wanted[start : start + _KEYS_AT_ONCE]))
                found.update((await connection.execute(query)).scalars())
        return found

    async def expire(self, *, used_before: float, started_before: float) -> int:
        gone = or_(_ROW.last_used < used_before, _ROW.started < started_before)
        async with self._db.engine.begin() as connection:
            done = await connection.execute(delete(_ROW).where(gone))
        return done.rowcount
