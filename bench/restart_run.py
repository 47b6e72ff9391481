"""A crash under load on the real Asterisk sandbox: steady calls, ``switchboard serve`` SIGKILLed mid-run
and started again, and what the callers and the call log saw.

``--calls N`` calls at ``--rate R`` calls/s to ``--agents`` agents on the sandbox phones
``Local/3NN@switchboard-agents/n`` (answer after 300 ms, hang up 2 s later: every conversation is the
agent's to end). ``--kill-after S`` seconds into the run the process gets SIGKILL and is started again at
once on the same store. The consoles are not reopened: the agents' states come back with the router's,
so routing needs no console (their pops are ``bench/pop_latency.py``'s to time).

Printed, from Asterisk's own events (the observer of ``bench/pop_latency.py``) and the call log:

* until it listens: from the SIGKILL to the health check answering with ARI connected (target < 1 s);
* until routing resumes: from the new process' start to the first agent leg ringing (target < 2 s);
* conversations cut: calls answered before the kill whose log row is not the agent's hangup after the
  phone's 2 s of talk (target 0);
* callers lost (placed, entered the dialplan, no call-log row) and rows not answered (target 0);
* agents paused for ring-no-answer after the kill (target 0: every phone answers; a phone that picked up
  while the service was down was once left "ringing" in the books until its deadline paused the agent);
* Stasis entry -> agent ringing for the calls that arrived before the kill, during the outage (from
  their first, failed, try of the app: the wait the outage cost them), in the 10 s after the restart,
  and later.

The journal's own cost on ring latency is ``bench/journal_cost.py`` (with and without, interleaved).

    scripts/asterisk-sandbox up
    .venv/bin/python bench/restart_run.py [--calls 400] [--rate 20] [--agents 60] [--kill-after 10]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from pop_latency import (
    ARI_URL,
    AUTH,
    RING_TIMEOUT_S,
    Consoles,
    Observer,
    Options,
    Service,
    asterisk,
    code_version,
    figure,
    hang_up_leftovers,
    place_calls,
    settle,
)

ROOT = Path(__file__).resolve().parent.parent
TALK_S = 2.0  # the 3XX phones hang up this long after answering
SETTLE_S = 10.0  # how long after the restart the first group of "after" calls runs


@dataclass(frozen=True)
class RestartOptions:
    calls: int
    rate: float
    agents: int
    kill_after_s: float
    keep: bool
    serve: tuple[str, ...]


def misses(db: Path, since: float) -> int:
    """Agents paused for not answering after ``since`` (every phone here answers: each is a wrong miss)."""
    with sqlite3.connect(db) as con:
        (count,) = con.execute(
            "SELECT count(*) FROM agent_states WHERE reason = 'ring-no-answer' AND started_at >= ?",
            (time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(since)),),
        ).fetchone()
    return int(count)


def call_log(db: Path) -> dict[str, tuple[str, str, float, str | None]]:
    """call id -> (outcome, hung_up_by, talk_s, end_reason) as the store keeps it."""
    with sqlite3.connect(db) as con:
        rows = con.execute("SELECT call_id, outcome, hung_up_by, talk_s, end_reason FROM calls").fetchall()
    return {r[0]: (r[1], r[2], r[3], r[4]) for r in rows}


async def run(opts: RestartOptions) -> int:
    tag = f"rst{uuid.uuid4().hex[:6]}"
    connector = aiohttp.TCPConnector(limit=16)  # Asterisk's HTTP server takes 100 sessions in all
    timeout = aiohttp.ClientTimeout(30)
    async with aiohttp.ClientSession(headers=AUTH, connector=connector, timeout=timeout) as http:
        try:
            async with http.get(f"{ARI_URL}/ari/asterisk/info") as resp:
                version = str((await resp.json())["system"]["version"])
        except aiohttp.ClientError as exc:
            print(f"restart_run: no ARI at {ARI_URL} ({exc}); scripts/asterisk-sandbox up", file=sys.stderr)
            return 2
        observer = Observer(http, keep_raw=False)
        await observer.start()
        await settle()
        agents = [str(301 + i) for i in range(opts.agents)]
        workdir = Path(tempfile.mkdtemp(prefix="sb-restart-"))
        service, consoles = Service(workdir, agents, opts.serve), Consoles()
        load_opts = Options(opts.calls, opts.rate, opts.agents, 0, ("switchboard",), False, None, opts.serve)
        try:
            await service.start(http)
            await consoles.open(service.url, agents)
            loading = asyncio.create_task(place_calls(
                http, observer.seen, load_opts, tag, "switchboard-inbound", {"_SB_APP": service.app},
                drain_s=RING_TIMEOUT_S + 60, pids=asterisk(),
            ))  # fmt: skip
            await asyncio.sleep(opts.kill_after_s)
            assert service.proc is not None
            killed_at = time.time()
            service.proc.kill()  # SIGKILL
            await service.proc.wait()
            await consoles.close()  # their sockets died with the process
            restarted_at = time.time()
            await service.spawn(http)
            listening_at = time.time()
            load = await loading
        finally:
            await service.stop()
            left = await hang_up_leftovers(http, tag)
            await observer.stop()
        log = call_log(service.db)
        missed = misses(service.db, killed_at)
        if not opts.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    seen = observer.seen
    calls = [c for c in load.counted if c not in load.failed]
    start = seen.entries(calls, "Stasis")
    ring = {c: t for c in calls if (t := seen.first_ring(c, f"sb-{c}-")) is not None}
    answered = {c: t for c in calls if (t := seen.up.get(f"sb-{c}-1")) is not None}
    resumed = min((t for t in ring.values() if t > restarted_at), default=None)
    talking = [c for c in calls if c in answered and answered[c] < killed_at < seen.destroyed.get(c, 1e18)]
    cut = [c for c in talking if c in log and not (log[c][1] == "agent" and log[c][2] >= TALK_S - 0.1)]
    lost = [c for c in calls if c in start and c not in log]
    unanswered = [c for c in calls if c in log and log[c][0] != "answered"]
    before = [c for c in calls if c in start and start[c] < killed_at]
    during = [c for c in calls if c in start and killed_at <= start[c] < listening_at]
    after = [c for c in calls if c in start and listening_at <= start[c] < listening_at + SETTLE_S]
    later = [c for c in calls if c in start and start[c] >= listening_at + SETTLE_S]
    print(f"restart_run  {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}  N={opts.calls} "
          f"R={opts.rate:g}/s  agents={opts.agents}  SIGKILL after {opts.kill_after_s:g} s  "
          f"Asterisk {version}  code {code_version()}")  # fmt: skip
    print(f"until it listens again (SIGKILL -> health check with ARI connected): "
          f"{listening_at - killed_at:.2f} s  (target < 1 s)")  # fmt: skip
    resumed_s = "never" if resumed is None else f"{resumed - restarted_at:.2f} s"
    print(f"until routing resumes (new process started -> first agent leg ringing): {resumed_s}"
          "  (target < 2 s)")  # fmt: skip
    print(f"conversations up at the kill: {len(talking)}; cut: {len(cut)}  (target 0)")
    print(
        f"callers placed: {len(calls)} (+{len(load.failed)} originate failures); "
        f"lost (no call-log row): {len(lost)}; logged not answered: {len(unanswered)}"
        "  (target 0 and 0)"
    )
    print(f"agents paused for ring-no-answer after the kill: {missed}  (target 0: every phone answers)")
    heads = f"{'p50':>8} {'p99':>8} {'max':>8} {'measured':>9} {'lost':>5}"
    print(f"{'Stasis entry -> agent ringing (ms)':<46} {heads}")
    print(figure("  arrived before the kill", before, start, ring).row())
    print(figure("  arrived during the outage (from 1st try)", during, start, ring).row())
    print(figure(f"  arrived in the {SETTLE_S:g} s after the restart", after, start, ring).row())
    print(figure("  arrived later than that", later, start, ring).row())
    for c in (cut + lost + unanswered)[:10]:
        print(f"  {c}: {log.get(c, 'no row')}")
    print(f"{load.cpu}\nleftover channels hung up: {left}")
    return 0


def parse_args(argv: Sequence[str] | None) -> RestartOptions:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--calls", type=int, default=400, help="calls placed in all (default 400)")
    p.add_argument("--rate", type=float, default=20.0, help="calls per second (default 20)")
    p.add_argument("--agents", type=int, default=60, help="agents, 1..99 (default 60)")
    p.add_argument("--kill-after", type=float, default=10.0, help="seconds into the run (default 10)")
    p.add_argument("--keep", action="store_true", help="keep the service's config, store and log")
    p.add_argument("--serve", default=str(ROOT / ".venv/bin/switchboard"), help="the switchboard command")
    a = p.parse_args(argv)
    if a.calls < 1 or a.rate <= 0 or not 1 <= a.agents <= 99 or not 0 < a.kill_after < a.calls / a.rate:
        p.error("need calls >= 1, rate > 0, 1..99 agents and a kill inside the run")
    return RestartOptions(a.calls, a.rate, a.agents, a.kill_after, a.keep, (a.serve,))


if __name__ == "__main__":
    sys.exit(asyncio.run(run(parse_args(None))))
