"""The ACD: a pure, deterministic call router.

``Router.handle(event) -> list[Command]``. Time arrives inside events (``at``), never from a clock.
This package must not import asyncio, aiohttp, sqlalchemy, redis, websockets or any of the shell
packages (telephony, agent_console, crm_core, switchboard); ``tests/test_architecture.py`` enforces it.
"""
