"""A follower's reload with 5,000 agents (issue 15): how long it takes, and how long at a time it holds the
event loop, which the member's lease renewals share.

The store is made as a leader makes it: the config of ``cluster_consoles.py`` (``--agents`` agents
``c00000``.., each on a ``3XX`` sandbox phone, the harness' queue and line plus ``_cluster_rig``'s
bench line), a router driven through a ``Journal`` on the store (every agent signed in and ready,
``--ended`` calls answered and over, ``--talking`` calls answered, ``--waiting`` callers in line), then
the journal's snapshot, then ``--lines`` journal lines after it (calls arriving, ringing, answered,
over). The follower is the real service (``switchboard.bootstrap.build`` on a simulated PBX: nothing
reaches Asterisk) in a ``ClusterNode`` whose Redis is never asked (a reload reads only the store).

Printed, per store (SQLite; PostgreSQL at 127.0.0.1:5432 with ``--postgres``, a throwaway database as the
tests make it): ``ClusterNode.reload`` ``--rounds`` times, each with its wall time and the loop's holds as
a ticker saw them (a task sleeping 1 ms; its lateness each time is a hold: max and p99) over the reload
and the half second after it, with the cyclic collector's longest pause and its full collections in that
window, and the holds less the collector's pauses within them (the code's own); then the steps
of a reload timed one by one on the loop, each ``--rounds`` times (a new ``Book``, the store's read, the
snapshot's decoding, the lines' replay, the customers named again, ``Router.restated``, the hub told).
The heap is settled first and watched (``switchboard/heap.py``: collected, frozen, and frozen again after
a full collection once it has doubled), as ``switchboard serve`` does.
``--profile`` also prints the top of a cProfile of one reload (own time), as run on the loop.

    .venv/bin/python bench/follower_reload.py [--agents 5000] [--lines 3000] [--rounds 5] [--postgres]

Before a change, from a copy of the old commit (``git archive HEAD | tar -x -C /tmp/v0``):
``PYTHONPATH=/tmp/v0 .venv/bin/python bench/follower_reload.py``: the packages then come from there (the
header says where from).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import dataclasses
import gc
import os
import pstats
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import structlog

ROOT = Path(__file__).resolve().parent.parent
if not os.environ.get("PYTHONPATH"):  # a PYTHONPATH names the code measured: an older copy of it
    sys.path.insert(0, str(ROOT))

# The packages measured are imported before the bench's helpers, which put this tree first on the path.
import routing  # noqa: E402
from config.cluster import ClusterSettings  # noqa: E402
from config.settings import Settings, load  # noqa: E402
from routing import book as books  # noqa: E402
from routing import events as ev  # noqa: E402
from routing.ids import CallId, OfferId  # noqa: E402
from routing.router import Router  # noqa: E402
from switchboard import heap, snapshot_codec  # noqa: E402
from switchboard.bootstrap import Service, build, normaliser  # noqa: E402
from switchboard.cli import GC_SLOW_S  # noqa: E402
from switchboard.cluster.node import ClusterNode  # noqa: E402
from switchboard.event_codec import decode  # noqa: E402
from switchboard.journal import Journal  # noqa: E402
from telephony.simulated import SimulatedPbx  # noqa: E402
from tests.integration.cluster.cluster_harness import Member  # noqa: E402
from tests.integration.conftest import phone  # noqa: E402
from tests.integration.restart.harness import DID  # noqa: E402
from tests.support import postgres_database  # noqa: E402

MEASURED = Path(routing.__file__).parent.parent  # where the code measured comes from

from _cluster_rig import BENCH_LINE  # noqa: E402
from _fanout_service import configure_logging  # noqa: E402
from pop_latency import code_version, percentile  # noqa: E402

TICK_S = 0.001
AFTER_S = 0.5


@dataclasses.dataclass(frozen=True, kw_only=True)
class Options:
    agents: int
    talking: int
    waiting: int
    ended: int
    lines: int
    rounds: int
    postgres: bool
    profile: bool


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


# --- the store, as a leader leaves it ---------------------------------------------------------------
def settings_for(workdir: Path, agents: int, url: str) -> Settings:
    """The config ``cluster_consoles.py`` gives its members (without ``[cluster]``: SQLite refuses it)."""
    ids = [f"c{n:05d}" for n in range(agents)]
    phones = {a: phone(f"3{n % 100:02d}") for n, a in enumerate(ids)}
    member = Member(workdir, phones, wrap_up_s=0, extra=BENCH_LINE, name="bench", store_url=url)
    member.write_config()
    return load(member.config, normaliser)


class Leader:
    """A router whose every event is journaled first, as ``RouterLoop`` does on a leader."""

    def __init__(self, router: Router, journal: Journal) -> None:
        self.router, self.journal, self.at, self.calls = router, journal, time.time() - 3600, 0

    def __call__(self, *events: ev.Event) -> None:
        for event in events:
            self.journal.record(event, self.router)
            self.router.handle(event)

    def call(self, answered: bool, over: bool) -> None:
        self.calls += 1
        call, self.at = CallId(f"b{self.calls:06d}"), self.at + 0.05
        offer = OfferId(f"sb-{call}-1")
        self(ev.CallArrived(call, DID, f"+1415555{self.calls % 10000:04d}", None, self.at))
        if answered:
            self(ev.OfferRinging(offer, self.at + 0.01), ev.OfferAnswered(offer, self.at + 0.3))
        if over:
            self(ev.CallerHungUp(call, self.at + 2.0))


async def record(service: Service, opts: Options) -> tuple[int, int]:
    """The leader's store: its snapshot and ``opts.lines`` lines after it; (snapshot's bytes, lines)."""
    assert service.store is not None
    journal = Journal(service.store.journal, flush_s=0.05)
    writer = asyncio.create_task(journal.run())
    lead = Leader(Router(service.settings.plan), journal)
    for agent in lead.router.plan.agents:
        lead(ev.AgentLoggedIn(agent, lead.at), ev.AgentBecameReady(agent, lead.at))
    for _ in range(opts.ended):
        lead.call(answered=True, over=True)
    for n in range(opts.talking + opts.waiting):
        lead.call(answered=n < opts.talking, over=False)
    journal.snapshot(lead.router, lead.at)
    after = journal.seq
    while journal.seq - after < opts.lines:  # the floor goes on: calls in, answered, over
        lead.call(answered=True, over=True)
    await journal.flush()
    writer.cancel()
    kept = await service.store.journal.kept()
    assert kept.snapshot is not None
    return len(kept.snapshot.data), len(kept.lines)


# --- measuring --------------------------------------------------------------------------------------
class Ticker:
    """A task that sleeps ``TICK_S`` again and again; how late it wakes is how long the loop was held.
    It goes on ``AFTER_S`` after the work measured: what the work started (the hub's caller look-ups for
    the pops it restated) runs on the same loop right after it. The cyclic collector's pauses in that
    window are kept too (``gc.callbacks``): they hold every thread, whichever one's allocations set
    them off."""

    def __init__(self) -> None:
        self.late_ms: list[float] = []
        self.own_ms: list[float] = []  # the same, less the collector's pauses within it: the code's own
        self.gc_ms: list[tuple[int, float]] = []  # (generation, pause)
        self._task: asyncio.Task[None] | None = None
        self._gc_start: float | None = None  # the collection under way
        self._pauses: list[tuple[float, float]] = []  # (start, end) of each collection, in order

    async def __aenter__(self) -> Ticker:
        gc.callbacks.append(self._gc)
        self._task = asyncio.create_task(self._run())
        await asyncio.sleep(0)  # it runs before what is measured
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._task is not None
        await asyncio.sleep(AFTER_S)
        self._task.cancel()
        gc.callbacks.remove(self._gc)

    async def _run(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(TICK_S)
            woke = time.perf_counter()
            late = (woke - before - TICK_S) * 1000
            self.late_ms.append(late)
            self.own_ms.append(late - self._paused(before, woke) * 1000)

    def _paused(self, start: float, end: float) -> float:
        """How much of [start, end] the collector took. A collection in the other thread can let this
        one run before it ends (finalizers run Python code): the one under way counts until now."""
        spans = self._pauses if self._gc_start is None else [*self._pauses, (self._gc_start, end)]
        overlap = 0.0
        for began, ended in reversed(spans):
            if ended <= start:
                break
            overlap += min(ended, end) - max(began, start)
        return overlap

    def _gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_start = time.perf_counter()
        elif self._gc_start is not None:
            ended = time.perf_counter()
            self.gc_ms.append((info["generation"], (ended - self._gc_start) * 1000))
            self._pauses.append((self._gc_start, ended))
            self._gc_start = None


async def reloads(node: ClusterNode, rounds: int) -> None:
    print(
        f"  ClusterNode.reload (held: in the reload and {AFTER_S:.1f} s after; GC: longest pause, full ones)"
    )
    print(f"  {'':<8} {'wall ms':>8} {'held max':>9} {'held p99':>9} {'ticks':>6} {'GC max':>7} {'full':>5} "
          f"{'held less GC: max':>18} {'p99':>6}")  # fmt: skip
    for n in range(rounds):
        async with Ticker() as ticker:
            started = time.perf_counter()
            await node.reload()
            wall = (time.perf_counter() - started) * 1000
        late = ticker.late_ms or [0.0]
        longest = max((ms for _, ms in ticker.gc_ms), default=0.0)
        full = sum(1 for generation, _ in ticker.gc_ms if generation == 2)
        own = ticker.own_ms or [0.0]
        print(f"  round {n + 1:<2} {wall:8.1f} {max(late):9.1f} {percentile(late, 99):9.1f} {len(late):6d} "
              f"{longest:7.1f} {full:5d} {max(own):18.1f} {percentile(own, 99):6.1f}")  # fmt: skip


async def steps(service: Service, rounds: int) -> None:
    """What a reload does, one step at a time, on the loop (as the reload before issue 15's change did)."""
    assert service.store is not None
    kept = await service.store.journal.kept()
    assert kept.snapshot is not None
    data, lines, plan = kept.snapshot.data, kept.lines, service.settings.plan
    router = Router(plan)
    router.plan, router.book = snapshot_codec.loads(data)

    def replay() -> None:
        for line in lines:
            router.handle(decode(line.event))

    async def restate() -> None:
        service.hub.restate(router.restated(service.clock()))

    work: list[tuple[str, Callable[[], Awaitable[object] | object]]] = [
        ("Book(plan)", lambda: books.Book(plan)),
        ("store: kept()", service.store.journal.kept),
        ("snapshot_codec.loads", lambda: snapshot_codec.loads(data)),
        (f"replay {len(lines)} lines", replay),
        ("Service.renamed", service.renamed),
        ("restated + hub", restate),
    ]
    print(f"  step (on the loop)        {'min ms':>8} {'median':>8} {'max ms':>8}")
    for name, one in work:
        took = []
        for _ in range(rounds):
            router.plan, router.book = snapshot_codec.loads(data)  # each replay from the snapshot's books
            started = time.perf_counter()
            result = one()
            if asyncio.iscoroutine(result):
                await result
            took.append((time.perf_counter() - started) * 1000)
        took.sort()
        print(f"  {name:<24} {took[0]:8.1f} {took[len(took) // 2]:8.1f} {took[-1]:8.1f}")


async def profiled(node: ClusterNode) -> None:
    profile = cProfile.Profile()
    profile.enable()
    await node.reload()
    profile.disable()
    print("  cProfile of one reload (this thread only), by own time:")
    pstats.Stats(profile, stream=sys.stdout).sort_stats("tottime").print_stats(15)


# --- a run ------------------------------------------------------------------------------------------
@asynccontextmanager
async def store_url(kind: str, workdir: Path) -> AsyncIterator[str]:
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{workdir / 'store.db'}"
        return
    async with postgres_database("sb_bench_reload") as url:
        yield url


async def one_store(kind: str, opts: Options) -> None:
    with tempfile.TemporaryDirectory(prefix="sb-follower-reload-") as tmp:
        async with store_url(kind, Path(tmp)) as url:
            settings = settings_for(Path(tmp), opts.agents, url)
            service = await build(settings, pbx=SimulatedPbx)
            try:
                snapshot_bytes, lines = await record(service, opts)
                frozen = heap.settle()  # as ``switchboard serve`` does once started, with its watch
                heap.HeapWatch(GC_SLOW_S, structlog.get_logger("heap").warning).install()
                size = f"snapshot {snapshot_bytes / 1e6:.2f} MB, {lines} lines after it"
                print(f"{kind}: {size}, {frozen} objects frozen")
                nowhere = ClusterSettings(redis_url="redis://127.0.0.1:1", instance="bench")  # never asked
                node = ClusterNode(service, nowhere)
                await reloads(node, opts.rounds)
                await steps(service, opts.rounds)
                if opts.profile:
                    await profiled(node)
            finally:
                await service.stop()


async def run(opts: Options) -> None:
    configure_logging()  # the service's log lines to stderr, the figures alone on stdout
    print(f"follower_reload  {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}  agents={opts.agents} "
          f"ended={opts.ended} talking={opts.talking} waiting={opts.waiting} lines={opts.lines}  "
          f"code {code_version()}, packages from {MEASURED}")  # fmt: skip
    print(f"machine before: {uptime()}")
    for kind in ("sqlite", "postgres") if opts.postgres else ("sqlite",):
        await one_store(kind, opts)
    print(f"machine after:  {uptime()}")


def parse_args(argv: Sequence[str] | None) -> Options:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--agents", type=int, default=5000)
    p.add_argument("--talking", type=int, default=250)
    p.add_argument("--waiting", type=int, default=100)
    p.add_argument("--ended", type=int, default=2000)
    p.add_argument("--lines", type=int, default=3000)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--postgres", action="store_true")
    p.add_argument("--profile", action="store_true")
    a = p.parse_args(argv)
    return Options(agents=a.agents, talking=a.talking, waiting=a.waiting, ended=a.ended, lines=a.lines,
                   rounds=a.rounds, postgres=a.postgres, profile=a.profile)  # fmt: skip


if __name__ == "__main__":
    asyncio.run(run(parse_args(None)))
