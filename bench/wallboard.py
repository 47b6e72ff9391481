"""Wallboard feed (issue 6): 1,000 agents changing state, 200 supervisors watching the live wallboard.

Two processes on loopback:

* the **service** (this script with ``--serve``): the real ``switchboard.bootstrap.Service`` — router,
  ``RouterLoop``, ``LocalBus``, ``ConsoleHub``, the state log and call recorder writing to a real SQLite
  store in a temporary directory, the ``WallboardFeed`` with its one-second cadence, the aiohttp app and
  its ``/ws``. There is no Asterisk: the service is built on ``telephony.simulated.SimulatedPbx`` (calls
  arrive at ``--calls`` per second; each offered agent's phone rings after 10 ms, is answered 300 ms
  later, and the caller hangs up 1 s after ringing). On top, ``--changes`` agent state changes per
  second are injected at a steady rate: a ready agent is paused (``AgentPaused``, reason ``break``), a
  not-ready one made ready (``AgentBecameReady``); agents ringing or on a call are left alone.
* the **load client** (this script): ``--supervisors`` websockets signed in as one supervisor (sessions
  minted by the app's own ``Sessions``, then the real ``/ws`` session check), each sending
  ``watch-wallboard`` and reading every ``wallboard`` push.

Figures, over the measured window (after ``--warmup`` seconds of load):

* the service's CPU (``time.process_time()``, all its threads, the SQLite writer included) as a
  fraction of one core, and the feed's own share (time inside ``WallboardFeed.tick``);
* pushes received per supervisor per second (mean, and the largest) and the shortest gap between two
  pushes on one socket;
* the view's size in bytes (one serialised ``wallboard`` message at the end).

    .venv/bin/python bench/wallboard.py [--agents 1000] [--supervisors 200] [--changes 1000]
                                        [--calls 5] [--seconds 30] [--warmup 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _fanout_service import (  # noqa: E402
    agent_ids,
    bench_plan,
    configure_logging,
    place_calls,
    rss_kb,
    simulated_pbx,
)

from agent_console.app import GATE  # noqa: E402
from config.settings import AriSettings, Settings  # noqa: E402
from routing import events as ev  # noqa: E402
from routing.ids import AgentId  # noqa: E402
from routing.states import AgentState  # noqa: E402
from switchboard.bootstrap import Service, build  # noqa: E402
from telephony.simulated import SimulatedPbx  # noqa: E402

SUPERVISOR, PASSWORD = "boss", "bench-only-password"
Json = dict[str, Any]


# --- the service process --------------------------------------------------------------------------
class TimedTick:
    """Wraps the feed's tick to add up the time it takes (the feed's own share of the CPU)."""

    def __init__(self, service: Service) -> None:
        self.seconds = 0.0
        self.pushes = 0
        feed = service.wallboard
        self._tick = feed.tick
        feed.tick = self  # type: ignore[method-assign]

    def __call__(self) -> int:
        t0 = time.process_time()
        sent = self._tick()
        self.seconds += time.process_time() - t0
        self.pushes += sent
        return sent


async def change_states(service: Service, agents: Sequence[str], rate: float, stop: asyncio.Event) -> int:
    """Steady state changes, round-robin over the agents, as the router would see them from consoles."""
    router, submit, clock = service.router, service.loop.submit, service.loop.clock
    t0, n, made = time.monotonic(), 0, 0
    while not stop.is_set():
        await asyncio.sleep(max(0.0, t0 + n / rate - time.monotonic()))
        burst = max(1, int((time.monotonic() - t0) * rate) - n)  # catch up after a late wake-up
        for _ in range(burst):
            agent = AgentId(agents[n % len(agents)])
            state = router.agent_view(agent).state
            if state is AgentState.READY:
                submit(ev.AgentPaused(agent, "break", clock()))
                made += 1
            elif state is AgentState.NOT_READY:
                submit(ev.AgentBecameReady(agent, clock()))
                made += 1
            n += 1
    return made


async def serve(opts: argparse.Namespace, workdir: Path) -> None:
    configure_logging()
    out = sys.stdout
    sys.stdout = sys.stderr  # nothing else may write on the control pipe
    agents = agent_ids(opts.agents)
    settings = Settings(
        ari=AriSettings("http://127.0.0.1:1", "bench", "bench", "bench-wallboard"),
        database_url=f"sqlite+aiosqlite:///{workdir / 'store.db'}", http_host="127.0.0.1", http_port=0,
        region="US", caller_context="bench", inbound_context="bench", plan=bench_plan(agents),
    )  # fmt: skip
    service = await build(settings, pbx=SimulatedPbx)
    pbx = simulated_pbx(service)
    await service.store.users.add(SUPERVISOR, PASSWORD, "supervisor")
    await service.start(http=False)
    runner = web.AppRunner(service.web)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0, backlog=1024).start()
    timed = TimedTick(service)
    for agent in agents:  # everyone logged in and ready before the supervisors connect
        service.loop.submit(ev.AgentLoggedIn(AgentId(agent), service.loop.clock()))
        service.loop.submit(ev.AgentBecameReady(AgentId(agent), service.loop.clock()))
    sessions = [(await service.web[GATE].sessions.start(SUPERVISOR)).id for _ in range(opts.supervisors)]
    say(out, {"port": runner.addresses[0][1], "sessions": sessions})
    await hear("go")
    stop = asyncio.Event()
    changing = asyncio.create_task(change_states(service, agents, opts.changes, stop))
    calls = round(opts.calls * (opts.warmup + opts.seconds + 1))
    placing = asyncio.create_task(place_calls(pbx, opts.calls, calls, []))
    await asyncio.sleep(opts.warmup)
    say(out, {"window": "start"})
    cpu0, wall0, feed0, pushes0 = time.process_time(), time.monotonic(), timed.seconds, timed.pushes
    await asyncio.sleep(opts.seconds)
    cpu_s, wall_s = time.process_time() - cpu0, time.monotonic() - wall0
    feed_s, pushes = timed.seconds - feed0, timed.pushes - pushes0
    say(out, {"window": "end"})
    stop.set()
    changes = await changing
    placing.cancel()
    view = service.wallboard.board.view(service.loop.clock())
    say(out, {"cpu_s": cpu_s, "wall_s": wall_s, "feed_s": feed_s, "pushes": pushes, "changes": changes,
              "builds": service.wallboard.builds, "view_bytes": len(json.dumps(view, separators=(",", ":"))),
              "rss_kb": rss_kb(), "offers": pbx.offers})  # fmt: skip
    await hear("stop")
    await runner.cleanup()
    await service.stop()


def say(out: Any, message: Json) -> None:
    out.write(json.dumps(message) + "\n")
    out.flush()


async def hear(word: str) -> None:
    line = (await asyncio.to_thread(sys.stdin.readline)).strip()
    if line != word:
        raise RuntimeError(f"wallboard bench service: expected {word!r}, got {line!r}")


# --- the load client ------------------------------------------------------------------------------
class Watcher:
    def __init__(self) -> None:
        self.at: list[float] = []  # time.monotonic() of each wallboard push read
        self.size = 0

    async def run(
        self, http: aiohttp.ClientSession, url: str, session: str, ready: asyncio.Event, deflate: bool
    ) -> None:
        headers = {"Cookie": f"sb_session={session}"}
        async with http.ws_connect(f"{url}/ws", origin=url, headers=headers, max_msg_size=2**24,
                                   compress=15 if deflate else 0) as ws:  # fmt: skip
            await ws.send_json({"type": "watch-wallboard"})
            first = True
            async for msg in ws:
                # Only the type is read: parsing 200 copies of the view a second would make this
                # process, not the service, the bottleneck (a browser parses its one copy).
                if msg.data.startswith('{"type":"error"'):
                    raise RuntimeError(msg.data)
                if not msg.data.startswith('{"type":"wallboard"'):
                    continue
                if first:
                    first = False
                    ready.set()
                    continue  # the view a new watcher gets at once; pushes are what follows
                self.at.append(time.monotonic())
                self.size = len(msg.data)


async def client(opts: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="sb-wallboard-") as tmp:
        log = Path(tmp) / "service.log"
        args = [sys.executable, __file__, "--serve", tmp, *sys.argv[1:]]
        with log.open("wb") as err:
            proc = await asyncio.create_subprocess_exec(
                *args, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=err,
                limit=2**24, cwd=ROOT,
            )  # fmt: skip
        assert proc.stdin is not None and proc.stdout is not None

        async def hear_service() -> Json:
            assert proc.stdout is not None
            line = await asyncio.wait_for(proc.stdout.readline(), 300)
            if not line:
                raise RuntimeError(f"the service ended: {log.read_text()[-3000:]}")
            reply: Json = json.loads(line)
            return reply

        hello = await hear_service()
        url = f"http://127.0.0.1:{hello['port']}"
        load_before = uptime()
        http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        watchers = [Watcher() for _ in hello["sessions"]]
        readies = [asyncio.Event() for _ in watchers]
        tasks = [asyncio.create_task(w.run(http, url, s, r, opts.deflate))
                 for w, s, r in zip(watchers, hello["sessions"], readies, strict=True)]  # fmt: skip
        await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), 60)
        proc.stdin.write(b"go\n")
        await hear_service()  # the window starts
        t0 = time.monotonic()
        await hear_service()  # the window ends
        t1 = time.monotonic()
        result = await hear_service()
        load_after = uptime()
        proc.stdin.write(b"stop\n")
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await http.close()
        await proc.wait()
        report(opts, result, watchers, t0, t1, load_before, load_after)


def report(opts: argparse.Namespace, r: Json, watchers: list[Watcher], t0: float, t1: float,
           load_before: str, load_after: str) -> None:  # fmt: skip
    window = t1 - t0
    counts = [sum(t0 <= t < t1 for t in w.at) for w in watchers]
    burst = max(max((sum(a <= b < a + 1.0 for b in w.at) for a in w.at if t0 <= a < t1), default=0)
                for w in watchers)  # fmt: skip
    gaps = [b - a for w in watchers for a, b in zip(w.at, w.at[1:], strict=False) if t0 <= a < t1]
    made = r["changes"] / (opts.warmup + opts.seconds)
    deflate = "on" if opts.deflate else "off"
    lines = [
        f"wallboard bench: {opts.agents} agents, {opts.supervisors} supervisors, "
        f"permessage-deflate {deflate}, "
        f"{made:.0f} state changes/s made ({opts.changes:.0f} asked), {opts.calls:g} calls/s; "
        f"{window:.1f} s measured after {opts.warmup:g} s warm-up; no Asterisk (simulated PBX)",
        f"  service CPU: {r['cpu_s'] / r['wall_s']:.2f} of one core (feed ticks "
        f"{r['feed_s'] / r['wall_s']:.3f} of a core; {r['builds']} views built in all)",
        f"  pushes per supervisor per second: mean {sum(counts) / len(counts) / window:.2f}, largest "
        f"{max(counts) / window:.2f}; shortest gap between pushes {min(gaps, default=float('nan')):.3f} s, "
        f"most in any 1 s: {burst}",
        f"  view: {r['view_bytes']} bytes at the end (last push received: {max(w.size for w in watchers)} "
        f"bytes); service RSS {r['rss_kb'] / 1024:.0f} MiB; {r['offers']} offers made",
        f"  load before: {load_before}",
        f"  load after:  {load_after}  ({os.cpu_count()} cores)",
    ]
    print("\n".join(lines))


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--agents", type=int, default=1000)
    p.add_argument("--supervisors", type=int, default=200)
    p.add_argument("--changes", type=float, default=1000.0, help="agent state changes per second")
    p.add_argument("--calls", type=float, default=5.0, help="calls per second")
    p.add_argument("--seconds", type=float, default=30.0)
    p.add_argument("--warmup", type=float, default=5.0)
    p.add_argument("--deflate", action=argparse.BooleanOptionalAction, default=True,
                   help="negotiate permessage-deflate, as browsers do (default on)")  # fmt: skip
    opts = p.parse_args(argv)
    if opts.serve is not None:
        asyncio.run(serve(opts, opts.serve))
    else:
        asyncio.run(client(opts))


if __name__ == "__main__":
    main()
