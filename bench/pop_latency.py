"""Screen-pop latency on the real Asterisk sandbox: Switchboard next to Asterisk's own app_queue.

For ``--calls N`` calls placed at ``--rate R`` calls/s this measures

* Switchboard (``switchboard serve`` run as a subprocess on a generated config, ``--agents`` agents on
  the sandbox phones ``Local/3NN@switchboard-agents/n``, which answer after 300 ms and hang up 2 s later):
  - from the caller's channel entering the Stasis app to the agent leg ringing, and
  - from the same instant to the ``offer`` message (the screen pop) arriving on the agent's websocket;
* app_queue (queue ``bench`` of the sandbox: leastrecent, 60 members on the same kind of phone), for the
  same N and R: from the caller's channel entering ``Queue`` to the first member leg ringing.

How it is observed, not computed: a second ARI app of our own subscribes to every channel
(``subscribeAll=true``, filtered to a few event types) and records the ``timestamp`` Asterisk puts on each
event (millisecond resolution, the same clock as this process' ``time.time()``):

* start: the caller channel's ``ChannelDialplan`` whose ``dialplan_app`` is ``Stasis`` (``Queue``);
* ring: the first agent/member leg of that caller reaching ``Ringing`` — the earlier of its
  ``ChannelStateChange`` to ``Ringing`` and the ``Dial`` event with ``dialstatus=RINGING`` (whose
  ``caller``/``peer`` fields tie a member leg to its queue caller);
* pop: ``time.time()`` when the ``offer`` message naming the call is read from the agent's websocket.

Percentiles are nearest-rank. A call is "lost" when its start, ring or pop was never seen (or its
originate failed). Only loopback traffic; everything this script starts it stops, and it hangs up any
channel of its own that is still up at the end.

    scripts/asterisk-sandbox up
    .venv/bin/python bench/pop_latency.py [--calls 200] [--rate 20] [--agents 60]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import platform
import resource
import shutil
import signal
import socket
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
ARI_URL = os.environ.get("SWITCHBOARD_ARI_URL", "http://127.0.0.1:8088")
ARI_USER = os.environ.get("SWITCHBOARD_ARI_USER", "switchboard")
ARI_PASSWORD = os.environ.get("SWITCHBOARD_ARI_PASSWORD", "switchboard-test")
AUTH = {"Authorization": aiohttp.encode_basic_auth(ARI_USER, ARI_PASSWORD)}

DIDS = ("+18005550101", "+18005550102", "+18005550103", "+18005550104")
KNOWN_CALLERS = 100  # customers in the store; caller numbers cycle over twice as many, so half are found
RING_TIMEOUT_S = 15
TARGET_MS = 20.0
TARGET_RATE = 20.0
OBSERVED_TYPES = ("ChannelCreated", "ChannelDestroyed", "ChannelDialplan", "ChannelStateChange", "Dial")

Json = dict[str, Any]


# --- what Asterisk told the observer --------------------------------------------------------------
def ari_time(stamp: str) -> float:
    """ARI's ``timestamp`` (e.g. ``2026-11-23T15:02:31.506+0000``) as seconds since the epoch."""
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


def first(table: dict[str, float], key: str, at: float) -> None:
    if key not in table or at < table[key]:
        table[key] = at


@dataclass
class Seen:
    """Per channel, the first time of each thing we care about (Asterisk's clock)."""

    created: dict[str, float] = field(default_factory=dict)
    destroyed: dict[str, float] = field(default_factory=dict)
    entered: dict[str, dict[str, float]] = field(default_factory=dict)  # channel -> dialplan app -> t
    ringing: dict[str, float] = field(default_factory=dict)  # leg -> ChannelStateChange Ringing
    dial_ringing: dict[str, float] = field(default_factory=dict)  # peer leg -> Dial RINGING
    peers: dict[str, set[str]] = field(default_factory=dict)  # caller -> legs it dialed
    events: int = 0

    def record(self, m: Json) -> None:
        self.events += 1
        at = ari_time(m["timestamp"])
        kind = m["type"]
        if kind == "Dial":
            self._dial(m, at)
            return
        ch = m.get("channel") or {}
        cid = ch.get("id")
        if not isinstance(cid, str):
            return
        if kind == "ChannelCreated":
            first(self.created, cid, at)
        elif kind == "ChannelDestroyed":
            first(self.destroyed, cid, at)
        elif kind == "ChannelStateChange" and ch.get("state") == "Ringing":
            first(self.ringing, cid, at)
        elif kind == "ChannelDialplan":
            first(self.entered.setdefault(cid, {}), str(m.get("dialplan_app", "")), at)

    def _dial(self, m: Json, at: float) -> None:
        peer = (m.get("peer") or {}).get("id")
        caller = (m.get("caller") or {}).get("id")
        if not isinstance(peer, str):
            return
        if isinstance(caller, str):
            self.peers.setdefault(caller, set()).add(peer)
        if m.get("dialstatus") == "RINGING":
            first(self.dial_ringing, peer, at)

    def first_ring(self, caller: str, leg_prefix: str | None = None) -> float | None:
        legs = set(self.peers.get(caller, ()))
        if leg_prefix is not None:
            legs |= {c for c in self.ringing if c.startswith(leg_prefix)}
        times = [t for leg in legs for t in (self.ringing.get(leg), self.dial_ringing.get(leg)) if t]
        return min(times, default=None)

    def foreign_entries(self, ours: Callable[[str], bool]) -> int:
        """Calls of other users entering Stasis or Queue during the run: background load on the box."""
        return sum(
            1
            for cid, apps in self.entered.items()
            if not ours(cid) and ("Stasis" in apps or "Queue" in apps) and not cid.startswith("sb-")
        )


class Observer:
    """An ARI app of our own that sees every channel: the bench's eyes on Asterisk."""

    def __init__(self, http: aiohttp.ClientSession) -> None:
        self.app = f"benchobs-{uuid.uuid4().hex[:8]}"
        self.seen = Seen()
        self._http = http
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        ws_url = "ws" + ARI_URL.removeprefix("http") + f"/ari/events?app={self.app}&subscribeAll=true"
        ws = await self._http.ws_connect(ws_url, max_msg_size=2**24)
        body = {"allowed": [{"type": t} for t in OBSERVED_TYPES]}
        async with self._http.put(f"{ARI_URL}/ari/applications/{self.app}/eventFilter", json=body) as r:
            r.raise_for_status()
        self._task = asyncio.create_task(self._read(ws))

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async with ws:
            async for msg in ws:
                if msg.type is aiohttp.WSMsgType.TEXT:
                    self.seen.record(json.loads(msg.data))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


# --- figures --------------------------------------------------------------------------------------
def percentile(values: Sequence[float], q: float) -> float:
    """Nearest rank: the smallest value with at least q % of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


@dataclass(frozen=True)
class Figure:
    label: str
    ms: list[float]
    lost: int

    def row(self) -> str:
        if not self.ms:
            return f"{self.label:<44} {'-':>8} {'-':>8} {'-':>8} {0:>9} {self.lost:>5}"
        p50, p99, top = percentile(self.ms, 50), percentile(self.ms, 99), max(self.ms)
        return f"{self.label:<44} {p50:>8.1f} {p99:>8.1f} {top:>8.1f} {len(self.ms):>9} {self.lost:>5}"

    @property
    def p99(self) -> float | None:
        return percentile(self.ms, 99) if self.ms else None


def figure(label: str, calls: Iterable[str], start: dict[str, float], end: dict[str, float]) -> Figure:
    ms, lost = [], 0
    for call in calls:
        if call in start and call in end:
            ms.append((end[call] - start[call]) * 1000)
        else:
            lost += 1
    return Figure(label, ms, lost)


@dataclass
class Load:
    """One run of N calls at R calls/s, and what the bench itself saw while placing them."""

    calls: list[str] = field(default_factory=list)  # the channel ids that enter Stasis / Queue
    failed: set[str] = field(default_factory=set)
    originate_ms: list[float] = field(default_factory=list)
    loop_lag_ms: list[float] = field(default_factory=list)
    max_in_flight: int = 0
    wall_s: float = 0.0


# --- placing calls --------------------------------------------------------------------------------
async def originate(http: aiohttp.ClientSession, params: dict[str, str], variables: dict[str, str]) -> None:
    body = {"variables": variables} if variables else None
    async with http.post(f"{ARI_URL}/ari/channels", params=params, json=body) as resp:
        if resp.status >= 400:
            raise RuntimeError(f"originate {resp.status}: {await resp.text()}")


async def watch_loop_lag(out: list[float], period_s: float = 0.005) -> None:
    """How late this process' own event loop wakes up: an upper bound on what it adds to a pop time."""
    while True:
        before = time.perf_counter()
        await asyncio.sleep(period_s)
        out.append((time.perf_counter() - before - period_s) * 1000)


async def place_calls(
    http: aiohttp.ClientSession, seen: Seen, opts: Options, tag: str, endpoint_for: Callable[[str], str],
    variables: dict[str, str],
) -> Load:  # fmt: skip
    load = Load()
    lag = asyncio.create_task(watch_loop_lag(load.loop_lag_ms))
    tasks: list[asyncio.Task[None]] = []
    t0 = time.monotonic()
    for i in range(opts.calls):
        await asyncio.sleep(max(0.0, t0 + i / opts.rate - time.monotonic()))
        channel = f"{tag}-{i:05d}"
        load.calls.append(f"{channel};2")  # the Local channel's second half runs the dialplan
        caller = f"+1415555{i % (2 * KNOWN_CALLERS):04d}"
        params = {
            "endpoint": endpoint_for(DIDS[i % len(DIDS)]), "context": "switchboard-caller", "extension": "s",
            "priority": "1", "callerId": caller, "channelId": channel, "timeout": "30",
        }  # fmt: skip
        tasks.append(asyncio.create_task(_timed_originate(http, params, variables, load, f"{channel};2")))
        load.max_in_flight = max(load.max_in_flight, in_flight(seen, load.calls))
    await asyncio.gather(*tasks)
    load.wall_s = time.monotonic() - t0
    await drain(seen, load)
    lag.cancel()
    await asyncio.gather(lag, return_exceptions=True)
    return load


async def _timed_originate(
    http: aiohttp.ClientSession, params: dict[str, str], variables: dict[str, str], load: Load, call: str
) -> None:
    before = time.perf_counter()
    try:
        await originate(http, params, variables)
    except (aiohttp.ClientError, RuntimeError, TimeoutError) as exc:
        load.failed.add(call)
        print(f"pop_latency: originate failed: {exc}", file=sys.stderr)
        return
    load.originate_ms.append((time.perf_counter() - before) * 1000)


def in_flight(seen: Seen, calls: Sequence[str]) -> int:
    return sum(1 for c in calls if c in seen.created and c not in seen.destroyed)


async def drain(seen: Seen, load: Load, limit_s: float = RING_TIMEOUT_S + 30) -> None:
    """Wait until every caller we placed has hung up (they do, when the agent hangs up)."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        load.max_in_flight = max(load.max_in_flight, in_flight(seen, load.calls))
        if all(c in seen.destroyed or c in load.failed for c in load.calls):
            return
        await asyncio.sleep(0.05)
    print(f"pop_latency: calls still up after {limit_s:.0f} s of draining", file=sys.stderr)


async def hang_up_leftovers(http: aiohttp.ClientSession, tags: Sequence[str]) -> int:
    """Leave the shared sandbox as we found it: hang up any channel of ours that is still there."""
    async with http.get(f"{ARI_URL}/ari/channels") as resp:
        channels: list[Json] = await resp.json()
    ours = [c["id"] for c in channels if any(tag in c["id"] for tag in tags)]
    for cid in ours:
        async with http.delete(f"{ARI_URL}/ari/channels/{cid.replace(';', '%3B')}"):
            pass
    return len(ours)


# --- the Switchboard service under test -----------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def agent_ids(n: int) -> list[str]:
    return [str(301 + i) for i in range(n)]


def service_config(app: str, db: Path, port: int, agents: Sequence[str]) -> str:
    dids = "\n".join(f'd{n[-3:]} = "{n}"' for n in DIDS)
    agent_tables = "\n".join(
        f'[agents.{a}]\nname = "Agent {a}"\nendpoint = "Local/{a}@switchboard-agents/n"\n'
        f'queues = ["bench"]\npin = "pin-{a}"\n'
        for a in agents
    )
    return f"""region = "US"

[ari]
url = "{ARI_URL}"
user = "{ARI_USER}"
password = "{ARI_PASSWORD}"
app = "{app}"

[database]
url = "sqlite+aiosqlite:///{db}"

[http]
host = "127.0.0.1"
port = {port}

[queues.bench]
name = "Bench"
ring_timeout_s = {RING_TIMEOUT_S}
max_wait_s = 600

[lines.bench]
name = "Bench Line"
queue = "bench"

[lines.bench.dids]
{dids}

{agent_tables}"""


async def seed_customers(db_url: str) -> None:
    """Half the callers are known customers, so the pop carries a record as it would in production."""
    sys.path.insert(0, str(ROOT))
    from crm_core.migrate import upgrade_async
    from crm_core.sql_store import SqlStore

    await upgrade_async(db_url)
    store = SqlStore.open(db_url, "US")
    try:
        for i in range(KNOWN_CALLERS):
            phone = f"+1415555{i * 2:04d}"
            await store.add_customer(f"Customer {i}", [(phone, "mobile")], f"Company {i}", None, "standard")
    finally:
        await store.close()


class Service:
    """``switchboard serve`` in its own process, as it runs in production."""

    def __init__(self, workdir: Path, agents: Sequence[str]) -> None:
        self.app = f"bench-{uuid.uuid4().hex[:8]}"
        self.port = free_port()
        self.db = workdir / "store.db"
        self.config = workdir / "switchboard.toml"
        self.config.write_text(service_config(self.app, self.db, self.port, agents), encoding="utf-8")
        self.log_path = workdir / "service.log"
        self.proc: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, http: aiohttp.ClientSession) -> None:
        await seed_customers(f"sqlite+aiosqlite:///{self.db}")
        exe = ROOT / ".venv" / "bin" / "switchboard"
        with self.log_path.open("wb") as log:
            self.proc = await asyncio.create_subprocess_exec(
                str(exe), "--config", str(self.config), "serve", cwd=ROOT, stdout=log, stderr=log
            )
        await self._wait_healthy(http)

    async def _wait_healthy(self, http: aiohttp.ClientSession, limit_s: float = 30) -> None:
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.returncode is not None:
                raise RuntimeError(f"switchboard serve exited: see {self.log_path}")
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(f"{self.url}/healthz") as resp:
                    if resp.status == 200 and (await resp.json()).get("ari_connected"):
                        return
            await asyncio.sleep(0.1)
        raise RuntimeError(f"switchboard serve not healthy after {limit_s:.0f} s: see {self.log_path}")

    def cpu_s(self) -> float:
        """User + system CPU seconds the service process has used so far (Linux /proc)."""
        if self.proc is None:
            return 0.0
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    async def stop(self) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.proc.wait(), 20)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()


@dataclass
class Consoles:
    """One websocket per agent, logged in and ready; records when each pop arrives."""

    pops: dict[str, float] = field(default_factory=dict)  # call -> local arrival time
    offers: int = 0
    _sockets: list[aiohttp.ClientWebSocketResponse] = field(default_factory=list)
    _readers: list[asyncio.Task[None]] = field(default_factory=list)

    async def open(self, http: aiohttp.ClientSession, url: str, agents: Sequence[str]) -> None:
        await asyncio.gather(*(self._login(http, url, a) for a in agents))

    async def _login(self, http: aiohttp.ClientSession, url: str, agent: str) -> None:
        ws = await http.ws_connect(f"{url}/ws")
        self._sockets.append(ws)
        await ws.send_json({"type": "login", "agent": agent, "pin": f"pin-{agent}"})
        await self._until(ws, lambda m: m["type"] == "state" and m.get("agent") == agent)
        await ws.send_json({"type": "ready"})
        await self._until(ws, lambda m: m["type"] == "state" and m.get("state") == "ready")
        self._readers.append(asyncio.create_task(self._read(ws)))

    @staticmethod
    async def _until(ws: aiohttp.ClientWebSocketResponse, match: Callable[[Json], bool]) -> None:
        async with asyncio.timeout(10):
            while True:
                message = json.loads(await ws.receive_str())
                if message["type"] == "error":
                    raise RuntimeError(f"console: {message}")
                if match(message):
                    return

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for msg in ws:
            if msg.type is not aiohttp.WSMsgType.TEXT:
                continue
            now = time.time()  # before parsing: parsing is the bench's cost, not the service's
            message = json.loads(msg.data)
            if message["type"] == "offer":
                self.offers += 1
                self.pops.setdefault(message["call"], now)

    async def close(self) -> None:
        for task in self._readers:
            task.cancel()
        await asyncio.gather(*self._readers, return_exceptions=True)
        await asyncio.gather(*(ws.close() for ws in self._sockets), return_exceptions=True)


# --- the two runs ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Options:
    calls: int
    rate: float
    agents: int
    keep: bool


@dataclass
class Result:
    figures: list[Figure]
    load: Load
    notes: list[str]


def starts(seen: Seen, calls: Sequence[str], app: str) -> dict[str, float]:
    return {c: seen.entered[c][app] for c in calls if app in seen.entered.get(c, {})}


async def run_switchboard(http: aiohttp.ClientSession, observer: Observer, opts: Options, tag: str) -> Result:
    agents = agent_ids(opts.agents)
    tmp = Path(tempfile.mkdtemp(prefix="sb-bench-"))
    service = Service(tmp, agents)
    consoles = Consoles()
    try:
        await service.start(http)
        await consoles.open(http, service.url, agents)
        cpu_before, wall_before = service.cpu_s(), time.monotonic()
        load = await place_calls(
            http, observer.seen, opts, tag,
            lambda did: f"Local/{did.lstrip('+')}@switchboard-inbound/n", {"_SB_APP": service.app},
        )  # fmt: skip
        cpu = (service.cpu_s() - cpu_before) / (time.monotonic() - wall_before) * 100
    finally:
        await consoles.close()
        await service.stop()
        if not opts.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    notes = [f"switchboard serve used {cpu:.0f} % of one core while the calls ran"]
    if opts.keep:
        notes.append(f"service config, store and log kept in {tmp}")
    seen, calls = observer.seen, [c for c in load.calls if c not in load.failed]
    start = starts(seen, calls, "Stasis")
    ring = {c: t for c in calls if (t := seen.first_ring(c, f"sb-{c}-")) is not None}
    lost = len(load.failed)
    figures = [
        _with_failed(figure("Switchboard: Stasis entry -> agent ringing", calls, start, ring), lost),
        _with_failed(figure("Switchboard: Stasis entry -> pop on websocket", calls, start, consoles.pops), lost),
        figure("  (caller channel created -> agent ringing)", calls, seen.created, ring),
    ]  # fmt: skip
    notes.append(f"offers received: {consoles.offers} for {len(consoles.pops)} distinct calls")
    return Result(figures, load, notes)


async def run_app_queue(http: aiohttp.ClientSession, observer: Observer, opts: Options, tag: str) -> Result:
    load = await place_calls(
        http, observer.seen, opts, tag, lambda did: f"Local/{did.lstrip('+')}@switchboard-appqueue/n", {}
    )
    seen, calls = observer.seen, [c for c in load.calls if c not in load.failed]
    start = starts(seen, calls, "Queue")
    ring = {c: t for c in calls if (t := seen.first_ring(c)) is not None}
    figures = [
        _with_failed(figure("app_queue:   Queue entry -> member ringing", calls, start, ring), len(load.failed)),
        figure("  (caller channel created -> member ringing)", calls, seen.created, ring),
    ]  # fmt: skip
    return Result(figures, load, [])


def _with_failed(f: Figure, failed: int) -> Figure:
    return Figure(f.label, f.ms, f.lost + failed)


# --- report ---------------------------------------------------------------------------------------
def describe_load(name: str, load: Load) -> list[str]:
    o, lag = load.originate_ms, load.loop_lag_ms
    lines = [f"{name}: {len(load.calls)} calls placed in {load.wall_s:.1f} s, "
             f"at most {load.max_in_flight} up at once, {len(load.failed)} originate failures"]  # fmt: skip
    if o:
        lines.append(f"  ARI POST /channels (originate) round trip from the bench: p50 {percentile(o, 50):.1f}"
                     f" p99 {percentile(o, 99):.1f} max {max(o):.1f} ms")  # fmt: skip
    if lag:
        lines.append(f"  bench event-loop lag (adds to pop times): p50 {percentile(lag, 50):.1f}"
                     f" p99 {percentile(lag, 99):.1f} max {max(lag):.1f} ms")  # fmt: skip
    return lines


def verdict(opts: Options, ring: Figure, pop: Figure) -> str:
    p99s = [ring.p99, pop.p99]
    if any(p is None for p in p99s):
        return (
            f"target: p99 < {TARGET_MS:.0f} ms for both Switchboard figures at 20 calls/s: NOT MET (no data)"
        )
    met = all(p is not None and p < TARGET_MS for p in p99s) and ring.lost == 0 and pop.lost == 0
    at = "" if opts.rate == TARGET_RATE else f" (this run is at {opts.rate:g} calls/s, not 20)"
    return (f"target: p99 < {TARGET_MS:.0f} ms for both Switchboard figures at 20 calls/s{at}: "
            f"{'met' if met else 'NOT MET'} (ring p99 {ring.p99:.1f} ms, pop p99 {pop.p99:.1f} ms, "
            f"lost {ring.lost}/{pop.lost})")  # fmt: skip


async def asterisk_version(http: aiohttp.ClientSession) -> str:
    async with http.get(f"{ARI_URL}/ari/asterisk/info") as resp:
        resp.raise_for_status()
        info: Json = await resp.json()
    return str(info.get("system", {}).get("version", "?"))


async def main_async(opts: Options) -> int:
    tag = f"bench{uuid.uuid4().hex[:6]}"
    sb_tag, aq_tag = f"{tag}-sb", f"{tag}-aq"
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(headers=AUTH, timeout=timeout) as http:
        try:
            version = await asterisk_version(http)
        except aiohttp.ClientError as exc:
            print(
                f"pop_latency: no ARI at {ARI_URL} ({exc}); run scripts/asterisk-sandbox up", file=sys.stderr
            )
            return 2
        observer = Observer(http)
        await observer.start()
        cpu0 = resource.getrusage(resource.RUSAGE_SELF)
        try:
            sb = await run_switchboard(http, observer, opts, sb_tag)
            await asyncio.sleep(1)  # let the last hangups settle before the next load
            aq = await run_app_queue(http, observer, opts, aq_tag)
        finally:
            left = await hang_up_leftovers(http, (sb_tag, aq_tag))
            await observer.stop()
        cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    seen = observer.seen
    foreign = seen.foreign_entries(lambda c: tag in c)
    bench_cpu = cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime
    print(f"pop_latency  {datetime.now(UTC):%Y-%m-%d %H:%M} UTC  N={opts.calls} R={opts.rate:g}/s  "
          f"agents={opts.agents} (app_queue: 60 members)  Asterisk {version}  {os.cpu_count()} CPUs  "
          f"Python {platform.python_version()}")  # fmt: skip
    print(f"{'figure (ms)':<44} {'p50':>8} {'p99':>8} {'max':>8} {'measured':>9} {'lost':>5}")
    for f in sb.figures + aq.figures:
        print(f.row())
    print(verdict(opts, sb.figures[0], sb.figures[1]))
    for line in (
        describe_load("switchboard run", sb.load) + sb.notes + describe_load("app_queue run", aq.load)
    ):
        print(line)
    print(f"observer: {seen.events} ARI events; other users' calls entering Stasis/Queue meanwhile: {foreign}; "
          f"bench CPU {bench_cpu:.1f} s; leftover channels hung up: {left}")  # fmt: skip
    return 0


def parse_args(argv: Sequence[str] | None) -> Options:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--calls", type=int, default=200, help="calls per system (default 200)")
    p.add_argument("--rate", type=float, default=20.0, help="calls per second (default 20)")
    p.add_argument("--agents", type=int, default=60, help="Switchboard agents, 1..99 (default 60)")
    p.add_argument("--keep", action="store_true", help="keep the service's config, store and log")
    a = p.parse_args(argv)
    if a.calls < 1 or a.rate <= 0 or not 1 <= a.agents <= 99:
        p.error("need --calls >= 1, --rate > 0 and 1 <= --agents <= 99")
    return Options(a.calls, a.rate, a.agents, a.keep)


def main(argv: Sequence[str] | None = None) -> int:
    return asyncio.run(main_async(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
