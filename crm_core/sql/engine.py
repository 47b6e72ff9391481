"""Opening a database: an async engine for a backend the store runs on (``dialect``), each new connection
set up as that backend needs before the store uses it.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from crm_core.sql.dialect import dialect_named


def open_engine(url: str, *, enforce_foreign_keys: bool = True) -> AsyncEngine:
    """An async engine for ``url`` (``sqlite+aiosqlite:///...`` or ``postgresql+asyncpg://...``).

    Migrations pass ``enforce_foreign_keys=False``: rebuilding a SQLite table drops the old one, and with
    foreign keys on that drop would cascade-delete the rows that point at it.
    """
    dialect = dialect_named(make_url(url).get_backend_name())  # raises UnsupportedDatabase
    engine = create_async_engine(url, **dialect.engine_options)
    statements = dialect.connect_statements(enforce_foreign_keys=enforce_foreign_keys)
    if statements:
        event.listen(engine.sync_engine, "connect", _run_on_connect(statements))
    return engine


def _run_on_connect(statements: tuple[str, ...]) -> Callable[[DBAPIConnection, ConnectionPoolEntry], None]:
    def on_connect(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
        cursor = dbapi_connection.cursor()
        try:
            for statement in statements:
                cursor.execute(statement)
        finally:
            cursor.close()

    return on_connect
