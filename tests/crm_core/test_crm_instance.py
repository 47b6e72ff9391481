"""One service per store (``crm_core.sql.instance``): a second claim is refused with who holds it, the
holder's close gives it back, and a holder that dies without closing (a SIGKILL) gives it back too."""

from __future__ import annotations

import asyncio
import signal
import sys

import pytest

from crm_core.sql.instance import StoreInUse
from crm_core.sql.store import SqlStore


async def test_given_a_store_claimed_when_another_claims_it_then_refused_until_the_first_closes(
    database_url: str,
) -> None:
    first, second = SqlStore.open(database_url, "US"), SqlStore.open(database_url, "US")
    try:
        await first.claim()
        await first.claim()  # claiming again is a no-op for the holder
        with pytest.raises(StoreInUse, match="another switchboard serve"):
            await second.claim()
        await first.close()
        await second.claim()  # given back
    finally:
        await first.close()
        await second.close()


async def test_given_an_in_memory_store_then_there_is_nothing_to_claim() -> None:
    a, b = SqlStore.open("sqlite+aiosqlite://", "US"), SqlStore.open("sqlite+aiosqlite://", "US")
    try:
        await a.claim()
        await b.claim()
    finally:
        await a.close()
        await b.close()


HOLDER = """
import asyncio, sys
from crm_core.sql.store import SqlStore

async def main() -> None:
    store = SqlStore.open(sys.argv[1], "US")
    await store.claim()
    print("claimed", flush=True)
    await asyncio.sleep(60)

asyncio.run(main())
"""


async def test_given_the_holder_killed_then_the_store_can_be_claimed_at_once(database_url: str) -> None:
    holder = await asyncio.create_subprocess_exec(
        sys.executable, "-c", HOLDER, database_url, stdout=asyncio.subprocess.PIPE
    )
    assert holder.stdout is not None
    assert await asyncio.wait_for(holder.stdout.readline(), 30) == b"claimed\n"
    store = SqlStore.open(database_url, "US")
    try:
        with pytest.raises(StoreInUse, match=r"process|session"):
            await store.claim()
        holder.send_signal(signal.SIGKILL)  # no close, no handler: a crash
        await holder.wait()
        for _ in range(50):  # PostgreSQL notices the dropped session within moments
            try:
                await store.claim()
                break
            except StoreInUse:
                await asyncio.sleep(0.1)
        else:
            pytest.fail("the store stayed claimed after its holder died")
    finally:
        await store.close()
