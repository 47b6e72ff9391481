"""Benchmark of the customer store (issue 3): caller-number lookup, customer 360, CSV import, on SQLite and
on PostgreSQL, in-process.

    .venv/bin/python bench/crm_store.py [--size 1000000] [--backend sqlite|postgres|both]
                                        [--lookups 10000] [--import-rows 200000] [--workdir DIR]

A store of ``--size`` generated customers (1.5 phone numbers, 3 calls and an account each, an order for
every second customer, an open case opened from a call for every tenth) is bulk-loaded past the store (sqlite3
executemany, asyncpg COPY), then measured through ``SqlStore``: ``--lookups`` random caller-number
lookups and as many customer-360 reads, after a warm-up, each timed with ``time.perf_counter``. The
import is timed on a fresh database with a generated CSV of ``--import-rows`` rows, then re-run on the
same file (every row unchanged); its memory is the tracemalloc peak for two file sizes. PostgreSQL is
``SWITCHBOARD_BENCH_PG_DSN`` (default postgresql://postgres@127.0.0.1:5432); the benchmark creates its
own databases there and drops them at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import random
import sqlite3
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crm_core.csv.customers import COLUMNS  # noqa: E402
from crm_core.domain.customers import search_text  # noqa: E402
from crm_core.sql.migrate import upgrade_async  # noqa: E402
from crm_core.sql.store import SqlStore  # noqa: E402
from switchboard.callers import MATCHES  # noqa: E402

PG_DSN = os.environ.get("SWITCHBOARD_BENCH_PG_DSN", "postgresql://postgres@127.0.0.1:5432")
CHUNK = 50_000
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
WARM_UP = 1_000


def number(k: int) -> str:
    """The k-th generated number: unique, possible and already E.164 (area 201, 8 million of them)."""
    return f"+1201{200 + (k // 10_000) % 800}{k % 10_000:04d}"


def phones_of(i: int) -> list[tuple[str, str]]:
    """Customer i's numbers: a mobile for everyone, an office line for every second one (1.5 on average)."""
    return [(number(2 * i), "mobile")] + ([(number(2 * i + 1), "office")] if i % 2 == 0 else [])


# --- generating rows -----------------------------------------------------------------------------------


def customer_rows(first: int, last: int) -> Iterator[tuple[object, ...]]:
    for i in range(first, last):
        name, company, email = f"Customer {i}", f"Company {i % 5_000}", f"c{i}@example.com"
        yield (i, name, company, email, "vip" if i % 20 == 0 else "standard", EPOCH, EPOCH, "en",
               '["bench"]', None, f"X{i}", None, search_text(name, company, email))  # fmt: skip


CUSTOMER_COLUMNS = ["id", "name", "company", "email", "tier", "created_at", "updated_at", "language", "tags",
                    "notes", "external_id", "anonymised_at", "search_text"]  # fmt: skip
PHONE_COLUMNS = ["customer_id", "e164", "kind"]
ACCOUNT_COLUMNS = ["customer_id", "balance", "currency", "credit_limit", "status", "last_payment_on",
                   "updated_at"]  # fmt: skip
CALL_COLUMNS = ["call_id", "did", "source", "line_id", "line_name", "queue_id", "caller_number",
                "caller_name", "customer_id", "agent_id", "arrived_at", "answered_at", "ended_at", "wait_s",
                "talk_s", "outcome", "hung_up_by", "offers", "case_id"]  # fmt: skip
ORDER_COLUMNS = ["customer_id", "ordered_on", "item", "quantity", "amount", "special_price", "created_at"]
CASE_COLUMNS = ["id", "customer_id", "subject", "description", "status", "priority", "owner", "due_at",
                "created_at", "updated_at", "closed_at"]  # fmt: skip


def phone_rows(first: int, last: int) -> Iterator[tuple[object, ...]]:
    for i in range(first, last):
        for e164, kind in phones_of(i):
            yield (i, e164, kind)


def account_rows(first: int, last: int) -> Iterator[tuple[object, ...]]:
    for i in range(first, last):
        status = "on-hold" if i % 50 == 0 else "ok"
        yield (
            i,
            Decimal(i % 100_000) / 100,
            "USD",
            Decimal("500.00"),
            status,
            date(2026, 1, 1 + i % 28),
            EPOCH,
        )


def call_rows(first: int, last: int) -> Iterator[tuple[object, ...]]:
    for i in range(first, last):
        for j in range(3):
            arrived = EPOCH + timedelta(seconds=(3 * i + j) * 0.7)
            yield (f"{i}.{j}", "+18005550100", "trunk", "sales", "Sales", "sales-q", number(2 * i),
                   f"Customer {i}", i, f"agent-{i % 40}", arrived, arrived + timedelta(seconds=12),
                   arrived + timedelta(seconds=200), 12.0, 188.0, "answered", "caller", 1,
                   i // 10 if i % 10 == 0 and j == 0 else None)  # fmt: skip


def order_rows(first: int, last: int) -> Iterator[tuple[object, ...]]:
    for i in range(first + first % 2, last, 2):
        yield (
            i,
            date(2025, 1 + i % 12, 1 + i % 28),
            f"Item {i % 300}",
            1 + i % 5,
            Decimal("19.90"),
            None,
            EPOCH,
        )


def case_rows(first: int, last: int) -> Iterator[tuple[object, ...]]:
    for i in range(first + (-first) % 10, last, 10):
        yield (
            i // 10,
            i,
            f"Case of {i}",
            "generated",
            "open",
            "normal",
            f"agent-{i % 40}",
            None,
            EPOCH,
            EPOCH,
            None,
        )


TABLES = [
    ("customers", CUSTOMER_COLUMNS, customer_rows),
    ("phone_numbers", PHONE_COLUMNS, phone_rows),
    ("accounts", ACCOUNT_COLUMNS, account_rows),
    ("cases", CASE_COLUMNS, case_rows),  # before calls: every tenth customer's first call opened a case
    ("calls", CALL_COLUMNS, call_rows),
    ("orders", ORDER_COLUMNS, order_rows),
]


def sqlite_value(value: object) -> object:
    """As SQLAlchemy's SQLite types store it: naive UTC text timestamps, ISO dates, decimals as text."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def load_sqlite(path: Path, size: int) -> None:
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous=OFF")
    for table, columns, rows in TABLES:
        marks = ", ".join("?" * len(columns))
        statement = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
        for first in range(1, size + 1, CHUNK):
            batch = [tuple(sqlite_value(v) for v in row) for row in rows(first, min(first + CHUNK, size + 1))]
            db.executemany(statement, batch)
            db.commit()
    db.execute("ANALYZE")
    db.commit()
    db.close()


async def load_postgres(dsn: str, size: int) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        for table, columns, rows in TABLES:
            for first in range(1, size + 1, CHUNK):
                batch = list(rows(first, min(first + CHUNK, size + 1)))
                await connection.copy_records_to_table(table, records=batch, columns=columns)
        for table in ("customers", "orders", "cases"):
            await connection.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()


# --- measuring -----------------------------------------------------------------------------------------


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    return (
        f"p50 {at(0.50):.3f} ms  p99 {at(0.99):.3f} ms  max {ordered[-1] * 1000:.3f} ms  (n={len(ordered)})"
    )


async def measure_reads(store: SqlStore, size: int, count: int) -> tuple[str, str, str]:
    rnd = random.Random(7)
    numbers = [rnd.choice(phones_of(rnd.randint(1, size)))[0] for _ in range(count + WARM_UP)]
    lookups: list[float] = []
    for n, caller in enumerate(numbers):
        started = time.perf_counter()
        found = await store.find_by_number(caller)
        if n >= WARM_UP:
            lookups.append(time.perf_counter() - started)
        assert found is not None and found.account is not None, caller
    # The pop's own lookup: every owner of the number (here one each), as ``CallerCache`` asks.
    pops: list[float] = []
    for n, caller in enumerate(numbers):
        started = time.perf_counter()
        owners = await store.find_all_by_number(caller, MATCHES + 1)
        if n >= WARM_UP:
            pops.append(time.perf_counter() - started)
        assert len(owners) == 1 and owners[0].account is not None, caller
    ids = [rnd.randint(1, size) for _ in range(count + WARM_UP)]
    views: list[float] = []
    for n, customer_id in enumerate(ids):
        started = time.perf_counter()
        view = await store.overview(customer_id)
        if n >= WARM_UP:
            views.append(time.perf_counter() - started)
        assert len(view.recent_calls) == 3, customer_id
    return percentiles(lookups), percentiles(pops), percentiles(views)


def write_import_csv(path: Path, rows: int, national: bool = False) -> None:
    """``rows`` new customers in the import format; numbers in E.164, or as typed nationally."""
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        for i in range(1, rows + 1):
            typed = [(number(10_000_000 + 2 * i + k), kind) for k, kind in ((0, "mobile"), (1, "office"))]
            if national:
                typed = [(f"({e[2:5]}) {e[5:8]}-{e[8:]}", kind) for e, kind in typed]
            phones = ";".join(f"{kind}:{e}" for e, kind in typed[: 1 + i % 2])
            writer.writerow([f"IMP{i}", f"Imported {i}", f"Firm {i % 900}", f"i{i}@example.com", "en",
                             "standard", "imported;bench", "", phones, f"{i % 1000}.50", "USD", "250.00",
                             "ok", "2026-01-15"])  # fmt: skip


async def timed_import(store: SqlStore, path: Path, worker_process: bool = True) -> tuple[float, str]:
    started = time.perf_counter()
    with path.open(newline="", encoding="utf-8") as lines:
        summary = await store.customer_csv.import_csv(lines, worker_process=worker_process)
    elapsed = time.perf_counter() - started
    return elapsed, (f"inserted {summary.inserted} updated {summary.updated} unchanged {summary.unchanged} "
                     f"rejected {summary.rejected}")  # fmt: skip


@asynccontextmanager
async def fresh_database(backend: str, workdir: Path) -> AsyncIterator[str]:
    """A migrated, empty database; PostgreSQL ones are dropped on the way out."""
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{workdir}/crm-{uuid.uuid4().hex[:8]}.db"
        await upgrade_async(url)
        yield url
        return
    name = f"sb_crm_bench_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(f"{PG_DSN}/postgres")
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        url = f"{PG_DSN.replace('postgresql://', 'postgresql+asyncpg://')}/{name}"
        await upgrade_async(url)
        yield url
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def database_size(backend: str, url: str) -> str:
    if backend == "sqlite":
        path = Path(url.split("///", 1)[1])
        total = sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
        return f"{total / 2**20:.0f} MiB (file + WAL)"
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        size = await connection.fetchval("SELECT pg_database_size(current_database())")
    finally:
        await connection.close()
    return f"{size / 2**20:.0f} MiB (pg_database_size)"


async def bench_reads(backend: str, size: int, lookups: int, workdir: Path) -> None:
    async with fresh_database(backend, workdir) as url:
        started = time.perf_counter()
        if backend == "sqlite":
            await asyncio.to_thread(load_sqlite, Path(url.split("///", 1)[1]), size)
        else:
            await load_postgres(url.replace("postgresql+asyncpg://", "postgresql://"), size)
        print(f"[{backend}] loaded {size:,} customers in {time.perf_counter() - started:.0f} s; "
              f"database {await database_size(backend, url)}", flush=True)  # fmt: skip
        store = SqlStore.open(url, "US")
        try:
            lookup, owners, view = await measure_reads(store, size, lookups)
        finally:
            await store.close()
        print(f"[{backend}] caller-number lookup: {lookup}", flush=True)
        print(f"[{backend}] every owner (pop's):  {owners}", flush=True)
        print(f"[{backend}] customer 360:         {view}", flush=True)


async def bench_import(backend: str, rows: int, workdir: Path) -> None:
    # "worker process": as `switchboard customers import` and POST /customers/import both do; "threads
    # only": validated in threads beside the loop (worker_process=False), for comparison.
    for national, worker in ((False, True), (True, True), (False, False), (True, False)):
        path = workdir / f"import-{rows}-{'national' if national else 'e164'}.csv"
        if not path.exists():
            write_import_csv(path, rows, national)
        async with fresh_database(backend, workdir) as url:
            store = SqlStore.open(url, "US")
            try:
                first, summary = await timed_import(store, path, worker)
                again, resummary = await timed_import(store, path, worker)
            finally:
                await store.close()
            size = await database_size(backend, url)
        numbers = "national format" if national else "E.164"
        path_name = "worker process" if worker else "threads only"
        print(f"[{backend}] import {rows:,} rows ({numbers}, {path_name}): {rows / first:,.0f} rows/s "
              f"({first:.1f} s; {summary}); database {size}", flush=True)  # fmt: skip
        print(f"[{backend}] re-import same file: {rows / again:,.0f} rows/s ({again:.1f} s; {resummary})",
              flush=True)  # fmt: skip


def children_peak_kib() -> int:
    """The largest ``VmHWM`` (peak resident size since its exec) among this process's children now."""
    peak = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) != os.getpid():
                continue
            status = (stat.parent / "status").read_text()
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                peak = max(peak, int(line.split()[1]))
    return peak


async def watch_children(peaks: list[int]) -> None:
    """Every 20 ms, the children's peak resident size into ``peaks[0]`` (the worker's, during an import)."""
    while True:
        peaks[0] = max(peaks[0], children_peak_kib())
        await asyncio.sleep(0.02)


async def bench_import_memory(backend: str, workdir: Path, sizes: tuple[int, ...]) -> None:
    """The parent's tracemalloc peak, and the worker process's peak resident size (its ``VmHWM``, read
    from /proc while the import runs; Linux only)."""
    peaks = []
    workers = []
    for rows in sizes:
        path = workdir / f"memory-{rows}.csv"
        write_import_csv(path, rows)
        async with fresh_database(backend, workdir) as url:
            store = SqlStore.open(url, "US")
            worker = [0]
            watcher = asyncio.create_task(watch_children(worker))
            try:
                tracemalloc.start()
                await timed_import(store, path)
                peaks.append(tracemalloc.get_traced_memory()[1])
                tracemalloc.stop()
            finally:
                watcher.cancel()
                await store.close()
            workers.append(worker[0])
    figures = ", ".join(
        f"{rows:,} rows ({(workdir / f'memory-{rows}.csv').stat().st_size / 2**20:.1f} MiB file): "
        f"peak {peak / 2**20:.1f} MiB, worker {worker / 2**10:.1f} MiB"
        for rows, peak, worker in zip(sizes, peaks, workers, strict=True)
    )
    print(f"[{backend}] import memory (tracemalloc peak; worker process peak RSS): {figures}", flush=True)


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=1_000_000, help="customers to generate")
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--lookups", type=int, default=10_000)
    parser.add_argument("--import-rows", type=int, default=200_000)
    parser.add_argument("--memory-rows", default="25000,100000", help="two import sizes for the memory check")
    parser.add_argument("--skip", default="", help="comma-separated: reads, import, memory")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        workdir = Path(tmp)
        print(json.dumps({"size": args.size, "lookups": args.lookups, "import_rows": args.import_rows,
                          "backends": backends, "python": sys.version.split()[0]}), flush=True)  # fmt: skip
        for backend in backends:
            if "reads" not in skip:
                await bench_reads(backend, args.size, args.lookups, workdir)
            if "import" not in skip:
                await bench_import(backend, args.import_rows, workdir)
            if "memory" not in skip:
                sizes = tuple(int(n) for n in args.memory_rows.split(","))
                await bench_import_memory(backend, workdir, sizes)


if __name__ == "__main__":
    asyncio.run(main())
