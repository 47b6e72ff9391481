"""Cross-site requests to sign-in and sign-out are refused (403 ``bad-origin``), ``Origin`` is compared
with the configured public origin rather than the request's ``Host``, and cookies are ``Secure`` when the
public URL is HTTPS (a TLS proxy in front), whatever ``X-Forwarded-Proto`` says."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest
from aiohttp import WSServerHandshakeError
from aiohttp.test_utils import TestClient, TestServer

from agent_console.app import ConsoleBackend, create_app
from agent_console.devices import DEVICE_COOKIE
from agent_console.hub import ConsoleHub
from agent_console.login import COOKIE
from agent_console.slow_clients import SLOW_CLIENTS, Pace
from crm_core.domain.users import Role
from routing.router import Router
from tests.agent_console.fakes import PASSWORD, FakeUsers, MemorySessionStore, user
from tests.agent_console.harness import PLAN, Console, FixedDirectory

PUBLIC = "https://calls.example.com"
CREDENTIALS = {"username": "alice", "password": PASSWORD}


@contextlib.asynccontextmanager
async def served(
    origins: Sequence[str] = (), secure_cookies: bool = False, pace: Pace = SLOW_CLIENTS
) -> AsyncIterator[TestClient[Any, Any]]:
    """The console alone (Alice an agent), its backend given these settings."""

    async def ask(_: object) -> list[Any]:
        return []

    users = FakeUsers(user("alice", Role.AGENT, "a1"))
    backend = ConsoleBackend(ask, Router(PLAN), lambda: 0.0, users, lambda: {}, sessions=MemorySessionStore(),
                             origins=origins, secure_cookies=secure_cookies, pace=pace)  # fmt: skip
    client: TestClient[Any, Any] = TestClient(TestServer(create_app(ConsoleHub(FixedDirectory()), backend)))
    await client.start_server()
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture
async def behind_proxy() -> AsyncIterator[TestClient[Any, Any]]:
    async with served([PUBLIC], secure_cookies=True) as client:
        yield client


async def _login(client: TestClient[Any, Any], headers: dict[str, str], plain: bool = False) -> Any:
    body = {"data": json.dumps(CREDENTIALS), "headers": {"Content-Type": "text/plain", **headers}}
    async with client.post("/login", **(body if plain else {"json": CREDENTIALS, "headers": headers})) as r:
        return r.status, await r.json(), r.headers.getall("Set-Cookie", [])


async def test_given_a_page_elsewhere_when_it_posts_a_text_plain_login_then_403_bad_origin_and_no_cookie(
    console: Console,
) -> None:
    status, body, cookies = await _login(console.client, {"Origin": "https://evil.example"}, plain=True)
    assert (status, body["error"], cookies) == (403, "bad-origin", [])


async def test_given_no_origin_when_a_foreign_referer_signs_in_then_403(console: Console) -> None:
    status, body, _ = await _login(console.client, {"Referer": "http://evil.example/page"})
    assert (status, body["error"]) == (403, "bad-origin")


async def test_given_the_consoles_own_page_or_a_script_when_it_signs_in_then_200(console: Console) -> None:
    assert (await _login(console.client, {"Origin": console.origin}))[0] == 200
    assert (await _login(console.client, {"Referer": f"{console.origin}/"}))[0] == 200
    assert (await _login(console.client, {}))[0] == 200  # curl sends neither


async def test_given_a_signed_in_user_when_a_page_elsewhere_posts_logout_then_403_and_still_signed_in(
    console: Console,
) -> None:
    assert (await console.sign_in())[0] == 200
    async with console.client.post("/logout", headers={"Origin": "https://evil.example"}) as r:
        assert (r.status, (await r.json())["error"]) == (403, "bad-origin")
    async with console.client.get("/session") as r:
        assert r.status == 200
    async with console.client.post("/logout", headers={"Origin": console.origin}) as r:
        assert r.status == 200
    async with console.client.get("/session") as r:
        assert r.status == 401


async def test_given_an_https_public_url_when_its_page_signs_in_then_both_cookies_are_secure(
    behind_proxy: TestClient[Any, Any],
) -> None:
    status, _, cookies = await _login(behind_proxy, {"Origin": PUBLIC})
    assert status == 200
    by_name = {c.split("=", 1)[0]: c for c in cookies}
    assert set(by_name) == {COOKIE, DEVICE_COOKIE}
    assert all("Secure" in c and "HttpOnly" in c and "SameSite=Strict" in c for c in cookies)


async def test_given_no_public_url_when_x_forwarded_proto_says_https_then_it_is_not_believed(
    console: Console,
) -> None:
    _, _, cookies = await _login(console.client, {"X-Forwarded-Proto": "https", "Forwarded": "proto=https"})
    assert cookies and not any("Secure" in c for c in cookies)


async def test_given_a_public_url_when_the_origin_is_the_requests_own_host_then_it_is_refused(
    behind_proxy: TestClient[Any, Any],
) -> None:
    own = str(behind_proxy.make_url("/")).rstrip("/")
    assert (await _login(behind_proxy, {"Origin": own}))[0] == 403
    rebound = {"Host": "evil.example", "Origin": "http://evil.example"}  # a page on a rebinding DNS name
    assert (await _login(behind_proxy, rebound))[0] == 403
    assert (await _login(behind_proxy, {"Origin": PUBLIC, "X-Forwarded-Host": "evil.example"}))[0] == 200
    with pytest.raises(WSServerHandshakeError) as refused:
        await behind_proxy.ws_connect("/ws", origin="http://evil.example", headers={"Host": "evil.example"})
    assert refused.value.status == 403


async def test_given_a_loopback_listener_when_localhost_or_127_0_0_1_pages_sign_in_then_both_may() -> None:
    async with served(["http://127.0.0.1:8080", "http://localhost:8080"], secure_cookies=False) as client:
        for origin in ("http://LOCALHOST:8080", "http://127.0.0.1:8080"):
            status, _, cookies = await _login(client, {"Origin": origin})
            assert status == 200 and not any("Secure" in c for c in cookies)
        assert (await _login(client, {"Origin": "http://localhost:8081"}))[0] == 403
        assert (await _login(client, {"Origin": "null"}))[0] == 403
