"""The router's journal and snapshot in the store, on SQLite and PostgreSQL: lines come back in order,
a snapshot replaces the previous one and drops the lines it covers, in one transaction."""

from __future__ import annotations

from crm_core.domain.journal import JournalLine, Snapshot
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
