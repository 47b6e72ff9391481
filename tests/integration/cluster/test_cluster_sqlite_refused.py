"""``switchboard serve`` with ``[cluster]`` on SQLite stops at once with one line: several instances
cannot share a file on one machine's disk, and a cluster without a shared store would be two routers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.integration.cluster.cluster_harness import CLUSTER
from tests.integration.restart.harness import ROOT, Served


def test_given_a_cluster_on_sqlite_when_serve_starts_then_it_is_refused_in_one_line(tmp_path: Path) -> None:
    served = Served(tmp_path, {}, extra=CLUSTER.format(
        redis="redis://127.0.0.1:1/0", name="a", lease_ms=1000, prefix="sbtest"))  # fmt: skip
    served.write_config()
    done = subprocess.run(
        [sys.executable, "-m", "switchboard.cli", "--config", str(served.config), "serve"],
        capture_output=True, cwd=ROOT, timeout=60, check=False,
    )  # fmt: skip
    (line,) = done.stderr.decode().splitlines()
    assert done.returncode == 1
    assert "cluster.redis_url" in line and "SQLite" in line and "PostgreSQL" in line, line
    assert not served.db.exists()  # refused before the store was opened
