"""``SqlSessions``: the ``console_sessions`` table (crm_core/domain/sessions.py), one row per session.

Each call is one statement in its own transaction. The console reads a row only when its own cache
misses (the first request of a console after a restart) and writes ``last_used`` back at most about
once a minute per session, so this table is far from the hot path.
"""

from __future__ import annotations

from sqlalchemy import delete, insert, or_, select, update

from crm_core.domain.sessions import StoredSession
from crm_core.sql.database import Database
from crm_core.sql.orm import ConsoleSessionRow

_ROW = ConsoleSessionRow


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
        async with self._db.engine.connect() as connection:
            row = (await connection.execute(query)).first()
        return None if row is None else StoredSession(row.key, row.username, row.started, row.last_used)

    async def touch(self, key: str, last_used: float) -> None:
        async with self._db.engine.begin() as connection:
            await connection.execute(update(_ROW).where(_ROW.key == key).values(last_used=last_used))

    async def remove(self, key: str) -> None:
        async with self._db.engine.begin() as connection:
            await connection.execute(delete(_ROW).where(_ROW.key == key))

    async def expire(self, *, used_before: float, started_before: float) -> int:
        gone = or_(_ROW.last_used < used_before, _ROW.started < started_before)
        async with self._db.engine.begin() as connection:
            done = await connection.execute(delete(_ROW).where(gone))
        return done.rowcount
