"""What a console's order costs on a follower (switchboard/cluster/asks.py) next to one on the leader.

A local ask is ``RouterLoop.ask`` in the process that owns the router, as on the leader. A remote ask is
``AskClient.ask`` through the real Redis (``--redis``, default redis://127.0.0.1:6379/0) to an
``AskServer`` in another process that owns its own router, as on a follower: the follower's XADD, the
leader's XREADGROUP (with TIME) returning, its router, its PUBLISH (sent with its next read), and the
follower's pub/sub read. A PING's round trip is printed beside them: on a loaded machine every hop
between processes waits for a CPU, and the figures say more next to it. Both routers are
real (``routing.router.Router``) with ``--agents`` agents; every order is one agent's log-in or log-out,
alternating, so every one is carried out.

``--asks`` orders one after the other (the latency an agent sees on an idle system), then the same number
with ``--in-flight`` under way at once (a burst: a shift signing in) for throughput. Figures are
nearest-rank percentiles; keys are under a prefix of the run's own, deleted afterwards.

    .venv/bin/python bench/cluster_asks.py [--asks 2000] [--in-flight 50] [--agents 100]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import multiprocessing
import multiprocessing.synchronize
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from redis import asyncio as aioredis  # noqa: E402

from routing import events as ev  # noqa: E402
from routing.ids import AgentId  # noqa: E402
from routing.plan import Agent, Plan  # noqa: E402
from routing.router import Router  # noqa: E402
from switchboard.bus import LocalBus  # noqa: E402
from switchboard.cluster.asks import AskClient, AskServer  # noqa: E402
from switchboard.runtime import RouterLoop  # noqa: E402

Ask = Callable[[ev.Event], Awaitable[object]]


def router_loop(agents: int) -> RouterLoop:
    ids = [AgentId(f"b{i:04d}") for i in range(agents)]
    plan = Plan(agents={a: Agent(id=a, name=a, endpoint=f"PJSIP/{a}", queues=()) for a in ids})
    return RouterLoop(Router(plan), time.time, LocalBus())


def orders(count: int, agents: int) -> list[ev.Event]:
    """Each agent logs in, then out, then in...: every order is carried out whatever the order of them."""
    made: list[ev.Event] = []
    for n in range(count):
        agent, login = AgentId(f"b{n % agents:04d}"), (n // agents) % 2 == 0
        made.append(ev.AgentLoggedIn(agent, 0.0) if login else ev.AgentLoggedOut(agent, 0.0))
    return made


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


async def one_by_one(ask: Ask, events: list[ev.Event]) -> list[float]:
    took = []
    for event in events:
        started = time.perf_counter()
        await ask(event)
        took.append((time.perf_counter() - started) * 1000)
    return took


async def burst(ask: Ask, events: list[ev.Event], in_flight: int) -> tuple[list[float], float]:
    """Per-order latencies and orders/s, ``in_flight`` under way at once. Each agent's orders stay in their
    order: a worker takes every ``in_flight``-th agent."""
    took: list[float] = []

    async def worker(mine: list[ev.Event]) -> None:
        took.extend(await one_by_one(ask, mine))

    started = time.perf_counter()
    await asyncio.gather(*(worker(events[w::in_flight]) for w in range(in_flight)))
    return took, len(events) / (time.perf_counter() - started)


def report(name: str, took: list[float], rate: float | None = None) -> None:
    line = (
        f"{name:<32} p50 {percentile(took, 50):7.3f} ms  p99 {percentile(took, 99):7.3f} ms  "
        f"max {max(took):7.3f} ms  mean {sum(took) / len(took):7.3f} ms"
    )
    print(line + (f"  {rate:8.0f} orders/s" if rate is not None else ""), flush=True)


def leader(url: str, prefix: str, agents: int, ready: multiprocessing.synchronize.Event) -> None:
    """The other process: a router of its own and the AskServer in front of it, until terminated."""

    async def serve() -> None:
        loop = router_loop(agents)
        redis = aioredis.Redis.from_url(url)
        server = AskServer(redis, prefix, loop.ask, consumer="bench-leader")
        await server._create_group()
        ready.set()
        await asyncio.gather(loop.run(), server.run())

    asyncio.run(serve())


async def measure(opts: argparse.Namespace, prefix: str) -> None:
    events = orders(opts.asks, opts.agents)
    local = router_loop(opts.agents)
    local_task = asyncio.create_task(local.run())
    await one_by_one(local.ask, events[: 2 * opts.agents])  # warm up: every agent in and out once
    report("local ask, one by one", await one_by_one(local.ask, events))
    report(f"local ask, {opts.in_flight} in flight", *await burst(local.ask, events, opts.in_flight))
    local_task.cancel()

    redis = aioredis.Redis.from_url(opts.redis)
    # What one round trip to Redis costs on this machine right now: a remote ask takes a few of them.
    report("Redis PING round trip", await one_by_one(lambda _: redis.ping(), events))
    client = AskClient(redis, prefix, "bench-follower")
    await client.start()
    try:
        await one_by_one(client.ask, events[: 2 * opts.agents])
        report("ask through Redis, one by one", await one_by_one(client.ask, events))
        report(
            f"ask through Redis, {opts.in_flight} in flight", *await burst(client.ask, events, opts.in_flight)
        )
    finally:
        await client.close()
        await redis.aclose()


async def delete_keys(url: str, prefix: str) -> None:
    redis = aioredis.Redis.from_url(url)
    keys = [k async for k in redis.scan_iter(match=f"{prefix}:*")]
    if keys:
        await redis.delete(*keys)
    await redis.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--asks", type=int, default=2000)
    parser.add_argument("--in-flight", type=int, default=50)
    parser.add_argument("--agents", type=int, default=100)
    opts = parser.parse_args()
    # Every run over the orders leaves each agent logged out, as it found them; one agent's orders stay
    # with one worker of a burst.
    if opts.asks % (2 * opts.agents) or opts.agents % opts.in_flight:
        parser.error("--asks must be a multiple of twice --agents, and --agents of --in-flight")
    prefix = f"bench:asks:{uuid.uuid4().hex[:12]}"
    ready = multiprocessing.get_context("spawn").Event()
    server = multiprocessing.get_context("spawn").Process(
        target=leader, args=(opts.redis, prefix, opts.agents, ready), daemon=True
    )
    server.start()
    try:
        if not ready.wait(30):
            raise SystemExit("the leader process did not start within 30 s")
        print(f"{opts.asks} orders, {opts.agents} agents, Redis at {opts.redis}, leader in pid {server.pid}")
        asyncio.run(measure(opts, prefix))
    finally:
        server.kill()  # nothing of it is left to stop cleanly: its keys go next
        server.join(10)
        asyncio.run(delete_keys(opts.redis, prefix))


if __name__ == "__main__":
    main()
