"""A PostgreSQL server of the test's own, to stop and start again without disturbing anyone else.

``initdb`` into a fresh directory (as the ``postgres`` user: PostgreSQL refuses to run as root), trust
auth, listening on 127.0.0.1 at a free port; ``stop()`` is an immediate shutdown, as a crash or a restart
of the database host is to its clients. In CI a machine without PostgreSQL's binaries fails the test.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.integration.restart.harness import free_port
from tests.support import unavailable

OWNER = "postgres"


def _bin() -> Path | None:
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return versions[-1].parent if versions else None


@dataclass
class PrivatePostgres:
    bin: Path
    data: Path
    port: int

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *command: str) -> None:
        done = subprocess.run(["runuser", "-u", OWNER, "--", *command], capture_output=True, timeout=60,
                              check=False)  # fmt: skip
        assert done.returncode == 0, (command, done.stdout.decode(), done.stderr.decode(), self.log())

    def start(self) -> None:
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data / "db"), "-o", options,
                  "-l", str(self.data / "log"), "-w", "-t", "30", "start")  # fmt: skip

    def stop(self) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data / "db"), "-m", "immediate", "-w", "stop")

    def create_database(self, name: str) -> None:
        self._run(str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)

    def log(self) -> str:
        path = self.data / "log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""


@contextlib.contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    binaries = _bin()
    if binaries is None or shutil.which("runuser") is None:
        unavailable("PostgreSQL's server binaries (/usr/lib/postgresql/*/bin)", "run scripts/setup")
        raise AssertionError("unreachable")
    try:
        owner = pwd.getpwnam(OWNER)
    except KeyError:
        unavailable("the postgres user", "run scripts/setup")
        raise
    data = Path(tempfile.mkdtemp(prefix="sb-pg-"))
    os.chown(data, owner.pw_uid, owner.pw_gid)
    server = PrivatePostgres(binaries, data, free_port())
    try:
        server._run(str(binaries / "initdb"), "-D", str(data / "db"), "-U", "postgres", "--auth=trust",
                    "-E", "UTF8", "--no-sync")  # fmt: skip
        server.start()
        yield server
    finally:
        with contextlib.suppress(AssertionError, subprocess.SubprocessError):
            server.stop()
        shutil.rmtree(data, ignore_errors=True)
