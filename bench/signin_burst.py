"""Whether a burst of sign-ins slows routing: ring latency with and without 200 concurrent ``POST /login``.

The real service (``switchboard.bootstrap.build``) on a real SQLite store in a temporary directory, with
``telephony.simulated.SimulatedPbx`` in place of Asterisk (``journal_cost.TimedPbx``: each offer rings
10 ms later, is answered 300 ms after that, the caller hangs up 1 s after the ring), ``--agents`` agents
ready, callers arriving at ``--rate`` calls/s. Ring latency is, per call, from the arrival handed to the
router to the PBX adapter being told to ring an agent, as in ``journal_cost.py``. The console app
listens on a real port; ``--signins`` users exist (argon2id hashes with argon2-cffi's defaults, one hash
reused: see ``_fanout_service.add_users``).

Each round starts a fresh service on a copy of the seeded store, signs one user in (so the password
worker process runs before anything is timed), lets 1 s of calls pass uncounted, then:

* quiet: counts the calls that arrive in the next ``--seconds`` s;
* burst: a separate client process (started and ready beforehand, so its own start costs nothing here;
  browsers are on other machines) sends ``--signins`` sign-ins at once, each its own connection, and the
  calls that arrive from the go until the last sign-in is answered are counted.

Rounds alternate the order of the kinds, since this machine's speed changes within minutes; ``--verify
thread`` adds burst rounds with the old in-thread argon2 (``PasswordWorker(separate_process=False)``) for
comparison. Percentiles are nearest-rank over every counted call of every round of a kind.

    .venv/bin/python bench/signin_burst.py [--rate 20] [--agents 100] [--signins 200] [--rounds 2]
                                           [--seconds 10] [--verify process|thread|both]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import structlog
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _fanout_service import PASSWORD, add_users  # noqa: E402
from journal_cost import DID, TimedPbx, percentile, plan  # noqa: E402

from config.settings import AriSettings, Settings  # noqa: E402
from crm_core.sql.engine import open_engine  # noqa: E402
from crm_core.sql.migrate import upgrade_async  # noqa: E402
from crm_core.sql.password_worker import PasswordWorker  # noqa: E402
from crm_core.sql.store import SqlStore  # noqa: E402
from routing import events as ev  # noqa: E402
from routing.ids import CallId  # noqa: E402
from switchboard.bootstrap import Service, build  # noqa: E402

WARMUP_S = 1.0


@dataclass
class Round:
    kind: str  # "quiet", "burst", or "burst-thread"
    latencies_ms: list[float]
    signins: dict[str, float] = field(default_factory=dict)  # the client's figures, for a burst


def user_names(count: int) -> list[str]:
    return [f"s{i:04d}" for i in range(count)]


def settings(opts: argparse.Namespace, db: Path) -> Settings:
    return Settings(
        ari=AriSettings("http://127.0.0.1:1", "bench", "bench", "bench-signin"),
        database_url=f"sqlite+aiosqlite:///{db}", http_host="127.0.0.1", http_port=0, region="US",
        caller_context="bench", inbound_context="bench", plan=plan(opts.agents),
    )  # fmt: skip


async def seeded_store(opts: argparse.Namespace, template: Path) -> None:
    url = f"sqlite+aiosqlite:///{template}"
    await upgrade_async(url)
    await add_users(url, user_names(opts.signins))


async def served(opts: argparse.Namespace, db: Path, in_process: bool) -> tuple[Service, web.AppRunner, str]:
    worker = PasswordWorker(separate_process=in_process)
    store = SqlStore(open_engine(f"sqlite+aiosqlite:///{db}"), "US", passwords=worker)
    service = await build(settings(opts, db), store=store, pbx=TimedPbx)
    await service.start(http=False)
    runner = web.AppRunner(service.web)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0, backlog=1024).start()
    for agent in service.settings.plan.agents:
        service.loop.submit(ev.AgentLoggedIn(agent, time.time()))
        service.loop.submit(ev.AgentBecameReady(agent, time.time()))
    return service, runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


async def one_round(opts: argparse.Namespace, kind: str, template: Path, workdir: Path) -> Round:
    db = workdir / "store.db"
    shutil.copy(template, db)
    service, runner, url = await served(opts, db, in_process=kind != "burst-thread")
    pbx = service.pbx
    assert isinstance(pbx, TimedPbx)
    await sign_in_once(url)  # starts the password worker, untimed
    client = await start_client(url, opts.signins) if kind != "quiet" else None
    await asyncio.sleep(0.5)
    placing = asyncio.create_task(place_calls(pbx, opts.rate))
    await asyncio.sleep(WARMUP_S)
    first = len(pbx.arrived)
    signins: dict[str, float] = {}
    if client is None:
        await asyncio.sleep(opts.seconds)
    else:
        signins = await burst(client)
    last = len(pbx.arrived)
    placing.cancel()
    await asyncio.sleep(1.0)  # the last counted calls are offered
    await runner.cleanup()
    await service.stop()
    calls = [CallId(f"c{i:06d}") for i in range(first, last)]
    missing = [c for c in calls if c not in pbx.rung]
    if missing:
        raise SystemExit(f"{len(missing)} calls never offered: too many calls for the agents")
    return Round(kind, [(pbx.rung[c] - pbx.arrived[c]) * 1000 for c in calls], signins)


async def sign_in_once(url: str) -> None:
    login = {"username": "s0000", "password": PASSWORD}
    async with aiohttp.ClientSession() as http, http.post(f"{url}/login", json=login) as r:
        assert r.status == 200, await r.text()


async def place_calls(pbx: TimedPbx, rate: float) -> None:
    t0 = time.monotonic()
    for i in range(10**9):
        await asyncio.sleep(max(0.0, t0 + i / rate - time.monotonic()))
        pbx.arrive(CallId(f"c{i:06d}"), DID, f"+1415555{i % 1000:04d}")


async def start_client(url: str, count: int) -> asyncio.subprocess.Process:
    client = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--client", url, "--signins", str(count),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert client.stdout is not None
    assert json.loads(await client.stdout.readline()) == {"ready": True}
    return client


async def burst(client: asyncio.subprocess.Process) -> dict[str, float]:
    assert client.stdin is not None and client.stdout is not None
    client.stdin.write(b"go\n")
    await client.stdin.drain()
    figures: dict[str, float] = json.loads(await client.stdout.readline())
    await client.wait()
    return figures


async def sign_in_all(url: str, count: int) -> None:
    """The client process: ready, then on "go" every sign-in at once, then its figures as one JSON line."""
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=600)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        print(json.dumps({"ready": True}), flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        t0 = time.monotonic()

        async def one(name: str) -> tuple[int, float]:
            async with http.post(f"{url}/login", json={"username": name, "password": PASSWORD}) as r:
                await r.read()
                return r.status, time.monotonic() - t0

        answers = await asyncio.gather(*(one(name) for name in user_names(count)))
    took = sorted(s for _, s in answers)
    ok = sum(1 for status, _ in answers if status == 200)
    print(json.dumps({"ok": ok, "sent": count, "first_s": took[0], "median_s": took[len(took) // 2],
                      "last_s": took[-1]}), flush=True)  # fmt: skip


def order(n: int, verify: str) -> list[str]:
    kinds = {"process": ["quiet", "burst"], "thread": ["quiet", "burst-thread"]}.get(
        verify, ["quiet", "burst", "burst-thread"]
    )
    return kinds if n % 2 == 0 else kinds[::-1]


def report(opts: argparse.Namespace, rounds: list[Round]) -> None:
    by_kind = {k: [x for r in rounds if r.kind == k for x in r.latencies_ms] for k in dict.fromkeys(
        r.kind for r in rounds)}  # fmt: skip
    print(f"\n{opts.rate:g} calls/s, {opts.agents} agents, {opts.signins} sign-ins per burst, "
          f"{opts.rounds} rounds of each, interleaved")  # fmt: skip
    quiet = by_kind["quiet"]
    for p in (50, 90, 99):
        line = f"  p{p}: quiet {percentile(quiet, p):6.2f} ms"
        for kind in ("burst", "burst-thread"):
            if kind in by_kind:
                b = percentile(by_kind[kind], p)
                line += f", {kind} {b:8.2f} ms ({b - percentile(quiet, p):+8.2f})"
        print(line)
    print(f"  max: quiet {max(quiet):.2f} ms" + "".join(
        f", {k} {max(v):.2f} ms" for k, v in by_kind.items() if k != "quiet"))  # fmt: skip
    if "burst" in by_kind:
        moved = percentile(by_kind["burst"], 99) - percentile(quiet, 99)
        verdict = "met" if moved <= 5.0 else "NOT MET"
        print(f"target: a burst moves ring p99 by <= 5 ms: {verdict} ({moved:+.2f} ms)")


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--agents", type=int, default=100)
    parser.add_argument("--signins", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--verify", choices=("process", "thread", "both"), default="both")
    parser.add_argument("--client", help=argparse.SUPPRESS)  # the sign-in client process' own mode
    opts = parser.parse_args()
    if opts.client:
        await sign_in_all(opts.client, opts.signins)
        return
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))  # errors only
    rounds: list[Round] = []
    with tempfile.TemporaryDirectory() as workdir:
        template = Path(workdir) / "template.db"
        await seeded_store(opts, template)
        for n in range(opts.rounds):
            for kind in order(n, opts.verify):
                with tempfile.TemporaryDirectory() as roundir:
                    r = await one_round(opts, kind, template, Path(roundir))
                rounds.append(r)
                p50, p99 = percentile(r.latencies_ms, 50), percentile(r.latencies_ms, 99)
                extra = ""
                if r.signins:
                    s = r.signins
                    extra = (f"; sign-ins {s['ok']:.0f}/{s['sent']:.0f} ok, first {s['first_s']:.2f} s,"
                             f" median {s['median_s']:.2f} s, last {s['last_s']:.2f} s")  # fmt: skip
                top = max(r.latencies_ms)
                print(f"round {n + 1} {kind:12}: p50 {p50:6.2f} ms  p99 {p99:7.2f} ms  max {top:7.2f} ms"
                      f" ({len(r.latencies_ms)} calls){extra}", flush=True)  # fmt: skip
    report(opts, rounds)


if __name__ == "__main__":
    asyncio.run(main())
