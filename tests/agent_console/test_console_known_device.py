"""A stranger guessing at a username cannot lock its owner out: the owner's browser, known from an earlier
sign-in (``devices``), is counted apart from the username, while strangers stay throttled. The stranger
and the owner sign in from different loopback addresses (127.0.0.2, 127.0.0.1), as two hosts would."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from agent_console.devices import DEVICE_COOKIE, KnownDevices
from agent_console.login_throttle import THROTTLE_FAILURES, MemoryLoginThrottle
from crm_core.domain.users import Role
from tests.agent_console.fakes import PASSWORD, FakeUsers, user
from tests.agent_console.harness import Console, make_console


@contextlib.asynccontextmanager
async def host(address: str) -> AsyncIterator[aiohttp.ClientSession]:
    """A browser on another host: its own cookies, its requests from ``address``."""
    connector = aiohttp.TCPConnector(local_addr=(address, 0))
    jar = aiohttp.CookieJar(unsafe=True)  # keeps cookies of a server named by its address
    async with aiohttp.ClientSession(connector=connector, cookie_jar=jar) as session:
        yield session


async def sign_in(console: Console, browser: aiohttp.ClientSession, username: str, password: str) -> Any:
    url = console.client.make_url("/login")
    async with browser.post(url, json={"username": username, "password": password}) as r:
        return r.status, await r.json()


async def guess_at(console: Console, username: str, guesses: int) -> Counter[int]:
    """A stranger's wrong passwords for ``username``, sent at once from 127.0.0.2."""
    async with host("127.0.0.2") as stranger:
        done = await asyncio.gather(*(sign_in(console, stranger, username, f"g{n}") for n in range(guesses)))
    return Counter(status for status, _ in done)


@pytest.fixture
async def office() -> AsyncIterator[Console]:
    async with make_console(FakeUsers(user("alice", Role.AGENT, "a1"), user("bob", Role.AGENT, "a2"))) as c:
        yield c


async def test_given_alice_signed_in_before_when_a_stranger_spends_her_username_then_her_browser_signs_in(
    office: Console,
) -> None:
    async with host("127.0.0.1") as alice:
        assert (await sign_in(office, alice, "alice", PASSWORD))[0] == 200
        assert DEVICE_COOKIE in {c.key for c in alice.cookie_jar}
        assert await guess_at(office, "alice", 50) == {401: THROTTLE_FAILURES, 429: 50 - THROTTLE_FAILURES}
        status, body = await sign_in(office, alice, "Alice", PASSWORD)
    assert (status, body["username"]) == (200, "alice")
    async with host("127.0.0.3") as new_browser:  # the username stays locked for every unknown client
        status, body = await sign_in(office, new_browser, "alice", PASSWORD)
    assert (status, body["error"]) == (429, "login-throttled")


async def test_given_a_device_known_for_bob_when_alice_is_locked_then_it_does_not_unlock_alice(
    office: Console,
) -> None:
    async with host("127.0.0.1") as bobs:
        assert (await sign_in(office, bobs, "bob", PASSWORD))[0] == 200
        await guess_at(office, "alice", THROTTLE_FAILURES)
        assert (await sign_in(office, bobs, "alice", PASSWORD))[0] == 429
        assert (await sign_in(office, bobs, "bob", PASSWORD))[0] == 200


async def test_given_a_tampered_device_cookie_when_the_username_is_locked_then_it_counts_for_nothing(
    office: Console,
) -> None:
    async with host("127.0.0.1") as alice:
        assert (await sign_in(office, alice, "alice", PASSWORD))[0] == 200
        nonce, _, signature = next(c.value for c in alice.cookie_jar if c.key == DEVICE_COOKIE).partition(".")
        forged = f"{nonce}.{signature[::-1]}"
        alice.cookie_jar.clear()
        alice.cookie_jar.update_cookies({DEVICE_COOKIE: forged}, office.client.make_url("/login"))
        await guess_at(office, "alice", THROTTLE_FAILURES)
        assert (await sign_in(office, alice, "alice", PASSWORD))[0] == 429


def test_given_a_device_cookie_then_it_is_good_for_its_username_only_and_not_under_another_key() -> None:
    devices = KnownDevices()
    cookie = devices.issue("alice")
    assert devices.device_of(cookie, " ALICE ") == cookie.partition(".")[0]
    assert devices.device_of(cookie, "bob") is None
    assert KnownDevices().device_of(cookie, "alice") is None  # another process's key: a restart
    assert devices.device_of(None, "alice") is None
    assert devices.device_of("no signature", "alice") is None


async def test_given_a_known_device_guessing_then_it_locks_itself_not_the_username() -> None:
    throttle = MemoryLoginThrottle(lambda: 0.0)
    for n in range(THROTTLE_FAILURES):  # each from its own address: only the device's count fills
        attempt = await throttle.reserve("alice", f"10.0.0.{n}", device="d1")
        assert attempt is not None
        await throttle.settle(attempt, succeeded=False)
    assert await throttle.reserve("alice", "10.0.1.1", device="d1") is None
    assert await throttle.reserve("alice", "10.0.1.1", device="d2") is not None
    assert await throttle.reserve("alice", "10.0.1.2") is not None
