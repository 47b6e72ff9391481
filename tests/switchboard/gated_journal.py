"""A journal store whose writes wait for a test's word, and the shipped service built on it: for the tests
of what must wait for the journal (the call log, a callback's confirmation)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any

from config.settings import load
from crm_core.domain.journal import JournalLine, Kept, Snapshot
from crm_core.sql.migrate import upgrade_async
from crm_core.sql.store import SqlStore
from switchboard.bootstrap import PbxFactory, Service, build, normaliser

ROOT = Path(__file__).resolve().parents[2]


class GatedJournalStore:
    """The journal's store, whose appends wait until ``gate`` is set (a commit that takes its time)."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.lines: list[JournalLine] = []

    async def append(self, lines: list[JournalLine], fence: int | None = None) -> None:
        await self.gate.wait()
        self.lines += lines

    async def save_snapshot(self, snapshot: Snapshot, fence: int | None = None) -> None:
        await self.gate.wait()

    async def kept(self) -> Kept:
        return Kept(None, tuple(self.lines))

    async def forget(self, fence: int | None = None) -> None:
        self.lines = []


async def settle() -> None:
    """Long enough for anything not held to have happened (the journals here write every 1-20 ms)."""
    for _ in range(20):
        await asyncio.sleep(0.002)


@contextlib.asynccontextmanager
async def gated_service(
    workdir: Path,
    running: Callable[[Service], tuple[Callable[[], Coroutine[Any, Any, None]], ...]],
    pbx: PbxFactory | None = None,
) -> AsyncIterator[tuple[Service, SqlStore, GatedJournalStore]]:
    """The shipped config's service on SQLite in ``workdir``, its journal's store gated; ``running`` names
    the service's tasks to run meanwhile."""
    url = f"sqlite+aiosqlite:///{workdir}/crm.db"
    await upgrade_async(url)
    store = SqlStore.open(url, "US")
    gated = GatedJournalStore()
    store.journal = gated  # type: ignore[assignment]
    settings = load(ROOT / "config" / "switchboard.toml", normaliser, env={})
    service = await build(dataclasses.replace(settings, database_url=url), store=store, clock=lambda: 0.0,
                          pbx=pbx)  # fmt: skip
    tasks = [asyncio.create_task(run()) for run in running(service)]
    try:
        yield service, store, gated
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await service.ari.close()
        await service.webhooks.close()
        await store.close()
