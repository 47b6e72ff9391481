"""The runs of bench/sip_latency.py: one system (Switchboard or app_queue) taking one batch of SIP calls.

Both systems get the same calls (a SIPp caller on the sandbox's trunk, sending RTP once answered) and the
same phones (the sandbox's ``bench`` desk phones, one SIPp process: they ring, answer after 300 ms and
hang up 0.5 s later). Switchboard runs as ``switchboard serve`` on a generated config whose agents are
those phones (``bench/pop_latency.py``'s ``Service``, one console websocket per agent, logged in and ready);
app_queue is the sandbox's queue ``sipbench``, given the same phones as members for the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sqlite3
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from _sip_breakdown import breakdown
from _sip_figures import CallTimes, match
from pop_latency import (
    ARI_URL,
    DIDS,
    Consoles,
    CpuMeter,
    Seen,
    Service,
    asterisk,
    percentile,
    stages,
    watch_loop_lag,
)

from tests.integration.sip.harness import KINDS, Call, Phones, Sipp, endpoint, place, to_app, to_queue

ROOT = Path(__file__).resolve().parent.parent
QUEUE = "sipbench"  # telephony/sandbox/queues.conf
DRAIN_S = 75.0  # after the last call: its 2.3 s, or app_queue's 60 s timeout for a caller nobody took
BACKLOG_S = 5.0  # a run is stopped when more callers are up than the agents plus this many seconds of calls
KNOWN = 100  # pop_latency's seed: +1415555{0000,0002,...,0198} are customers in the service's store


def number(k: int) -> str:
    """The caller number of a run's k-th call: unique in the run, so SIPp's logs can be joined by it."""
    return f"+1415555{k:04d}"


@dataclass
class SipSeen(Seen):
    """The observer's record, plus each trunk channel's caller number (to join ARI's view to SIPp's)."""

    numbers: dict[str, str] = field(default_factory=dict)  # channel -> caller number

    def record(self, text: str) -> None:
        super().record(text)
        if '"ChannelCreated"' in text and "PJSIP/sipp-trunk-" in text:
            channel = json.loads(text)["channel"]
            self.numbers[channel["id"]] = channel["caller"]["number"]

    def callers_up(self, since: float) -> int:
        """Trunk channels created since ``since`` and not yet destroyed."""
        return sum(1 for c in self.numbers if self.created.get(c, 0) >= since - 1 and c not in self.destroyed)

    def channels(self, numbers: Sequence[str], since: float) -> dict[str, str]:
        """The trunk channels of a run's callers (number -> channel), created since ``since``."""
        wanted = set(numbers)
        return {n: c for c, n in self.numbers.items() if n in wanted and self.created.get(c, 0) >= since - 1}


@dataclass
class Run:
    system: str
    round: int
    t0: float
    calls: list[CallTimes]  # the counted ones
    placed: int = 0  # every call the caller sent an INVITE for, warm-up included
    notes: list[str] = field(default_factory=list)
    memory: list[tuple[float, dict[str, float]]] = field(default_factory=list)


@dataclass
class Bench:
    """What every run shares: options, the ARI session and observer, the phones, a working directory."""

    calls: int
    warmup: int
    rate: float
    agents: int
    serve: tuple[str, ...]
    http: aiohttp.ClientSession
    seen: SipSeen
    phones: Phones
    workdir: Path

    def phone_names(self) -> list[str]:
        return [KINDS["bench"].phone(n) for n in range(1, self.agents + 1)]

    async def offer(self, system: str, round_no: int, route: str, pids: dict[str, int]) -> Run:
        """Place the run's calls through ``route``, wait for the last to end, and join SIPp's logs."""
        name = f"{system}-{round_no}"
        numbers = [number(k) for k in range(self.warmup + self.calls)]
        calls = [Call(n, DIDS[k % len(DIDS)].lstrip("+"), route) for k, n in enumerate(numbers)]
        limit_s = len(calls) / self.rate + DRAIN_S
        run = Run(system, round_no, time.time(), [])
        sampler = asyncio.create_task(sample_memory(run.memory, {**asterisk(), **pids}))
        lag: list[float] = []
        lagger = asyncio.create_task(watch_loop_lag(lag))
        caller = await place(self.workdir, f"caller-{name}", calls, self.rate, limit_s=limit_s)
        meter = CpuMeter({"bench": os.getpid(), **asterisk(), **pids, **self._phones_pid()})
        guard = asyncio.create_task(self._guard(caller, run))
        status = await finish(caller, limit_s + 10)
        run.notes.append(meter.usage())
        for task in (sampler, lagger, guard):
            task.cancel()
        await asyncio.gather(sampler, lagger, guard, return_exceptions=True)
        sent = caller.steps()
        run.placed = sum(1 for s in sent if s.step == "invite-sent")
        run.calls = match(sent, self.phones.by_kind["bench"].steps(), numbers)[self.warmup :]
        run.notes.append(f"  SIPp caller exit status {status} (0: every call completed); "
                         f"bench event-loop lag p99 {percentile(lag, 99) if lag else 0:.1f} ms")  # fmt: skip
        return run

    async def _guard(self, caller: Sipp, run: Run) -> None:
        """Stop the caller when the system under test falls behind: callers piling up in Stasis or Queue
        on hold music would take the shared Asterisk down with them (seen at 50 calls/s)."""
        most = self.agents + BACKLOG_S * self.rate
        while caller.running:
            await asyncio.sleep(1)
            up = self.seen.callers_up(run.t0)
            if up > most:
                why = f"{up} callers up at once, more than the agents plus {BACKLOG_S:g} s of calls"
                run.notes.append(f"  STOPPED {time.time() - run.t0:.0f} s in: {why}: the system fell behind")
                print(f"sip_latency: {run.system} fell behind ({why}); stopping its caller", file=sys.stderr)
                await caller.stop()

    def _phones_pid(self) -> dict[str, int]:
        # Not the caller's SIPp: it has exited (and its /proc entry is gone) when the CPU is read.
        proc = self.phones.by_kind["bench"].proc
        return {} if proc is None else {"sipp phones": proc.pid}


async def finish(caller: Sipp, limit_s: float) -> int | None:
    try:
        return await caller.finished(limit_s)
    except TimeoutError:
        await caller.stop()
        return None


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def sample_memory(out: list[tuple[float, dict[str, float]]], pids: dict[str, int]) -> None:
    while True:
        with contextlib.suppress(OSError):
            out.append((time.time(), {name: rss_mib(pid) for name, pid in pids.items()}))
        await asyncio.sleep(1.0)


# --- Switchboard ----------------------------------------------------------------------------------
async def run_switchboard(
    b: Bench, round_no: int, name: str = "switchboard", serve: tuple[str, ...] | None = None
) -> Run:
    """``name``/``serve``: another version of the service (``--variant``), on the same calls."""
    workdir = b.workdir / f"{name}-{round_no}"
    workdir.mkdir(parents=True)
    command = b.serve if serve is None else serve
    service, consoles = Service(workdir, b.phone_names(), command, endpoint="PJSIP/{agent}"), Consoles()
    try:
        await service.start(b.http)
        await consoles.open(service.url, b.phone_names())
        assert service.proc is not None
        pids = {"switchboard serve": service.proc.pid}
        run = await b.offer(name, round_no, to_app(service.app), pids)
    finally:
        await consoles.close()
        await service.stop()
    by_number = {c.number: c for c in run.calls}
    channels = b.seen.channels(list(by_number), run.t0)
    for n, channel in channels.items():
        if channel in consoles.pops:
            by_number[n].pop = consoles.pops[channel]
    known = sum(1 for c in run.calls if (k := int(c.number[-4:])) < 2 * KNOWN and k % 2 == 0)
    legs = list(channels.values())
    run.notes += [
        f"  offers read on the consoles: {consoles.offers}; {known} of the counted callers are customers",
        call_log(service.db, run.placed),
        *asterisk_view(b.seen, channels, "Stasis", "sb-"),
        *stages(b.seen, legs, b.seen.entries(legs, "Stasis"), consoles.pops),
        *breakdown(workdir / "trace.tsv", run.calls, channels),
    ]
    return run


def call_log(db: Path, placed: int) -> str:
    """What the service logged, by outcome (read after it stopped); the warm-up calls included."""
    with contextlib.closing(sqlite3.connect(db)) as conn:
        counts = list(conn.execute("select outcome, count(*) from calls group by outcome order by 1"))
    total = sum(n for _, n in counts)
    parts = ", ".join(f"{outcome} {n}" for outcome, n in counts)
    return f"  call log: {total} rows for the {placed} calls placed ({parts or 'none'})"


# --- app_queue ------------------------------------------------------------------------------------
async def run_app_queue(b: Bench, round_no: int) -> Run:
    members = [endpoint("bench", n) for n in range(1, b.agents + 1)]
    await queue_members("add", members)
    try:
        run = await b.offer("app_queue", round_no, to_queue(QUEUE), {})
    finally:
        await queue_members("remove", members)
    channels = b.seen.channels([c.number for c in run.calls], run.t0)
    run.notes += asterisk_view(b.seen, channels, "Queue", None)
    return run


async def queue_members(verb: str, members: Sequence[str]) -> None:
    """``queue add member`` / ``queue remove member`` on the sandbox's CLI, eight at a time."""
    gate = asyncio.Semaphore(8)
    where = "to" if verb == "add" else "from"

    async def one(member: str) -> None:
        async with gate:
            command = f"queue {verb} member {member} {where} {QUEUE}"
            proc = await asyncio.create_subprocess_exec(
                str(ROOT / "scripts" / "asterisk-sandbox"), "cli", command,
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
            )  # fmt: skip
            await proc.wait()

    await asyncio.gather(*(one(m) for m in members))


def asterisk_view(
    seen: Seen,
    channels: dict[str, str],
    app: str,
    leg_prefix: str | None,
    legs: Mapping[str, str] | None = None,
) -> list[str]:
    """The same calls on Asterisk's own event timestamps (1 ms resolution): dialplan app entry to the
    agent's leg ringing. ``legs``: caller channel -> its leg, for legs named after no caller (made ahead)."""
    ms = []
    for channel in channels.values():
        start = seen.entered.get(channel, {}).get(app)
        ring = seen.first_ring(channel, None if leg_prefix is None else f"{leg_prefix}{channel}-")
        if legs is not None and (leg := legs.get(channel)) is not None:
            ring = min(
                (t for t in (ring, seen.ringing.get(leg), seen.dial_ringing.get(leg)) if t), default=None
            )
        if start is not None and ring is not None:
            ms.append((ring - start) * 1000)
    if not ms:
        return [f"  Asterisk's view: no {app} entry and ringing seen"]
    return [f"  Asterisk's view, {app} entry -> agent leg ringing: p50 {percentile(ms, 50):.1f} "
            f"p99 {percentile(ms, 99):.1f} max {max(ms):.1f} ms ({len(ms)} calls)"]  # fmt: skip


async def hang_up_leftovers(http: aiohttp.ClientSession, rounds: int = 5) -> int:
    """Leave the shared sandbox as found: hang up every SIP channel of the trunk or the bench's phones,
    eight requests at a time, until none is left (an overloaded Asterisk drops some requests)."""
    first: int | None = None
    for _ in range(rounds):
        try:
            async with http.get(f"{ARI_URL}/ari/channels") as resp:
                ours = [c["id"] for c in await resp.json() if c["name"].startswith(SIP_CHANNELS)]
        except (aiohttp.ClientError, TimeoutError):
            await asyncio.sleep(2)
            continue
        first = len(ours) if first is None else first
        if not ours:
            break
        gate = asyncio.Semaphore(8)
        await asyncio.gather(*(_hang_up(http, gate, channel) for channel in ours))
        await asyncio.sleep(2)
    if first:
        print(f"sip_latency: hung up {first} leftover SIP channels", file=sys.stderr)
    return first or 0


SIP_CHANNELS = ("PJSIP/sipp-trunk-", "PJSIP/sip-")


async def _hang_up(http: aiohttp.ClientSession, gate: asyncio.Semaphore, channel: str) -> None:
    async with gate:
        with contextlib.suppress(aiohttp.ClientError, TimeoutError):
            async with http.delete(f"{ARI_URL}/ari/channels/{channel}"):
                pass
