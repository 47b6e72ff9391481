"""``SqlJournal``: the ``router_journal`` and ``router_snapshots`` tables (crm_core/domain/journal.py).

Lines are appended in batches by one writer, so a batch is one transaction and no event waits for its own
commit. Taking a snapshot and dropping the lines it covers happen in one transaction, so a crash
between the two cannot leave a snapshot whose lines are gone or lines replayed over a later snapshot.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, insert, select

from crm_core.domain.journal import JournalLine, Kept, Snapshot
from crm_core.sql.database import Database
from crm_core.sql.orm import JournalRow, SnapshotRow

ONLY = 1  # the one snapshot row: a newer one replaces it


class SqlJournal:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def append(self, lines: Sequence[JournalLine]) -> None:
        if not lines:
            return
        async with self._db.engine.begin() as connection:
            await connection.execute(insert(JournalRow), [{"seq": x.seq, "event": x.event} for x in lines])

    async def save_snapshot(self, snapshot: Snapshot) -> None:
        """Keep ``snapshot`` instead of the previous one and drop the journal lines it covers."""
        row = {"id": ONLY, "seq": snapshot.seq, "format": snapshot.format, "plan_key": snapshot.plan_key,
               "taken_at": snapshot.taken_at, "data": snapshot.data}  # fmt: skip
        async with self._db.engine.begin() as connection:
            await connection.execute(delete(SnapshotRow))
            await connection.execute(insert(SnapshotRow).values(row))
            await connection.execute(delete(JournalRow).where(JournalRow.seq <= snapshot.seq))

    async def drop_after(self, seq: int) -> None:
        """Drop the lines after ``seq``: a new leader's history goes on from there (several instances:
        the lines a deposed leader wrote that never reached the others are not the cluster's)."""
        async with self._db.engine.begin() as connection:
            await connection.execute(delete(JournalRow).where(JournalRow.seq > seq))

    async def last_seq(self) -> int:
        """The last event the store holds, in its snapshot or as a line (0: nothing)."""
        async with self._db.engine.connect() as connection:
            line = await connection.scalar(select(func.max(JournalRow.seq)))
            snapshot = await connection.scalar(select(func.max(SnapshotRow.seq)))
        return max(line or 0, snapshot or 0)

    async def kept(self) -> Kept:
        s = SnapshotRow
        async with self._db.engine.connect() as connection:
            found = (
                await connection.execute(select(s.seq, s.format, s.plan_key, s.taken_at, s.data))
            ).first()
            snapshot = None if found is None else Snapshot(
                seq=found.seq, format=found.format, plan_key=found.plan_key, taken_at=found.taken_at,
                data=found.data,
            )  # fmt: skip
            after = 0 if snapshot is None else snapshot.seq
            j = JournalRow
            rows = await connection.execute(select(j.seq, j.event).where(j.seq > after).order_by(j.seq))
            return Kept(snapshot, tuple(JournalLine(row.seq, row.event) for row in rows))

    async def forget(self) -> None:
        """Drop the snapshot and every line (a state that cannot be read back is not kept)."""
        async with self._db.engine.begin() as connection:
            await connection.execute(delete(SnapshotRow))
            await connection.execute(delete(JournalRow))
