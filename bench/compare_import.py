"""One CSV import and its re-import into a fresh SQLite database, by the ``crm_core`` of another checkout:
for comparing two versions of the import on one machine, run interleaved, since this machine's speed
changes within minutes (bench/CRM.md).

    git worktree add /tmp/old <commit>
    python bench/crm_store.py ...            # or any import file, e.g. one the bench wrote
    for i in 1 2 3; do
      .venv/bin/python bench/compare_import.py /tmp/old FILE.csv
      .venv/bin/python bench/compare_import.py . FILE.csv
    done

Each version runs on its fastest path: older ones took ``validate_in_thread=False`` for the command line.
"""

from __future__ import annotations

import asyncio
import inspect
import sys
import tempfile
import time
from pathlib import Path


async def main(root: Path, path: Path) -> None:
    sys.path.insert(0, str(root))
    import crm_core

    try:
        from crm_core.sql.migrate import upgrade_async
        from crm_core.sql.store import SqlStore
    except ImportError:  # a checkout from before crm_core was split into layers
        from crm_core.sql.migrate import upgrade_async  # type: ignore[no-redef]
        from crm_core.sql.store import SqlStore  # type: ignore[no-redef]

    assert str(crm_core.__file__).startswith(str(root)), crm_core.__file__  # this checkout's, not another
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/compare.db"
        await upgrade_async(url)
        store = SqlStore.open(url, "US")
        options = inspect.signature(store.customer_csv.import_csv).parameters
        fastest = {"validate_in_thread": False} if "validate_in_thread" in options else {}
        rates = []
        try:
            for _ in ("import", "re-import"):
                started = time.perf_counter()
                with path.open(newline="", encoding="utf-8") as lines:
                    summary = await store.customer_csv.import_csv(lines, **fastest)
                rates.append(summary.lines / (time.perf_counter() - started))
        finally:
            await store.close()
    print(f"{root}: import {rates[0]:,.0f} rows/s, re-import {rates[1]:,.0f} rows/s", flush=True)


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]).resolve(), Path(sys.argv[2])))
