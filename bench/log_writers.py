"""The CPU the service's two busiest writers cost, on a SQLite file: the call log and the router's journal.

Measured as the process's CPU time (every thread: aiosqlite works on one of its own), so a busy machine
slows the wall time but hardly the figure. The call log is written as the call recorder writes it: in
batches of ``switchboard.recorder.BATCH`` where the store has ``record_many``, else one call a
transaction (the code before 2026-12-07, for comparison: run this file from that tree). The journal as
``switchboard.journal`` writes it, 1,000 lines a batch.

    .venv/bin/python bench/log_writers.py [--calls 4000] [--lines 40000]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this work tree's packages, not whichever one the venv has installed

from crm_core.domain.journal import JournalLine  # noqa: E402
from crm_core.sql.migrate import upgrade_async  # noqa: E402
from crm_core.sql.store import SqlStore  # noqa: E402
from tests.support import radio_call  # noqa: E402

LINE = '{"t":"AgentBecameReady","agent":"1001","at":1796659429.123456,"queue":null}'


async def call_log(store: SqlStore, calls: int) -> tuple[str, float, float]:
    records = [radio_call(f"c{n}") for n in range(calls)]
    cpu, wall = time.process_time(), time.perf_counter()
    if hasattr(store, "record_many"):
        from crm_core.domain.calls import CallToLog
        from switchboard.recorder import BATCH

        for start in range(0, calls, BATCH):
            await store.record_many([CallToLog(r, None) for r in records[start : start + BATCH]])
        how = f"batches of {BATCH}"
    else:
        for record in records:
            await store.record(record, None)
        how = "one call a transaction"
    return how, time.process_time() - cpu, time.perf_counter() - wall


async def journal(store: SqlStore, lines: int) -> tuple[float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    for start in range(1, lines + 1, 1000):
        await store.journal.append([JournalLine(s, LINE) for s in range(start, min(start + 1000, lines + 1))])
    return time.process_time() - cpu, time.perf_counter() - wall


async def main(opts: argparse.Namespace) -> None:
    url = f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/writers.db"
    await upgrade_async(url)
    store = SqlStore.open(url, "US")
    try:
        how, cpu, wall = await call_log(store, opts.calls)
        print(f"call log ({how}): {cpu / opts.calls * 1e3:.3f} ms CPU a call, {wall:.2f} s wall in all")
        cpu, wall = await journal(store, opts.lines)
        print(f"journal: {cpu / opts.lines * 1e6:.1f} us CPU a line, {wall:.2f} s wall in all")
    finally:
        await store.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=4000)
    parser.add_argument("--lines", type=int, default=40000)
    asyncio.run(main(parser.parse_args()))
