"""What the router's journal costs (switchboard/journal.py): ring latency with it and without it.

The real service (``switchboard.bootstrap.build``) on a real SQLite store in a temporary directory, with
``telephony.simulated.SimulatedPbx`` in place of Asterisk: ``--agents`` agents logged in and ready,
callers arriving at ``--rate`` calls/s for ``--seconds`` s; each offer rings 10 ms later, is answered
300 ms after that, and the caller hangs up 1 s after the ring. Ring latency is, per call, from the
caller's arrival handed to the router to the PBX adapter being told to ring an agent (``OfferCall``):
the whole in-process path an arrival takes, journal writes and snapshots included when the journal is
on (a snapshot every ``--snapshot-every`` events, to make them happen within a short run).

Rounds alternate journal on / off (``--rounds`` of each), each on a fresh store, since this machine's
speed changes by half within minutes; the figures are nearest-rank percentiles over every counted call
of every round of a kind, and the difference and ratio of the two, measured in the same run.

    .venv/bin/python bench/journal_cost.py [--rate 100] [--seconds 10] [--agents 300] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import structlog

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from config.settings import AriSettings, Settings  # noqa: E402
from routing import commands as cmd  # noqa: E402
from routing import events as ev  # noqa: E402
from routing.ids import AgentId, CallId, LineId, QueueId  # noqa: E402
from routing.plan import Agent, Did, Line, Plan, Queue  # noqa: E402
from switchboard.bootstrap import Service, build  # noqa: E402
from telephony.simulated import Clock, SimulatedPbx, Submit, Timing  # noqa: E402

DID = "+18005550103"
Q = QueueId("bench")


def plan(agents: int) -> Plan:
    ids = [AgentId(f"b{i:04d}") for i in range(agents)]
    return Plan(
        dids={DID: Did(DID, "web", LineId("l"))},
        lines={LineId("l"): Line(id=LineId("l"), name="Bench line", queue=Q)},
        queues={Q: Queue(id=Q, name="Bench", ring_timeout_s=15, max_wait_s=900)},
        agents={a: Agent(id=a, name=a, endpoint=f"PJSIP/{a}", queues=(Q,)) for a in ids},
    )


class TimedPbx(SimulatedPbx):
    """The simulated PBX, noting when each call's first agent leg is ordered."""

    def __init__(self, submit: Submit, clock: Clock) -> None:
        super().__init__(submit, clock, Timing(ring_after_s=0.010, answer_after_s=0.300, hang_up_after_s=1.0))
        self.arrived: dict[str, float] = {}
        self.rung: dict[str, float] = {}

    def arrive(self, call: CallId, did: str, number: str | None, name: str | None = None) -> None:
        self.arrived[call] = time.perf_counter()
        super().arrive(call, did, number, name)

    def execute(self, command: cmd.PbxCommand) -> None:
        if isinstance(command, cmd.OfferCall):
            self.rung.setdefault(command.call, time.perf_counter())
        super().execute(command)


@dataclass
class Round:
    journal: bool
    latencies_ms: list[float]
    events: int


async def one_round(opts: argparse.Namespace, journal: bool, workdir: Path) -> Round:
    settings = Settings(
        ari=AriSettings("http://127.0.0.1:1", "bench", "bench", "bench-journal"),
        database_url=f"sqlite+aiosqlite:///{workdir / 'store.db'}", http_host="127.0.0.1", http_port=0,
        region="US", caller_context="bench", inbound_context="bench", plan=plan(opts.agents),
    )  # fmt: skip
    service: Service = await build(settings, pbx=TimedPbx, journal=journal)
    if service.journal is not None:
        service.journal.snapshot_every = opts.snapshot_every  # a snapshot within a short run
    pbx = service.pbx
    assert isinstance(pbx, TimedPbx)
    await service.start(http=False)
    for agent in settings.plan.agents:
        service.loop.submit(ev.AgentLoggedIn(agent, time.time()))
        service.loop.submit(ev.AgentBecameReady(agent, time.time()))
    await asyncio.sleep(0.5)
    count = round(opts.rate * opts.seconds)
    warmup = round(opts.rate * 1.0)
    t0 = time.monotonic()
    for i in range(count):
        await asyncio.sleep(max(0.0, t0 + i / opts.rate - time.monotonic()))
        pbx.arrive(CallId(f"c{i:06d}"), DID, f"+1415555{i % 1000:04d}")
    await asyncio.sleep(1.5)
    events = 0 if service.journal is None else service.journal.seq
    await service.stop()
    calls = [f"c{i:06d}" for i in range(warmup, count)]
    missing = [c for c in calls if c not in pbx.rung]
    if missing:
        first = missing[0]
        raise SystemExit(f"{len(missing)} calls never offered (first {first}): too many calls for the agents")
    return Round(journal, [(pbx.rung[c] - pbx.arrived[c]) * 1000 for c in calls], events)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--agents", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--snapshot-every", type=int, default=2000)
    opts = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))  # errors only
    rounds: list[Round] = []
    for n in range(opts.rounds):
        for journal in (True, False) if n % 2 == 0 else (False, True):
            with tempfile.TemporaryDirectory() as workdir:
                r = await one_round(opts, journal, Path(workdir))
            rounds.append(r)
            p50, p99 = percentile(r.latencies_ms, 50), percentile(r.latencies_ms, 99)
            kind = "on " if journal else "off"
            print(f"round {n + 1} journal {kind}: p50 {p50:6.2f} ms  p99 {p99:6.2f} ms"
                  f"  ({len(r.latencies_ms)} calls, {r.events} events kept)", flush=True)  # fmt: skip
    on = [x for r in rounds if r.journal for x in r.latencies_ms]
    off = [x for r in rounds if not r.journal for x in r.latencies_ms]
    print(f"\n{opts.rate:g} calls/s, {opts.agents} agents, {opts.rounds} rounds of each, interleaved")
    for p in (50, 90, 99):
        a, b = percentile(on, p), percentile(off, p)
        print(f"  p{p}: journal on {a:6.2f} ms, off {b:6.2f} ms: +{a - b:5.2f} ms (x{a / b:.2f})")


if __name__ == "__main__":
    asyncio.run(main())
