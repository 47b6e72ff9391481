"""``switchboard users add / passwd / disable / list``, through ``main`` with a temporary config."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

import pytest

from crm_core.sql.store import SqlStore
from switchboard.cli import main

CONFIG = """
region = "US"
[ari]
password = "unused"
[database]
url = "{url}"
[queues.q]
name = "Q"
"""
PASSWORD = "correct horse battery"


class Cli:
    """``switchboard`` with a config on a fresh SQLite store: (exit code, stdout, stderr)."""

    def __init__(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        self.url = f"sqlite+aiosqlite:///{tmp_path}/crm.db"
        self.config = tmp_path / "switchboard.toml"
        self.config.write_text(CONFIG.format(url=self.url), encoding="utf-8")
        self._monkeypatch = monkeypatch
        self._capsys = capsys

    def __call__(self, *argv: str, stdin: str = "") -> tuple[int, str, str]:
        self._monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        code = main(["--config", str(self.config), *argv])
        out, err = self._capsys.readouterr()
        return code, out, err


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(tmp_path, monkeypatch, capsys)


def _check(url: str, username: str, password: str) -> bool:
    async def check() -> bool:
        store = SqlStore.open(url, "US")
        try:
            return await store.users.check(username, password) is not None
        finally:
            await store.close()

    return asyncio.run(check())


def test_given_an_agent_when_added_with_password_stdin_then_listed_and_can_sign_in(run: Cli) -> None:
    code, out, _ = run("users", "add", "alice", "--role", "agent", "--agent", "a1", "--name", "Alice A.",
                       "--password-stdin", stdin=PASSWORD + "\n")  # fmt: skip
    assert code == 0
    assert json.loads(out) | {"created": None, "updated": None} == {
        "username": "alice", "name": "Alice A.", "role": "agent", "agent": "a1", "disabled": False,
        "created": None, "updated": None,
    }  # fmt: skip
    code, out, _ = run("users", "list")
    assert code == 0 and [json.loads(line)["username"] for line in out.splitlines()] == ["alice"]
    assert PASSWORD not in out
    assert _check(run.url, "alice", PASSWORD)


def test_given_a_user_when_password_changed_and_disabled_then_sign_in_follows(run: Cli) -> None:
    run("users", "add", "sue", "--role", "supervisor", "--password-stdin", stdin=PASSWORD)
    assert run("users", "passwd", "sue", "--password-stdin", stdin="a new password\n")[0] == 0
    assert not _check(run.url, "sue", PASSWORD) and _check(run.url, "sue", "a new password")
    assert run("users", "disable", "sue")[0] == 0
    assert not _check(run.url, "sue", "a new password")
    assert json.loads(run("users", "list")[1])["disabled"] is True


@pytest.mark.parametrize(
    ("argv", "stdin", "code", "message"),
    [
        (("users", "add", "bob", "--role", "agent", "--password-stdin"), PASSWORD, 2, "agent:"),
        (("users", "add", "bob", "--role", "admin", "--password-stdin"), "short", 2, "password:"),
        (("users", "add", "bob", "--role", "admin", "--password-stdin"), "", 2, "no password"),
        (("users", "add", "b b", "--role", "admin", "--password-stdin"), PASSWORD, 2, "username:"),
        (("users", "passwd", "ghost", "--password-stdin"), PASSWORD, 1, "no user 'ghost'"),
        (("users", "disable", "ghost"), "", 1, "no user 'ghost'"),
    ],
)
def test_given_bad_input_when_running_then_a_clear_error_and_exit_code(
    run: Cli, argv: tuple[str, ...], stdin: str, code: int, message: str
) -> None:
    got, _, err = run(*argv, stdin=stdin)
    assert got == code and message in err


def test_given_an_existing_username_when_added_again_then_exit_1(run: Cli) -> None:
    run("users", "add", "sue", "--role", "admin", "--password-stdin", stdin=PASSWORD)
    code, _, err = run("users", "add", "SUE", "--role", "admin", "--password-stdin", stdin=PASSWORD)
    assert code == 1 and "already exists" in err


def test_given_an_unknown_role_when_adding_then_argparse_refuses_with_exit_2(run: Cli) -> None:
    with pytest.raises(SystemExit) as refused:
        run("users", "add", "bob", "--role", "janitor", "--password-stdin", stdin=PASSWORD)
    assert refused.value.code == 2
