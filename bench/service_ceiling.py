"""The service's own ceiling (issue 19): arrival rate against decision and pop latency, CPU and memory.

Two processes on loopback, as in ``console_fanout.py`` (whose load client this reuses):

* the **service** (``_ceiling_service.py``): the real ``switchboard.bootstrap.Service`` (router task,
  journal, call recorder, state log, caller cache, ``ConsoleHub``, the aiohttp console app) with
  ``--agents`` agents in one queue, on SQLite (a file in a temporary directory) or PostgreSQL (a
  throwaway database on 127.0.0.1:5432, made as the tests make theirs). **No Asterisk**: the PBX adapter
  is a recording ``SimulatedPbx``; each offered phone rings after 10 ms, is answered ``--answer-after``
  later, and the caller hangs up ``--hang-up-after`` after the ringing began, so agents cycle;
* the **load client** (this process): one websocket per agent, signed in, logged in, ready, acking each
  offer as the page does.

The arrival rate rises in steps (``--rates``, ``--seconds`` each) until a step's decision p99 passes
50 ms or a call is lost; the last step that passed is the **knee**.

* **decision**: from the caller's arrival (``time.monotonic()`` just before the PBX adapter submits
  ``CallArrived`` to the router's queue) to the ``OfferCall`` command reaching the PBX adapter's
  ``execute``: the router's queue, the journal's record, the router, and the bus up to the PBX.
* **pop**: from the same arrival to the ``offer`` message read and parsed from that agent's websocket
  by the load client (CLOCK_MONOTONIC is one clock for the machine).
* **lost**: a call that arrived in the step and was never offered, whose pop was never read, or whose
  call-log row was not written once the step's calls had ended (60 s at most).
* **CPU**: the service's CPU seconds (all its threads) over the step's seconds; the machine's split
  between service, load client and everything else; **RSS** the service's VmRSS at the step's end.
* backlogs, sampled every 20 ms: events waiting for the router, finished calls waiting for the call
  log, journal lines not yet written; the call log's **flush**: seconds from the step's last call ending
  to its last row written.

``--profile`` adds a step at the first failing rate (or the last rate) with cProfile on in the service
and prints where its time went (its latencies are not figures: the profiler slows everything).

    .venv/bin/python bench/service_ceiling.py                       # SQLite, then PostgreSQL
    .venv/bin/python bench/service_ceiling.py --store sqlite --rates 50,100 --seconds 5
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import pstats
import shutil
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from console_fanout import Consoles, ServiceProcess, raise_open_files, stop
from pop_latency import CpuMeter, code_version, percentile, watch_loop_lag

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this work tree's packages, not whichever one the venv has installed

from tests.support import postgres_database  # noqa: E402

SERVICE = Path(__file__).resolve().parent / "_ceiling_service.py"
LIMIT_MS = 50.0
RATES = (50, 100, 200, 300, 500, 700, 1000)
TARGET_RATE = 500.0

Json = dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class Options:
    stores: tuple[str, ...]
    agents: int
    rates: tuple[float, ...]
    seconds: float
    answer_after: float
    hang_up_after: float
    profile: bool
    keep: bool
    gc_freeze: str | None  # "start" or "idle": when the service calls gc.freeze()
    nice: int


@dataclass(frozen=True, kw_only=True)
class Step:
    rate: float
    achieved: float
    decision_ms: list[float]
    pop_ms: list[float]
    no_offer: int
    no_pop: int
    not_logged: int
    cpu_pct: float
    rss_mib: float
    split: str
    service_lag_ms: list[float]
    client_lag_ms: list[float]
    backlogs: tuple[int, int, int]  # router inbox, call log, journal
    flush_s: float
    gc_ms: list[float]
    gc_full: int
    gc_cpu_ms: float
    cpu_ms_per_call: float
    unpublished: int  # of no_pop: no PopScreen was published for the offer
    readers_ended: list[str]  # the load client's consoles that stopped reading, and why

    @property
    def lost(self) -> int:
        return self.no_offer + self.no_pop + self.not_logged

    @property
    def passed(self) -> bool:
        return bool(self.decision_ms) and percentile(self.decision_ms, 99) <= LIMIT_MS and self.lost == 0


def figures(done: Json, consoles: Consoles, rate: float, split: str, client_lag: list[float]) -> Step:
    read = consoles.read
    ended = [repr(t.exception()) if t.exception() else "closed" for t in consoles.readers if t.done()]
    arrived: dict[str, float] = done["arrived"]
    first: dict[str, tuple[str, float]] = {}  # call -> (offer, when) of its first offer
    for offer, (call, at) in done["offered"].items():
        if call not in first or at < first[call][1]:
            first[call] = (offer, at)
    decision = [(first[c][1] - t) * 1000 for c, t in arrived.items() if c in first]
    pops = [(read[first[c][0]] - t) * 1000 for c, t in arrived.items() if c in first and first[c][0] in read]
    return Step(
        rate=rate, achieved=len(arrived) / max(done["window_s"], 1e-9), decision_ms=decision, pop_ms=pops,
        no_offer=len(arrived) - len(decision), no_pop=len(decision) - len(pops),
        not_logged=len(arrived) - len(done["logged"].keys() & arrived.keys()) + done["call_log_left"],
        cpu_pct=100 * done["cpu_s"] / max(done["window_s"], 1e-9), rss_mib=done["rss_kb"] / 1024,
        split=split, service_lag_ms=done["loop_lag_ms"], client_lag_ms=client_lag,
        backlogs=(done["max_inbox"], done["max_call_log"], done["max_journal"]), flush_s=done["flush_s"],
        readers_ended=ended, gc_ms=done["gc_ms"], gc_full=done["gc_full"], gc_cpu_ms=done["gc_cpu_ms"],
        cpu_ms_per_call=1000 * done["cpu_all_s"] / max(len(arrived), 1),
        unpublished=sum(1 for c in arrived if c in first and first[c][0] not in read
                        and first[c][0] not in done["decided"]),
    )  # fmt: skip


# --- one store --------------------------------------------------------------------------------------
@contextlib.asynccontextmanager
async def database(store: str, workdir: Path) -> AsyncIterator[str]:
    if store == "sqlite":
        yield f"sqlite+aiosqlite:///{workdir / 'store.db'}"
    else:
        async with postgres_database("sb_ceiling") as url:
            yield url


async def start_service(opts: Options, workdir: Path, url: str) -> ServiceProcess:
    log = workdir / "service.log"
    args = [sys.executable, str(SERVICE), str(workdir), "--agents", str(opts.agents), "--database-url", url,
            "--answer-after", str(opts.answer_after), "--hang-up-after", str(opts.hang_up_after),
            *(["--gc-freeze", opts.gc_freeze] if opts.gc_freeze else []),
            "--nice", str(opts.nice)]  # fmt: skip
    with log.open("wb") as err:
        proc = await asyncio.create_subprocess_exec(
            *args, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=err,
            limit=2**28, cwd=ROOT,
        )  # fmt: skip
    return ServiceProcess(proc, log)


async def run_step(
    service: ServiceProcess, consoles: Consoles, number: int, rate: float, seconds: float, profile: bool
) -> Step:
    lag: list[float] = []
    lag_task = asyncio.create_task(watch_loop_lag(lag))
    meter = CpuMeter({"service": service.proc.pid, "load client": os.getpid()})
    order = {"step": number, "rate": rate, "seconds": seconds, "profile": profile}
    service.tell(json.dumps(order))
    done = await service.hear(seconds + 180)
    split = meter.usage().replace("while the calls ran", "over the step, its drain included")
    await asyncio.sleep(0.5)  # the last pops on their way to the client
    lag_task.cancel()
    return figures(done, consoles, rate, split, lag)


async def curve(opts: Options, store: str, workdir: Path) -> None:
    async with database(store, workdir) as url:
        service = await start_service(opts, workdir, url)
        consoles: Consoles | None = None
        try:
            hello = await service.hear()
            consoles = Consoles(f"http://127.0.0.1:{hello['port']}")
            t0 = time.monotonic()
            await consoles.open(hello)
            if consoles.refused:
                raise RuntimeError(f"{len(consoles.refused)} consoles failed, e.g. {consoles.refused[:3]}")
            await asyncio.sleep(0.5 + opts.agents / 1000)
            service.tell("idle")
            idle = await service.hear()
            print(header(opts, store, hello, idle, time.monotonic() - t0))
            print(COLUMNS)
            steps: list[Step] = []
            for number, rate in enumerate(opts.rates):
                steps.append(await run_step(service, consoles, number, rate, opts.seconds, False))
                print(row(steps[-1]), flush=True)
                if not steps[-1].passed:
                    break
                await asyncio.sleep(2)
            details(steps)
            conclude(store, steps)
            if opts.profile:
                rate = steps[-1].rate
                await run_step(service, consoles, len(steps), rate, opts.seconds, True)
                where_time_goes(workdir / "service.prof", rate)
        finally:
            if consoles is not None:
                await consoles.close()
            await stop(service)


# --- report -----------------------------------------------------------------------------------------
COLUMNS = (
    f"{'rate/s':>7} {'achieved':>8} | {'decision ms':>13} | {'pop ms':>13} | {'lost':>4} | {'CPU':>5}"
    f" {'RSS MiB':>7} | {'loop lag p99':>12} | {'backlog max':>17} | {'log flush':>9}\n"
    f"{'':>7} {'':>8} | {'p50':>6} {'p99':>6} | {'p50':>6} {'p99':>6} | {'':>4} | {'':>5} {'':>7} |"
    f" {'service client':>12} | {'inbox log journ.':>17} | {'s':>9}"
)


def ms(values: Sequence[float], q: float) -> str:
    return f"{percentile(values, q):6.1f}" if values else f"{'-':>6}"


def row(s: Step) -> str:
    inbox, call_log, journal = s.backlogs
    return (
        f"{s.rate:7g} {s.achieved:8.1f} | {ms(s.decision_ms, 50)} {ms(s.decision_ms, 99)} |"
        f" {ms(s.pop_ms, 50)} {ms(s.pop_ms, 99)} | {s.lost:4d} | {s.cpu_pct:4.0f}% {s.rss_mib:7.1f} |"
        f" {ms(s.service_lag_ms, 99)} {ms(s.client_lag_ms, 99)} | {inbox:5d} {call_log:5d} {journal:5d} |"
        f" {s.flush_s:9.2f}"
    )


def header(opts: Options, store: str, hello: Json, idle: Json, connect_s: float) -> str:
    load = os.getloadavg()
    hold = 0.010 + opts.hang_up_after
    return (
        f"service_ceiling  {datetime.now(UTC):%Y-%m-%d %H:%M} UTC  store={store}  agents={opts.agents} "
        f"consoles={opts.agents}  {opts.seconds:g} s per step  {os.cpu_count()} CPUs  load average "
        f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}  code {code_version()}\n"
        f"PBX: SimulatedPbx in the service process (no Asterisk): ring 10 ms after the offer, answered "
        f"{opts.answer_after:g} s later, caller hangs up {opts.hang_up_after:g} s after ringing began (an "
        f"agent is held {hold:.2f} s a call, so {opts.agents} agents serve at most "
        f"{opts.agents / hold:.0f} calls/s)\n"
        f"service process (niceness {opts.nice}): router task, journal, call log, state log, hub, console "
        f"web app, the simulated PBX and its callers; the load client (consoles) is this process\n"
        f"setup: users and customers in {hello['seed_s']:.1f} s, {opts.agents} consoles ready in "
        f"{connect_s:.1f} s; service VmRSS {hello['rss_before_kb'] / 1024:.1f} MiB before the consoles, "
        f"{idle['rss_idle_kb'] / 1024:.1f} MiB with them connected and idle"
        + (f"; gc.freeze() at {opts.gc_freeze}: {idle['gc_frozen']} objects frozen" if opts.gc_freeze else "")
    )


def details(steps: Sequence[Step]) -> None:
    for s in steps:
        lost = (f"no offer {s.no_offer}, pop not read {s.no_pop} ({s.unpublished} never published), "
                f"not logged {s.not_logged}")  # fmt: skip
        gc_line = (f"{len(s.gc_ms)} ({s.gc_full} full), {sum(s.gc_ms):.0f} ms in all ({s.gc_cpu_ms:.0f} ms "
                   f"of CPU), longest {max(s.gc_ms, default=0):.1f} ms")  # fmt: skip
        print(f"  {s.rate:g}/s: lost: {lost}; consoles no longer read by the load client: "
              f"{len(s.readers_ended)} {sorted(set(s.readers_ended))[:3]}")  # fmt: skip
        print(f"    service CPU over the step and its drain: {s.cpu_ms_per_call:.2f} ms a call (one core's "
              f"worth: {1000 / s.cpu_ms_per_call:.0f} calls/s)")  # fmt: skip
        print(f"    service garbage collections: {gc_line}")
        print(f"    {s.split.strip()}")


def conclude(store: str, steps: Sequence[Step]) -> None:
    failed = next((s for s in steps if not s.passed), None)
    passed = [s for s in steps if s.passed]
    knee = passed[-1].rate if passed else 0.0  # the curve stops at the first step that fails
    if failed is None:
        print(f"knee ({store}): not reached; every step passed, up to {knee:g} calls/s")
    else:
        why = []
        if failed.decision_ms and percentile(failed.decision_ms, 99) > LIMIT_MS:
            why.append(f"decision p99 {percentile(failed.decision_ms, 99):.1f} ms > {LIMIT_MS:g} ms")
        if failed.lost:
            why.append(f"{failed.lost} calls lost")
        print(f"knee ({store}): {knee:g} calls/s (the last step to pass); {failed.rate:g} calls/s failed: "
              f"{', '.join(why)}")  # fmt: skip
    met = knee >= TARGET_RATE
    print(f"target: knee at {TARGET_RATE:g} calls/s or more: {'met' if met else 'NOT MET'} ({store})")


GROUPS = (
    ("sqlalchemy", "sqlalchemy/"), ("aiosqlite", "aiosqlite/"), ("asyncpg", "asyncpg/"),
    ("aiohttp", "aiohttp/"), ("asyncio", "asyncio/"), ("routing/", "/routing/"),
    ("switchboard/", "/switchboard/"), ("agent_console/", "/agent_console/"), ("crm_core/", "/crm_core/"),
    ("telephony/", "/telephony/"), ("structlog", "structlog/"), ("json", "json/"),
)  # fmt: skip


def group(path: str, name: str) -> str:
    if path == "~":
        if "select.epoll" in name or "poll" in name:
            return "waiting (epoll)"
        return "builtins (" + ("socket" if "socket" in name else "other") + ")"
    return next((label for label, part in GROUPS if part in path), "other Python")


def where_time_goes(prof: Path, rate: float) -> None:
    stats: Any = pstats.Stats(str(prof))
    rows = stats.stats
    by_group: dict[str, float] = {}
    for (path, _line, name), (_cc, _nc, tottime, _ct, _callers) in rows.items():
        by_group[group(path, name)] = by_group.get(group(path, name), 0.0) + tottime
    total = sum(v for k, v in by_group.items() if k != "waiting (epoll)")
    print(f"profile at {rate:g} calls/s (cProfile, the service process, {prof}): busy {total:.1f} s")
    print("  own time by part:")
    for label, spent in sorted(by_group.items(), key=lambda kv: -kv[1]):
        share = f"{100 * spent / total:5.1f} %" if label != "waiting (epoll)" else "  (not busy)"
        print(f"  {label:<20} {spent:7.2f} s {share}")
    top = sorted(rows.items(), key=lambda kv: -kv[1][2])[:12]
    print("  top functions by own time:")
    for (path, line, name), (_cc, calls, tottime, cumtime, _callers) in top:
        where = f"{Path(path).name}:{line}" if path != "~" else "builtin"
        print(f"    {tottime:7.2f} s own {cumtime:7.2f} s cum {calls:>9} calls  {name} ({where})")


async def main_async(opts: Options) -> int:
    raise_open_files(opts.agents)
    for store in opts.stores:
        workdir = Path(tempfile.mkdtemp(prefix=f"sb-ceiling-{store}-"))
        try:
            await curve(opts, store, workdir)
        finally:
            if opts.keep or opts.profile:
                print(f"kept: {workdir}")
            else:
                shutil.rmtree(workdir, ignore_errors=True)
        print()
    return 0


def parse_args(argv: Sequence[str] | None) -> Options:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--store", choices=("sqlite", "postgres", "both"), default="both")
    p.add_argument("--agents", type=int, default=2000, help="agents, each with a console (2000)")
    p.add_argument("--rates", default=",".join(map(str, RATES)), help="calls/s per step, rising")
    p.add_argument("--seconds", type=float, default=20.0, help="seconds of calls per step (20)")
    p.add_argument("--answer-after", type=float, default=0.3, help="ringing -> answered, s (0.3)")
    p.add_argument("--hang-up-after", type=float, default=1.3, help="ringing -> caller hangs up, s (1.3)")
    p.add_argument("--profile", action="store_true", help="a profiled step at the first failing rate")
    p.add_argument("--keep", action="store_true", help="keep the service's store, log and profile")
    p.add_argument("--gc-freeze", choices=("start", "idle"),
                   help="gc.freeze() once started (as switchboard serve does), or once idle")  # fmt: skip
    p.add_argument("--nice", type=int, default=0, help="the service's niceness, e.g. -10 on a busy machine")
    a = p.parse_args(argv)
    rates = tuple(float(r) for r in a.rates.split(","))
    if a.agents < 1 or a.seconds <= 0 or not rates or min(rates) <= 0:
        p.error("need --agents >= 1, --seconds > 0 and positive --rates")
    stores = ("sqlite", "postgres") if a.store == "both" else (a.store,)
    return Options(stores=stores, agents=a.agents, rates=rates, seconds=a.seconds,
                   answer_after=a.answer_after, hang_up_after=a.hang_up_after, profile=a.profile,
                   keep=a.keep, gc_freeze=a.gc_freeze, nice=a.nice)  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    return asyncio.run(main_async(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
