"""The service process of ``service_ceiling.py``: the real Switchboard service on a simulated PBX.

Run by ``service_ceiling.py`` (never by hand). The service is ``console_fanout.py``'s
(``_fanout_service.FanoutService``: the real ``switchboard.bootstrap.Service`` with its router task,
journal, call recorder, state log, caller cache, hub and aiohttp console app, on a real store, with one
queue of all the agents and the users and sessions of their consoles), here on SQLite or PostgreSQL and
driven in steps of rising arrival rates. The PBX is ``CeilingPbx``, a recording ``SimulatedPbx``: it
notes when each caller arrives (just before ``CallArrived`` is submitted to the router's queue) and when
each ``OfferCall`` reaches it (``execute``), both on ``time.monotonic()``, one clock for the whole
machine, so the load client can time pops from the same arrival.

Control over stdin/stdout, one JSON object per line: the service says hello (port, sessions), is told
``idle``, then ``{"rate": R, "seconds": S, "step": N, "profile": bool}`` once per step and ``stop``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import functools
import gc
import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog
from _fanout_service import Control, FanoutService, Load, agent_ids, bench_plan, dump_profile, rss_kb
from pop_latency import watch_loop_lag

from config.settings import AriSettings, Settings
from routing import commands as cmd
from routing.ids import CallId
from switchboard import heap, log_setup
from switchboard.bootstrap import build
from switchboard.cli import GC_SLOW_S
from telephony.simulated import Clock, SimulatedPbx, Submit, Timing

Json = dict[str, Any]


class CeilingPbx(SimulatedPbx):
    """A ``SimulatedPbx`` that notes, on ``time.monotonic()``, each arrival and each offer it is told."""

    def __init__(self, submit: Submit, clock: Clock, timing: Timing | None = None) -> None:
        super().__init__(submit, clock, timing)
        self.arrived: dict[str, float] = {}  # call -> just before CallArrived was submitted
        self.offered: dict[str, tuple[str, float]] = {}  # offer -> (call, when OfferCall reached us)

    def arrive(self, call: CallId, did: str, number: str | None, name: str | None = None) -> None:
        self.arrived[call] = time.monotonic()
        super().arrive(call, did, number, name)

    def execute(self, command: cmd.PbxCommand) -> None:
        if isinstance(command, cmd.OfferCall):
            self.offered[command.offer] = (command.call, time.monotonic())
        super().execute(command)


class GcPauses:
    """How long each garbage collection held the process (``gc.callbacks``), while attached."""

    def __init__(self) -> None:
        self.ms: list[float] = []  # wall
        self.cpu_ms = 0.0  # the collecting thread's CPU, all collections together
        self.full = 0  # collections of the oldest generation
        self._started = self._cpu = 0.0

    def __enter__(self) -> GcPauses:
        gc.callbacks.append(self._note)
        return self

    def __exit__(self, *_: object) -> None:
        gc.callbacks.remove(self._note)

    def _note(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started, self._cpu = time.perf_counter(), time.thread_time()
        else:
            self.ms.append((time.perf_counter() - self._started) * 1000)
            self.cpu_ms += (time.thread_time() - self._cpu) * 1000
            self.full += info["generation"] == 2


@dataclass
class Depths:
    """The largest backlog seen, sampled every 20 ms, of each queue between the router and its writers."""

    inbox: int = 0  # events waiting for the router
    call_log: int = 0  # finished calls waiting to be written
    journal: int = 0  # journal lines not yet written


class CeilingService(FanoutService):
    """``FanoutService`` on the store named, with a ``CeilingPbx``, run step by step."""

    logged: dict[str, float]

    @classmethod
    async def on(cls, workdir: Path, agents: int, database_url: str, timing: Timing) -> CeilingService:
        settings = Settings(
            ari=AriSettings("http://127.0.0.1:1", "bench", "bench", "bench-ceiling"),
            database_url=database_url, http_host="127.0.0.1", http_port=0, region="US",
            caller_context="bench", inbound_context="bench", plan=bench_plan(agent_ids(agents)),
        )  # fmt: skip
        opts = Load(consoles=agents, rate=0, seconds=0, warmup=0, http_logins=1, profile=False)
        built = cls(opts, workdir, await build(settings, pbx=functools.partial(CeilingPbx, timing=timing)))
        built.logged = {}
        built.service.bus.subscribe(built._logged)
        return built

    @property
    def ceiling_pbx(self) -> CeilingPbx:
        assert isinstance(self.pbx, CeilingPbx)
        return self.pbx

    def _logged(self, command: cmd.Command) -> None:
        if isinstance(command, cmd.LogCall):
            self.logged[command.record.call] = time.monotonic()

    async def step(self, number: int, rate: float, seconds: float, profile: bool) -> Json:
        pbx, depths, lag = self.ceiling_pbx, Depths(), list[float]()
        for seen in (pbx.arrived, pbx.offered, self.decided, self.logged):
            seen.clear()
        watchers = [asyncio.create_task(watch_loop_lag(lag)), asyncio.create_task(self._sample(depths))]
        profiler = cProfile.Profile() if profile else None
        cpu0, t0 = time.process_time(), time.monotonic()
        if profiler is not None:
            profiler.enable()
        with GcPauses() as pauses:
            await place(pbx, rate, round(rate * seconds), f"s{number}-")
        if profiler is not None:
            profiler.disable()
            dump_profile(profiler, self.workdir)  # service.prof, and its top in service-profile.txt
        cpu_s, window_s, rss_end = time.process_time() - cpu0, time.monotonic() - t0, rss_kb()
        drain_s, flush_s = await self._settle()
        cpu_all_s = time.process_time() - cpu0  # with the backlog the step left, written after it
        for task in watchers:
            task.cancel()
        return {
            "arrived": pbx.arrived, "offered": pbx.offered, "decided": self.decided, "logged": self.logged,
            "cpu_s": cpu_s, "cpu_all_s": cpu_all_s, "window_s": window_s, "rss_kb": rss_end,
            "loop_lag_ms": lag,
            "gc_ms": pauses.ms, "gc_full": pauses.full, "gc_cpu_ms": pauses.cpu_ms,
            "max_inbox": depths.inbox, "max_call_log": depths.call_log, "max_journal": depths.journal,
            "drain_s": drain_s, "flush_s": flush_s, "active_calls_left": self.service.router.active_calls,
            "call_log_left": self.service.recorder._queue.qsize(),
        }  # fmt: skip

    async def _sample(self, depths: Depths) -> None:
        # The queues' private depths: the bench's look inside, nothing the service needs to publish.
        service = self.service
        journal = service.journal
        while True:
            depths.inbox = max(depths.inbox, service.loop._inbox.qsize())
            depths.call_log = max(depths.call_log, service.recorder._queue.qsize())
            if journal is not None:
                depths.journal = max(depths.journal, len(journal._pending))
            await asyncio.sleep(0.02)

    async def _settle(self, limit_s: float = 60) -> tuple[float, float]:
        """Seconds until every call of the step has ended, then until the call log has them all."""
        t0 = time.monotonic()
        deadline = t0 + limit_s
        # The router's state has no event to wait on; a poll every 50 ms is plenty here.
        while self.service.router.active_calls and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        drained = time.monotonic()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.service.recorder.flush(), max(1.0, deadline - drained))
        return drained - t0, time.monotonic() - drained


async def place(pbx: SimulatedPbx, rate: float, count: int, prefix: str) -> None:
    """Callers dial in at a steady ``rate``: every call due by now is placed, then the loop sleeps until
    the next is due; half the numbers are the known customers'."""
    t0, placed = time.monotonic(), 0
    while placed < count:
        due = min(count, int((time.monotonic() - t0) * rate) + 1)
        for i in range(placed, due):
            pbx.arrive(CallId(f"{prefix}{i:06d}"), "+18005550101", f"+1415555{i % 200:04d}")
        placed = due
        await asyncio.sleep(max(0.0, t0 + placed / rate - time.monotonic()))


async def serve(workdir: Path, agents: int, database_url: str, timing: Timing, freeze: str | None) -> None:
    log_setup.configure(sys.stderr)  # as ``switchboard serve`` logs: INFO, plain tracebacks
    control = Control(sys.stdout)
    sys.stdout = sys.stderr  # nothing else may write on the control pipe
    bench = await CeilingService.on(workdir, agents, database_url, timing)
    started = await bench.start()
    if freeze == "start":  # as ``switchboard serve`` does once started: before any console connects
        heap.settle()
        heap.HeapWatch(GC_SLOW_S, structlog.get_logger("heap").warning).install()  # and so on, as it does
    control.say(started)
    await control.expect("idle")
    if freeze == "idle":  # what exists now (modules, plan, the consoles' connections) is never scanned again
        heap.settle()
    control.say({"rss_idle_kb": rss_kb(), "gc_frozen": gc.get_freeze_count()})
    while (line := (await asyncio.to_thread(sys.stdin.readline)).strip()) not in ("stop", ""):
        order = json.loads(line)
        control.say(await bench.step(order["step"], order["rate"], order["seconds"], order["profile"]))
    await bench.stop()


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="the service side of service_ceiling.py")
    p.add_argument("workdir", type=Path)
    p.add_argument("--agents", type=int, required=True)
    p.add_argument("--database-url", required=True)
    p.add_argument("--answer-after", type=float, required=True, help="ringing -> answered, seconds")
    p.add_argument("--hang-up-after", type=float, required=True, help="ringing -> caller hangs up")
    p.add_argument("--gc-freeze", choices=("start", "idle"), help="gc.freeze() once started, or once idle")
    p.add_argument("--nice", type=int, default=0, help="this process' niceness (its threads inherit it)")
    a = p.parse_args(argv)
    if a.nice:
        os.setpriority(os.PRIO_PROCESS, 0, a.nice)  # before any thread starts: each inherits it
    timing = Timing(ring_after_s=0.010, answer_after_s=a.answer_after, hang_up_after_s=a.hang_up_after)
    asyncio.run(serve(a.workdir, a.agents, a.database_url, timing, a.gc_freeze))


if __name__ == "__main__":
    main()
