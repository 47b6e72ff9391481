"""Benchmark of the supervisors' reports (issue 6): a day of 50,000 calls in the store, and the reports
for the month around it, on SQLite and on PostgreSQL, in-process through ``SqlStore.reports``.

    .venv/bin/python bench/reports.py [--calls 50000] [--agents 200] [--backend sqlite|postgres|both]
                                      [--repeat 5] [--workdir DIR]

The day (2026-11-16 in America/New_York) is generated and bulk-loaded past the store (sqlite3
executemany, asyncpg COPY): ``--calls`` inbound calls over 13 numbers of two lines and three queues
(answered 85 %, abandoned 10 % — a third of them short — callbacks, voicemail and time-outs for the rest;
one in twenty answered calls transferred, so it has an agent's stretch too) and ``--agents`` agents whose
state intervals cover the day (ready, ringing, on call, wrap-up after every call, breaks). Each report —
the month by day, by hour, by queue, by line, by source, and the agents' figures — is timed
``--repeat`` times with ``time.perf_counter``; the script prints the median and the slowest of each, and
the target (under 1 s).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from crm_store import database_size, fresh_database, sqlite_value  # noqa: E402

from crm_core.domain.figures import ServiceLevelFormula, ServiceTarget  # noqa: E402
from crm_core.domain.reports import Grouping  # noqa: E402
from crm_core.sql.orm import AgentStateRow, CallRow  # noqa: E402
from crm_core.sql.store import SqlStore  # noqa: E402

ZONE = ZoneInfo("America/New_York")
DAY = date(2026, 11, 16)
MONTH = (date(2026, 11, 1), date(2026, 11, 30))
SOURCES = ["radio", "yellow-pages", "web", "google-ads", "facebook", "billboard", "tv", "newspaper",
           "direct-mail", "truck-signage", "referral", "trade-show", "main"]  # fmt: skip
QUEUES = ["sales", "service", "billing"]
CALL_COLUMNS = [c.name for c in CallRow.__table__.c]
STATE_COLUMNS = [c.name for c in AgentStateRow.__table__.c if c.name != "id"]


def generate(calls: int, agents: int, seed: int = 7) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The day's call-log rows and agent state rows, as column -> value."""
    rng = random.Random(seed)
    start = datetime.combine(DAY, datetime.min.time(), ZONE).astimezone(UTC) + timedelta(hours=7)
    free_at = [start] * agents  # when each agent is next free
    call_rows: list[dict[str, Any]] = []
    state_rows: list[dict[str, Any]] = []
    for i in range(calls):
        arrived = start + timedelta(seconds=i * 14 * 3600 / calls)  # 07:00 to 21:00
        source = SOURCES[i % len(SOURCES)]
        base: dict[str, Any] = {
            "call_id": f"b-{i}", "did": f"+1800555{i % 13:04d}", "source": source, "arrived_at": arrived,
            "line_id": "acme" if i % 4 else "smith", "line_name": "Acme" if i % 4 else "Dr. Smith",
            "queue_id": QUEUES[i % 3], "caller_number": f"+1201555{i % 10_000:04d}", "caller_name": None,
            "customer_id": None, "agent_id": None, "answered_at": None, "disposition": None,
            "agent_notes": None, "case_id": None, "priority": 0, "after_hours": False, "on_call": None,
            "recording": None, "callback_of": None, "part_of": None, "offers": 1,
        }  # fmt: skip
        roll = rng.random()
        wait = rng.uniform(2, 90)
        if roll < 0.85:
            agent = min(range(agents), key=lambda a: free_at[a]) if i % 50 == 0 else rng.randrange(agents)
            answered = arrived + timedelta(seconds=wait)
            talk = rng.uniform(30, 400)
            ended = answered + timedelta(seconds=talk)
            wrap = rng.uniform(5, 60)
            name = f"agent-{agent}"
            row = {**base, "agent_id": name, "answered_at": answered, "ended_at": ended, "wait_s": wait,
                   "talk_s": talk, "outcome": "answered", "hung_up_by": "caller"}  # fmt: skip
            call_rows.append(row)
            ring = answered - timedelta(seconds=min(wait, 8))
            state_rows += [
                interval(name, "ringing", ring, answered),
                interval(name, "on-call", answered, ended),
                interval(name, "wrap-up", ended, ended + timedelta(seconds=wrap)),
            ]
            free_at[agent] = ended + timedelta(seconds=wrap)
            if i % 20 == 0:
                stretch = {"call_id": f"b-{i}~1", "part_of": f"b-{i}", "outcome": "transferred",
                           "agent_id": f"agent-{(agent + 1) % agents}", "hung_up_by": "agent"}  # fmt: skip
                call_rows.append({**row, **stretch})
            continue
        outcome = ("abandoned" if roll < 0.95 else "callback" if roll < 0.97 else "voicemail" if roll < 0.99
                   else "no-agent")  # fmt: skip
        if outcome == "abandoned" and i % 3 == 0:
            wait = rng.uniform(0.5, 4.9)  # a short abandon
        ended = arrived + timedelta(seconds=wait)
        call_rows.append({**base, "ended_at": ended, "wait_s": wait, "talk_s": 0.0, "outcome": outcome,
                          "hung_up_by": "caller" if outcome == "abandoned" else "system"})  # fmt: skip
    for agent in range(agents):  # a ready interval and a lunch break each, besides their calls
        name = f"agent-{agent}"
        noon = start + timedelta(hours=4)
        state_rows.append(interval(name, "ready", start, noon))
        state_rows.append(interval(name, "not-ready", noon, noon + timedelta(hours=1), "lunch"))
    return call_rows, state_rows


def interval(
    agent: str, state: str, start: datetime, end: datetime, reason: str | None = None
) -> dict[str, Any]:
    return {"agent_id": agent, "state": state, "reason": reason, "started_at": start, "ended_at": end}


def _tuples(rows: list[dict[str, Any]], columns: list[str]) -> Iterator[tuple[object, ...]]:
    for row in rows:
        yield tuple(row[c] for c in columns)


def load_sqlite(url: str, calls: list[dict[str, Any]], states: list[dict[str, Any]]) -> None:
    db = sqlite3.connect(url.split("///", 1)[1])
    for table, columns, rows in (("calls", CALL_COLUMNS, calls), ("agent_states", STATE_COLUMNS, states)):
        statement = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        db.executemany(statement, [tuple(sqlite_value(v) for v in t) for t in _tuples(rows, columns)])
    db.commit()
    db.execute("ANALYZE")
    db.close()


async def load_postgres(url: str, calls: list[dict[str, Any]], states: list[dict[str, Any]]) -> None:
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await connection.copy_records_to_table("calls", records=list(_tuples(calls, CALL_COLUMNS)),
                                               columns=CALL_COLUMNS)  # fmt: skip
        await connection.copy_records_to_table("agent_states", records=list(_tuples(states, STATE_COLUMNS)),
                                               columns=STATE_COLUMNS)  # fmt: skip
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()


async def timed(repeat: int, run: Any) -> tuple[float, float, Any]:
    times, result = [], None
    for _ in range(repeat):
        began = time.perf_counter()
        result = await run()
        times.append(time.perf_counter() - began)
    return statistics.median(times), max(times), result


async def bench(backend: str, calls: int, agents: int, repeat: int, workdir: Path) -> None:
    call_rows, state_rows = generate(calls, agents)
    async with fresh_database(backend, workdir) as url:
        if backend == "sqlite":
            load_sqlite(url, call_rows, state_rows)
        else:
            await load_postgres(url, call_rows, state_rows)
        size = await database_size(backend, url)
        print(f"[{backend}] {len(call_rows):,} call-log rows ({calls:,} calls on {DAY}), "
              f"{len(state_rows):,} agent state rows; database {size}")  # fmt: skip
        store = SqlStore.open(url, "US")
        target = ServiceTarget(20, 0.8, ServiceLevelFormula.OFFERED, 5)
        try:
            for grouping in Grouping:
                median, worst, report = await timed(
                    repeat, lambda g=grouping: store.reports.calls(*MONTH, ZONE, g, target)
                )
                level = report.total.service_level(target.formula)
                print(f"[{backend}] month by {grouping.value:<6}: median {median * 1000:7.1f} ms, "
                      f"slowest {worst * 1000:7.1f} ms ({len(report.rows)} rows; entered "
                      f"{report.total.entered:,}, service level {level:.1%})")  # fmt: skip
            median, worst, agents_report = await timed(repeat, lambda: store.reports.agents(*MONTH, ZONE))
            print(f"[{backend}] month by agent : median {median * 1000:7.1f} ms, "
                  f"slowest {worst * 1000:7.1f} ms ({len(agents_report.agents)} agents)")  # fmt: skip
        finally:
            await store.close()


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=50_000)
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args()
    print("target: each report for a month answers in under 1 s (issue 6)")
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    with tempfile.TemporaryDirectory() as scratch:
        workdir = args.workdir or Path(scratch)
        for backend in backends:
            await bench(backend, args.calls, args.agents, args.repeat, workdir)


if __name__ == "__main__":
    asyncio.run(main())
