"""Bringing a database's schema up to date with Alembic, configured in code (no alembic.ini at runtime).

The migration environment (``migrations/env.py``) drives the async engine with ``asyncio.run``, which
cannot run inside a running event loop; async callers use ``upgrade_async``, which runs it on a thread.

``upgrade_async`` first asks the database for its revision: one that is at ``HEAD`` already (every start
of ``switchboard serve`` but the first after an upgrade) needs no Alembic, whose import (with Mako and
Pygments) cost a start 0.1-0.2 s of the time a restarted service is away. Alembic is imported only
where it is used, for the same reason.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from crm_core.sql.engine import open_engine

if TYPE_CHECKING:
    from alembic.config import Config

SCRIPT_LOCATION = Path(__file__).resolve().parent / "migrations"
HEAD = "0016"  # the newest revision in migrations/versions (a test holds it to Alembic's own head)


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    """An Alembic config for ``url``; the URL travels in ``attributes``, so ``%`` in a password is safe."""
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    config.attributes["url"] = url
    return config


def upgrade(url: str) -> None:
    """Migrate ``url`` to the newest schema; a no-op when it is already there."""
    from alembic import command

    command.upgrade(alembic_config(url), "head")


async def upgrade_async(url: str) -> None:
    if await revision(url) != HEAD:
        await asyncio.to_thread(upgrade, url)


async def revision(url: str) -> str | None:
    """The revision ``url``'s schema is at; None for a database Alembic has not touched."""
    engine = open_engine(url)
    try:
        async with engine.connect() as connection:
            result = await connection.execute(sa.text("SELECT version_num FROM alembic_version"))
            found = result.scalar_one_or_none()
    except (DBAPIError, OSError):  # no such table (a new database), or unreachable: upgrade() will say
        return None
    finally:
        await engine.dispose()
    return None if found is None else str(found)


def downgrade(url: str, revision: str) -> None:
    """Migrate ``url`` back to ``revision`` (``"base"`` drops every table the store owns)."""
    from alembic import command

    command.downgrade(alembic_config(url), revision)
