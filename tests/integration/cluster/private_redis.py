"""A ``redis-server`` of the test's own on a free port: frozen, killed and started again at will.

The machine's own Redis (6379) is shared with everyone; the failure tests stop theirs, so they never
touch it. Nothing is saved to disk (``--save ""``, no append-only file): a restarted server is empty, as
a Redis that lost its memory would be.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.integration.restart.harness import free_port, stop_process
from tests.support import unavailable

REDIS_SERVER = "/usr/bin/redis-server"


@dataclass
class PrivateRedis:
    workdir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start the server (again, on the same port) and wait until it accepts connections."""
        if shutil.which(REDIS_SERVER) is None:
            unavailable(f"redis-server at {REDIS_SERVER}", "apt-get install redis-server")
        log = (self.workdir / f"redis-{self.starts}.log").open("wb")
        self.starts += 1
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"],
            stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while not self._answers():
            assert self.process.poll() is None, self.log()
            assert time.monotonic() < deadline, f"redis-server not up after 10 s\n{self.log()}"
            time.sleep(0.02)

    def _answers(self) -> bool:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 0.2) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
        return False

    def freeze(self) -> None:
        """SIGSTOP: connections stay open and nothing answers, as a stalled host."""
        self._signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self._signal(signal.SIGCONT)

    def kill(self) -> None:
        """SIGKILL: every connection is refused until ``start`` again (with nothing in it)."""
        self._signal(signal.SIGKILL)
        assert self.process is not None
        self.process.wait(10)

    def _signal(self, sig: signal.Signals) -> None:
        assert self.process is not None and self.process.poll() is None, self.log()
        self.process.send_signal(sig)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)  # a frozen server cannot act on the SIGTERM
            stop_process(self.process)

    def log(self) -> str:
        logs = sorted(self.workdir.glob("redis-*.log"))
        return "\n".join(p.read_text(errors="replace")[-2000:] for p in logs)
