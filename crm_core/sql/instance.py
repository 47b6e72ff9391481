"""One ``switchboard serve`` per store, until several instances share one (the instances issue).

Two services on one store and one Asterisk fight over the ARI application (the second takes it over,
``ApplicationReplaced``) while both believe they route, write the same router journal and replay each
other's events. So a service claims its store before it does anything: a second one is refused with
one line that says who holds it, and a crash gives the claim back at once, with nothing to clean up.

- SQLite: an exclusive ``flock`` on ``<database file>.lock``, which holds the holder's process id. The
  kernel drops it when the holder's process ends, however it ends (a SIGKILL too). An in-memory
  database is one process' own: nothing to claim.
- PostgreSQL: a session-level advisory lock, held by one connection kept for the purpose. The server
  drops it when that connection goes, and it goes with the holder's process.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from crm_core.domain.errors import CrmError

# pg_advisory_lock's key: any 64-bit number no other application on the same database uses for its own.
ADVISORY_KEY = 0x5357_4254_4348_0001  # "SWBTCH" and 1


class StoreInUse(CrmError):
    """Another ``switchboard serve`` has claimed this store."""


class InstanceClaim(Protocol):
    async def claim(self) -> None:
        """Claim the store for this process; raises ``StoreInUse`` when another holds it."""

    async def release(self) -> None:
        """Give the claim back (a process that ends gives it back too, however it ends)."""


class NoClaim:
    """An in-memory database: no other process can reach it."""

    async def claim(self) -> None:
        return None

    async def release(self) -> None:
        return None


class FileClaim:
    def __init__(self, database: Path) -> None:
        self._database = database
        self._path = database.with_name(database.name + ".lock")
        self._fd: int | None = None

    async def claim(self) -> None:
        if self._fd is not None:
            return
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise StoreInUse(
                f"another switchboard serve (process {holder}) is running on {self._database}: one "
                "instance per SQLite store"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    async def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # the lock goes with the descriptor


class AdvisoryClaim:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._connection: AsyncConnection | None = None

    async def claim(self) -> None:
        if self._connection is not None:
            return
        connection = await self._engine.connect()
        try:
            query = text("SELECT pg_try_advisory_lock(:key)")
            claimed = await connection.scalar(query, {"key": ADVISORY_KEY})
            if not claimed:
                holder = await connection.scalar(_HOLDER, {"key": ADVISORY_KEY})
                raise StoreInUse(
                    f"another switchboard serve (database session {holder or 'unknown'}) is running on "
                    f"this PostgreSQL database ({self._engine.url.database}): one instance per store"
                )
            await connection.commit()  # the lock is the session's, not the transaction's
        except BaseException:
            await connection.close()
            raise
        self._connection = connection

    async def release(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):  # a connection the server dropped has no lock left
                await connection.scalar(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_KEY})
            await connection.close()


# The holder's backend process id, as pg_stat_activity shows it (a session-level lock has no owner row).
_HOLDER = text(
    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
    "AND ((classid::bigint << 32) | objid::bigint) = :key LIMIT 1"
)
