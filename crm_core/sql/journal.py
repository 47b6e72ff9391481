"""``SqlJournal``: the ``router_journal`` and ``router_snapshots`` tables (crm_core/domain/journal.py).

Lines are appended in batches by one writer, so a batch is one transaction and no event waits for its own
commit. Taking a snapshot and dropping the lines it covers happen in one transaction, so a crash
between the two cannot leave a snapshot whose lines are gone or lines replayed over a later snapshot.

Several instances: each leadership raises the store's fence (``router_fence``) to its token before it
reads the store, and every write of a leader carries its token (``fence``) and checks it in the same
transaction, the fence's row locked. A deposed leader's lines therefore land either before the new
leader read the store (and are in the history it goes on from) or not at all. A leader's own clock
cannot decide this: lines it routed while its lease was valid may reach the store a moment after.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from crm_core.domain.journal import Fenced, JournalLine, Kept, Snapshot
from crm_core.sql.database import Database
from crm_core.sql.orm import FenceRow, JournalRow, SnapshotRow

ONLY = 1  # the one snapshot row: a newer one replaces it


class SqlJournal:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def raise_fence(self, token: int, instance: str, at: float) -> None:
        """A new leadership starts on this store: from now on only writes carrying ``token`` (or a newer
        one) land. Raises ``Fenced`` if a newer leadership already raised it."""
        async with self._db.engine.begin() as connection:
            held = await self._fence(connection)
            if held is not None and held > token:
                raise Fenced(token, held)
            if held is None:
                values = {"id": ONLY, "token": token, "instance": instance, "raised_at": at}
                await connection.execute(insert(FenceRow).values(values))
            else:
                values = {"token": token, "instance": instance, "raised_at": at}
                await connection.execute(update(FenceRow).where(FenceRow.id == ONLY).values(values))

    async def append(self, lines: Sequence[JournalLine], fence: int | None = None) -> None:
        """``fence``: the writing leadership's token (several instances); None: the only instance."""
        if not lines:
            return
        async with self._db.engine.begin() as connection:
            await self._check(connection, fence)  # a deposed leader's lines may clash with the new one's
            # Straight to the driver (``bulk_insert``): SQLAlchemy's executemany of dicts cost the writer
            # most of its CPU, and at a few hundred calls/s its backlog grew (bench/service_ceiling.py).
            await self._db.bulk_insert(
                connection, JournalRow, ("seq", "event"), [(x.seq, x.event) for x in lines]
            )
            await self._check(connection, fence)

    async def save_snapshot(self, snapshot: Snapshot, fence: int | None = None) -> None:
        """Keep ``snapshot`` instead of the previous one and drop the journal lines it covers."""
        row = {"id": ONLY, "seq": snapshot.seq, "format": snapshot.format, "plan_key": snapshot.plan_key,
               "taken_at": snapshot.taken_at, "data": snapshot.data}  # fmt: skip
        async with self._db.engine.begin() as connection:
            await connection.execute(delete(SnapshotRow))
            await connection.execute(insert(SnapshotRow).values(row))
            await connection.execute(delete(JournalRow).where(JournalRow.seq <= snapshot.seq))
            await self._check(connection, fence)

    async def last_seq(self) -> int:
        """The last event the store holds, in its snapshot or as a line (0: nothing)."""
        async with self._db.reads.connect() as connection:
            line = await connection.scalar(select(func.max(JournalRow.seq)))
            snapshot = await connection.scalar(select(func.max(SnapshotRow.seq)))
        return max(line or 0, snapshot or 0)

    async def kept(self) -> Kept:
        s = SnapshotRow
        async with self._db.reads.connect() as connection:
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

    async def forget(self, fence: int | None = None) -> None:
        """Drop the snapshot and every line (a state that cannot be read back is not kept)."""
        async with self._db.engine.begin() as connection:
            await connection.execute(delete(SnapshotRow))
            await connection.execute(delete(JournalRow))
            await self._check(connection, fence)

    @staticmethod
    async def _fence(connection: AsyncConnection) -> int | None:
        # FOR UPDATE: a write and a new leadership's raise are serialised on the fence's row (PostgreSQL;
        # SQLite ignores it, and several instances refuse SQLite).
        query = select(FenceRow.token).where(FenceRow.id == ONLY).with_for_update()
        held: int | None = await connection.scalar(query)
        return held

    async def _check(self, connection: AsyncConnection, fence: int | None) -> None:
        """In the write's transaction, after the write: it holds SQLite's write lock by then, so a raise
        cannot commit between this check and the commit (PostgreSQL: the row lock taken by the first
        check does that)."""
        if fence is None:
            return
        held = await self._fence(connection)
        if held is not None and held != fence:
            raise Fenced(fence, held)
