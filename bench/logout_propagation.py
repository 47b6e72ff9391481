"""How long after a logout on instance A the same session is still accepted on instance B.

Two real console apps (``agent_console.app.create_app``) over one real SQLite store in a temporary
directory, each with its own cache of sessions and the app's own sweep for sessions ended elsewhere
(``WS_RECHECK_S``, 5 s), as two ``switchboard serve`` instances have; with ``pubsub``, joined over the
machine's real Redis as cluster/node.py joins them (switchboard/cluster/session_ends.py). Each round signs
in on A, uses the session on B (so B caches it), waits a random 0-5 s (the logout falls anywhere in B's
sweep interval), logs out on A and polls B's ``GET /session`` every 5 ms until it answers 401.

    .venv/bin/python bench/logout_propagation.py [--rounds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
from contextlib import AsyncExitStack
from pathlib import Path

import structlog

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent_console.app import WS_RECHECK_S
from tests.switchboard.test_cluster_session_ends import (
    refused_after,
    signed_in_on_both,
    told,
    two_instances,
)


async def rounds(pubsub: bool, count: int) -> list[float]:
    delays = []
    with tempfile.TemporaryDirectory() as tmp:
        async with (
            two_instances(Path(tmp), WS_RECHECK_S) as (a, b, (redis, prefix)),
            AsyncExitStack() as joined,
        ):
            if pubsub:
                await joined.enter_async_context(told(a, redis, prefix))
                await joined.enter_async_context(told(b, redis, prefix))
            for _ in range(count):
                await signed_in_on_both(a, b)
                await asyncio.sleep(random.uniform(0, WS_RECHECK_S))
                async with a.post("/logout", headers={"Origin": str(a.make_url("/")).rstrip("/")}) as r:
                    assert r.status == 200
                delays.append(await refused_after(b, 3 * WS_RECHECK_S))
    return delays


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))
    for pubsub in (False, True):
        found = asyncio.run(rounds(pubsub, args.rounds))
        name = "sweep + pub/sub" if pubsub else "sweep only"
        print(f"{name:16} rounds {len(found):3}  median {statistics.median(found) * 1000:8.1f} ms  "
              f"max {max(found) * 1000:8.1f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
