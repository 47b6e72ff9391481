"""Hand-written fakes for the console's tests: a user directory with plain-text passwords."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from crm_core.domain.users import Role, User

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

    def disable(self, username: str) -> None:
        self.by_name[username] = dataclasses.replace(self.by_name[username], disabled=True)
