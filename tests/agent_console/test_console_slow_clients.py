"""Slow clients over real sockets: a request head sent a byte at a time, or a body trickled, loses its
connection once its bound passes, while a client that sends at once is served (``slow_clients``)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from agent_console.slow_clients import Pace
from tests.agent_console.test_console_origins import served

PACE = Pace(head_s=1.0, body_check_s=0.5, body_min_bytes=64)
HEAD = b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n"


@pytest.fixture
async def console() -> AsyncIterator[TestClient[Any, Any]]:
    async with served(pace=PACE) as client:
        yield client


async def trickle(client: TestClient[Any, Any], data: bytes, every_s: float, limit_s: float) -> float | None:
    """Send ``data`` a byte every ``every_s`` on a new connection; how long until the server closed it
    (None: still open after ``limit_s``, or the server answered)."""
    assert client.port is not None
    reader, writer = await asyncio.open_connection("127.0.0.1", client.port)
    started = time.monotonic()
    try:
        for byte in data:
            writer.write(bytes([byte]))
            try:
                answer = await asyncio.wait_for(reader.read(1), every_s)
            except TimeoutError:
                if time.monotonic() - started > limit_s:
                    return None
                continue
            return time.monotonic() - started if answer == b"" else None
        return None
    finally:
        writer.close()


async def test_given_a_head_sent_a_byte_at_a_time_then_the_connection_closes_after_the_head_bound(
    console: TestClient[Any, Any],
) -> None:
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: " + b"a" * 200 + b"\r\n\r\n"
    closed = await asyncio.gather(*(trickle(console, head, 0.1, 10.0) for _ in range(5)))
    assert all(after is not None and PACE.head_s - 0.1 <= after < PACE.head_s + 1.5 for after in closed), (
        closed
    )


async def test_given_a_body_trickled_then_the_connection_closes_at_a_check(
    console: TestClient[Any, Any],
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", console.port)
    writer.write(HEAD)  # the head at once: the body is what crawls
    started = time.monotonic()
    try:
        for _ in range(100):
            writer.write(b" ")
            if await _closed_within(reader, 0.1):
                break
        after = time.monotonic() - started
    finally:
        writer.close()
    assert PACE.body_check_s - 0.1 <= after < 2 * PACE.body_check_s + 1.0


async def test_given_a_client_sending_at_once_then_it_is_served_and_kept_alive(
    console: TestClient[Any, Any],
) -> None:
    for _ in range(3):  # one connection, kept alive between requests sent whole
        async with console.get("/healthz") as r:
            assert r.status == 200
        await asyncio.sleep(PACE.head_s / 4)
    body = b'{"username": "alice", "password": "wrong password"}'
    async with console.post(
        "/login", data=body + b" " * 500, headers={"Content-Type": "application/json"}
    ) as r:
        assert r.status == 401  # a body of 551 bytes, sent whole: checked, not cut off


async def _closed_within(reader: asyncio.StreamReader, seconds: float) -> bool:
    try:
        return await asyncio.wait_for(reader.read(1), seconds) == b""
    except TimeoutError:
        return False
