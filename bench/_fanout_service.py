"""The service process of ``console_fanout.py``: the real Switchboard service on a simulated PBX.

Run by ``console_fanout.py`` (never by hand): the real ``switchboard.bootstrap.Service`` (router,
``RouterLoop``, ``LocalBus``, ``ConsoleHub``, call recorder, caller cache, the aiohttp console app) on a
real SQLite store in ``WORKDIR``, built with ``telephony.simulated.SimulatedPbx`` in place of Asterisk
(its default timing: each offered phone rings after 10 ms, is answered 300 ms later, and the caller hangs
up 1 s after it began to ring); ``place_calls`` makes the callers arrive. It talks to the load client
over stdin/stdout, one JSON object per line; its logs go to stderr, as ``switchboard serve``'s do.

Users are made through the real store (``SqlUsers.add``) but with one argon2 hash of the shared password
reused for all of them (2,000 hashes would take minutes); sessions for all but the first
``--http-logins`` agents are minted by the app's own ``Sessions``; the client signs those first ones in
with ``POST /login``.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import json
import logging
import pstats
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import structlog
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this work tree's packages, not whichever one the venv has installed

from pop_latency import watch_loop_lag  # noqa: E402

from agent_console.app import GATE  # noqa: E402
from config.settings import AriSettings, Settings  # noqa: E402
from crm_core.domain import passwords  # noqa: E402
from crm_core.sql.engine import open_engine  # noqa: E402
from crm_core.sql.password_worker import PasswordWorker  # noqa: E402
from crm_core.sql.store import SqlStore  # noqa: E402
from routing import commands as cmd  # noqa: E402
from routing.ids import AgentId, CallId, LineId, QueueId  # noqa: E402
from routing.plan import Agent, Did, Line, Plan, Queue  # noqa: E402
from switchboard.bootstrap import Service, build  # noqa: E402
from telephony.simulated import SimulatedPbx  # noqa: E402

PASSWORD = "bench-only-password"  # the consoles' users, in a throwaway store
DID = "+18005550101"
KNOWN_CALLERS = 100  # customers in the store; callers cycle over twice as many numbers, half known

Json = dict[str, Any]


@dataclass(frozen=True)
class Load:
    consoles: int
    rate: float
    seconds: float
    warmup: float
    http_logins: int
    profile: bool


def rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def agent_ids(consoles: int) -> list[str]:
    return [f"a{n:05d}" for n in range(consoles)]


def bench_plan(agents: Sequence[str]) -> Plan:
    q, line = QueueId("bench"), LineId("bench")
    return Plan(
        dids={DID: Did(DID, "bench", line)},
        lines={line: Line(id=line, name="Bench Line", queue=q)},
        queues={q: Queue(id=q, name="Bench", ring_timeout_s=15, max_wait_s=600, announce_every_s=0.0)},
        agents={
            AgentId(a): Agent(id=AgentId(a), name=f"Agent {a}", endpoint=f"Local/{a}@bench/n", queues=(q,))
            for a in agents
        },
    )


def simulated_pbx(service: Service) -> SimulatedPbx:
    """The PBX the service was built with (``build(..., pbx=SimulatedPbx)``)."""
    pbx = service.pbx
    assert isinstance(pbx, SimulatedPbx), f"the service runs on {type(pbx).__name__}"
    return pbx


async def place_calls(pbx: SimulatedPbx, rate: float, count: int, started: list[float]) -> None:
    """Callers dial in at a steady ``rate``; half the numbers are known customers."""
    t0 = time.monotonic()
    started.append(t0)
    for i in range(count):
        await asyncio.sleep(max(0.0, t0 + i / rate - time.monotonic()))
        pbx.arrive(CallId(f"c{i:06d}"), DID, f"+1415555{i % (2 * KNOWN_CALLERS):04d}")


async def add_users(url: str, names: Sequence[str], password: str = PASSWORD) -> None:
    """A user (role agent, acting as the agent of the same name) per name, through the real store, with
    one argon2 hash reused for all: bench only, 2,000 hashes would take minutes. The store is opened
    here, hashing in a thread, since the service's own store hashes in its worker process."""
    one_hash = passwords.hash_password(password)
    real = passwords.hash_password
    passwords.hash_password = lambda _: one_hash
    store = SqlStore(open_engine(url), "US", passwords=PasswordWorker(separate_process=False))
    try:
        for name in names:
            await store.users.add(name, password, "agent", agent=name)
    finally:
        passwords.hash_password = real
        await store.close()


async def seed(store: SqlStore, url: str, agents: Sequence[str]) -> float:
    """A user per agent (``add_users``) and the known callers."""
    started = time.monotonic()
    await add_users(url, agents)
    for i in range(KNOWN_CALLERS):
        await store.add_customer(f"Customer {i}", [(f"+1415555{2 * i:04d}", "mobile")], f"Company {i}")
    return time.monotonic() - started


class Control:
    """The service's side of the pipe to the load client: one JSON object per line each way."""

    def __init__(self, out: TextIO) -> None:
        self._out = out

    def say(self, message: Json) -> None:
        self._out.write(json.dumps(message) + "\n")
        self._out.flush()

    @staticmethod
    async def expect(word: str) -> None:
        line = (await asyncio.to_thread(sys.stdin.readline)).strip()
        if line != word:
            raise RuntimeError(f"console_fanout service: expected {word!r}, got {line!r}")


def configure_logging() -> None:
    """As ``switchboard serve`` logs (INFO, to stderr, which the bench sends to a file)."""
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
    )


class FanoutService:
    """The real service on a simulated PBX, the consoles' users and sessions, and a pop recorder."""

    def __init__(self, opts: Load, workdir: Path, service: Service) -> None:
        self.opts, self.workdir, self.service = opts, workdir, service
        self.pbx = simulated_pbx(service)
        self.agents = agent_ids(opts.consoles)
        self.decided: dict[str, float] = {}  # offer -> time.monotonic() when its PopScreen was published
        self.runner = web.AppRunner(service.web)

    @classmethod
    async def open(cls, opts: Load, workdir: Path) -> FanoutService:
        settings = Settings(
            ari=AriSettings("http://127.0.0.1:1", "bench", "bench", "bench-fanout"),
            database_url=f"sqlite+aiosqlite:///{workdir / 'store.db'}", http_host="127.0.0.1", http_port=0,
            region="US", caller_context="bench", inbound_context="bench",
            plan=bench_plan(agent_ids(opts.consoles)),
        )  # fmt: skip
        return cls(opts, workdir, await build(settings, pbx=SimulatedPbx))

    async def start(self) -> Json:
        seed_s = await seed(self.service.store, self.service.settings.database_url, self.agents)
        await self.service.start(http=False)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 0, backlog=1024).start()
        self.service.bus.subscribe(self._record)  # after the hub's: see console_fanout's docstring
        gc.collect()
        rss_before = rss_kb()
        gate = self.service.web[GATE]
        signed_in = self.opts.http_logins
        sessions = {a: (await gate.sessions.start(a)).id for a in self.agents[signed_in:]}
        return {"port": self.runner.addresses[0][1], "sessions": sessions, "sign_in": self.agents[:signed_in],
                "password": PASSWORD, "rss_before_kb": rss_before, "seed_s": seed_s}  # fmt: skip

    def _record(self, command: cmd.Command) -> None:
        if isinstance(command, cmd.PopScreen):
            self.decided.setdefault(command.offer, time.monotonic())

    async def calls(self) -> Json:
        """Place the calls; CPU, loop lag (and the profile) cover the counted window only."""
        opts, started, lag = self.opts, list[float](), list[float]()
        profile = cProfile.Profile() if opts.profile else None
        lag_task = asyncio.create_task(watch_loop_lag(lag))
        count = round(opts.rate * (opts.warmup + opts.seconds))
        placing = asyncio.create_task(place_calls(self.pbx, opts.rate, count, started))
        await asyncio.sleep(opts.warmup)
        lag.clear()
        cpu0, window0 = time.process_time(), time.monotonic()
        if profile is not None:
            profile.enable()
        await placing
        cpu_s, window_s = time.process_time() - cpu0, time.monotonic() - window0
        if profile is not None:
            profile.disable()
            dump_profile(profile, self.workdir)
        lag_task.cancel()
        await self._drain()
        return {"decided": self.decided, "counted_from": started[0] + opts.warmup, "calls": count,
                "offers": self.pbx.offers, "cpu_s": cpu_s, "window_s": window_s, "loop_lag_ms": lag,
                "rss_end_kb": rss_kb(), "active_calls_left": self.service.router.active_calls}  # fmt: skip

    async def _drain(self, limit_s: float = 10) -> None:
        deadline = time.monotonic() + limit_s
        # The router's state has no event to wait on; a poll every 100 ms is plenty here.
        while self.service.router.active_calls and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.3)  # the last pops' writes

    async def stop(self) -> None:
        await self.runner.cleanup()
        await self.service.stop()


async def serve(opts: Load, workdir: Path) -> None:
    configure_logging()
    control = Control(sys.stdout)
    sys.stdout = sys.stderr  # nothing else may write on the control pipe
    bench = await FanoutService.open(opts, workdir)
    control.say(await bench.start())
    await control.expect("idle")
    control.say({"rss_idle_kb": rss_kb()})
    await control.expect("calls")
    control.say(await bench.calls())
    await control.expect("stop")
    await bench.stop()


def dump_profile(profile: cProfile.Profile, workdir: Path) -> None:
    profile.dump_stats(workdir / "service.prof")
    with (workdir / "service-profile.txt").open("w", encoding="utf-8") as out:
        stats = pstats.Stats(profile, stream=out)
        stats.sort_stats("tottime").print_stats(40)
        stats.sort_stats("cumulative").print_stats(40)


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="the service side of console_fanout.py")
    p.add_argument("workdir", type=Path)
    for name, kind in (("consoles", int), ("rate", float), ("seconds", float), ("warmup", float),
                       ("http-logins", int)):  # fmt: skip
        p.add_argument(f"--{name}", type=kind, required=True)
    p.add_argument("--profile", action="store_true")
    a = p.parse_args(argv)
    asyncio.run(serve(Load(a.consoles, a.rate, a.seconds, a.warmup, a.http_logins, a.profile), a.workdir))


if __name__ == "__main__":
    main()
