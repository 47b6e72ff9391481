"""``switchboard users sessions NAME --end`` and ``users passwd`` with a ``[cluster]`` config: a running
instance refuses the ended sessions at once, told over the real Redis (switchboard/cluster/session_ends.py),
not at its sweep (set to an hour here). The store is a fresh database on the real PostgreSQL (a cluster's
config refuses SQLite); the instance is a real console app on it. With Redis out of reach the command
still ends the sessions, and says the instances were not told."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from crm_core.domain.sessions import StoredSession, key_of
from crm_core.domain.users import Role
from crm_core.sql.migrate import upgrade_async
from crm_core.sql.store import SqlStore
from switchboard.cli import main
from tests.agent_console.fakes import PASSWORD
from tests.support import postgres_database
from tests.support_redis import redis_keys, redis_url
from tests.switchboard.test_cli_users import CONFIG as ALONE
from tests.switchboard.test_cluster_session_ends import instance, refused_after, told

pytestmark = pytest.mark.postgres

CONFIG = (
    ALONE
    + """[cluster]
redis_url = "{redis}"
key_prefix = "{prefix}"
"""
)
UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


@pytest.fixture
async def stored() -> AsyncIterator[tuple[str, SqlStore]]:
    """A fresh migrated database on the real PostgreSQL, with the user alice: (its URL, the store)."""
    async with postgres_database("sb_cli_ends") as url:
        await upgrade_async(url)
        store = SqlStore.open(url, "US")
        try:
            await store.users.add("alice", PASSWORD, Role.AGENT, agent="a1")
            yield url, store
        finally:
            await store.close()


def cli(
    tmp_path: Path, url: str, redis: str, prefix: str, argv: tuple[str, ...], stdin: str
) -> tuple[int, float]:
    """``switchboard`` as a separate command would run (its own event loop, here on a thread of its own):
    the exit code, and the seconds it took."""
    config = tmp_path / "switchboard.toml"
    config.write_text(CONFIG.format(url=url, redis=redis, prefix=prefix), encoding="utf-8")
    start = time.monotonic()
    code = main(["--config", str(config), *argv])
    return code, time.monotonic() - start


async def signed_in(client: TestClient[Any, Any]) -> None:
    async with client.post("/login", json={"username": "alice", "password": PASSWORD}) as r:
        assert r.status == 200
    async with client.get("/session") as r:
        assert r.status == 200  # in the instance's cache from here on


ENDING = [
    pytest.param(("users", "sessions", "alice", "--end"), "", id="sessions-end"),
    pytest.param(("users", "passwd", "alice", "--password-stdin"), "a brand new password\n", id="passwd"),
]


@pytest.mark.parametrize(("argv", "stdin"), ENDING)
async def test_given_a_cluster_config_when_the_cli_ends_sessions_then_a_running_instance_refuses_at_once(
    tmp_path: Path,
    stored: tuple[str, SqlStore],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: tuple[str, ...],
    stdin: str,
) -> None:
    url, store = stored
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    async with redis_keys("cli-ends") as (redis, prefix), instance(store) as b, told(b, redis, prefix):
        await signed_in(b)
        code, took = await asyncio.to_thread(cli, tmp_path, url, redis_url(), prefix, argv, stdin)
        err = capsys.readouterr().err
        assert code == 0, err
        assert "warning" not in err
        after = await refused_after(b, 1.0)  # fails past a second: the sweep would take an hour
        with capsys.disabled():
            print(
                f"\n{argv[1]}: the command took {took * 1000:.0f} ms; refused {after * 1000:.1f} ms after it"
            )


async def test_given_redis_out_of_reach_when_the_cli_ends_sessions_then_they_end_and_it_warns(
    tmp_path: Path, stored: tuple[str, SqlStore], capsys: pytest.CaptureFixture[str]
) -> None:
    url, store = stored
    await store.sessions.add(StoredSession(key_of("alices-id"), "alice", 100.0, 130.0))
    argv = ("users", "sessions", "alice", "--end")
    code, _ = await asyncio.to_thread(cli, tmp_path, url, UNREACHABLE_REDIS, "test:nobody", argv, "")
    out, err = capsys.readouterr()
    assert (code, out.strip()) == (0, '{"username": "alice", "ended": 1}')
    assert "switchboard: warning: the running instances were not told at once (ConnectionError" in err
    assert await store.sessions.of_user("alice") == []
