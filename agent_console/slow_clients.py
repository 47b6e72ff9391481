"""Slow clients cannot hold connections: a request's head and body must each arrive in time.

A client that opens connections and sends its request a byte at a time (slowloris) kept every one open:
50 connections trickling one header line every 10 s were all still open after 90 s. Two bounds now:

- the head (request line and headers) must be complete within ``head_s`` of the connection opening, or
  of the previous response on a kept-alive connection. This is aiohttp's own ``keepalive_timeout``: it
  is armed when the connection opens and again after each response, and closes a connection that has
  no complete request by then; bytes trickling in do not re-arm it (``web.Application(handler_args=)``).
- a body still being received must grow by ``body_min_bytes`` every ``body_check_s`` (``body_pace``,
  a middleware): a watch checks the stream's byte count and closes the connection of a body that has
  fallen behind. A rate, not a deadline, so a large customer import over a slow but honest link still
  arrives (1 KiB per 10 s is ~100 B/s, far below any real link), while a trickle of a few bytes a
  second is cut off.

A websocket is past both once upgraded: its own heartbeat and limits apply (``app``).
"""

from __future__ import annotations

import asyncio
import functools
from dataclasses import dataclass

import structlog
from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

log = structlog.get_logger("console")


@dataclass(frozen=True, slots=True)
class Pace:
    head_s: float = 15.0
    body_check_s: float = 10.0
    body_min_bytes: int = 1024

    def handler_args(self) -> dict[str, float]:
        return {"keepalive_timeout": self.head_s}

    def middleware(self) -> Middleware:
        return web.middleware(functools.partial(body_pace, self))


SLOW_CLIENTS = Pace()  # the service's bounds; tests hand in shorter ones


async def body_pace(pace: Pace, request: web.Request, handler: Handler) -> web.StreamResponse:
    if not request.body_exists or request.content.is_eof():
        return await handler(request)
    watch = asyncio.create_task(_watch(pace, request))
    try:
        return await handler(request)
    finally:
        watch.cancel()


async def _watch(pace: Pace, request: web.Request) -> None:
    seen = 0
    while True:
        await asyncio.sleep(pace.body_check_s)
        body = request.content
        if body.is_eof():
            return
        if body.total_bytes - seen < pace.body_min_bytes:
            log.info("http.slow-body", path=request.path, received=body.total_bytes)
            if request.transport is not None:
                request.transport.close()
            return
        seen = body.total_bytes
