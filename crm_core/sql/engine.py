"""Opening a database: the one place that knows which backends the store runs on and how SQLite is set up.

SQLite leaves foreign keys off per connection unless told, which would silently skip the
``ON DELETE`` rules in ``orm``; WAL lets the screen pop read while a call is being logged.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from crm_core.domain.errors import UnsupportedDatabase

SUPPORTED_BACKENDS = frozenset({"sqlite", "postgresql"})


def open_engine(url: str, *, enforce_foreign_keys: bool = True) -> AsyncEngine:
    """An async engine for ``url`` (``sqlite+aiosqlite:///...`` or ``postgresql+asyncpg://...``).

    Migrations pass ``enforce_foreign_keys=False``: rebuilding a SQLite table drops the old one, and with
    foreign keys on that drop would cascade-delete the rows that point at it.
    """
    backend = make_url(url).get_backend_name()
    if backend not in SUPPORTED_BACKENDS:
        raise UnsupportedDatabase(backend)
    engine = create_async_engine(url)
    if backend == "sqlite":
        pragmas = [
            f"PRAGMA foreign_keys={'ON' if enforce_foreign_keys else 'OFF'}",
            "PRAGMA journal_mode=WAL",
        ]
        event.listen(engine.sync_engine, "connect", _run_on_connect(pragmas))
    return engine


def _run_on_connect(statements: list[str]) -> Callable[[DBAPIConnection, ConnectionPoolEntry], None]:
    def on_connect(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
        cursor = dbapi_connection.cursor()
        try:
            for statement in statements:
                cursor.execute(statement)
        finally:
            cursor.close()

    return on_connect
