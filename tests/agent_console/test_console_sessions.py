"""Signing in over HTTP and what the websocket demands: a session cookie and a same-origin Origin."""

from __future__ import annotations

import dataclasses
from typing import Any

import aiohttp
import pytest

from agent_console.app import SOCKETS, WS_USER_TRUSTED_S
from agent_console.sockets import SESSION_ENDED
from crm_core.domain.users import Role
from tests.agent_console.fakes import PASSWORD, FakeUsers, user
from tests.agent_console.harness import Console, make_console, next_of


async def _ws_refusal(console: Console, origin: str | None) -> tuple[int, Any]:
    headers = {} if origin is None else {"Origin": origin}
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await console.client.ws_connect("/ws", headers=headers)
    handshake = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
                 "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}  # fmt: skip
    async with console.client.get("/ws", headers={**headers, **handshake}) as r:
        return refused.value.status, await r.json()


async def test_given_good_credentials_when_logging_in_then_an_httponly_strict_cookie_and_who_i_am(
    console: Console,
) -> None:
    async with console.client.post("/login", json={"username": "Alice", "password": PASSWORD}) as r:
        assert r.status == 200
        assert await r.json() == {"username": "alice", "name": "Alice", "role": "agent", "agent": "a1"}
        cookie = r.cookies["sb_session"]
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and not cookie["secure"]
    assert len(cookie.value) >= 43  # 256 bits, base64url
    async with console.client.get("/session") as r:
        assert (await r.json())["username"] == "alice"


@pytest.mark.parametrize(("username", "password"), [("alice", "wrong password"), ("nobody", PASSWORD)])
async def test_given_bad_credentials_when_logging_in_then_one_vague_refusal_and_no_cookie(
    console: Console, username: str, password: str
) -> None:
    status, body = await console.sign_in(username, password)
    assert (status, body) == (401, {"error": "login-failed", "message": "wrong username or password"})
    assert not console.client.session.cookie_jar.filter_cookies(console.client.make_url("/"))


async def test_given_a_disabled_user_when_logging_in_then_refused_like_a_wrong_password(
    console: Console,
) -> None:
    console.users.disable("alice")
    assert await console.sign_in() == (
        401,
        {"error": "login-failed", "message": "wrong username or password"},
    )


async def test_given_five_failures_for_a_username_when_trying_again_then_throttled_until_the_window_passes(
    console: Console,
) -> None:
    for _ in range(5):
        assert (await console.sign_in("alice", "wrong password"))[0] == 401
    status, body = await console.sign_in()  # even the right password
    assert (status, body["error"]) == (429, "login-throttled")
    console.now[0] += 15 * 60
    assert (await console.sign_in())[0] == 200


async def test_given_five_failures_from_one_address_when_another_user_tries_then_throttled(
    console: Console,
) -> None:
    for n in range(5):
        await console.sign_in(f"guess{n}", "wrong password")
    assert (await console.sign_in("sue"))[0] == 429


async def test_given_no_session_when_opening_the_websocket_then_refused_not_logged_in(
    console: Console,
) -> None:
    status, body = await _ws_refusal(console, console.origin)
    assert (status, body["error"]) == (401, "not-logged-in")


@pytest.mark.parametrize("origin", [None, "http://evil.example", "https://127.0.0.1"])
async def test_given_a_foreign_or_missing_origin_when_opening_the_websocket_then_refused_bad_origin(
    console: Console, origin: str | None
) -> None:
    await console.sign_in()
    status, body = await _ws_refusal(console, origin)
    assert (status, body["error"]) == (403, "bad-origin")


async def test_given_a_logout_when_opening_the_websocket_then_refused(console: Console) -> None:
    await console.sign_in()
    async with console.client.post("/logout") as r:
        assert r.status == 200
    status, _ = await _ws_refusal(console, console.origin)
    assert status == 401


async def test_given_an_idle_session_when_it_expires_then_the_websocket_is_refused(console: Console) -> None:
    await console.sign_in()
    console.now[0] += 8 * 3600 + 1
    status, _ = await _ws_refusal(console, console.origin)
    assert status == 401


async def test_given_the_store_failing_the_recheck_when_a_message_comes_then_handled_and_the_socket_kept(
    console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = await console.ws()
    answers = console.users.get

    async def busy(username: str) -> None:
        raise TimeoutError("QueuePool limit of size 5 overflow 10 reached")

    monkeypatch.setattr(console.users, "get", busy)
    console.now[0] += WS_USER_TRUSTED_S + 0.1
    await ws.send_json({"type": "ready"})
    assert (await next_of(ws, "state"))["state"] == "ready"  # the last answer stood
    monkeypatch.setattr(console.users, "get", answers)
    console.users.disable("alice")
    await ws.send_json({"type": "pause", "reason": "break"})  # the store answers again: asked again
    assert (await next_of(ws, "error"))["error"] == "not-logged-in"


async def test_given_a_connected_agent_when_disabled_then_a_message_after_the_recheck_ends_the_connection(
    console: Console,
) -> None:
    ws = await console.ws()
    console.users.disable("alice")
    await ws.send_json({"type": "ready"})  # the lookup from login is recent: trusted
    assert (await next_of(ws, "state"))["state"] == "ready"
    console.now[0] += WS_USER_TRUSTED_S + 0.1
    await ws.send_json({"type": "pause", "reason": "break"})
    assert (await next_of(ws, "error"))["error"] == "not-logged-in"
    assert (await ws.receive()).type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)


async def test_given_a_supervisor_without_an_agent_when_joining_the_acd_then_no_agent(
    console: Console,
) -> None:
    assert (await console.sign_in("sue"))[0] == 200
    ws = await console.client.ws_connect("/ws", origin=console.origin)
    assert (await ws.receive_json())["type"] == "hello"
    await ws.send_json({"type": "login"})
    assert (await ws.receive_json())["error"] == "no-agent"


async def _closed_as_ended(ws: Any) -> None:
    """The server said not-logged-in and closed the socket with SESSION_ENDED, nobody having sent a thing."""
    assert (await next_of(ws, "error"))["error"] == "not-logged-in"
    closing = await ws.receive(timeout=2)
    assert (closing.type, closing.data, closing.extra) == (
        aiohttp.WSMsgType.CLOSE,
        SESSION_ENDED,
        "not-logged-in",
    )


async def test_given_an_open_websocket_when_its_session_logs_out_then_the_server_closes_it_at_once(
    console: Console,
) -> None:
    ws = await console.ws()
    async with console.client.post("/logout") as r:
        assert r.status == 200
    await _closed_as_ended(ws)


async def test_given_a_supervisor_watching_the_wallboard_when_logging_out_then_the_pushes_stop() -> None:
    async with make_console(FakeUsers(user("sue", Role.SUPERVISOR, None)), wallboard=True) as console:
        assert (await console.sign_in("sue"))[0] == 200
        ws = await console.ws(login=False)
        await ws.send_json({"type": "watch-wallboard"})
        assert (await ws.receive_json())["type"] == "wallboard"
        async with console.client.post("/logout") as r:
            assert r.status == 200
        await _closed_as_ended(ws)
        assert console.feed is not None and console.feed.watchers == 0


async def test_given_an_open_websocket_when_the_user_is_disabled_elsewhere_then_the_sweep_closes_it(
    console: Console,
) -> None:
    ws = await console.ws()
    sockets = console.client.server.app[SOCKETS]
    await sockets.sweep()  # still enabled: nothing happens
    console.users.disable("alice")  # as `switchboard users disable` does, in another process
    await sockets.sweep()
    await _closed_as_ended(ws)
    status, _ = await _ws_refusal(console, console.origin)  # the session ended with the socket
    assert status == 401


async def test_given_a_user_given_another_role_when_swept_then_the_socket_opened_in_the_old_role_closes(
    console: Console,
) -> None:
    ws = await console.ws()
    alice = console.users.by_name["alice"]
    console.users.by_name["alice"] = dataclasses.replace(alice, role=Role.SUPERVISOR)
    await console.client.server.app[SOCKETS].sweep()
    await _closed_as_ended(ws)


async def test_given_the_app_running_when_a_user_is_disabled_then_its_socket_closes_within_a_sweep() -> None:
    async with make_console(FakeUsers(user("alice", Role.AGENT, "a1")), sweep_s=0.05) as console:
        ws = await console.ws()
        console.users.disable("alice")
        await _closed_as_ended(ws)  # within 2 s: the sweep runs every 0.05 s here, every 5 s in service
