"""Several instances under load on the real Asterisk sandbox (issue 15): three ``switchboard serve`` on one
PostgreSQL store and a private Redis, steady calls, the leader SIGKILLed mid-run.

``--calls N`` calls at ``--rate R`` calls/s to ``--agents`` agents on the sandbox phones
``Local/3NN@switchboard-agents/n`` (answer after 300 ms, hang up 2 s later), the agents' consoles dealt
over the three instances in turn (each signed in over HTTP where it connects). ``--kill-after S``
seconds in, the member leading then gets SIGKILL; its consoles reconnect to the two survivors with their
session cookies, as the page does. The killed instance is not started again.

Printed, from Asterisk's own events (``pop_latency.Observer``), the consoles, the instances' health
checks and logs, and the call log in PostgreSQL:

* failover: SIGKILL -> a survivor's ``/healthz`` says ``leader``, -> it holds the ARI websocket, and
  -> the first agent leg created after the kill rings (the new leader routing; target < 2 s);
* callers lost (entered Stasis, no call-log row; target 0), calls written to the call log more than
  once (``call.logged`` over all three logs; target 0), calls offered on two phones at once (two agent
  legs of one caller alive together, from Asterisk's channels; target 0), rows not answered;
* Stasis entry -> agent ringing for the calls that entered Stasis before the kill, in the 5 s after it
  (from their first, failed, try: the dialplan tries again every 0.5 s) and later;
* Stasis entry -> pop read, for consoles on the leader and on a follower at the time, before the kill
  and after the 5 s that follow it; its p99 is mostly the ring's own (the queue, the failover);
* agent leg ringing -> pop read, the same split: the pop's own path (the leader pops the screen on that
  ring; a follower's console gets it from its replica, a stream read behind the leader; target: a
  follower's p99 at most 3 ms above the leader's), and the two halves of it, split at the moment the
  ``OfferRinging`` line could be read from the journal stream (the bench reads the stream itself).

    scripts/asterisk-sandbox up
    .venv/bin/python bench/cluster_run.py [--calls 600] [--rate 20] [--agents 60] [--kill-after 10]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from _cluster_figures import (
    Leadership,
    Pop,
    doubles,
    first_ring_after,
    leadership_lines,
    logged,
    pop_legs,
    pops_by_role,
    ring_to_pop_by_role,
    ringing_lines,
    windows,
)
from _cluster_rig import (
    Health,
    NoAri,
    StreamTap,
    Takeover,
    call_in,
    call_log,
    cluster_up,
    full_logs,
    move,
    sample_leaders,
    sandbox,
    seat_all,
    watch_takeover,
)
from pop_latency import (
    Figure,
    Observer,
    Seen,
    code_version,
    figure,
    percentile,
)

DURING_S = 5.0  # "during the failover": calls that entered Stasis in this long after the kill
TARGET_FAILOVER_S, TARGET_POP_EXTRA_MS = 2.0, 3.0
HEADS = f"{'p50':>8} {'p99':>8} {'max':>8} {'measured':>9} {'lost':>5}"


@dataclass(frozen=True)
class ClusterOptions:
    calls: int
    rate: float
    agents: int
    kill_after_s: float
    keep: bool


@dataclass
class Outcome:
    """What one run saw, for the report."""

    who: Leadership
    old: str
    killed_at: float
    took: Takeover
    moved_s: float
    moved: int
    calls: list[str]
    failed: int
    rows: dict[str, tuple[str, str]]
    logs: dict[str, str]  # instance -> its whole log
    calls_from: float
    cpu: str
    pops: list[Pop]
    refusals: list[str]
    refused_moves: list[str]
    health: dict[str, Health | None]  # each instance's, as the calls start
    lines: dict[str, float]  # offer -> when its OfferRinging line was read from the journal stream
    left: int = 0


async def run(opts: ClusterOptions) -> int:
    tag = f"clu{uuid.uuid4().hex[:6]}"
    try:
        async with sandbox(tag, "sb-cluster-", opts.keep) as box:
            outcome = await loaded(box.ari, box.observer, opts, tag, box.workdir)
    except NoAri as exc:
        print(f"cluster_run: {exc}", file=sys.stderr)
        return 2
    outcome.left = box.left
    report(opts, box.version, outcome, box.observer)
    if opts.keep:
        print(f"kept: {box.workdir}")
    return 0


async def loaded(
    ari: aiohttp.ClientSession, observer: Observer, opts: ClusterOptions, tag: str, workdir: Path
) -> Outcome:
    agents = [str(301 + i) for i in range(opts.agents)]
    async with aiohttp.ClientSession() as http, cluster_up(workdir, agents, http) as cluster:
        refusals: list[str] = []
        seats = await seat_all(http, agents, cluster.members, refusals)
        await cluster.leader(http, timeout=30)
        health = await cluster.sample(http)
        who = Leadership()
        sampling = asyncio.create_task(sample_leaders(http, cluster.members, who))
        tap = StreamTap(cluster)
        tap.start()
        calls_from = time.time()
        loading = asyncio.create_task(call_in(ari, observer.seen, cluster, opts.calls, opts.rate, tag, {}))
        await asyncio.sleep(opts.kill_after_s)
        old = await cluster.leader(http, timeout=30)  # whoever leads now, with the ARI websocket
        killed_at = time.time()
        old.kill()  # SIGKILL
        survivors = [m for m in cluster.members if m is not old]
        took = await watch_takeover(http, survivors, limit_s=30)
        on_old = [s for s in seats if s.member is old]
        refused_moves: list[str] = []
        moved_s = await move(on_old, survivors, refused_moves)
        load = await loading
        await tap.stop()
        sampling.cancel()
        await asyncio.gather(sampling, return_exceptions=True)
        await asyncio.sleep(2.0)  # the last hang-ups' call-log writes
        rows = {r["call_id"]: (r["outcome"], r["hung_up_by"]) for r in await call_log(cluster.store_url)}
        logs = {m.name: full_logs(m) for m in cluster.members}
        pops = [p for s in seats for p in s.pops]
        for seat in seats:
            await seat.close()
    placed = [c for c in load.placed if c not in load.failed]
    return Outcome(who, old.name, killed_at, took, moved_s, len(on_old), placed, len(load.failed), rows,
                   logs, calls_from, load.cpu, pops, refusals, refused_moves, health,
                   ringing_lines(tap.read))  # fmt: skip


def report(opts: ClusterOptions, version: str, o: Outcome, observer: Observer) -> None:
    seen, calls = observer.seen, o.calls
    start = seen.entries(calls, "Stasis")
    print(f"cluster_run  {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}  N={opts.calls} "
          f"R={opts.rate:g}/s  agents={opts.agents} (consoles on 3 instances)  leader SIGKILLed after "
          f"{opts.kill_after_s:g} s  lease 1000 ms  Asterisk {version}  code {code_version()}")  # fmt: skip
    print(f"setup: console orders refused while leadership moved, said again: {len(o.refusals)}")
    for line in o.refusals[:5]:
        print(f"  {line.splitlines()[0][:200]}")
    print(f"as the calls started: {'; '.join(f'{n} {brief(h)}' for n, h in o.health.items())}")
    report_failover(o, seen)
    report_calls(o, seen, start)
    groups = windows(start, calls, o.killed_at, DURING_S)
    ring = {c: t for c in calls if (t := seen.first_ring(c, f"sb-{c}-")) is not None}
    print(f"{'Stasis entry -> agent ringing (ms)':<46} {HEADS}")
    labels = ("  entered before the kill", f"  in the {DURING_S:g} s after it (from 1st try)", "  later")
    for label, group in zip(labels, groups, strict=True):
        print(figure(label, group, start, ring).row())
    report_pops(o, start, groups)
    report_ring_pops(o, seen, groups)
    print(f"{o.cpu}\nleftover channels hung up: {o.left}")
    report_leadership(o)


def report_failover(o: Outcome, seen: Seen) -> None:
    took, first = o.took, first_ring_after(seen, o.calls, o.killed_at)
    print(f"failover ({o.old} SIGKILLed -> {took.leader} leads, term {took.term}):")
    print(f"  its /healthz says leader:           {since(took.said_leader_at, o.killed_at)}")
    print(f"  it holds the ARI websocket:          {since(took.connected_at, o.killed_at)}")
    routing = None if first is None or took.said_leader_at is None else max(first, took.said_leader_at)
    print(f"  first agent leg of its own rings:    {since(first, o.killed_at)}")
    target = f"(target < {TARGET_FAILOVER_S:g} s)"
    print(f"  failover (leader AND ringing):       {since(routing, o.killed_at)}  {target}")
    print(f"  consoles of the killed instance reconnected elsewhere: {o.moved} in {o.moved_s:.2f} s, "
          f"refused {len(o.refused_moves)} times on the way (the page tries again)")  # fmt: skip
    for line in o.refused_moves[:3]:
        print(f"    {line.splitlines()[0][:200]}")


def report_calls(o: Outcome, seen: Seen, start: dict[str, float]) -> None:
    calls = o.calls
    lost = [c for c in calls if c in start and c not in o.rows]
    never = [c for c in calls if c not in start]
    twice = sorted(c for c, n in logged(o.logs.values()).items() if n > 1 and c in set(calls))
    double = doubles(seen, calls)
    unanswered = [f"{c}: {o.rows[c]}" for c in calls if c in o.rows and o.rows[c] != ("answered", "agent")]
    print(f"callers placed: {len(calls)} (+{o.failed} originate failures); "
          f"never entered Stasis: {len(never)}")  # fmt: skip
    print(f"calls lost (entered Stasis, no call-log row): {len(lost)}  (target 0)  {' '.join(lost[:5])}")
    print(f"calls written to the call log more than once: {len(twice)}  (target 0)  {' '.join(twice[:5])}")
    print(f"calls offered on two phones at once (Asterisk's channels): {len(double)}  (target 0)")
    print(f"rows not 'answered, hung up by the agent': {len(unanswered)}")
    for line in double[:3] + unanswered[:3]:
        print(f"  {line}")


def report_pops(o: Outcome, start: dict[str, float], groups: list[list[str]]) -> None:
    print(f"{'Stasis entry -> pop read (ms)':<46} {HEADS}")
    for when, group in (("before the kill", groups[0]), (f"from {DURING_S:g} s after", groups[2])):
        split = pops_by_role(o.pops, start, group, o.who)
        rows = [Figure(f"  {when}: console on the {role}", ms, 0) for role, ms in split.items()]
        for row in rows:
            print(row.row())
        leader, follower = (r.p99 for r in rows)
        if leader is not None and follower is not None:
            extra = follower - leader
            verdict = "met" if extra <= TARGET_POP_EXTRA_MS else "NOT MET"
            print(f"    follower p99 - leader p99: {extra:+.1f} ms  "
                  f"(target <= {TARGET_POP_EXTRA_MS:g} ms: {verdict})")  # fmt: skip


def report_ring_pops(o: Outcome, seen: Seen, groups: list[list[str]]) -> None:
    """The pop's own path, without the ring: the agent leg rang -> its pop read, by where the console was."""
    print(f"{'Agent leg ringing -> pop read (ms)':<46} {HEADS}")
    for when, group in (("before the kill", groups[0]), (f"from {DURING_S:g} s after", groups[2])):
        split, unringed = ring_to_pop_by_role(o.pops, seen, group, o.who)
        rows = [Figure(f"  {when}: console on the {role}", ms, 0) for role, ms in split.items()]
        for row in rows:
            print(row.row())
        leader, follower = rows
        if leader.ms and follower.ms:
            p50 = percentile(follower.ms, 50) - percentile(leader.ms, 50)
            p99 = percentile(follower.ms, 99) - percentile(leader.ms, 99)
            verdict = "met" if p99 <= TARGET_POP_EXTRA_MS else "NOT MET"
            print(f"    follower - leader: p50 {p50:+.1f} ms, p99 {p99:+.1f} ms  "
                  f"(target: p99 at most {TARGET_POP_EXTRA_MS:g} ms more: {verdict})")  # fmt: skip
        if unringed:
            print(f"    pops with no ring of their leg seen (not counted): {unringed}")
        legs = pop_legs(o.pops, seen, o.lines, group, o.who)
        for role, (to_line, to_pop) in legs.items():
            print(Figure(f"    {role}: ring -> its line read from the stream", to_line, 0).row())
            print(Figure(f"    {role}: line read -> pop read", to_pop, 0).row())


def report_leadership(o: Outcome) -> None:
    """Who said they led, as sampled every 50 ms during the calls, and the instances' own lines."""
    changes = [f"+{at - o.calls_from:.2f} s {who or 'nobody'}" for at, who in o.who.changes()]
    print(f"leadership by /healthz from the first call on ({len(o.who.samples)} samples, "
          f"{o.who.several()} with two leaders, kill at +{o.killed_at - o.calls_from:.2f} s): "
          f"{', '.join(changes[:20])}")  # fmt: skip
    since_calls = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(o.calls_from))
    lines = [line for line in leadership_lines(o.logs) if line[:19] >= since_calls]
    print(f"the instances' log lines on leading from the first call on ({len(lines)}):")
    for line in lines[:20]:
        print(f"  {line}")


def brief(health: Health | None) -> str:
    if health is None:
        return "no answer"
    ari = "ARI connected" if health.get("ari_connected") else "no ARI"
    return f"{health.get('role')} (term {health.get('term')}, {ari})"


def since(at: float | None, origin: float) -> str:
    return "never" if at is None else f"{at - origin:.3f} s"


def parse_args(argv: Sequence[str] | None) -> ClusterOptions:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--calls", type=int, default=600, help="calls placed in all (default 600)")
    p.add_argument("--rate", type=float, default=20.0, help="calls per second (default 20)")
    p.add_argument("--agents", type=int, default=60, help="agents, 1..99 (default 60)")
    p.add_argument("--kill-after", type=float, default=10.0, help="seconds into the run (default 10)")
    p.add_argument("--keep", action="store_true", help="keep the instances' configs and logs")
    a = p.parse_args(argv)
    if a.calls < 1 or a.rate <= 0 or not 3 <= a.agents <= 99 or not 0 < a.kill_after < a.calls / a.rate:
        p.error("need calls >= 1, rate > 0, 3..99 agents and a kill inside the run")
    return ClusterOptions(a.calls, a.rate, a.agents, a.kill_after, a.keep)


if __name__ == "__main__":
    sys.exit(asyncio.run(run(parse_args(None))))
