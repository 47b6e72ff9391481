"""Hand-written fakes for the console's tests: a user directory with plain-text passwords, and a session
store in a dict that counts what reaches it."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from datetime import UTC, datetime, timedelta

from crm_core.domain.sessions import StoredSession
from crm_core.domain.users import Role, Standing, User

PASSWORD = "correct horse battery"
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def user(username: str, role: Role, agent: str | None) -> User:
    return User(
        id=1,
        username=username,
        name=username.title(),
        role=role,
        agent=agent,
        disabled=False,
        created_at=EPOCH,
        updated_at=EPOCH,
    )


class FakeUsers:
    """What ``SqlUsers`` offers sign-in; every user's password is ``PASSWORD``."""

    def __init__(self, *users: User) -> None:
        self.by_name = {u.username: u for u in users}

    async def check(self, username: str, password: str) -> User | None:
        found = self.by_name.get(username.strip().casefold())
        return found if found is not None and password == PASSWORD and not found.disabled else None

    async def get(self, username: str) -> User | None:
        return self.by_name.get(username)

    async def list(self) -> list[User]:
        return sorted(self.by_name.values(), key=lambda u: u.username)

    async def standings(self, since: datetime | None = None) -> list[Standing]:
        return [
            Standing(u.username, u.role, u.disabled, u.updated_at)
            for u in await self.list()
            if since is None or u.updated_at >= since
        ]

    def disable(self, username: str) -> None:
        """As ``SqlUsers.disable``: the row's ``updated_at`` moves on."""
        user = self.by_name[username]
        later = max(u.updated_at for u in self.by_name.values()) + timedelta(seconds=1)
        self.by_name[username] = dataclasses.replace(user, disabled=True, updated_at=later)


class MemorySessionStore:
    """``SessionStore`` in a dict, as ``SqlSessions`` behaves; ``reads``, ``touches`` and ``sweeps`` count
    calls that would have been queries."""

    def __init__(self) -> None:
        self.rows: dict[str, StoredSession] = {}
        self.reads = 0
        self.touches = 0
        self.sweeps = 0

    async def add(self, session: StoredSession) -> None:
        assert session.key not in self.rows, "a key twice: the table's primary key refuses it"
        self.rows[session.key] = session

    async def get(self, key: str) -> StoredSession | None:
        self.reads += 1
        return self.rows.get(key)

    async def touch(self, key: str, last_used: float) -> None:
        self.touches += 1
        if key in self.rows:
            self.rows[key] = dataclasses.replace(self.rows[key], last_used=last_used)

    async def remove(self, key: str) -> None:
        self.rows.pop(key, None)

    async def kept(self, keys: Collection[str]) -> set[str]:
        self.reads += 1
        return {key for key in keys if key in self.rows}

    async def expire(self, *, used_before: float, started_before: float) -> int:
        self.sweeps += 1
        gone = [k for k, s in self.rows.items() if s.last_used < used_before or s.started < started_before]
        for key in gone:
            del self.rows[key]
        return len(gone)
