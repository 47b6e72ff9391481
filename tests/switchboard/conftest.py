"""Fixtures the switchboard tests share."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from crm_core.sql.migrate import upgrade_async
from crm_core.sql.store import SqlStore


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[SqlStore]:
    """A real store on a migrated SQLite file of the test's own, closed after it."""
    url = f"sqlite+aiosqlite:///{tmp_path}/switchboard.db"
    await upgrade_async(url)
    store = SqlStore.open(url, "US")
    yield store
    await store.close()
