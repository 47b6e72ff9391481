"""5,000 consoles over three instances at 50 pops/s (issue 15): pop latency per instance and role, memory
per console, CPU, on three real ``switchboard serve`` and the real Asterisk sandbox.

What runs (``bench/_cluster_rig.py``, the cluster tests' harness): a private ``redis-server``, a fresh
PostgreSQL database, three members ``a``, ``b``, ``c`` with ``--consoles`` agents in their config, each
agent's phone one of the ``3XX`` sandbox phones (``Local/3NN@switchboard-agents/n``, many agents to one
extension: each dial is a channel of its own; it answers after 300 ms and hangs up 2 s later).

Consoles: one websocket per agent, dealt over the three in turn, each joining the ACD as the page does
(``login``); the first ``--ready`` of them also say ``ready`` (enough for the rate: an agent is busy about
2.5 s a call), the rest stay connected and signed in. Users are made through the real store with one
argon2 hash reused (``_fanout_service.add_users``); the first ``--http-logins`` consoles sign in with
``POST /login`` (a real argon2 verification), the others get a session minted in the shared store by
the console's own ``Sessions`` (argon2 costs about 0.2 s a login here). Every console goes through the
real ``/ws`` session check of the instance it connects to.

Calls: ``pop_latency.py``'s G.711 ``Local/`` callers, ``--calls`` at ``--rate`` calls/s into the
cluster's app (each call one pop once its agent's leg rings).

Printed:

* agent leg ringing (Asterisk's timestamp, as seen by an ARI app of the bench's own) -> pop read by the
  console (p50, p99, max, measured, lost) per instance and role (leader or follower when read; target
  p99 < 50 ms). Lost: a call answered by an agent whose console read no pop of it;
* each member's VmRSS before the consoles connect, once all are connected and idle, and at the end; per
  console = (connected - before) / its consoles;
* CPU of each member, Asterisk and the bench while the calls ran; the machine's load (``uptime``)
  before and after;
* Stasis entry -> agent ringing (the PBX side of the same calls), calls lost, leadership changes.

    scripts/asterisk-sandbox up
    flock /tmp/asterisk.lock .venv/bin/python bench/cluster_consoles.py \\
        [--consoles 5000] [--rate 50] [--calls 3000] [--ready 250] [--http-logins 3]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from _cluster_figures import Leadership, Pop, ring_to_pop, unread
from _cluster_rig import NoAri, PopSeat, call_in, call_log, cluster_up, sample_leaders, sandbox, sit_down
from _fanout_service import add_users
from console_fanout import raise_open_files
from pop_latency import (
    Figure,
    Observer,
    Seen,
    code_version,
    figure,
    percentile,
)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this work tree's packages and the cluster tests' harness

from agent_console.sessions import Sessions  # noqa: E402
from crm_core.sql.engine import open_engine  # noqa: E402
from crm_core.sql.password_worker import PasswordWorker  # noqa: E402
from crm_core.sql.store import SqlStore  # noqa: E402
from switchboard import heap  # noqa: E402
from tests.integration.cluster.cluster_harness import Cluster, Member  # noqa: E402
from tests.integration.conftest import PASSWORD, phone  # noqa: E402

TARGET_P99_MS = 50.0
HEADS = f"{'p50':>8} {'p99':>8} {'max':>8} {'measured':>9} {'lost':>5}"
CONNECTING = 48  # consoles opening at once, over the three members
BENCH_PAUSE_S = 0.005  # the bench's own collections said: one this long delays the pops it is reading
PAUSE = re.compile(r"heap\.gc-pause .*?ms=([0-9.]+)")
IDLE_S = 5.0  # after the last console is in: its login's replies, log lines and journal writes are done


@dataclass(frozen=True, kw_only=True)
class ConsoleOptions:
    consoles: int
    rate: float
    calls: int
    ready: int
    http_logins: int
    lease_ms: int
    keep: bool


@dataclass
class Outcome:
    """What one run saw, for the report."""

    seats: dict[str, str]  # agent -> the member its console is on
    rss: dict[str, list[int]]  # member -> VmRSS kB before the consoles, connected and idle, at the end
    connect_s: float
    refusals: list[str]
    who: Leadership
    pops: list[Pop]
    calls: list[str]
    failed: int
    answered: dict[str, str]  # call -> agent, from the call log
    rows: int
    cpu: str
    load: list[str]  # ``uptime`` before and after
    pauses: dict[str, list[float]]  # member -> its heap.gc-pause lines' ms (the whole run); "bench": its own
    left: int = 0


async def run(opts: ConsoleOptions) -> int:
    limit = raise_open_files(opts.consoles + 1024)  # the members inherit it: each holds a third of them
    load = [uptime()]
    tag = f"cco{uuid.uuid4().hex[:6]}"
    try:
        async with sandbox(tag, "sb-cluster-consoles-", opts.keep) as box:
            outcome = await loaded(box.ari, box.observer, opts, tag, box.workdir, load)
    except NoAri as exc:
        print(f"cluster_consoles: {exc}", file=sys.stderr)
        return 2
    outcome.left = box.left
    report(opts, box.version, outcome, box.observer, limit)
    if opts.keep:
        print(f"kept: {box.workdir}")
    return 0


async def loaded(
    ari: aiohttp.ClientSession, observer: Observer, opts: ConsoleOptions, tag: str, workdir: Path,
    load: list[str],
) -> Outcome:  # fmt: skip
    agents = [f"c{n:05d}" for n in range(opts.consoles)]
    phones = {a: phone(f"3{n % 100:02d}") for n, a in enumerate(agents)}

    async def users(cluster: Cluster) -> None:
        await add_users(cluster.store_url, agents, PASSWORD)

    # One connection per console, as as many browsers would hold: no pool limit.
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http, cluster_up(
        workdir, agents, http, phones, users, opts.lease_ms
    ) as cluster:  # fmt: skip
        members = cluster.members
        await cluster.leader(http, timeout=60)
        await asyncio.sleep(IDLE_S)
        rss = {m.name: [vm_rss_kb(m)] for m in members}
        refusals: list[str] = []
        started = time.monotonic()
        seats = await seat_many(http, agents, members, opts, refusals)
        connect_s = time.monotonic() - started
        await asyncio.sleep(IDLE_S)
        for m in members:
            rss[m.name].append(vm_rss_kb(m))
        who = Leadership()
        sampling = asyncio.create_task(sample_leaders(http, members, who))
        leader = await cluster.leader(http, timeout=60)
        roles = {m.name: f"{m.name} ({'leader' if m is leader else 'follower'})" for m in members}
        pids = {roles[m.name]: m.process.pid for m in members if m.process is not None}
        gc.collect()
        gc.freeze()  # the bench's own 5,000 consoles: its collections would delay reading the pops it times
        own = heap.HeapWatch(BENCH_PAUSE_S, lambda *_, ms, **__: bench_pauses.append(ms))
        bench_pauses: list[float] = []
        own.install()
        try:
            done = await call_in(ari, observer.seen, cluster, opts.calls, opts.rate, tag, pids)
        finally:
            own.remove()
        sampling.cancel()
        await asyncio.gather(sampling, return_exceptions=True)
        await asyncio.sleep(2.0)  # the last hang-ups' call-log writes
        for m in members:
            rss[m.name].append(vm_rss_kb(m))
        rows = await call_log(cluster.store_url)
        pops = [p for s in seats for p in s.pops]
        pauses = {m.name: [float(ms) for ms in PAUSE.findall(whole_log(m))] for m in members}
        pauses["bench"] = bench_pauses
        await asyncio.gather(*(s.close() for s in seats), return_exceptions=True)
    load.append(uptime())
    answered = {r["call_id"]: r["agent_id"] for r in rows if r["outcome"] == "answered" and r["agent_id"]}
    placed = [c for c in done.placed if c not in done.failed]
    return Outcome(
        seats={s.agent: s.member.name for s in seats if s.member is not None}, rss=rss, connect_s=connect_s,
        refusals=refusals, who=who, pops=pops, calls=placed, failed=len(done.failed), answered=answered,
        rows=len(rows), cpu=done.cpu, load=load, pauses=pauses,
    )  # fmt: skip


async def seat_many(
    http: aiohttp.ClientSession, agents: Sequence[str], members: Sequence[Member], opts: ConsoleOptions,
    refusals: list[str],
) -> list[PopSeat]:  # fmt: skip
    """One console per agent dealt over ``members`` in turn (so the ready ones, the first, are too): the
    first ``http_logins`` signed in with ``POST /login``, the others with a session minted in the store."""
    seats = [PopSeat(agent, http) for agent in agents]
    minted = await mint_sessions(members[0].store_url, agents[opts.http_logins :])
    gate = asyncio.Semaphore(CONNECTING)

    async def one(n: int, seat: PopSeat) -> None:
        member = members[n % len(members)]
        async with gate:
            if seat.agent in minted:
                seat.cookie = minted[seat.agent]
            else:
                await seat.sign_in(member)
            await sit_down(seat, member, refusals, ready=n < opts.ready)

    await asyncio.gather(*(one(n, s) for n, s in enumerate(seats)))
    return seats


async def mint_sessions(store_url: str, agents: Sequence[str]) -> dict[str, str]:
    """agent -> a session id, started by the console's own ``Sessions`` in the cluster's shared store."""
    store = SqlStore(open_engine(store_url), "US", passwords=PasswordWorker(separate_process=False))
    try:
        sessions = Sessions(store.sessions, time.time)
        return {a: (await sessions.start(a)).id for a in agents}
    finally:
        await store.close()


def whole_log(member: Member) -> str:
    """Every line the member logged (``Member.log`` keeps only the end, for a failing test's message)."""
    return "\n".join(p.read_text(errors="replace") for p in sorted(member.workdir.glob("serve-*.log")))


def vm_rss_kb(member: Member) -> int:
    assert member.process is not None
    for line in Path(f"/proc/{member.process.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for member {member.name}")


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


# --- report ---------------------------------------------------------------------------------------
def report(
    opts: ConsoleOptions, version: str, o: Outcome, observer: Observer, limit: tuple[int, int]
) -> None:
    seen, calls = observer.seen, o.calls
    per = {name: sum(1 for m in o.seats.values() if m == name) for name in o.rss}
    print(f"cluster_consoles  {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}  consoles={opts.consoles} "
          f"({', '.join(f'{n} on {m}' for m, n in per.items())})  ready={opts.ready}  R={opts.rate:g}/s  "
          f"N={opts.calls}  lease {opts.lease_ms} ms  Asterisk {version}  code {code_version()}")  # fmt: skip
    print(f"machine before: {o.load[0]}")
    print(f"machine after:  {o.load[-1]}")
    print(f"consoles: {opts.http_logins} signed in with POST /login, {opts.consoles - opts.http_logins} with "
          f"sessions minted in the shared store; all connected and joined ({opts.ready} ready) in "
          f"{o.connect_s:.1f} s, refused {len(o.refusals)} times on the way; "
          f"RLIMIT_NOFILE {limit[0]}")  # fmt: skip
    for line in o.refusals[:3]:
        print(f"  {line.splitlines()[0][:200]}")
    start = seen.entries(calls, "Stasis")
    ring = {c: t for c in calls if (t := seen.first_ring(c, f"sb-{c}-")) is not None}
    print(f"callers placed: {len(calls)} (+{o.failed} originate failures); entered Stasis: {len(start)}; "
          f"call-log rows: {o.rows}, answered by an agent: {len(o.answered)}")  # fmt: skip
    print(f"{'Stasis entry -> agent ringing (ms)':<46} {HEADS}")
    print(figure("  every call", calls, start, ring).row())
    report_pops(o, seen, calls)
    report_memory(o, per)
    print(o.cpu)
    print(
        "full collections of 20 ms or more (heap.gc-pause; the bench's own, 5 ms or more, in the calls): "
        + ", ".join(f"{who} {len(ms)}, longest {max(ms, default=0):.0f} ms" for who, ms in o.pauses.items())
    )
    changes = [f"{who or 'nobody'} from {at - o.who.samples[0][0]:+.2f} s" for at, who in o.who.changes()]
    print(f"leadership by /healthz during the calls ({len(o.who.samples)} samples): {', '.join(changes)}")
    print(f"leftover channels hung up: {o.left}")


def report_pops(o: Outcome, seen: Seen, calls: Sequence[str]) -> None:
    split, unringed = ring_to_pop(o.pops, seen, calls, o.who)
    lost = unread(o.pops, o.answered, o.seats, seen, o.who)
    print(f"{'Agent leg ringing -> pop read (ms)':<46} {HEADS}")
    keys = sorted(set(split) | set(lost))
    for key in keys:
        print(Figure(f"  console on {key[0]} ({key[1]})", split.get(key, []), lost[key]).row())
    every = [ms for values in split.values() for ms in values]
    print(Figure("  every console", every, sum(lost.values())).row())
    worst = max((percentile(ms, 99) for ms in split.values()), default=None)
    verdict = "met" if worst is not None and worst < TARGET_P99_MS and not lost else "NOT MET"
    print(f"    target: p99 < {TARGET_P99_MS:g} ms on every instance, none lost: {verdict}"
          f"{f'; pops with no ring of their leg seen: {unringed}' if unringed else ''}")  # fmt: skip


def report_memory(o: Outcome, per: dict[str, int]) -> None:
    print("memory (VmRSS): before the consoles -> connected and idle -> at the end; per console")
    for name, (before, idle, end) in o.rss.items():
        consoles = max(per[name], 1)
        print(f"  {name}: {before / 1024:.1f} -> {idle / 1024:.1f} -> {end / 1024:.1f} MiB; "
              f"{(idle - before) / consoles:.1f} KB per console ({per[name]} consoles)")  # fmt: skip


def parse_args(argv: Sequence[str] | None) -> ConsoleOptions:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--consoles", type=int, default=5000, help="agents, each with a console (default 5000)")
    p.add_argument("--rate", type=float, default=50.0, help="calls (pops) per second (default 50)")
    p.add_argument("--calls", type=int, default=3000, help="calls placed in all (default 3000: 60 s at 50/s)")
    p.add_argument("--ready", type=int, default=250, help="agents ready for calls; the rest are not (250)")
    p.add_argument("--http-logins", type=int, default=3, help="consoles signed in with POST /login (3)")
    p.add_argument("--lease-ms", type=int, default=1000, help="the cluster's lease_ms (default 1000)")
    p.add_argument("--keep", action="store_true", help="keep the instances' configs and logs")
    a = p.parse_args(argv)
    if a.calls < 1 or a.rate <= 0 or not 3 <= a.ready <= a.consoles or not 0 <= a.http_logins <= a.consoles:
        p.error("need calls >= 1, rate > 0, 3 <= ready <= consoles, 0 <= http-logins <= consoles")
    return ConsoleOptions(consoles=a.consoles, rate=a.rate, calls=a.calls, ready=a.ready,
                          http_logins=a.http_logins, lease_ms=a.lease_ms, keep=a.keep)  # fmt: skip


if __name__ == "__main__":
    sys.exit(asyncio.run(run(parse_args(None))))
