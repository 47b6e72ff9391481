"""The router's journal and snapshot in the store, on SQLite and PostgreSQL: lines come back in order,
a snapshot replaces the previous one and drops the lines it covers, in one transaction; a leadership's
fence refuses an older leader's writes."""

from __future__ import annotations

import asyncio

import pytest

from crm_core.domain.journal import Fenced, JournalLine, Snapshot
from crm_core.sql.store import SqlStore


def lines(*seqs: int) -> list[JournalLine]:
    return [JournalLine(s, f'{{"k":"Tick","at":{s}}}') for s in seqs]


def snapshot(seq: int, data: bytes = b"\x80\x05books") -> Snapshot:
    return Snapshot(seq=seq, format=1, plan_key="plan-a", taken_at=1000.0 + seq, data=data)


async def test_given_nothing_kept_then_a_start_finds_no_snapshot_and_no_line(store: SqlStore) -> None:
    kept = await store.journal.kept()
    assert (kept.snapshot, kept.lines) == (None, ())


async def test_given_lines_in_batches_then_they_come_back_in_order(store: SqlStore) -> None:
    await store.journal.append(lines(1, 2, 3))
    await store.journal.append(lines(4))
    await store.journal.append([])
    kept = await store.journal.kept()
    assert kept.snapshot is None
    assert kept.lines == tuple(lines(1, 2, 3, 4))


async def test_given_a_snapshot_then_it_replaces_the_last_and_only_later_lines_are_kept(
    store: SqlStore,
) -> None:
    await store.journal.append(lines(1, 2, 3))
    await store.journal.save_snapshot(snapshot(2, b"first"))
    await store.journal.append(lines(4, 5))
    await store.journal.save_snapshot(snapshot(4, bytes(range(256)) * 100))  # any bytes, 25 kB
    kept = await store.journal.kept()
    assert kept.snapshot == snapshot(4, bytes(range(256)) * 100)
    assert kept.lines == tuple(lines(5))


async def test_given_a_line_seq_twice_then_the_append_fails_and_keeps_nothing_of_it(store: SqlStore) -> None:
    await store.journal.append(lines(1))
    try:
        await store.journal.append(lines(2, 1))
    except Exception:
        pass
    else:
        raise AssertionError("a second line 1 was accepted")
    assert (await store.journal.kept()).lines == tuple(lines(1))  # line 2 went with the failed batch


async def test_given_forget_then_nothing_is_kept(store: SqlStore) -> None:
    await store.journal.append(lines(1, 2))
    await store.journal.save_snapshot(snapshot(1))
    await store.journal.forget()
    kept = await store.journal.kept()
    assert (kept.snapshot, kept.lines) == (None, ())


async def test_given_a_newer_leadership_fenced_the_store_then_the_older_ones_writes_are_refused(
    store: SqlStore,
) -> None:
    """Several instances: the old leader's lines written before the new one raised the fence stay (they
    are history); after it, every write of the old one is refused and changes nothing."""
    await store.journal.raise_fence(7, "a", 1.0)
    await store.journal.append(lines(1, 2), fence=7)
    await store.journal.raise_fence(8, "b", 2.0)
    for late in (
        store.journal.append(lines(3), fence=7),
        store.journal.save_snapshot(snapshot(2), fence=7),
        store.journal.forget(fence=7),
    ):
        with pytest.raises(Fenced) as refused:
            await late
        assert (refused.value.fence, refused.value.raised) == (7, 8)
    await store.journal.append(lines(3), fence=8)
    kept = await store.journal.kept()
    assert (kept.snapshot, kept.lines) == (None, tuple(lines(1, 2, 3)))
    with pytest.raises(Fenced):
        await store.journal.raise_fence(7, "a", 3.0)  # a leadership older than the fence never starts
    await store.journal.append(lines(4))  # the only instance writes unfenced, as before


async def test_given_writes_racing_a_new_leadership_then_each_lands_before_its_fence_or_not_at_all(
    database_url: str,
) -> None:
    """On the fence's row lock: the old leader's appends, racing the new leader's raise on separate
    connections, either land and are in what the new leader reads right after its raise, or are
    refused; none lands after that read."""
    old, new = SqlStore.open(database_url, "US"), SqlStore.open(database_url, "US")
    try:
        await old.journal.raise_fence(1, "a", 1.0)

        async def appending() -> list[int]:
            landed = []
            for seq in range(1, 200):
                try:
                    await old.journal.append(lines(seq), fence=1)
                except Fenced:
                    return landed
                except Exception:  # SQLite: the other connection holds the write lock; try the next line
                    continue
                landed.append(seq)
                await asyncio.sleep(0)
            return landed

        writer = asyncio.create_task(appending())
        await asyncio.sleep(0.05)
        await until_raised(new)
        read = [line.seq for line in (await new.journal.kept()).lines]
        landed = await writer
        assert read == landed and landed, (read, landed)
    finally:
        await old.close()
        await new.close()


async def until_raised(store: SqlStore) -> None:
    for _ in range(100):
        try:
            await store.journal.raise_fence(2, "b", 2.0)
            return
        except Fenced:
            raise
        except Exception:  # SQLite busy under the other writer
            await asyncio.sleep(0.01)
    raise AssertionError("the fence was never raised")
