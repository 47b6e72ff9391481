"""Several instances, a member lost in turn (issue 15): a follower SIGKILLed, the leader SIGKILLed, the
leader frozen past its lease; three real ``switchboard serve`` processes on the real Asterisk sandbox,
one real PostgreSQL store and a private ``redis-server``, with calls flowing.

The tests share one cluster (tests/integration/cluster/cluster_rig.py: each starts by healing it and
ends with the checks read from Asterisk and the store). Redis stopped: test_cluster_redis_outage.py.
Not among them: PostgreSQL restarted under the
cluster — the cluster's store is on the machine's server, shared with everyone's tests, which no test may
restart (tests/integration/test_store_restart.py stops a private server under one service).
"""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.integration.cluster.cluster_calls import call_log
from tests.integration.cluster.cluster_harness import Member
from tests.integration.cluster.cluster_rig import Rig
from tests.integration.cluster.cluster_seats import Seat, follow

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.timeout(300)]

WORKING = ("ready", "ringing", "on-call")  # signed in to the ACD: what a console that moved must find


async def term_of(member: Member, rigged: Rig) -> int:
    health = await member.health(rigged.http)
    assert health is not None and health["role"] == "leader", health
    return int(health["term"])


async def moved(seats: list[Seat], members: list[Member]) -> None:
    """Each console of a member that went away reconnects to another, still signed in, still working."""
    for seat in seats:
        snapshot = await follow(seat, members)
        assert snapshot["state"] in WORKING, (seat.agent, snapshot["state"])


async def popped_again(rigged: Rig, seats: list[Seat], timeout: float = 20.0) -> None:
    """Each console, where it is now, is shown a call (the pops reach the member that holds it)."""
    marks = [len(s.seen) for s in seats]
    try:
        for seat, mark in zip(seats, marks, strict=True):
            await seat.expect("offer", since=mark, timeout=timeout)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{await rigged.describe()}") from None


async def test_given_calls_flowing_when_a_follower_is_killed_then_its_consoles_go_on_elsewhere(
    cluster: Rig,
) -> None:
    leader = await cluster.heal()
    await asyncio.sleep(2.0)
    victim = next(m for m in cluster.others(leader))
    on_it = cluster.seats_on(victim)
    assert on_it
    victim.kill()
    await moved(on_it, cluster.others(victim))
    assert all(s.connects >= 2 and s.member is not victim for s in on_it)
    await popped_again(cluster, on_it)
    assert await cluster.cluster.leader(cluster.http) is leader  # a follower's death moves nothing
    await cluster.cluster.start(victim)  # back, as a follower
    health = await victim.health(cluster.http)
    assert health is not None and health["role"] == "follower", health
    await cluster.settle()


async def test_given_calls_flowing_when_the_leader_is_killed_then_a_follower_leads_within_two_seconds(
    cluster: Rig,
) -> None:
    old = await cluster.heal()
    await asyncio.sleep(3.0)
    term = await term_of(old, cluster)
    on_old = cluster.seats_on(old)
    killed_at = time.monotonic()
    old.kill()
    new = await cluster.cluster.leader(cluster.http, timeout=10, above=term, connected=False)
    took = time.monotonic() - killed_at
    assert await cluster.cluster.leader(cluster.http, timeout=10, above=term) is new
    routing = time.monotonic() - killed_at
    print(
        f"failover: {old.name} SIGKILLed (term {term}), {new.name} leads (term "
        f"{await term_of(new, cluster)}) after {took:.3f} s, holds the ARI websocket after {routing:.3f} s"
    )
    await moved(on_old, cluster.others(old))
    await popped_again(cluster, on_old)
    await asyncio.sleep(2.0)  # calls go on under the new leader
    await cluster.cluster.start(old)
    health = await old.health(cluster.http)
    assert health is not None and health["role"] == "follower", health
    await cluster.settle()
    assert took < 2.0, f"failover took {took:.3f} s"


async def test_given_the_leader_frozen_past_its_lease_when_it_resumes_then_it_steps_down_and_sends_nothing(
    cluster: Rig,
) -> None:
    old = await cluster.heal()
    await asyncio.sleep(2.0)
    # Idle first, so its count of ARI requests stands still before the freeze and any request after it
    # shows: a deposed leader may not send a single one.
    await cluster.stream.stop()
    await _idle(cluster, old)
    term = await term_of(old, cluster)
    before = await old.ari_requests(cluster.http)
    old.freeze()
    frozen_at = time.monotonic()
    cluster.stream.start()  # callers during the freeze, and while the new leader takes over
    try:
        new = await cluster.cluster.leader(cluster.http, timeout=10, above=term)
        print(f"{old.name} frozen (term {term}): {new.name} leads after {time.monotonic() - frozen_at:.3f} s")
        await asyncio.sleep(1.0)  # the new leader commands while the old one is still frozen
    finally:
        old.thaw()
    woke = await old.ari_requests(cluster.http)
    first = await old.health(cluster.http)
    await asyncio.sleep(3.0)
    later = await old.ari_requests(cluster.http)
    health = await old.health(cluster.http)
    print(f"{old.name} on waking: role {first and first.get('role')}, ARI requests {before:g} before the "
          f"freeze, {woke:g} on waking, {later:g} 3 s later")  # fmt: skip
    assert health is not None and health["role"] == "follower", health
    assert (woke, later) == (before, before)
    assert await cluster.cluster.leader(cluster.http) is new
    await cluster.settle()


async def _idle(cluster: Rig, leader: Member) -> None:
    """Every call placed has ended and been logged, and the leader holds none."""
    placed = set(cluster.stream.placed)
    deadline = time.monotonic() + 30
    while {r["call_id"] for r in await call_log(cluster.cluster.store_url)} < placed or (
        await leader.metrics(cluster.http)
    )["switchboard_active_calls"] > 0:
        assert time.monotonic() < deadline, "the calls did not end"
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.5)  # the last hang-ups and bridge removals sent
