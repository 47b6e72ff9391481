"""Alembic's migration environment for crm_core, run by ``crm_core.sql.migrate`` (or the alembic CLI).

Online migrations go through the same async engine factory the store uses, with SQLite's foreign keys off
(see ``open_engine``) and batch mode on, so later revisions can alter SQLite tables by rebuilding them.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from crm_core.sql.dialect import dialect_named
from crm_core.sql.engine import open_engine
from crm_core.sql.orm import Base


def _url() -> str:
    url = context.config.attributes.get("url") or context.config.get_main_option("sqlalchemy.url")
    if not isinstance(url, str) or not url:
        raise RuntimeError("no database URL: use crm_core.sql.migrate, or set sqlalchemy.url")
    return url


def _configure_and_run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=dialect_named(connection.dialect.name).render_as_batch,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online(url: str) -> None:
    engine = open_engine(url, enforce_foreign_keys=False)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_configure_and_run)
    finally:
        await engine.dispose()


def _run_offline(url: str) -> None:
    context.configure(url=url, target_metadata=Base.metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    _run_offline(_url())
else:
    asyncio.run(_run_online(_url()))
