"""``switchboard serve`` meeting the usual start-up problems, run as a new user runs it: the real command
in a process of its own. A port taken or a database it cannot write ends it with one line and exit code 1;
ARI unreachable or refusing the credentials is one warning, and the service runs on (it keeps trying)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest

from telephony.ari_client import AriClient
from telephony.errors import TelephonyError
from tests.support import unavailable

ROOT = Path(__file__).resolve().parents[2]
ARI_URL = os.environ.get("SWITCHBOARD_ARI_URL", "http://127.0.0.1:8088")
ARI_USER = os.environ.get("SWITCHBOARD_ARI_USER", "switchboard")
ARI_PASSWORD = os.environ.get("SWITCHBOARD_ARI_PASSWORD", "switchboard-test")
CONFIG = """
region = "US"
[ari]
url = "{ari_url}"
user = "{ari_user}"
password = "{ari_password}"
app = "{app}"
[database]
url = "{database}"
[http]
port = {port}
[queues.q]
name = "Q"
"""
# The environment overrides the file (config/settings.py): the test's own config must be the one read.
OVERRIDES = ("SWITCHBOARD_ARI_URL", "SWITCHBOARD_ARI_USER", "SWITCHBOARD_ARI_PASSWORD", "SWITCHBOARD_ARI_APP",
             "SWITCHBOARD_DATABASE_URL", "SWITCHBOARD_HTTP_HOST", "SWITCHBOARD_HTTP_PORT")  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def listening() -> Iterator[int]:
    """A port some other program is listening on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield s.getsockname()[1]


@dataclass
class Serve:
    """``switchboard serve`` in a process of its own, its stderr read line by line."""

    proc: asyncio.subprocess.Process
    lines: list[str] = field(default_factory=list)

    async def line_with(self, text: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while not any(text in line for line in self.lines):
            assert self.proc.stderr is not None
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no line with {text!r} on stderr: {self.lines}"
            raw = await asyncio.wait_for(self.proc.stderr.readline(), remaining)
            assert raw, f"serve ended (code {self.proc.returncode}) with no line with {text!r}: {self.lines}"
            self.lines.append(raw.decode())
        return next(line for line in self.lines if text in line)

    async def finish(self, timeout: float = 30.0) -> tuple[int, str]:
        """(exit code, all of stderr) once the process ends by itself."""
        assert self.proc.stderr is not None
        rest = await asyncio.wait_for(self.proc.stderr.read(), timeout)
        code = await asyncio.wait_for(self.proc.wait(), timeout)
        return code, "".join(self.lines) + rest.decode()


class Service:
    """A config of the test's own (its port, database and ARI), and ``serve`` started on it."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.config = tmp_path / "switchboard.toml"
        self.port = free_port()
        self.started: list[Serve] = []

    def configure(self, *, port: int | None = None, database: str | None = None, ari_url: str = ARI_URL,
                  ari_password: str = ARI_PASSWORD) -> None:  # fmt: skip
        if port is not None:
            self.port = port
        self.config.write_text(CONFIG.format(
            ari_url=ari_url, ari_user=ARI_USER, ari_password=ari_password, app=f"cli-{uuid.uuid4().hex[:8]}",
            database=database or f"sqlite+aiosqlite:///{self.tmp_path / 'store.db'}", port=self.port,
        ), encoding="utf-8")  # fmt: skip

    async def serve(self) -> Serve:
        env = {k: v for k, v in os.environ.items() if k not in OVERRIDES}
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "switchboard.cli", "--config", str(self.config), "serve",
            cwd=ROOT, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        self.started.append(Serve(proc))
        return self.started[-1]

    async def stop(self, serve: Serve) -> tuple[int, str]:
        serve.proc.send_signal(signal.SIGTERM)
        return await serve.finish()


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[Service]:
    found = Service(tmp_path)
    yield found
    for serve in found.started:
        if serve.proc.returncode is None:
            serve.proc.kill()
            await serve.proc.wait()


def one_line_error(code: int, stderr: str) -> str:
    assert code == 1
    assert "Traceback" not in stderr
    (line,) = [line for line in stderr.splitlines() if line.startswith("switchboard: ")]
    return line


async def console_answers(port: int) -> bool:
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/") as response:
        return response.status == 200


# --- the console's port ---------------------------------------------------------------------------------
async def test_given_the_http_port_taken_when_serve_starts_then_one_line_says_so_and_it_exits_1(
    service: Service,
) -> None:
    with listening() as port:
        service.configure(port=port)
        code, stderr = await (await service.serve()).finish()
    line = one_line_error(code, stderr)
    assert f"cannot listen on 127.0.0.1:{port}: the port is taken" in line
    assert "[http] port" in line
    assert not (service.tmp_path / "store.db").exists()  # nothing else was touched


# --- the database ---------------------------------------------------------------------------------------
async def test_given_a_database_in_a_missing_directory_when_serve_starts_then_one_line_and_exit_1(
    service: Service,
) -> None:
    service.configure(database=f"sqlite+aiosqlite:///{service.tmp_path / 'missing' / 'store.db'}")
    code, stderr = await (await service.serve()).finish()
    line = one_line_error(code, stderr)
    assert "missing/store.db cannot be opened: unable to open database file" in line


async def test_given_a_read_only_database_when_serve_starts_then_one_line_says_not_writable_and_exit_1(
    service: Service,
) -> None:
    # Opened read-only, as a file the service may read but not write (root would write past a chmod).
    path = service.tmp_path / "store.db"
    service.configure(database=f"sqlite+aiosqlite:///{path}")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "switchboard.cli", "--config", str(service.config), "migrate", cwd=ROOT
    )
    assert await proc.wait() == 0
    before = path.read_bytes()
    service.configure(database=f"sqlite+aiosqlite:///file:{path}?mode=ro&uri=true")
    code, stderr = await (await service.serve()).finish()
    line = one_line_error(code, stderr)
    assert "is not writable: attempt to write a readonly database" in line
    assert path.read_bytes() == before


# --- ARI --------------------------------------------------------------------------------------------------
async def test_given_ari_unreachable_when_serve_starts_then_one_warning_and_the_service_runs_on(
    service: Service,
) -> None:
    service.configure(ari_url=f"http://127.0.0.1:{free_port()}")
    serve = await service.serve()
    warning = await serve.line_with("switchboard: warning: ARI")
    assert "is unreachable" in warning and "the service keeps trying" in warning
    await serve.line_with("switchboard: console on")
    assert await console_answers(service.port)
    code, stderr = await service.stop(serve)
    assert (code, "Traceback" in stderr) == (0, False)


async def test_given_a_wrong_ari_password_when_serve_starts_then_it_says_the_credentials_are_refused(
    service: Service,
) -> None:
    await _sandbox_reachable()
    service.configure(ari_password="not-the-password")
    serve = await service.serve()
    warning = await serve.line_with("switchboard: warning: ARI")
    assert f"ARI at {ARI_URL} refuses the credentials of user {ARI_USER!r} (HTTP 401)" in warning
    assert "the service keeps trying" in warning
    await serve.line_with("switchboard: console on")
    assert await console_answers(service.port)
    code, stderr = await service.stop(serve)
    assert (code, "Traceback" in stderr) == (0, False)
    assert sum("switchboard: warning" in line for line in stderr.splitlines()) == 1


async def test_given_ari_answering_when_serve_starts_then_no_warning(service: Service) -> None:
    await _sandbox_reachable()
    service.configure()
    serve = await service.serve()
    await serve.line_with("ari.connected")
    code, stderr = await service.stop(serve)
    assert (code, "warning" in stderr, "Traceback" in stderr) == (0, False, False)


async def _sandbox_reachable() -> None:
    ari = AriClient(ARI_URL, ARI_USER, ARI_PASSWORD, "probe")
    try:
        await ari.info()
    except TelephonyError as exc:
        unavailable(f"Asterisk ARI at {ARI_URL} ({exc})", "start it with scripts/asterisk-sandbox up")
    finally:
        await ari.close()


# --- one service per store --------------------------------------------------------------------------------
async def test_given_a_service_on_the_store_when_a_second_starts_on_another_port_then_it_is_refused(
    service: Service,
) -> None:
    service.configure()
    first, first_port = await service.serve(), service.port
    await first.line_with("console on")
    service.configure(port=free_port())  # the same store, another port: only the claim can stop it
    code, stderr = await (await service.serve()).finish()
    line = one_line_error(code, stderr)
    assert f"another switchboard serve (process {first.proc.pid}) is running on" in line
    assert await console_answers(first_port)  # the first one serves on
    first.proc.kill()  # a crash gives the store back at once
    await first.proc.wait()
    again = await service.serve()
    await again.line_with("console on")
    await service.stop(again)
