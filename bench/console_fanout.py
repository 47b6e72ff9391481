"""Console fan-out (issue 5): pop delivery to 2,000 connected agent websockets, and memory per console.

Two processes on loopback:

* the **service** (``_fanout_service.py``, started by this script): the real
  ``switchboard.bootstrap.Service`` (router, ``RouterLoop``, ``LocalBus``, ``ConsoleHub``, call recorder,
  caller cache, the aiohttp console app with its real ``/ws`` endpoint and session check) on a real
  SQLite store in a temporary directory. There is no Asterisk: ``SimulatedPbx`` plays its part in-process.
  It injects ``CallArrived`` at ``--rate`` calls/s and answers each ``OfferCall`` with ``OfferRinging``
  after 10 ms, ``OfferAnswered`` 300 ms later and the caller's ``CallerHungUp`` 1 s after ringing, so
  agents come free again;
* the **load client** (this process): one aiohttp ``ClientSession``, ``--consoles`` websockets, each
  signed in as its own agent, sent ``login`` then ``ready``, and acking every ``offer`` as the page does.

Figures:

* pop delivery: from the router's decision (the ``PopScreen`` command published on the service's bus,
  ``time.monotonic()`` in a bus subscriber, called after the hub has queued the message) to the
  ``offer`` message read and parsed by the client (its own ``time.monotonic()``; CLOCK_MONOTONIC is one
  clock for the whole machine on Linux), joined by offer id. Offers decided in the first ``--warmup``
  seconds are not counted. A counted offer the client never read is *lost*. Percentiles are nearest-rank.
* memory: the service's VmRSS (``/proc/self/status``) before any console connects, once all are
  connected, logged in, ready and idle, and at the end; per console = (connected - before) / consoles.
* CPU: the service's CPU seconds during the counted window, and who used the machine's CPUs meanwhile.

Sessions: argon2 makes 2,000 logins cost minutes of CPU (about 0.2 s each here), so the users are
created through the real store (``SqlUsers.add``) with one argon2 hash of the shared password reused
for all of them, and all but the first ``--http-logins`` consoles get a session minted by the app's own
``Sessions`` object; those first ones sign in with ``POST /login`` (a real argon2 verification). Every
console then goes through the real ``/ws`` session check.

    .venv/bin/python bench/console_fanout.py [--consoles 2000] [--rate 50] [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from pop_latency import CpuMeter, code_version, percentile, watch_loop_lag

ROOT = Path(__file__).resolve().parent.parent
SERVICE = Path(__file__).resolve().parent / "_fanout_service.py"
TARGET_P99_MS, TARGET_KB = 50.0, 100.0

Json = dict[str, Any]


@dataclass(frozen=True)
class Options:
    consoles: int
    rate: float
    seconds: float
    warmup: float
    http_logins: int
    keep: bool
    profile: bool
    ack: bool = True


# --- the load client ------------------------------------------------------------------------------
@dataclass
class Consoles:
    """One websocket per agent, signed in, logged in and ready; notes when each offer is read."""

    url: str
    ack: bool = True  # as the page does; off, no console sends anything once ready
    read: dict[str, float] = field(default_factory=dict)  # offer -> time.monotonic() once parsed
    messages: int = 0
    refused: list[str] = field(default_factory=list)
    sockets: list[aiohttp.ClientWebSocketResponse] = field(default_factory=list)
    readers: list[asyncio.Task[None]] = field(default_factory=list)
    http: aiohttp.ClientSession | None = None

    async def open(self, hello: Json, parallel: int = 64) -> None:
        """Sign in ``hello["sign_in"]`` with ``POST /login``; the others have ``hello["sessions"]``."""
        # Its own session, no pool limit: one connection per console, as many browsers would hold.
        self.http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        gate = asyncio.Semaphore(parallel)

        async def one(agent: str) -> None:
            async with gate:
                try:
                    await self._console(agent, sessions.get(agent), hello["password"])
                except (aiohttp.ClientError, RuntimeError, TimeoutError) as exc:
                    self.refused.append(f"{agent}: {exc!r}")

        sessions: dict[str, str] = hello["sessions"]
        await asyncio.gather(*(one(a) for a in [*hello["sign_in"], *sessions]))

    async def _console(self, agent: str, session: str | None, password: str) -> None:
        assert self.http is not None
        if session is None:
            body = {"username": agent, "password": password}
            async with self.http.post(f"{self.url}/login", json=body) as resp:
                resp.raise_for_status()
                session = resp.cookies["sb_session"].value
            self.http.cookie_jar.clear()  # one shared client: each console sends its own session
        ws = await self.http.ws_connect(
            f"{self.url}/ws", origin=self.url, headers={"Cookie": f"sb_session={session}"}
        )
        self.sockets.append(ws)
        await ws.send_json({"type": "login"})
        # The login reply is ``state`` today; ``snapshot`` is its announced successor.
        await until(ws, lambda m: m["type"] in ("state", "snapshot"))
        await ws.send_json({"type": "ready"})
        await until(ws, lambda m: m["type"] == "state" and m.get("state") == "ready")
        self.readers.append(asyncio.create_task(self._read(ws)))

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for msg in ws:
            if msg.type is not aiohttp.WSMsgType.TEXT:
                continue
            message = json.loads(msg.data)
            self.messages += 1
            if message.get("type") == "offer":
                self.read.setdefault(message["offer"], time.monotonic())
                if self.ack:
                    await ws.send_str(json.dumps({"type": "ack", "offer": message["offer"]}))

    async def close(self) -> None:
        for task in self.readers:
            task.cancel()
        await asyncio.gather(*self.readers, return_exceptions=True)
        await asyncio.gather(*(ws.close() for ws in self.sockets), return_exceptions=True)
        if self.http is not None:
            await self.http.close()


async def until(ws: aiohttp.ClientWebSocketResponse, match: Callable[[Json], bool]) -> None:
    async with asyncio.timeout(30):
        while True:
            msg = await ws.receive()
            if msg.type is not aiohttp.WSMsgType.TEXT:
                raise RuntimeError(f"console closed: {msg.type.name} {msg.data!r}")
            message = json.loads(msg.data)
            if match(message):
                return
            if message["type"] == "error":
                raise RuntimeError(f"console refused: {message}")


def raise_open_files(consoles: int) -> tuple[int, int]:
    """Enough descriptors for every socket of one side, plus the rest; the child process inherits it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = consoles + 512
    if soft < want:
        soft = want if hard == resource.RLIM_INFINITY else min(want, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    return soft, hard


@dataclass
class ServiceProcess:
    proc: asyncio.subprocess.Process
    log: Path

    async def hear(self, timeout_s: float = 600) -> Json:
        assert self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), timeout_s)
        if not line:
            raise RuntimeError(f"the service process ended; see {self.log}")
        reply: Json = json.loads(line)
        return reply

    def tell(self, word: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(word.encode() + b"\n")


async def start_service(opts: Options, workdir: Path) -> ServiceProcess:
    log = workdir / "service.log"
    args = [sys.executable, str(SERVICE), str(workdir), "--consoles", str(opts.consoles),
            "--rate", str(opts.rate), "--seconds", str(opts.seconds), "--warmup", str(opts.warmup),
            "--http-logins", str(opts.http_logins), *(["--profile"] if opts.profile else [])]  # fmt: skip
    with log.open("wb") as err:
        proc = await asyncio.create_subprocess_exec(
            *args, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=err,
            limit=2**26, cwd=ROOT,
        )  # fmt: skip
    return ServiceProcess(proc, log)


@dataclass
class Results:
    ms: list[float]
    lost: int
    hello: Json
    idle: Json
    done: Json
    connect_s: float
    client_lag_ms: list[float]
    cpu_line: str
    messages: int


async def measure(opts: Options, workdir: Path) -> Results:
    service = await start_service(opts, workdir)
    consoles: Consoles | None = None
    try:
        hello = await service.hear()
        consoles = Consoles(f"http://127.0.0.1:{hello['port']}", opts.ack)
        t0 = time.monotonic()
        await consoles.open(hello)
        connect_s = time.monotonic() - t0
        if consoles.refused:
            raise RuntimeError(f"{len(consoles.refused)} consoles failed, e.g. {consoles.refused[:3]}")
        await asyncio.sleep(0.5 + opts.consoles / 1000)  # idle: every login's replies and log lines are done
        service.tell("idle")
        idle = await service.hear()
        lag: list[float] = []
        service.tell("calls")
        lag_task = asyncio.create_task(watch_loop_lag(lag))
        await asyncio.sleep(opts.warmup)
        lag.clear()
        meter = CpuMeter({"service": service.proc.pid, "load client": os.getpid()})
        done = await service.hear(opts.seconds + 120)
        lag_task.cancel()
        cpu_line = meter.usage().replace("while the calls ran", "from the end of warm-up to the calls' end")
        counted = [o for o, t in done["decided"].items() if t >= done["counted_from"]]
        ms = [(consoles.read[o] - done["decided"][o]) * 1000 for o in counted if o in consoles.read]
        return Results(ms, len(counted) - len(ms), hello, idle, done, connect_s, lag, cpu_line,
                       consoles.messages)  # fmt: skip
    finally:
        if consoles is not None:
            await consoles.close()
        await stop(service)


async def stop(service: ServiceProcess) -> None:
    if service.proc.returncode is None:
        with contextlib.suppress(ConnectionError):
            service.tell("stop")
        try:
            await asyncio.wait_for(service.proc.wait(), 30)
        except TimeoutError:
            service.proc.kill()
            await service.proc.wait()


# --- report ---------------------------------------------------------------------------------------
def spread(values: Sequence[float]) -> str:
    if not values:
        return "-"
    return f"p50 {percentile(values, 50):.1f} p99 {percentile(values, 99):.1f} max {max(values):.1f} ms"


def report(opts: Options, r: Results, limit: tuple[int, int], workdir: Path) -> Json:
    """Print the figures as text, then one JSON line; returns what the JSON line says."""
    load = os.getloadavg()
    before, idle, end = r.hello["rss_before_kb"], r.idle["rss_idle_kb"], r.done["rss_end_kb"]
    per_kb = (idle - before) / opts.consoles
    figures: Json = {"count": len(r.ms), "lost": r.lost}
    for q in (50, 90, 99):
        figures[f"p{q}_ms"] = round(percentile(r.ms, q), 2) if r.ms else None
    figures["max_ms"] = round(max(r.ms), 2) if r.ms else None
    met = bool(r.ms) and figures["p99_ms"] < TARGET_P99_MS and r.lost == 0 and per_kb < TARGET_KB
    for line in conditions(opts, r, limit, load):
        print(line)
    print(f"{'pop delivery (ms)':<44} {'p50':>8} {'p90':>8} {'p99':>8} {'max':>8} {'count':>6} {'lost':>5}")
    cells = [f"{figures[k]:8.1f}" if r.ms else f"{'-':>8}" for k in ("p50_ms", "p90_ms", "p99_ms", "max_ms")]
    print(f"{'  PopScreen on the bus -> offer parsed':<44} {' '.join(cells)} {len(r.ms):>6} {r.lost:>5}")
    print(
        f"memory (service VmRSS): before {before / 1024:.1f} MiB, {opts.consoles} connected and idle "
        f"{idle / 1024:.1f} MiB, at the end {end / 1024:.1f} MiB -> {per_kb:.1f} KB per console"
    )
    print(f"target: p99 < {TARGET_P99_MS:.0f} ms, nothing lost, < {TARGET_KB:.0f} KB per console: "
          f"{'met' if met else 'NOT MET'}")  # fmt: skip
    for line in activity(opts, r, workdir):
        print(line)
    summary = {
        "bench": "console_fanout", "consoles": opts.consoles, "rate": opts.rate, "seconds": opts.seconds,
        "warmup": opts.warmup, "ack": opts.ack, **figures, "rss_before_kb": before, "rss_idle_kb": idle,
        "rss_end_kb": end, "kb_per_console": round(per_kb, 1), "service_cpu_s": round(r.done["cpu_s"], 2),
        "window_s": round(r.done["window_s"], 2), "loadavg": [round(x, 2) for x in load], "target_met": met,
    }  # fmt: skip
    print(json.dumps(summary))
    return summary


def conditions(opts: Options, r: Results, limit: tuple[int, int], load: tuple[float, ...]) -> list[str]:
    acks = "every console acks each offer, as the page does" if opts.ack else "consoles send no acks"
    return [
        f"console_fanout  {datetime.now(UTC):%Y-%m-%d %H:%M} UTC  consoles={opts.consoles} "
        f"R={opts.rate:g}/s  {opts.seconds:g} s counted (+{opts.warmup:g} s warm-up)  {os.cpu_count()} CPUs  "
        f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}  code {code_version()}",
        "PBX: an in-process stand-in (no Asterisk): ring 10 ms after the offer, answer 300 ms later, "
        f"the caller hangs up 1 s after ringing; {acks}",
        f"sessions: {opts.http_logins} signed in with POST /login (argon2), "
        f"{opts.consoles - opts.http_logins} minted by the app's Sessions; users made in "
        f"{r.hello['seed_s']:.1f} s; {opts.consoles} consoles connected, logged in and ready in "
        f"{r.connect_s:.1f} s; RLIMIT_NOFILE {limit[0]} (hard {limit[1]})",
    ]  # fmt: skip


def activity(opts: Options, r: Results, workdir: Path) -> list[str]:
    d = r.done
    lines = [
        f"calls: {d['calls']} placed, {d['offers']} offers, {len(d['decided'])} pops decided, "
        f"{d['active_calls_left']} calls up at the end; the client read {r.messages} messages",
        f"service CPU in the counted window: {d['cpu_s']:.2f} s over {d['window_s']:.1f} s "
        f"({100 * d['cpu_s'] / max(d['window_s'], 1e-9):.0f} % of one core)",
        r.cpu_line,
        f"  service event-loop lag: {spread(d['loop_lag_ms'])}",
        f"  load client event-loop lag (adds to pop times): {spread(r.client_lag_ms)}",
    ]  # fmt: skip
    if opts.profile:
        lines.append(f"  service profile of the counted window: {workdir / 'service-profile.txt'}")
    if opts.keep or opts.profile:
        lines.append(f"  service store, log and profile kept in {workdir}")
    return lines


async def main_async(opts: Options) -> int:
    limit = raise_open_files(opts.consoles)
    workdir = Path(tempfile.mkdtemp(prefix="sb-fanout-"))
    try:
        results = await measure(opts, workdir)
        report(opts, results, limit, workdir)
    finally:
        if not (opts.keep or opts.profile):
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


def parse_args(argv: Sequence[str] | None) -> Options:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--consoles", type=int, default=2000, help="agent websockets (default 2000)")
    p.add_argument("--rate", type=float, default=50.0, help="calls per second (default 50)")
    p.add_argument("--seconds", type=float, default=60.0, help="counted seconds of calls (default 60)")
    p.add_argument("--warmup", type=float, default=5.0, help="seconds of calls not counted first (5)")
    p.add_argument("--http-logins", type=int, default=1, help="consoles signed in over POST /login (1)")
    p.add_argument("--keep", action="store_true", help="keep the service's store and log")
    p.add_argument("--profile", action="store_true", help="cProfile the service in the counted window")
    p.add_argument("--no-ack", action="store_true", help="consoles do not ack offers (the page does)")
    a = p.parse_args(argv)
    if (
        a.consoles < 1
        or a.rate <= 0
        or a.seconds <= 0
        or a.warmup < 0
        or not 0 <= a.http_logins <= a.consoles
    ):
        p.error(
            "need --consoles >= 1, --rate > 0, --seconds > 0, --warmup >= 0, 0 <= --http-logins <= consoles"
        )
    return Options(a.consoles, a.rate, a.seconds, a.warmup, a.http_logins, a.keep, a.profile, not a.no_ack)


def main(argv: Sequence[str] | None = None) -> int:
    return asyncio.run(main_async(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
