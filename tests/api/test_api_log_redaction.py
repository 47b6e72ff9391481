"""What the service logs while people sign in and call the API holds no secret: no password (not even one
typed into the username field), no session id, no device cookie, no bearer token."""

from __future__ import annotations

import logging

import pytest

from agent_console.devices import DEVICE_COOKIE
from agent_console.login import COOKIE, typed
from agent_console.login_throttle import THROTTLE_FAILURES
from tests.api.conftest import AUTH, TOKEN, Api

PASSWORD = "correct horse battery"
TYPED_IN_THE_WRONG_FIELD = "my-Other-passw0rd\x1b[2J"  # a password, and an escape that clears a terminal


async def test_given_sign_ins_and_api_calls_then_the_logs_hold_no_secret(
    sqlite_api: Api, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)  # what the service logs (switchboard/cli.py), aiohttp's access log too
    await sqlite_api.store.users.add("alice", PASSWORD, "agent", agent="1001")
    client = sqlite_api.client
    async with client.post("/login", json={"username": "alice", "password": PASSWORD}) as r:
        assert r.status == 200
        secrets = [PASSWORD, TOKEN, r.cookies[COOKIE].value, r.cookies[DEVICE_COOKIE].value]
    async with client.get("/api/v1/customers") as r:  # by session cookie
        assert r.status == 200
    async with client.get("/api/v1/customers", headers=AUTH) as r:
        assert r.status == 200
    for _ in range(THROTTLE_FAILURES + 1):  # failures, then a throttled one: each logged
        async with client.post("/login", json={"username": TYPED_IN_THE_WRONG_FIELD, "password": PASSWORD}):
            pass
    out, err = capfd.readouterr()
    logged = out + err + caplog.text
    assert "console.login-failed" in logged and "console.login-throttled" in logged and "signed-in" in logged
    assert typed(TYPED_IN_THE_WRONG_FIELD) in logged  # the failures can still be told apart
    for secret in [*secrets, TYPED_IN_THE_WRONG_FIELD, "my-Other-passw0rd", "\x1b"]:
        assert secret not in logged, secret
