"""``switchboard users sessions NAME [--end]``, and a password change ending the user's sessions."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from crm_core.domain.sessions import StoredSession, key_of
from crm_core.sql.store import SqlStore
from tests.switchboard.test_cli_users import PASSWORD, Cli

SIGNED_IN = 1_796_000_000.0  # 2026-11-30T00:53:20Z


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    cli = Cli(tmp_path, monkeypatch, capsys)
    for name in ("alice", "bob"):
        assert cli("users", "add", name, "--role", "agent", "--agent", name, "--password-stdin",
                   stdin=f"{PASSWORD}\n")[0] == 0  # fmt: skip
    return cli


def signed_in(url: str, *sessions: tuple[str, str]) -> None:
    """Sessions as the console keeps them: (session id, username)."""

    async def add() -> None:
        store = SqlStore.open(url, "US")
        try:
            for n, (session_id, username) in enumerate(sessions):
                when = SIGNED_IN + 60 * n
                await store.sessions.add(StoredSession(key_of(session_id), username, when, when + 30))
        finally:
            await store.close()

    asyncio.run(add())


def lines(out: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.splitlines()]


def test_given_two_sessions_of_alice_when_listed_then_each_with_its_times_and_never_its_id(run: Cli) -> None:
    signed_in(run.url, ("first-id", "alice"), ("bobs-id", "bob"), ("second-id", "alice"))
    code, out, _ = run("users", "sessions", "Alice")
    assert code == 0
    assert lines(out) == [
        {"username": "alice", "session": key_of("first-id")[:12], "started": "2026-11-30T00:53:20+00:00",
         "last_used": "2026-11-30T00:53:50+00:00"},
        {"username": "alice", "session": key_of("second-id")[:12], "started": "2026-11-30T00:55:20+00:00",
         "last_used": "2026-11-30T00:55:50+00:00"},
    ]  # fmt: skip
    assert "first-id" not in out


def test_given_sessions_when_ended_then_alices_are_gone_and_bobs_kept(run: Cli) -> None:
    signed_in(run.url, ("first-id", "alice"), ("bobs-id", "bob"), ("second-id", "alice"))
    code, out, _ = run("users", "sessions", "alice", "--end")
    assert (code, lines(out)) == (0, [{"username": "alice", "ended": 2}])
    assert run("users", "sessions", "alice")[1] == ""
    assert [line["session"] for line in lines(run("users", "sessions", "bob")[1])] == [key_of("bobs-id")[:12]]


def test_given_no_such_user_when_their_sessions_are_asked_for_then_exit_1(run: Cli) -> None:
    code, out, err = run("users", "sessions", "ghost")
    assert (code, out) == (1, "") and "ghost" in err


def test_given_a_password_change_then_that_users_sessions_end(run: Cli) -> None:
    signed_in(run.url, ("alices-id", "alice"), ("bobs-id", "bob"))
    assert run("users", "passwd", "ALICE", "--password-stdin", stdin="a new password\n")[0] == 0
    assert run("users", "sessions", "alice")[1] == ""
    assert run("users", "sessions", "bob")[1] != ""
