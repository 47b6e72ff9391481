"""``bench/console_fanout.py`` still runs: a tiny configuration, end to end, in a few seconds.

The figures themselves are the bench's business (bench/README.md), not a test's: this only checks that
both processes start, every console signs in, pops are timed and none is lost.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "console_fanout.py"


def test_given_a_tiny_configuration_when_the_bench_runs_then_pops_are_timed_and_none_lost() -> None:
    args = ["--consoles", "12", "--rate", "20", "--seconds", "0.5", "--warmup", "0"]
    done = subprocess.run(
        [sys.executable, str(BENCH), *args], capture_output=True, text=True, timeout=90, check=False
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["consoles"] == 12
    assert summary["count"] == 10  # 20 calls/s for half a second
    assert summary["lost"] == 0
    assert summary["rss_idle_kb"] > 0
