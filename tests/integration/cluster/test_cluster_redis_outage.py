"""Redis stopped for ten seconds under a cluster (issue 15), calls flowing; ``outage`` says how: frozen
(SIGSTOP) or killed (started again empty on the same port). No two members may say they lead at once,
none once its lease is gone while Redis cannot grant another, the leader that cannot renew sends
Asterisk nothing, callers wait, and everything is consistent when Redis is back (``Rig.settle``).
"""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.integration.cluster.cluster_harness import Health, leaders
from tests.integration.cluster.cluster_rig import Rig

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.timeout(300)]


@pytest.mark.parametrize("outage", ["frozen", "killed"])
async def test_given_calls_flowing_when_redis_stops_for_ten_seconds_then_no_two_leaders_and_calls_wait(
    cluster: Rig, outage: str
) -> None:
    """Frozen (SIGSTOP): connections hang, and Redis comes back with everything it held. Killed: every
    connection is refused, and it comes back empty on the same port (no lease, no fence, no stream)."""
    old = await cluster.heal()
    await asyncio.sleep(2.0)
    samples: list[tuple[float, dict[str, Health | None]]] = []
    sampler = asyncio.create_task(_sample(cluster, samples))
    redis = cluster.cluster.redis
    stop, back = (redis.freeze, redis.thaw) if outage == "frozen" else (redis.kill, redis.start)
    stop()
    frozen_at = time.monotonic()
    try:
        await asyncio.sleep(2.0)
        quiet_from = await old.ari_requests(cluster.http)
        await asyncio.sleep(8.0)
        quiet_to = await old.ari_requests(cluster.http)
    finally:
        back()
    thawed_at = time.monotonic()
    new = await cluster.cluster.leader(cluster.http, timeout=15)
    print(f"Redis {outage} 10 s: {new.name} leads {time.monotonic() - thawed_at:.3f} s after it came back")
    await asyncio.sleep(3.0)
    sampler.cancel()
    await asyncio.gather(sampler, return_exceptions=True)
    two = [(round(t - frozen_at, 2), _roles(s)) for t, s in samples if len(leaders(s)) > 1]
    lease_s = cluster.cluster.lease_ms / 1000
    ruled = [(round(t - frozen_at, 2), leaders(s)) for t, s in samples
             if frozen_at + lease_s + 0.2 < t < thawed_at and leaders(s)]  # fmt: skip
    print(f"{len(samples)} samples of the three members' health")
    assert len(samples) > 50 and not two, two
    assert not ruled, ruled  # nobody leads once the lease is gone and Redis cannot give another
    assert quiet_to == quiet_from, (quiet_from, quiet_to)  # the leader that cannot renew stops commanding
    await cluster.settle()


def _roles(sample: dict[str, Health | None]) -> dict[str, object]:
    """Who said what in one sample: role, term and whether it held the ARI websocket."""
    return {n: h and (h.get("role"), h.get("term"), h.get("ari_connected")) for n, h in sample.items()}


async def _sample(cluster: Rig, into: list[tuple[float, dict[str, Health | None]]]) -> None:
    while True:
        into.append((time.monotonic(), await cluster.cluster.sample(cluster.http)))
        await asyncio.sleep(0.05)
