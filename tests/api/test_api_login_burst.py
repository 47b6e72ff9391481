"""Parallel password guesses against the real store: its users, its argon2 checks in the password worker
process (about 0.17 s each, one at a time), and the login throttle in front of them."""

from __future__ import annotations

import asyncio
from collections import Counter

from agent_console.login_throttle import THROTTLE_FAILURES
from tests.api.conftest import Api

PASSWORD = "correct horse battery"


async def _sign_in(api: Api, password: str) -> int:
    async with api.client.post("/login", json={"username": "alice", "password": password}) as r:
        return r.status


async def test_given_the_real_worker_when_200_wrong_guesses_arrive_at_once_then_only_the_limit_is_checked(
    sqlite_api: Api,
) -> None:
    await sqlite_api.store.users.add("alice", PASSWORD, "agent", agent="1001")
    statuses = await asyncio.gather(*(_sign_in(sqlite_api, f"guess {n}") for n in range(200)))
    assert Counter(statuses) == {401: THROTTLE_FAILURES, 429: 200 - THROTTLE_FAILURES}
    assert await _sign_in(sqlite_api, PASSWORD) == 429
