"""The open sockets' sweep reads only the users changed since the last change it saw, and every user
once a minute, and of each only its ``Standing``: a large center's 5,000 whole rows every 5 s on every
instance held the loop 33-35 ms each time."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any

from agent_console.sockets import FULL_EVERY, OpenSockets
from crm_core.domain.users import Role, Standing, User
from tests.agent_console.fakes import FakeUsers, user


class CountedUsers(FakeUsers):
    """The users, and which read each sweep made."""

    def __init__(self, *users: User) -> None:
        super().__init__(*users)
        self.reads: list[str] = []

    async def standings(self, since: datetime | None = None) -> list[Standing]:
        self.reads.append("all" if since is None else "changed")
        return await super().standings(since)

    def change(self, username: str, by: timedelta, **fields: Any) -> None:
        """As a writer whose clock is ``by`` ahead of the latest change (behind, when negative)."""
        later = max(u.updated_at for u in self.by_name.values()) + by
        self.by_name[username] = dataclasses.replace(self.by_name[username], updated_at=later, **fields)


class Socket:
    """An open console websocket: told once its session ends."""

    def __init__(self) -> None:
        self.ended: list[str] = []

    async def end(self, code: int, error: str, message: dict[str, Any]) -> None:
        self.ended.append(error)


async def swept(users: CountedUsers, *names: str) -> tuple[OpenSockets, list[str], dict[str, Socket]]:
    """Sockets of ``names`` open, and one sweep made: what it ended lands in the list."""
    ended: list[str] = []

    async def end_session(session: str) -> None:
        ended.append(session)

    sockets = OpenSockets(users, end_session)
    opened = {name: Socket() for name in names}
    for name, socket in opened.items():
        sockets.add(socket, f"s-{name}", users.by_name[name])  # type: ignore[arg-type]
    await sockets.sweep()
    return sockets, ended, opened


async def test_given_sweeps_then_the_first_reads_every_user_the_next_only_changes_and_every_minute_all() -> (
    None
):
    users = CountedUsers(user("alice", Role.AGENT, "a1"))
    sockets, _, _ = await swept(users, "alice")
    for _ in range(FULL_EVERY):
        await sockets.sweep()
    assert users.reads == ["all", *["changed"] * (FULL_EVERY - 1), "all"]


async def test_given_a_user_disabled_after_the_first_sweep_then_the_next_ends_only_their_session() -> None:
    users = CountedUsers(user("alice", Role.AGENT, "a1"), user("bob", Role.AGENT, "a2"))
    sockets, ended, _ = await swept(users, "alice", "bob")
    assert ended == []
    users.change("bob", timedelta(seconds=1), disabled=True)
    await sockets.sweep()
    assert (users.reads[-1], ended) == ("changed", ["s-bob"])


async def test_given_a_writer_whose_clock_is_behind_within_the_margin_then_its_change_is_found() -> None:
    users = CountedUsers(user("alice", Role.AGENT, "a1"), user("bob", Role.AGENT, "a2"))
    sockets, ended, _ = await swept(users, "alice", "bob")
    users.change("alice", timedelta(seconds=5))  # a change by a writer ahead: the mark moves on
    await sockets.sweep()
    users.change("bob", timedelta(seconds=-50), role=Role.SUPERVISOR)  # behind that mark by 50 s
    await sockets.sweep()
    assert ended == ["s-bob"]


async def test_given_a_user_removed_then_the_minutes_full_read_ends_their_session() -> None:
    users = CountedUsers(user("alice", Role.AGENT, "a1"), user("bob", Role.AGENT, "a2"))
    sockets, ended, _ = await swept(users, "alice", "bob")
    del users.by_name["bob"]  # removed by another process (whose own removal ends the sessions too)
    await sockets.sweep()
    assert ended == []  # a read of changes cannot see a row that is gone
    for _ in range(FULL_EVERY - 1):
        await sockets.sweep()
    assert (users.reads[-1], ended) == ("all", ["s-bob"])
