"""Bringing a database's schema up to date with Alembic, configured in code (no alembic.ini at runtime).

The migration environment (``migrations/env.py``) drives the async engine with ``asyncio.run``, which
cannot run inside a running event loop; async callers use ``upgrade_async``, which runs it on a thread.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config

SCRIPT_LOCATION = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic config for ``url``; the URL travels in ``attributes``, so ``%`` in a password is safe."""
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    config.attributes["url"] = url
    return config


def upgrade(url: str) -> None:
    """Migrate ``url`` to the newest schema; a no-op when it is already there."""
    command.upgrade(alembic_config(url), "head")


async def upgrade_async(url: str) -> None:
    await asyncio.to_thread(upgrade, url)


def downgrade(url: str, revision: str) -> None:
    """Migrate ``url`` back to ``revision`` (``"base"`` drops every table the store owns)."""
    command.downgrade(alembic_config(url), revision)
