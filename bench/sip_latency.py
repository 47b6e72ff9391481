"""Ringing the agent's desk phone over real SIP: Switchboard next to Asterisk's own app_queue (issue 19).

For ``--calls N`` calls at ``--rate R`` calls/s with ``--agents A`` agents, in ``--rounds`` rounds, each
round offering the same calls to both systems one after the other (the order alternates by round), this
measures, per call:

* caller INVITE -> agent INVITE: from the INVITE the SIPp caller sent on the sandbox's PJSIP trunk to the
  INVITE that reached the chosen agent's SIPp desk phone, both times from SIPp's own logs (microseconds,
  the machine's clock); the phone's INVITE names the call by the caller's number, unique in a run;
* for Switchboard, agent INVITE -> pop: to the ``offer`` message read from that agent's websocket (this
  process' ``time.time()``, taken before parsing);
* served and lost: a call is served when the phone it rang answered; lost otherwise.

The callers send RTP (``g711a.pcap``) as soon as they are answered, as a real phone or carrier does, so
``Answer()`` in app_queue's dialplan does not wait 500 ms for media (docs: shared ARI notes). The phones
(the sandbox's ``bench`` kind) ring, answer after 300 ms, send RTP and hang up 0.5 s later, so an agent
is free again about 0.8 s after its phone rang. Switchboard
runs as ``switchboard serve`` on a generated config (SQLite in a temporary directory, one queue, the agents
on ``PJSIP/sip-bench-<n>``); app_queue is the queue ``sipbench`` (leastrecent, autofill), given the same
phones as members for its runs. Asterisk's own view of the same calls (dialplan entry -> leg ringing, and
for Switchboard where the time goes) comes from an ARI observer that subscribes to every channel.

With ``--variant NAME=CMD`` (repeatable) another Switchboard, run by ``CMD`` instead of ``--serve``
(e.g. ``env PYTHONPATH=<a copy of another commit> .venv/bin/switchboard``), takes the same calls in the
same rounds, so two versions of the service are compared interleaved, as ratios, on one loaded machine.

With ``--floor NAME=MODE`` (repeatable) bench/_ari_floor_app.py, the least an ARI app can do (one of its
modes: ``create-dial``, ``originate``, ``ahead``, ``ahead-ws``, ``originate-ws``), takes the same calls in the
same rounds; it has no consoles (no logins to wait for, no pop), so its figures are the ring only, as
ratios to app_queue's and to Switchboard's, with where its time goes (bench/_sip_breakdown.py).

With ``--sustained S`` each system takes R calls/s for S seconds instead, and the figures and the memory
of Asterisk and the service are printed per ``--window`` seconds, to show whether they grow over time.

    scripts/asterisk-sandbox up      # or scripts/asterisk-sandbox reload, for a sandbox older than SIP
    .venv/bin/python bench/sip_latency.py --calls 400 --rate 20 --agents 60
    .venv/bin/python bench/sip_latency.py --sustained 120 --rate 50 --agents 200 --only switchboard
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import shlex
import shutil
import sys
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this work tree's packages and test harness

from _ari_floor_app import MODES  # noqa: E402
from _sip_figures import (  # noqa: E402
    HEADER,
    WINDOW_HEADER,
    CallTimes,
    Distribution,
    pop_distribution,
    ratio,
    ring_distribution,
    windows,
)
from _sip_floor import run_floor  # noqa: E402
from _sip_runs import Bench, Run, SipSeen, hang_up_leftovers, run_app_queue, run_switchboard  # noqa: E402
from pop_latency import ARI_URL, AUTH, Observer, code_version, settle  # noqa: E402

from tests.integration.sip.harness import KINDS, Phones, sipp_binary  # noqa: E402

SYSTEMS: dict[str, Callable[[Bench, int], Awaitable[Run]]] = {
    "app_queue": run_app_queue,
    "switchboard": run_switchboard,
}
APP_QUEUE = "app_queue"
TARGET_RATIO, TARGET_POP_MS = 0.8, 2.0  # issue 19, at 20 calls/s with 60 agents
SETTLE_S = 90.0  # pop_latency.settle's longest wait for a quiet Asterisk, before every run


@dataclass(frozen=True, kw_only=True)
class Options:
    calls: int
    rate: float
    agents: int
    warmup: int
    rounds: int
    systems: tuple[str, ...]
    sustained_s: float | None
    window_s: float
    keep: bool
    serve: tuple[str, ...]
    variants: dict[str, tuple[str, ...]]  # another Switchboard's name -> its serve command
    floors: dict[str, str]  # a floor app's name -> its mode

    def runner(self, system: str) -> Callable[[Bench, int], Awaitable[Run]]:
        if system in self.floors:
            return functools.partial(run_floor, name=system, mode=self.floors[system])
        if system in self.variants:
            return functools.partial(run_switchboard, name=system, serve=self.variants[system])
        return SYSTEMS[system]


def calls_of(runs: Sequence[Run], system: str) -> list[CallTimes]:
    return [c for r in runs if r.system == system for c in r.calls]


def report(opts: Options, version: str, runs: list[Run]) -> None:
    mode = (
        f"sustained {opts.sustained_s:g} s"
        if opts.sustained_s
        else f"N={opts.calls} (+{opts.warmup} warm-up)"
    )
    print(f"sip_latency  {datetime.now(UTC):%Y-%m-%d %H:%M} UTC  {mode}  R={opts.rate:g}/s  "
          f"agents={opts.agents}  rounds={opts.rounds}  Asterisk {version}  {os.cpu_count()} CPUs  "
          f"code {code_version()}")  # fmt: skip
    print(HEADER)
    totals = ring_rows(opts, runs)
    pops = pop_rows(opts, runs)
    theirs = totals.get(APP_QUEUE)
    for system, ours in totals.items():
        if theirs is not None and system != APP_QUEUE:
            print(f"{system} / app_queue, all rounds: {ratio(ours, theirs)}")
    # Each variant against the service as it is, or (with --only app_queue) against the first variant.
    base = "switchboard" if "switchboard" in totals else next(iter(opts.variants), None)
    for system in (*opts.variants, *opts.floors):
        if base is not None and system != base:
            print(f"{system} / {base}, all rounds: {ratio(totals[system], totals[base])}")
    for system, ours in totals.items():
        if theirs is not None and system in opts.floors:
            print(f"{system}: {floor_verdict(ours, theirs)}")
        elif theirs is not None and system != APP_QUEUE:
            print(f"{system}: {verdict(ours, theirs, pops[system])}")
    for run in runs:
        details(opts, run)


def ring_rows(opts: Options, runs: Sequence[Run]) -> dict[str, Distribution]:
    for run in runs:
        label = f"{run.system:<11} round {run.round}: caller INVITE -> agent INVITE"
        print(ring_distribution(label, run.calls).row())
    totals = {s: ring_distribution(f"{s:<11} all rounds", calls_of(runs, s)) for s in opts.systems}
    for dist in totals.values():
        print(dist.row())
    return totals


def pop_rows(opts: Options, runs: Sequence[Run]) -> dict[str, Distribution]:
    """Switchboard's pops: app_queue and the floor app have no consoles."""
    for run in runs:
        if run.system != APP_QUEUE and run.system not in opts.floors:
            label = f"{run.system} round {run.round}: agent INVITE -> pop"
            print(pop_distribution(label, run.calls).row())
    pops = {}
    for system in opts.systems:
        if system != APP_QUEUE and system not in opts.floors:
            label = f"{system} all rounds: agent INVITE -> pop"
            pops[system] = pop_distribution(label, calls_of(runs, system))
            print(pops[system].row())
    return pops


def details(opts: Options, run: Run) -> None:
    print(f"{run.system} round {run.round}:")
    for line in run.notes:
        print(line)
    if opts.sustained_s:
        print(WINDOW_HEADER)
        for window in windows(run.calls, run.t0, opts.window_s, run.memory):
            print(window.row(opts.window_s))


def verdict(ours: Distribution, theirs: Distribution, pops: Distribution) -> str:
    head = (f"target (issue 19): Switchboard's p99 <= {TARGET_RATIO} x app_queue's, "
            f"pop p99 <= {TARGET_POP_MS:g} ms after the agent's INVITE")  # fmt: skip
    a, b, p = ours.at(99), theirs.at(99), pops.at(99)
    if a is None or b is None or p is None:
        return f"{head}: NOT MET (nothing measured)"
    met = a <= TARGET_RATIO * b and p <= TARGET_POP_MS and ours.lost == 0
    return (f"{head}: {'met' if met else 'NOT MET'} (p99 {a:.1f} vs {b:.1f} ms, pop p99 {p:.1f} ms, "
            f"lost {ours.lost})")  # fmt: skip


def floor_verdict(ours: Distribution, theirs: Distribution) -> str:
    """Whether this way of ringing, with nothing else in the app, could meet issue 19's ring target."""
    a, b = ours.at(99), theirs.at(99)
    if a is None or b is None:
        return "the floor: nothing measured"
    reach = "within" if a <= TARGET_RATIO * b and ours.lost == 0 else "NOT within"
    return (f"the floor: p99 {a:.1f} vs app_queue's {b:.1f} ms ({a / b:.2f} x), {reach} issue 19's "
            f"{TARGET_RATIO} x ({TARGET_RATIO * b:.1f} ms), lost {ours.lost}")  # fmt: skip


async def ari_version(http: aiohttp.ClientSession) -> str | None:
    try:
        async with http.get(f"{ARI_URL}/ari/asterisk/info") as resp:
            return str((await resp.json())["system"]["version"])
    except aiohttp.ClientError as exc:
        print(f"sip_latency: no ARI at {ARI_URL} ({exc}); scripts/asterisk-sandbox up", file=sys.stderr)
        return None


async def run_all(opts: Options, bench: Bench) -> list[Run]:
    runs: list[Run] = []
    for round_no in range(1, opts.rounds + 1):
        order = opts.systems if round_no % 2 else tuple(reversed(opts.systems))
        for system in order:
            await settle(SETTLE_S)
            try:
                runs.append(await opts.runner(system)(bench, round_no))
            finally:  # callers left up would load Asterisk for the next run
                await hang_up_leftovers(bench.http)
    return runs


async def main_async(opts: Options) -> int:
    if sipp_binary() is None:
        print("sip_latency: sipp is not installed (apt-get install sip-tester)", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="sb-sip-bench-"))
    # Each run: its calls, up to 120 s to end them and start the next service, and the settle before it.
    per_run_s = (opts.sustained_s or (opts.warmup + opts.calls) / opts.rate) + 120 + SETTLE_S
    phones = Phones(workdir / "sipp", limit_s=per_run_s * opts.rounds * len(opts.systems) + 300)
    connector = aiohttp.TCPConnector(limit=16)  # Asterisk's HTTP server takes 100 sessions in all
    async with aiohttp.ClientSession(
        headers=AUTH, connector=connector, timeout=aiohttp.ClientTimeout(total=30)
    ) as http:
        version = await ari_version(http)
        if version is None:
            return 2
        observer = Observer(http, keep_raw=False)
        observer.seen = seen = SipSeen()
        await observer.start()
        try:
            await phones.start("bench")
            calls = opts.calls if opts.sustained_s is None else round(opts.rate * opts.sustained_s)
            bench = Bench(
                calls, opts.warmup, opts.rate, opts.agents, opts.serve, http, seen, phones, workdir / "sipp"
            )
            runs = await run_all(opts, bench)
        finally:
            await phones.stop()
            await observer.stop()
    report(opts, version, runs)
    print(
        f"SIPp logs and the services' files kept in {workdir}" if opts.keep else "",
        end="\n" if opts.keep else "",
    )
    if not opts.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


def parse_args(argv: Sequence[str] | None) -> Options:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--calls", type=int, default=400, help="counted calls per system and round (default 400)")
    p.add_argument("--rate", type=float, default=20.0, help="calls per second (default 20)")
    p.add_argument(
        "--agents",
        type=int,
        default=60,
        help=f"agents / queue members, 1..{KINDS['bench'].count} (default 60)",
    )
    p.add_argument(
        "--warmup", type=int, default=5, help="uncounted calls placed first in each run (default 5)"
    )
    p.add_argument("--rounds", type=int, default=1, help="rounds of both systems, interleaved (default 1)")
    p.add_argument("--only", choices=tuple(SYSTEMS), help="run one system only")
    p.add_argument(
        "--sustained", type=float, metavar="S", help="R calls/s for S seconds per system and round"
    )
    p.add_argument(
        "--window", type=float, default=10.0, help="sustained mode: seconds per window (default 10)"
    )
    p.add_argument(
        "--keep", action="store_true", help="keep SIPp's logs and the services' config, store and log"
    )
    serve_help = "the switchboard command to run (e.g. under a profiler); '--config F serve' is appended"
    p.add_argument("--serve", default=str(ROOT / ".venv/bin/switchboard"), help=serve_help)
    p.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="NAME=CMD",
        help="another Switchboard, run by CMD, on the same calls in the same rounds (repeatable)",
    )
    p.add_argument(
        "--floor",
        action="append",
        default=[],
        metavar="NAME=MODE",
        help=f"the floor ARI app (bench/_ari_floor_app.py) in one of its modes ({', '.join(MODES)}), "
        "on the same calls in the same rounds (repeatable)",
    )
    a = p.parse_args(argv)
    most = KINDS["bench"].count
    if a.calls < 1 or a.rate <= 0 or a.warmup < 0 or a.rounds < 1 or not 1 <= a.agents <= most:
        p.error(f"need --calls >= 1, --rate > 0, --warmup >= 0, --rounds >= 1, 1 <= --agents <= {most}")
    if a.warmup + (a.calls if a.sustained is None else round(a.rate * a.sustained)) > 10_000:
        p.error("at most 10,000 calls per run (the caller numbers are +1415555XXXX)")
    variants = dict(v.split("=", 1) for v in a.variant if "=" in v)
    if len(variants) != len(a.variant) or set(variants) & {*SYSTEMS}:
        p.error("--variant NAME=CMD, NAME neither app_queue nor switchboard")
    floors = dict(f.split("=", 1) for f in a.floor if "=" in f)
    if len(floors) != len(a.floor) or set(floors) & {*SYSTEMS, *variants} or set(floors.values()) - {*MODES}:
        p.error(f"--floor NAME=MODE, NAME not another system's, MODE one of {', '.join(MODES)}")
    systems = ((a.only,) if a.only else ("app_queue", "switchboard")) + tuple(variants) + tuple(floors)
    commands = {n: tuple(shlex.split(c)) for n, c in variants.items()}
    return Options(calls=a.calls, rate=a.rate, agents=a.agents, warmup=a.warmup, rounds=a.rounds,
                   systems=systems, sustained_s=a.sustained, window_s=a.window, keep=a.keep,
                   serve=tuple(shlex.split(a.serve)), variants=commands, floors=floors)  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    return asyncio.run(main_async(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
