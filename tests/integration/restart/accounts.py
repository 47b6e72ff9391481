"""Agents' user accounts for ``Served.add_agent_users``, made in one process.

    python -m tests.integration.restart.accounts <config> <agent>... < password

Each agent gets a user of its own name, acting as that agent, with the password read from stdin, as
``switchboard users add <agent> --role agent --agent <agent> --password-stdin`` makes it. The password
worker is spawned and imports this module again: the work stays under the main guard.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from config.settings import load
from switchboard.bootstrap import normaliser, open_store


async def add(config: Path, password: str, agents: list[str]) -> None:
    store = await open_store(load(config, normaliser))
    try:
        for agent in agents:
            await store.users.add(agent, password, "agent", agent=agent)
    finally:
        await store.close()


if __name__ == "__main__":
    asyncio.run(add(Path(sys.argv[1]), sys.stdin.read(), sys.argv[2:]))
