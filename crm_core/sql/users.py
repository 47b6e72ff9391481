"""``SqlUsers``: the ``users`` table. Passwords arrive in clear, are hashed here and never leave; the
hashing and checking run in ``password_worker``'s process, away from the routing process' cores."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from crm_core.domain import users as u
from crm_core.sql.database import Database
from crm_core.sql.orm import UserRow
from crm_core.sql.password_worker import PasswordWorker
from crm_core.sql.rows import built, field_names

_COLUMN = {"agent": "agent_id"}  # a user's field -> its column, where the names differ
_COLUMNS = tuple(getattr(UserRow, _COLUMN.get(name, name)) for name in field_names(u.User))


def _user(row: Row[Any]) -> u.User:
    return built(u.User, row, role=u.Role(row.role), agent=row.agent_id, disabled=bool(row.disabled))


class SqlUsers:
    def __init__(self, db: Database, worker: PasswordWorker) -> None:
        self._db = db
        self._worker = worker

    async def add(
        self, username: str, password: str, role: str, agent: str | None = None, name: str | None = None
    ) -> u.User:
        login, role_ = u.username(username), u.role(role)
        values = {"username": login, "name": (name or "").strip() or login, "role": str(role_),
                  "agent_id": u.agent_for(role_, agent), "disabled": False,
                  "password_hash": await self._worker.hash(u.password(password)),
                  "created_at": self._db.clock(), "updated_at": self._db.clock()}  # fmt: skip
        try:
            async with self._db.engine.begin() as connection:
                await connection.execute(insert(UserRow).values(values))
        except IntegrityError:
            raise u.DuplicateUsername(login) from None
        return await self.require(login)

    async def get(self, username: str) -> u.User | None:
        async with self._db.reads.connect() as connection:
            row = (await connection.execute(select(*_COLUMNS).where(UserRow.username == username))).first()
        return None if row is None else _user(row)

    async def require(self, username: str) -> u.User:
        user = await self.get(username.strip().casefold())
        if user is None:
            raise u.UserNotFound(username)
        return user

    async def list(self) -> list[u.User]:
        async with self._db.reads.connect() as connection:
            rows = await connection.execute(select(*_COLUMNS).order_by(UserRow.username))
        return [_user(row) for row in rows]

    async def standings(self, since: datetime | None = None) -> Sequence[u.Standing]:
        """Every user's ``Standing``; with ``since``, only those whose row changed at or after it (by the
        writer's clock). Read as plain tuples: for 5,000 users on PostgreSQL this holds the loop about 5
        ms, whole ``User`` rows 33-35 ms (agent_console/sockets.py reads it every 5 s on every instance)."""
        dialect, role = self._db.dialect, u.Role
        query = select(UserRow.username, UserRow.role, UserRow.disabled, UserRow.updated_at)
        params: dict[str, object] = {}
        if since is not None:  # bound as the driver takes it: ``fetch_plain`` skips the column's type
            query, params = (
                query.where(UserRow.updated_at >= bindparam("since")),
                {"since": dialect.plain_instant(since)},
            )
        return [
            u.Standing(username, role(kind), bool(disabled), dialect.read_instant(at))
            for username, kind, disabled, at in await self._db.fetch_plain(query, params)
        ]

    async def set_password(self, username: str, password: str) -> None:
        hashed = await self._worker.hash(u.password(password))
        await self._change(username, password_hash=hashed)

    async def disable(self, username: str) -> None:
        await self._change(username, disabled=True)

    async def check(self, username: str, password: str) -> u.User | None:
        """The user, when ``password`` is theirs and they are not disabled; else None (never says why)."""
        login = username.strip().casefold()
        async with self._db.reads.connect() as connection:
            row = (
                await connection.execute(
                    select(UserRow.password_hash, *_COLUMNS).where(UserRow.username == login)
                )
            ).first()
        if row is None:
            await self._worker.verify_nobody(password)
            return None
        ok = await self._worker.verify(row.password_hash, password)
        user = _user(row)
        return user if ok and not user.disabled else None

    async def _change(self, username: str, **values: object) -> None:
        login = username.strip().casefold()
        async with self._db.engine.begin() as connection:
            done = await connection.execute(
                update(UserRow).where(UserRow.username == login).values(updated_at=self._db.clock(), **values)
            )
        if done.rowcount == 0:
            raise u.UserNotFound(username)
