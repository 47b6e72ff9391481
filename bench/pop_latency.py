"""Screen-pop latency on the real Asterisk sandbox: Switchboard next to Asterisk's own app_queue.

For ``--calls N`` calls placed at ``--rate R`` calls/s this measures

* Switchboard (``switchboard serve`` run as a subprocess on a generated config, ``--agents`` agents on the
  sandbox phones ``Local/3NN@switchboard-agents/n``, which answer after 300 ms and hang up 2 s later):
  from the caller's channel entering the Stasis app to the agent leg ringing, and from the same instant
  to the ``offer`` message (the screen pop) arriving on the agent's websocket;
* app_queue (the sandbox's queue ``bench``: leastrecent, 60 members on the same kind of phone), for the
  same N and R: from the caller's channel entering ``Queue`` to the first member leg ringing.

Observed, not computed: a second ARI app of our own subscribes to every channel (``subscribeAll=true``,
filtered to five event types) and keeps the ``timestamp`` Asterisk puts on each event (millisecond
resolution, the same clock as this process' ``time.time()``):

* start: the caller channel's ``ChannelDialplan`` whose ``dialplan_app`` is ``Stasis`` (``Queue``);
* ring: the first agent/member leg of that caller reaching ``Ringing``, the earlier of its
  ``ChannelStateChange`` and of the ``Dial`` event with ``dialstatus=RINGING`` (whose ``caller`` and
  ``peer`` tie a member leg to its queue caller);
* pop: this process' ``time.time()`` when the ``offer`` naming the call is read from the agent's websocket.

Percentiles are nearest-rank. The first ``--warmup`` calls of each run are placed like the others but not
counted. A counted call is "lost" when its originate failed or its start, ring or pop was never seen.
Loopback only; the script stops what it starts and hangs up any channel of its own left at the end.

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
import shlex
import shutil
import signal
import socket
import subprocess
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
PASSWORD = "bench-only-password"  # the consoles' users, in a throwaway store
KNOWN_CALLERS = 100  # customers in the store; caller numbers cycle over twice as many, so half are known
RING_TIMEOUT_S = 15
QUEUE_TIMEOUT_S = 60  # Queue(bench,,,,60) in the sandbox's switchboard-appqueue context
TARGET_MS, TARGET_RATE = 20.0, 20.0
OBSERVED = ("ChannelCreated", "ChannelDestroyed", "ChannelDialplan", "ChannelStateChange", "Dial")

Json = dict[str, Any]


@dataclass(frozen=True)
class Options:
    calls: int
    rate: float
    agents: int
    warmup: int
    systems: tuple[str, ...]
    keep: bool
    dump: Path | None
    serve: tuple[str, ...]


# --- what Asterisk told the observer --------------------------------------------------------------
def ari_time(stamp: str) -> float:
    """ARI's ``timestamp`` (``2026-11-23T15:02:31.506+0000``) as seconds since the epoch."""
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


def keep_first(table: dict[str, float], key: str, at: float) -> None:
    if key not in table or at < table[key]:
        table[key] = at


@dataclass
class Seen:
    """Per channel, the first time of each thing we care about, on Asterisk's timestamps."""

    created: dict[str, float] = field(default_factory=dict)
    destroyed: dict[str, float] = field(default_factory=dict)
    entered: dict[str, dict[str, float]] = field(default_factory=dict)  # channel -> dialplan app -> t
    up: dict[str, float] = field(default_factory=dict)  # channel -> ChannelStateChange to Up
    ringing: dict[str, float] = field(default_factory=dict)  # leg -> ChannelStateChange to Ringing
    dialed: dict[str, float] = field(default_factory=dict)  # peer leg -> Dial without a status yet
    dial_ringing: dict[str, float] = field(default_factory=dict)  # peer leg -> Dial RINGING
    peers: dict[str, set[str]] = field(default_factory=dict)  # caller -> legs dialed for it
    events: int = 0
    raw: list[tuple[float, str]] | None = None  # (arrival, JSON) when --dump asks for them

    def record(self, text: str) -> None:
        self.events += 1
        if self.raw is not None:
            self.raw.append((time.time(), text))
        m = json.loads(text)
        at, kind = ari_time(m["timestamp"]), m["type"]
        if kind == "Dial":
            peer, caller = (m.get("peer") or {}).get("id"), (m.get("caller") or {}).get("id")
            if isinstance(peer, str) and isinstance(caller, str):
                self.peers.setdefault(caller, set()).add(peer)
            if isinstance(peer, str) and m.get("dialstatus") == "RINGING":
                keep_first(self.dial_ringing, peer, at)
            elif isinstance(peer, str) and not m.get("dialstatus"):
                keep_first(self.dialed, peer, at)
            return
        channel = m.get("channel") or {}
        cid = channel.get("id")
        if not isinstance(cid, str):
            return
        if kind == "ChannelCreated":
            keep_first(self.created, cid, at)
        elif kind == "ChannelDestroyed":
            keep_first(self.destroyed, cid, at)
        elif kind == "ChannelStateChange" and channel.get("state") in ("Ringing", "Up"):
            keep_first(self.ringing if channel["state"] == "Ringing" else self.up, cid, at)
        elif kind == "ChannelDialplan":
            keep_first(self.entered.setdefault(cid, {}), str(m.get("dialplan_app", "")), at)

    def first_ring(self, caller: str, leg_prefix: str | None = None) -> float | None:
        legs = set(self.peers.get(caller, ()))
        if leg_prefix is not None:
            legs |= {c for c in self.ringing if c.startswith(leg_prefix)}
        times = [t for leg in legs for t in (self.ringing.get(leg), self.dial_ringing.get(leg)) if t]
        return min(times, default=None)

    def entries(self, calls: Iterable[str], app: str) -> dict[str, float]:
        return {c: self.entered[c][app] for c in calls if app in self.entered.get(c, {})}

    def foreign_calls(self, ours: str) -> int:
        """Other users' calls entering Stasis or Queue meanwhile: load on the box that is not ours."""
        calls = [c for c, apps in self.entered.items() if "Stasis" in apps or "Queue" in apps]
        return sum(1 for c in calls if ours not in c and not c.startswith("sb-"))


class Observer:
    """An ARI app of our own that sees every channel: the bench's eyes on Asterisk."""

    def __init__(self, http: aiohttp.ClientSession, keep_raw: bool) -> None:
        self.app = f"benchobs-{uuid.uuid4().hex[:8]}"
        self.seen = Seen(raw=[] if keep_raw else None)
        self._http = http
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        url = "ws" + ARI_URL.removeprefix("http") + f"/ari/events?app={self.app}&subscribeAll=true"
        ws = await self._http.ws_connect(url, max_msg_size=2**24)
        allowed = {"allowed": [{"type": t} for t in OBSERVED]}
        async with self._http.put(f"{ARI_URL}/ari/applications/{self.app}/eventFilter", json=allowed) as r:
            r.raise_for_status()
        self._task = asyncio.create_task(self._read(ws))

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async with ws:
            async for msg in ws:
                if msg.type is aiohttp.WSMsgType.TEXT:
                    self.seen.record(msg.data)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


# --- figures --------------------------------------------------------------------------------------
def percentile(values: Sequence[float], q: float) -> float:
    """Nearest rank: the smallest value with at least q % of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def spread(values: Sequence[float]) -> str:
    return f"p50 {percentile(values, 50):.1f} p99 {percentile(values, 99):.1f} max {max(values):.1f} ms"


@dataclass(frozen=True)
class Figure:
    label: str
    ms: list[float]
    lost: int

    @property
    def p99(self) -> float | None:
        return percentile(self.ms, 99) if self.ms else None

    def row(self) -> str:
        if not self.ms:
            return f"{self.label:<46} {'-':>8} {'-':>8} {'-':>8} {0:>9} {self.lost:>5}"
        p50, p99, top = percentile(self.ms, 50), percentile(self.ms, 99), max(self.ms)
        return f"{self.label:<46} {p50:>8.1f} {p99:>8.1f} {top:>8.1f} {len(self.ms):>9} {self.lost:>5}"


def figure(label: str, calls: Iterable[str], start: dict[str, float], end: dict[str, float]) -> Figure:
    ms = [(end[c] - start[c]) * 1000 for c in calls if c in start and c in end]
    return Figure(label, ms, sum(1 for c in calls if c not in start or c not in end))


# --- placing calls --------------------------------------------------------------------------------
@dataclass
class Load:
    """One run of calls at a steady rate, and what the bench itself saw while placing them."""

    placed: list[str] = field(default_factory=list)  # ids of the channels that enter Stasis / Queue
    counted: list[str] = field(default_factory=list)  # placed, less the warm-up calls
    failed: set[str] = field(default_factory=set)
    originate_ms: list[float] = field(default_factory=list)
    loop_lag_ms: list[float] = field(default_factory=list)
    max_up: int = 0
    wall_s: float = 0.0
    cpu: str = ""

    def describe(self, name: str) -> list[str]:
        lines = [f"{name}: {len(self.placed)} calls placed in {self.wall_s:.1f} s, at most {self.max_up} "
                 f"callers up at once, {len(self.failed)} originate failures"]  # fmt: skip
        if self.originate_ms:
            lines.append(
                f"  ARI POST /channels (originate) round trip seen by the bench: {spread(self.originate_ms)}"
            )
        if self.loop_lag_ms:
            lines.append(f"  bench event-loop lag (would add to pop times): {spread(self.loop_lag_ms)}")
        return [*lines, self.cpu]


async def watch_loop_lag(out: list[float], period_s: float = 0.005) -> None:
    while True:
        before = time.perf_counter()
        await asyncio.sleep(period_s)
        out.append((time.perf_counter() - before - period_s) * 1000)


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds a process has used so far (Linux /proc)."""
    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs together, from /proc/stat."""
    ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(ticks) - ticks[3] - ticks[4], sum(ticks)


def asterisk_pid() -> int | None:
    for proc in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            if proc.name.isdigit() and (proc / "comm").read_text().strip() == "asterisk":
                return int(proc.name)
    return None


class CpuMeter:
    """Who used the CPUs while the calls ran: the machine, Asterisk, the service, the bench."""

    def __init__(self, pids: dict[str, int]) -> None:
        self._pids = pids
        self._wall = time.monotonic()
        self._machine = machine_busy()
        self._cpu = {name: process_cpu_s(pid) for name, pid in pids.items()}

    def usage(self) -> str:
        wall = time.monotonic() - self._wall
        busy, total = (now - then for now, then in zip(machine_busy(), self._machine, strict=True))
        machine = 100 * busy / max(total, 1) * (os.cpu_count() or 1)
        used = {name: 100 * (process_cpu_s(pid) - self._cpu[name]) / wall for name, pid in self._pids.items()}
        parts = [f"{name} {pct:.0f} %" for name, pct in used.items()]
        parts.append(f"everything else {max(0.0, machine - sum(used.values())):.0f} %")
        return f"  CPU while the calls ran (100 % = one core, {os.cpu_count()} cores): " + ", ".join(parts)


async def settle(limit_s: float = 90, quiet_pct: float = 10) -> None:
    """Start each run on a quiet Asterisk: the previous load's hangups and hold music must be over."""
    pid, deadline = asterisk_pid(), time.monotonic() + limit_s
    while pid is not None and time.monotonic() < deadline:
        before = process_cpu_s(pid)
        await asyncio.sleep(1)
        if (process_cpu_s(pid) - before) * 100 < quiet_pct:
            return
    print(f"pop_latency: Asterisk still busy after {limit_s:.0f} s; measuring anyway", file=sys.stderr)


async def originate(
    http: aiohttp.ClientSession, params: dict[str, str], variables: dict[str, str], load: Load, call: str
) -> None:
    before = time.perf_counter()
    body = {"variables": variables} if variables else None
    try:
        async with http.post(f"{ARI_URL}/ari/channels", params=params, json=body) as resp:
            if resp.status >= 400:
                raise RuntimeError(f"HTTP {resp.status}: {await resp.text()}")
    except (aiohttp.ClientError, RuntimeError, TimeoutError) as exc:
        load.failed.add(call)
        print(f"pop_latency: originate {call} failed: {exc}", file=sys.stderr)
        return
    load.originate_ms.append((time.perf_counter() - before) * 1000)


def callers_up(seen: Seen, calls: Sequence[str]) -> int:
    return sum(1 for c in calls if c in seen.created and c not in seen.destroyed)


async def place_calls(
    http: aiohttp.ClientSession, seen: Seen, opts: Options, tag: str, context: str,
    variables: dict[str, str], drain_s: float, pids: dict[str, int],
) -> Load:  # fmt: skip
    """Originate at a steady rate (each request on its own task, so a slow one delays no other)."""
    load = Load()
    meter = CpuMeter({"bench": os.getpid(), **pids})
    lag = asyncio.create_task(watch_loop_lag(load.loop_lag_ms))
    tasks: list[asyncio.Task[None]] = []
    t0 = time.monotonic()
    for i in range(opts.warmup + opts.calls):
        await asyncio.sleep(max(0.0, t0 + i / opts.rate - time.monotonic()))
        channel = f"{tag}-{i:05d}"
        call = f"{channel};2"  # the Local channel's second half runs the dialplan: it is the caller
        load.placed.append(call)
        if i >= opts.warmup:
            load.counted.append(call)
        did = DIDS[i % len(DIDS)].lstrip("+")  # as a carrier would deliver it
        params = {
            "endpoint": f"Local/{did}@{context}/n", "context": "switchboard-caller", "extension": "s",
            "priority": "1", "callerId": f"+1415555{i % (2 * KNOWN_CALLERS):04d}", "channelId": channel,
            "timeout": "30", "formats": "alaw",  # G.711 as a phone: see ari_client.TEST_CALL_FORMATS
        }  # fmt: skip
        tasks.append(asyncio.create_task(originate(http, params, variables, load, call)))
        load.max_up = max(load.max_up, callers_up(seen, load.placed))
    await asyncio.gather(*tasks)
    load.wall_s = time.monotonic() - t0
    await drain(seen, load, drain_s)
    load.cpu = meter.usage()
    lag.cancel()
    await asyncio.gather(lag, return_exceptions=True)
    return load


async def drain(seen: Seen, load: Load, limit_s: float) -> None:
    """Wait until every caller has hung up (each does once its agent has hung up, or the queue gave up)."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        load.max_up = max(load.max_up, callers_up(seen, load.placed))
        if all(c in seen.destroyed or c in load.failed for c in load.placed):
            return
        await asyncio.sleep(0.05)
    print(f"pop_latency: callers still up after {limit_s:.0f} s of draining", file=sys.stderr)


async def hang_up_leftovers(http: aiohttp.ClientSession, tag: str, limit_s: float = 120) -> int:
    """Leave the shared sandbox as we found it: hang up every channel of ours still there.

    Returns how many there were. Keeps trying (an overloaded Asterisk answers slowly) until none is left.
    """
    first: int | None = None
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        try:
            async with http.get(f"{ARI_URL}/ari/channels") as resp:
                ours = [c["id"] for c in await resp.json() if tag in c["id"]]
        except (aiohttp.ClientError, TimeoutError):
            await asyncio.sleep(1)
            continue
        first = len(ours) if first is None else first
        if not ours:
            return first
        for cid in ours:
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with http.delete(f"{ARI_URL}/ari/channels/{cid.replace(';', '%3B')}"):
                    pass
        await asyncio.sleep(1)
    print(f"pop_latency: could not hang up every channel of {tag}", file=sys.stderr)
    return first or 0


# --- Switchboard, as it runs in production: its own process -----------------------------------------
LOCAL_PHONE = "Local/{agent}@switchboard-agents/n"  # the sandbox phone an agent id names


def service_config(app: str, db: Path, port: int, agents: Sequence[str], endpoint: str = LOCAL_PHONE) -> str:
    dids = "".join(f'd{n[-3:]} = "{n}"\n' for n in DIDS)
    tables = "".join(f'\n[agents.{a}]\nname = "Agent {a}"\nendpoint = "{endpoint.format(agent=a)}"\n'
                     f'queues = ["bench"]\n' for a in agents)  # fmt: skip
    return (f'region = "US"\n\n[ari]\nurl = "{ARI_URL}"\nuser = "{ARI_USER}"\npassword = "{ARI_PASSWORD}"\n'
            f'app = "{app}"\n\n[database]\nurl = "sqlite+aiosqlite:///{db}"\n\n'
            f'[http]\nhost = "127.0.0.1"\nport = {port}\n\n'
            f'[queues.bench]\nname = "Bench"\nring_timeout_s = {RING_TIMEOUT_S}\nmax_wait_s = 600\n\n'
            f'[lines.bench]\nname = "Bench Line"\nqueue = "bench"\n\n'
            f'[lines.bench.dids]\n{dids}{tables}')  # fmt: skip


async def seed_customers(db_url: str, agents: Sequence[str]) -> str:
    """A user per agent (the consoles sign in), and half the callers known customers, so pops carry a
    record as they would in production."""
    sys.path.insert(0, str(ROOT))
    from crm_core.sql.migrate import upgrade_async
    from crm_core.sql.store import SqlStore

    await upgrade_async(db_url)
    store = SqlStore.open(db_url, "US")
    for agent in agents:
        await store.users.add(agent, PASSWORD, "agent", agent=agent)
    try:
        for i in range(KNOWN_CALLERS):
            phones = [(f"+1415555{2 * i:04d}", "mobile")]
            await store.add_customer(f"Customer {i}", phones, f"Company {i}", None, "standard")
    except Exception as exc:  # the store's API moves; a pop without a card is still a pop to time
        print(f"pop_latency: could not add customers ({exc!r}); every caller is unknown", file=sys.stderr)
        return "no known callers (adding customers failed)"
    finally:
        await store.close()
    return f"{KNOWN_CALLERS} of the {2 * KNOWN_CALLERS} caller numbers are customers"


class Service:
    """``switchboard serve`` on a generated config in a temporary directory."""

    def __init__(
        self, workdir: Path, agents: Sequence[str], command: Sequence[str], endpoint: str = LOCAL_PHONE
    ) -> None:
        self.command = command
        self.app = f"bench-{uuid.uuid4().hex[:8]}"
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port: int = s.getsockname()[1]
        self.db = workdir / "store.db"
        self.config = workdir / "switchboard.toml"
        config = service_config(self.app, self.db, self.port, agents, endpoint)
        self.config.write_text(config, encoding="utf-8")
        self.log = workdir / "service.log"
        self.proc: asyncio.subprocess.Process | None = None
        self.customers = ""
        self.agents = agents

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, http: aiohttp.ClientSession) -> None:
        self.customers = await seed_customers(f"sqlite+aiosqlite:///{self.db}", self.agents)
        await self.spawn(http)

    async def spawn(self, http: aiohttp.ClientSession) -> None:
        """Start the process on the store as it is (again, after a kill) and wait until it is connected."""
        with self.log.open("ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                *self.command, "--config", str(self.config), "serve", cwd=ROOT, stdout=log, stderr=log
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and self.proc.returncode is None:
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(f"{self.url}/healthz") as resp:
                    if resp.status == 200 and (await resp.json()).get("ari_connected"):
                        return
            await asyncio.sleep(0.1)
        raise RuntimeError(f"switchboard serve did not come up; see {self.log}")

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
    """One websocket per agent, logged in and ready, as a browser would hold it; notes when pops arrive."""

    pops: dict[str, float] = field(default_factory=dict)  # call -> time.time() when its offer arrived
    offers: int = 0
    sockets: list[aiohttp.ClientWebSocketResponse] = field(default_factory=list)
    readers: list[asyncio.Task[None]] = field(default_factory=list)
    http: aiohttp.ClientSession | None = None  # its own: one connection per agent, no pool limit

    async def open(self, url: str, agents: Sequence[str]) -> None:
        self.http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        await asyncio.gather(*(self._login(self.http, url, a) for a in agents))

    async def _login(self, http: aiohttp.ClientSession, url: str, agent: str) -> None:
        async with http.post(f"{url}/login", json={"username": agent, "password": PASSWORD}) as resp:
            resp.raise_for_status()
            session = resp.cookies["sb_session"].value
        http.cookie_jar.clear()  # one shared client: each console sends its own session explicitly
        ws = await http.ws_connect(f"{url}/ws", origin=url, headers={"Cookie": f"sb_session={session}"})
        self.sockets.append(ws)
        await ws.send_json({"type": "login"})
        # The snapshot answers a login; older services sent a state change instead.
        await self._until(ws, lambda m: m["type"] in ("snapshot", "state") and m.get("agent") == agent)
        await ws.send_json({"type": "ready"})
        await self._until(ws, lambda m: m["type"] == "state" and m.get("state") == "ready")
        self.readers.append(asyncio.create_task(self._read(ws)))

    @staticmethod
    async def _until(ws: aiohttp.ClientWebSocketResponse, match: Callable[[Json], bool]) -> None:
        async with asyncio.timeout(10):
            while not match(message := json.loads(await ws.receive_str())):
                if message["type"] == "error":
                    raise RuntimeError(f"console refused: {message}")

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for msg in ws:
            now = time.time()  # before parsing: parsing is the bench's work, not the service's
            if msg.type is aiohttp.WSMsgType.TEXT and '"offer"' in msg.data:
                message = json.loads(msg.data)
                if message["type"] == "offer":
                    self.offers += 1
                    self.pops.setdefault(message["call"], now)

    async def close(self) -> None:
        for task in self.readers:
            task.cancel()
        await asyncio.gather(*self.readers, return_exceptions=True)
        await asyncio.gather(*(ws.close() for ws in self.sockets), return_exceptions=True)
        if self.http is not None:
            await self.http.close()


# --- the two runs ---------------------------------------------------------------------------------
@dataclass
class Run:
    figures: list[Figure]
    load: Load
    notes: list[str]
    pops: dict[str, float] = field(default_factory=dict)


async def run_switchboard(http: aiohttp.ClientSession, seen: Seen, opts: Options, tag: str) -> Run:
    agents = [str(301 + i) for i in range(opts.agents)]
    workdir = Path(tempfile.mkdtemp(prefix="sb-bench-"))
    service, consoles = Service(workdir, agents, opts.serve), Consoles()
    try:
        await service.start(http)
        await consoles.open(service.url, agents)
        assert service.proc is not None
        load = await place_calls(
            http, seen, opts, tag, "switchboard-inbound", {"_SB_APP": service.app},
            drain_s=RING_TIMEOUT_S + 30, pids={**asterisk(), "switchboard serve": service.proc.pid},
        )  # fmt: skip
    finally:
        await consoles.close()
        await service.stop()
        if not opts.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    calls = [c for c in load.counted if c not in load.failed]
    start = seen.entries(calls, "Stasis")
    ring = {c: t for c in calls if (t := seen.first_ring(c, f"sb-{c}-")) is not None}
    failed = len(load.counted) - len(calls)
    pops = consoles.pops
    figures = [
        with_lost(figure("Switchboard: Stasis entry -> agent ringing", calls, start, ring), failed),
        with_lost(figure("Switchboard: Stasis entry -> pop on websocket", calls, start, pops), failed),
        figure("  (caller channel created -> agent ringing)", calls, seen.created, ring),
    ]
    notes = [
        f"  offers received: {consoles.offers}, for {len(consoles.pops)} calls; {service.customers}",
        *stages(seen, calls, start, pops),
    ]
    if opts.keep:
        notes.append(f"  service config, store and log kept in {workdir}")
    return Run(figures, load, notes, consoles.pops)


async def run_app_queue(http: aiohttp.ClientSession, seen: Seen, opts: Options, tag: str) -> Run:
    load = await place_calls(
        http, seen, opts, tag, "switchboard-appqueue", {}, drain_s=QUEUE_TIMEOUT_S + 30, pids=asterisk()
    )
    calls = [c for c in load.counted if c not in load.failed]
    start = seen.entries(calls, "Queue")
    ring = {c: t for c in load.placed if (t := seen.first_ring(c)) is not None}
    # The calls that entered Queue while no other caller of ours sat in it unrung: no line ahead of them.
    entered = seen.entries(load.placed, "Queue")
    ends = (ring, {c: seen.entered[c].get("Hangup", math.inf) for c in entered}, seen.destroyed)
    left = {c: min(end.get(c, math.inf) for end in ends) for c in entered}
    alone = [c for c in calls if c in start and not any(
        w <= start[c] < left[o] for o, w in entered.items() if o != c)]  # fmt: skip
    failed = len(load.counted) - len(calls)
    figures = [
        with_lost(figure("app_queue:   Queue entry -> member ringing", calls, start, ring), failed),
        figure("  (caller channel created -> member ringing)", calls, seen.created, ring),
        figure("  (Queue entry -> ringing, no one ahead in line)", alone, start, ring),
    ]
    return Run(figures, load, [])


def stages(seen: Seen, calls: Sequence[str], start: dict[str, float], pops: dict[str, float]) -> list[str]:
    """Where a Switchboard call's time goes, step by step, from Asterisk's own events.

    The steps follow the service's commands for a call: answer the caller (then start hold music),
    create the agent leg (``sb-<call>-1``), wait for it to enter the app, dial it.
    """
    leg = {c: f"sb-{c}-1" for c in calls}
    steps: list[tuple[str, Callable[[str], float | None]]] = [
        ("caller answered (its state Up)", lambda c: seen.up.get(c)),
        ("agent leg created (ChannelCreated)", lambda c: seen.created.get(leg[c])),
        ("agent leg entered Stasis", lambda c: seen.entered.get(leg[c], {}).get("Stasis")),
        ("agent leg dialed (Dial event)", lambda c: seen.dialed.get(leg[c])),
        ("agent leg ringing", lambda c: seen.ringing.get(leg[c])),
        ("pop read from the websocket", lambda c: pops.get(c)),
    ]
    lines = ["  where the time goes, ms after Stasis entry (p50 / p99):"]
    for label, when in steps:
        ms = [(t - start[c]) * 1000 for c in calls if c in start and (t := when(c)) is not None]
        if ms:
            lines.append(f"    {label:<44} {percentile(ms, 50):7.1f} / {percentile(ms, 99):7.1f}")
    return lines


def asterisk() -> dict[str, int]:
    pid = asterisk_pid()
    return {} if pid is None else {"asterisk": pid}


def with_lost(f: Figure, extra: int) -> Figure:
    return Figure(f.label, f.ms, f.lost + extra)


# --- report ---------------------------------------------------------------------------------------
def verdict(opts: Options, ring: Figure, pop: Figure) -> str:
    head = f"target: p99 < {TARGET_MS:.0f} ms for both Switchboard figures at {TARGET_RATE:g} calls/s"
    if opts.rate != TARGET_RATE:
        head += f" (this run: {opts.rate:g} calls/s)"
    if ring.p99 is None or pop.p99 is None:
        return f"{head}: NOT MET (nothing measured)"
    met = ring.p99 < TARGET_MS and pop.p99 < TARGET_MS and ring.lost == pop.lost == 0
    return (f"{head}: {'met' if met else 'NOT MET'} (ring p99 {ring.p99:.1f} ms, pop p99 {pop.p99:.1f} ms, "
            f"lost {ring.lost} and {pop.lost})")  # fmt: skip


def code_version() -> str:
    """The commit measured, and whether the work tree differed from it (the figures are for the tree)."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=True)
        return done.stdout.strip()

    try:
        head, dirty = (
            git("rev-parse", "--short", "HEAD"),
            git("status", "--porcelain", "--untracked-files=no"),
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" + uncommitted changes" if dirty else "")


def report(opts: Options, version: str, runs: dict[str, Run], seen: Seen, tag: str, extra: list[str]) -> None:
    print(f"pop_latency  {datetime.now(UTC):%Y-%m-%d %H:%M} UTC  N={opts.calls} (+{opts.warmup} warm-up) "
          f"R={opts.rate:g}/s  agents={opts.agents} (app_queue: 60 members)  Asterisk {version}  "
          f"{os.cpu_count()} CPUs  code {code_version()}")  # fmt: skip
    print(f"{'figure (ms)':<46} {'p50':>8} {'p99':>8} {'max':>8} {'measured':>9} {'lost':>5}")
    for run in runs.values():
        for f in run.figures:
            print(f.row())
    if "switchboard" in runs:
        print(verdict(opts, *runs["switchboard"].figures[:2]))
    for name, run in runs.items():
        for line in run.load.describe(f"{name} run") + run.notes:
            print(line)
    print(f"observer: {seen.events} ARI events; other users' calls entering Stasis/Queue meanwhile: "
          f"{seen.foreign_calls(tag)}; " + "; ".join(extra))  # fmt: skip


def dump(path: Path, seen: Seen, runs: dict[str, Run]) -> None:
    with path.open("w", encoding="utf-8") as out:
        for arrived, text in seen.raw or ():
            out.write(json.dumps({"kind": "ari", "arrived": arrived, "event": json.loads(text)}) + "\n")
        for run in runs.values():
            for call, at in run.pops.items():
                out.write(json.dumps({"kind": "pop", "call": call, "arrived": at}) + "\n")


async def main_async(opts: Options) -> int:
    tag = f"bench{uuid.uuid4().hex[:6]}"
    # Asterisk's HTTP server takes 100 sessions in all, the service's included: stay well below.
    connector = aiohttp.TCPConnector(limit=16)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(headers=AUTH, connector=connector, timeout=timeout) as http:
        try:
            async with http.get(f"{ARI_URL}/ari/asterisk/info") as resp:
                version = str((await resp.json())["system"]["version"])
        except aiohttp.ClientError as exc:
            print(f"pop_latency: no ARI at {ARI_URL} ({exc}); scripts/asterisk-sandbox up", file=sys.stderr)
            return 2
        observer = Observer(http, keep_raw=opts.dump is not None)
        await observer.start()
        runs: dict[str, Run] = {}
        left = 0
        try:
            for system, run in (("switchboard", run_switchboard), ("app_queue", run_app_queue)):
                if system in opts.systems:
                    await settle()
                    try:
                        runs[system] = await run(http, observer.seen, opts, f"{tag}-{system[:2]}")
                    finally:  # callers left in Stasis or Queue would load Asterisk for the next run
                        left += await hang_up_leftovers(http, f"{tag}-{system[:2]}")
        finally:
            await observer.stop()
    report(opts, version, runs, observer.seen, tag, [f"leftover channels hung up: {left}"])
    if opts.dump is not None:
        dump(opts.dump, observer.seen, runs)
    return 0


def parse_args(argv: Sequence[str] | None) -> Options:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--calls", type=int, default=200, help="counted calls per system (default 200)")
    p.add_argument("--rate", type=float, default=20.0, help="calls per second (default 20)")
    p.add_argument("--agents", type=int, default=60, help="Switchboard agents, 1..99 (default 60)")
    p.add_argument("--warmup", type=int, default=5, help="uncounted calls placed first (default 5)")
    p.add_argument("--only", choices=("switchboard", "app_queue"), help="run one system only")
    p.add_argument("--keep", action="store_true", help="keep the service's config, store and log")
    p.add_argument("--dump", type=Path, help="write every observed ARI event and pop here, as JSON lines")
    serve_help = "the switchboard command to run (e.g. under a profiler); '--config F serve' is appended"
    p.add_argument("--serve", default=str(ROOT / ".venv/bin/switchboard"), help=serve_help)
    a = p.parse_args(argv)
    if a.calls < 1 or a.rate <= 0 or a.warmup < 0 or not 1 <= a.agents <= 99:
        p.error("need --calls >= 1, --rate > 0, --warmup >= 0 and 1 <= --agents <= 99")
    systems = (a.only,) if a.only else ("switchboard", "app_queue")
    return Options(a.calls, a.rate, a.agents, a.warmup, systems, a.keep, a.dump, tuple(shlex.split(a.serve)))


def main(argv: Sequence[str] | None = None) -> int:
    return asyncio.run(main_async(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
