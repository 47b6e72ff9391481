"""Sessions ended by another process (``switchboard users sessions NAME --end``, a password change: they
only delete the store's rows) end in the running console too: its requests are refused and its open
websockets closed, as at a logout, within the sweep's interval."""

from __future__ import annotations

from typing import Any

import aiohttp

from agent_console.app import GATE
from agent_console.sockets import SESSION_ENDED
from crm_core.domain.users import Role
from tests.agent_console.fakes import FakeUsers, MemorySessionStore, user
from tests.agent_console.harness import Console, make_console, next_of


def ended_elsewhere(console: Console, username: str) -> None:
    """What the CLI does in its own process: the user's rows go, the console's cache is not told."""
    assert console.backend is not None and isinstance(console.backend.sessions, MemorySessionStore)
    rows = console.backend.sessions.rows
    for key in [k for k, s in rows.items() if s.username == username]:
        del rows[key]


async def closed_as_ended(ws: Any) -> None:
    assert (await next_of(ws, "error"))["error"] == "not-logged-in"
    closing = await ws.receive(timeout=2)
    assert (closing.type, closing.data) == (aiohttp.WSMsgType.CLOSE, SESSION_ENDED)


async def test_given_alices_rows_deleted_elsewhere_when_the_console_checks_then_her_socket_closes(
    console: Console,
) -> None:
    alice = await console.ws()
    async with console.client.get("/session") as r:
        assert r.status == 200  # served from the console's cache: the store is not asked
    ended_elsewhere(console, "alice")
    async with console.client.get("/session") as r:
        assert r.status == 200  # still: nothing told the console yet
    assert await console.client.app[GATE].sessions.drop_ended() == 1
    await closed_as_ended(alice)
    async with console.client.get("/session") as r:
        assert r.status == 401
    assert await console.client.app[GATE].sessions.drop_ended() == 0


async def test_given_the_apps_sweep_when_sessions_end_elsewhere_then_the_socket_closes_unprompted() -> None:
    async with make_console(FakeUsers(user("alice", Role.AGENT, "a1")), sweep_s=0.05) as console:
        ws = await console.ws()
        ended_elsewhere(console, "alice")
        await closed_as_ended(ws)
