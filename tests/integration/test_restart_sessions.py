"""Agents stay signed in across a crash: a real ``switchboard serve`` on the real Asterisk is SIGKILLed
and started again, and the browser's session cookie still opens the console, with no new sign-in.

``tests/integration/restart/harness.py`` runs the process. The cookie jar is the browser's: the test
never copies the cookie by hand, so what is sent is what a browser would send.
"""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest

from tests.integration.conftest import PASSWORD, Console, ari_reachable, logged_in, phone, wait_until_async
from tests.integration.restart.harness import Served

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[Served]:
    probe = await ari_reachable()  # skips here, fails in CI, without the sandbox
    await probe.close()
    served = Served(tmp_path, {"a1": phone("101")})
    served.write_config()
    await served.start()
    served.add_agent_user("a1")
    try:
        yield served
    finally:
        served.stop()


def jar() -> aiohttp.CookieJar:
    return aiohttp.CookieJar(unsafe=True)  # aiohttp keeps a cookie set by an IP address only when told


async def sign_in(http: aiohttp.ClientSession, service: Served) -> str:
    async with http.post(f"{service.url}/login", json={"username": "a1", "password": PASSWORD}) as r:
        assert r.status == 200, await r.text()
        return r.cookies["sb_session"].value


def journalled_ready(service: Served) -> Callable[[], Awaitable[bool]]:
    """Whether the router's journal holds the agent's ready: the journal is written a moment after the
    event (switchboard/journal.py), and a crash before that loses it, whatever the sessions do."""

    async def written() -> bool:
        return service.journalled("AgentBecameReady") >= 1

    return written


def stored_keys(service: Served) -> list[tuple[str, str]]:
    with contextlib.closing(sqlite3.connect(service.db, timeout=5)) as db:
        return [(str(k), str(u)) for k, u in db.execute("SELECT key, username FROM console_sessions")]


async def test_given_a_signed_in_console_when_the_service_is_killed_then_the_same_cookie_opens_it_again(
    service: Served,
) -> None:
    async with aiohttp.ClientSession(cookie_jar=jar()) as http:
        cookie = await sign_in(http, service)
        ws = await http.ws_connect(f"{service.url}/ws", origin=service.url)
        await logged_in(ws, "a1", ready=True)  # open when the process dies, as a browser's would be
        # The store holds the id's hash, not the id.
        assert stored_keys(service) == [(hashlib.sha256(cookie.encode()).hexdigest(), "a1")]
        await wait_until_async(journalled_ready(service), what="the agent's ready in the journal")

        service.kill()
        await ws.close()
        await service.start()

        async with http.get(f"{service.url}/session") as r:
            assert (r.status, (await r.json())["username"]) == (200, "a1")
        console = Console(await http.ws_connect(f"{service.url}/ws", origin=service.url))
        await console.expect("hello")
        await console.send(type="login")
        snapshot = await console.expect("snapshot", agent="a1")
        assert snapshot["state"] == "ready"  # and the router kept the agent's state
        await console.ws.close()


async def test_given_a_logout_before_the_kill_then_the_old_cookie_opens_nothing_after_the_restart(
    service: Served,
) -> None:
    async with aiohttp.ClientSession(cookie_jar=jar()) as http:
        cookie = await sign_in(http, service)
        async with http.post(f"{service.url}/logout") as r:
            assert r.status == 200
        assert stored_keys(service) == []
        service.kill()
        await service.start()
        headers = {"Cookie": f"sb_session={cookie}"}  # a copy kept of the cookie the logout ended
        async with http.get(f"{service.url}/session", headers=headers) as r:
            assert r.status == 401
