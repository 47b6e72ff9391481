"""A real ``switchboard serve`` process on the Asterisk sandbox, to kill and start again.

``Served`` writes a config of its own (SQLite in the test's directory, a free HTTP port, an app name of
its own), starts ``switchboard serve`` as a child process, and signs agents in over HTTP and the
console's websocket as a browser would. ``kill()`` sends SIGKILL: nothing of the process gets a
chance to clean up, as in a crash.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from tests.integration.conftest import ARI_PASSWORD, ARI_URL, ARI_USER, PASSWORD, Console, logged_in

DID = "+18005550103"
ROOT = Path(__file__).resolve().parents[3]

CONFIG = """\
region = "US"
[ari]
url = "{ari_url}"
user = "{ari_user}"
password = "{ari_password}"
app = "{app}"
[database]
url = "{database_url}"
[http]
host = "127.0.0.1"
port = {port}
[routing]
timezone = "UTC"
[queues.q]
name = "Restart queue"
ring_timeout_s = 20
max_wait_s = 900
wrap_up_s = {wrap_up_s}
[lines.l]
name = "Restart line"
queue = "q"
[lines.l.dids]
web = "{did}"
{agents}
"""

AGENT = """\
[agents.{id}]
name = "{id}"
endpoint = "{endpoint}"
queues = ["q"]
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, and SIGKILL if it has not ended within 10 s; nothing if it has ended already."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


@dataclass
class Served:
    """``switchboard serve`` as a process of its own; its agents are ``agents`` (id -> endpoint)."""

    workdir: Path
    agents: dict[str, str]
    wrap_up_s: float = 30
    app: str = field(default_factory=lambda: f"sbkill-{uuid.uuid4().hex[:8]}")
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0
    placed: list[str] = field(default_factory=list)  # the test callers' own channels
    extra: str = ""  # TOML appended to the config: more queues and agents, queue rules, an on-call chain

    @property
    def config(self) -> Path:
        return self.workdir / "switchboard.toml"

    @property
    def db(self) -> Path:
        return self.workdir / "store.db"

    @property
    def database_url(self) -> str:
        """The store's URL in the config: SQLite in the test's directory (a cluster's member: PostgreSQL)."""
        return f"sqlite+aiosqlite:///{self.db}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    health_path = "/healthz"
    start_timeout_s = 30.0  # until the health check answers

    def answered(self, health: dict[str, Any]) -> bool:
        """Whether the health check says the process is up: alone, once it holds the ARI websocket."""
        return bool(health.get("ari_connected"))

    def write_config(self) -> None:
        agents = "".join(AGENT.format(id=a, endpoint=e) for a, e in self.agents.items())
        self.config.write_text(CONFIG.format(
            ari_url=ARI_URL, ari_user=ARI_USER, ari_password=ARI_PASSWORD, app=self.app,
            database_url=self.database_url,
            port=self.port, wrap_up_s=self.wrap_up_s, did=DID, agents=agents,
        ) + self.extra)  # fmt: skip

    def cli(self, *args: str, stdin: str | None = None) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "switchboard.cli", "--config", str(self.config), *args],
            input=None if stdin is None else stdin.encode(), capture_output=True, cwd=ROOT, timeout=60,
            check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr.decode()
        return done.stdout.decode()

    async def start(self) -> float:
        """Start the process; returns the seconds until it answered its health check."""
        started = time.monotonic()
        self.process = self._spawn()
        async with aiohttp.ClientSession() as http:
            while True:
                assert self.process.poll() is None, self.log()
                with contextlib.suppress(aiohttp.ClientError):
                    async with http.get(f"{self.url}{self.health_path}") as r:
                        if r.status == 200 and self.answered(await r.json()):
                            return time.monotonic() - started
                took = time.monotonic() - started
                assert took < self.start_timeout_s, f"not up after {took:.0f} s\n{self.log()}"
                await asyncio.sleep(0.05)

    def _spawn(self) -> subprocess.Popen[bytes]:
        log = (self.workdir / f"serve-{self.starts}.log").open("wb")
        self.starts += 1
        return subprocess.Popen(
            [sys.executable, "-m", "switchboard.cli", "--config", str(self.config), "serve"],
            stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip

    def kill(self) -> None:
        """SIGKILL: no handler runs, nothing is flushed or closed."""
        assert self.process is not None and self.process.poll() is None, self.log()
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def terminate(self) -> float:
        """SIGTERM, as a deploy stops the service; the seconds until the process was gone."""
        assert self.process is not None and self.process.poll() is None, self.log()
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(30)
        assert self.process.returncode == 0, self.log()
        return time.monotonic() - started

    def kept_lines(self) -> int:
        """Journal lines in the database after the last snapshot (what a start would replay)."""
        with contextlib.closing(sqlite3.connect(self.db, timeout=5)) as db:
            (after,) = db.execute("SELECT coalesce(max(seq), 0) FROM router_snapshots").fetchone()
            (count,) = db.execute("SELECT count(*) FROM router_journal WHERE seq > ?", (after,)).fetchone()
            return int(count)

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)

    def log(self) -> str:
        return "\n".join(
            p.read_text(errors="replace")[-4000:] for p in sorted(self.workdir.glob("serve-*.log"))
        )

    def add_agent_user(self, agent: str) -> None:
        self.cli(
            "users", "add", agent, "--role", "agent", "--agent", agent, "--password-stdin", stdin=PASSWORD
        )

    def add_agent_users(self, *agents: str) -> None:
        """A user for each of ``agents``, acting as the agent of its name, all made by one process: one
        start-up and one password worker for them all (``switchboard users add`` takes seconds a user)."""
        done = subprocess.run(
            [sys.executable, "-m", "tests.integration.restart.accounts", str(self.config), *agents],
            input=PASSWORD.encode(), capture_output=True, cwd=ROOT, timeout=60, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr.decode()

    async def console(self, http: aiohttp.ClientSession, agent: str, ready: bool = True) -> Console:
        """The agent's console, signed in afresh; with ``ready``, the agent says ready."""
        async with http.post(f"{self.url}/login", json={"username": agent, "password": PASSWORD}) as r:
            assert r.status == 200, await r.text()
            session = r.cookies["sb_session"].value
        http.cookie_jar.clear()
        ws = await http.ws_connect(
            f"{self.url}/ws", origin=self.url, headers={"Cookie": f"sb_session={session}"}
        )
        return await logged_in(ws, agent, ready)

    def journalled(self, kind: str, about: str = "") -> int:
        """How many events of ``kind`` the journal holds now (read straight from the database); with
        ``about``, only those that name it (a call, an offer's leg)."""
        with contextlib.closing(sqlite3.connect(self.db, timeout=5)) as db:
            pattern = f'%"k":"{kind}"%{about}%'
            (count,) = db.execute(
                "SELECT count(*) FROM router_journal WHERE event LIKE ?", (pattern,)
            ).fetchone()
            return int(count)

    def logged_calls(self) -> list[dict[str, Any]]:
        """The call log's rows read straight from the database, with the columns ``calls`` leaves out
        (who of the on-call chain took it, the call a callback or a stretch belongs to)."""
        with contextlib.closing(sqlite3.connect(self.db, timeout=5)) as db:
            db.row_factory = sqlite3.Row
            rows = db.execute(
                "SELECT call_id AS call, queue_id AS queue, agent_id AS agent, outcome, hung_up_by, wait_s,"
                " talk_s, on_call, callback_of, part_of, end_reason FROM calls"
            ).fetchall()
            return [dict(r) for r in rows]

    def calls(self) -> list[dict[str, Any]]:
        """The call log as ``switchboard calls`` prints it (one JSON object per line)."""
        return [json.loads(line) for line in self.cli("calls", "--limit", "100").splitlines() if line.strip()]
