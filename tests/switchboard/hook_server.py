"""A real local HTTP server standing in for a business's webhook: it records what it is sent and answers
with the statuses (or the silences) a test scripts."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

SECRET = "s3cret-for-tests"


@dataclass
class Hook:
    url: str
    answers: list[int | None] = field(default_factory=list)  # None: never answer (a timeout)
    received: list[dict[str, Any]] = field(default_factory=list)
    signatures_ok: list[bool] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)


@asynccontextmanager
async def hook_server(answers: list[int | None] | None = None) -> AsyncIterator[Hook]:
    hook = Hook("", list(answers or []))

    async def receive(request: web.Request) -> web.Response:
        body = await request.read()
        expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        hook.signatures_ok.append(
            hmac.compare_digest(request.headers.get("X-Switchboard-Signature", ""), expected)
        )
        hook.received.append(json.loads(body))
        hook.arrived.set()
        status = hook.answers.pop(0) if hook.answers else 200
        if status is None:
            await asyncio.sleep(30)
            status = 200
        return web.json_response({"ok": status < 300}, status=status)

    app = web.Application()
    app.router.add_post("/hook", receive)
    server = TestServer(app)
    await server.start_server()
    hook.url = str(server.make_url("/hook"))
    try:
        yield hook
    finally:
        await server.close()
