"""A console that does not read, or sends too much, cannot grow the server's memory: the outbox of each
connection is bounded (past it: closed ``too-slow``), and each connection's messages are rate-limited."""

from __future__ import annotations

from typing import Any

import aiohttp

from agent_console.hub import MAX_BACKLOG, MAX_BACKLOG_CHARS, TOO_SLOW, Connection
from agent_console.rate import BURST, PERSIST, RATE_LIMITED, MessageRate, Verdict
from routing.ids import AgentId
from tests.agent_console.harness import Console, ready

A1 = AgentId("a1")


async def _stalled(console: Console) -> Connection:
    """Alice's connection, its writer stopped: as if her browser took nothing more off the socket."""
    (conn,) = console.hub._desk(A1).tabs
    conn._writer.cancel()
    await conn.close()
    return conn


async def _closed(ws: Any, code: int, reason: str) -> None:
    for _ in range(MAX_BACKLOG + BURST + 10):  # what was written before the close, then the close
        message = await ws.receive(timeout=5)
        if message.type is not aiohttp.WSMsgType.TEXT:
            assert (message.type, message.data, message.extra) == (aiohttp.WSMsgType.CLOSE, code, reason)
            return
    raise AssertionError("not closed")


async def test_given_a_console_that_stopped_reading_when_messages_pile_up_then_closed_too_slow(
    console: Console,
) -> None:
    ws = await console.ws()
    conn = await _stalled(console)
    for n in range(MAX_BACKLOG):
        console.hub.send(A1, {"type": "state", "n": n})
    assert conn.backlog == MAX_BACKLOG and not conn.dropped
    console.hub.send(A1, {"type": "state", "n": MAX_BACKLOG})  # one more than it may hold
    assert conn.dropped and conn.backlog == 0  # the pile is gone at once
    await _closed(ws, TOO_SLOW, "too-slow")
    again = await console.ws()  # the page reconnects: its snapshot shows what it missed
    assert (again.snapshot["type"], again.snapshot["state"]) == ("snapshot", "not-ready")


async def test_given_a_console_that_stopped_reading_when_big_messages_pile_up_then_bounded_by_size_too(
    console: Console,
) -> None:
    ws = await console.ws()
    conn = await _stalled(console)
    big = {"type": "state", "pad": "x" * (MAX_BACKLOG_CHARS // 10)}
    for _ in range(9):
        console.hub.send(A1, big)
    assert conn.backlog == 9 and not conn.dropped
    console.hub.send(A1, big)
    console.hub.send(A1, big)
    assert conn.dropped and conn.backlog == 0
    await _closed(ws, TOO_SLOW, "too-slow")


async def test_given_a_client_flooding_messages_when_over_the_burst_then_rate_limited_once_then_closed(
    console: Console,
) -> None:
    ws = await console.ws()
    for _ in range(BURST + PERSIST + 100):  # acks of no offer: handled without a reply
        await ws.send_json({"type": "ack", "offer": "none"})
    said = []
    while (message := await ws.receive(timeout=5)).type is aiohttp.WSMsgType.TEXT:
        said.append(message.json())
    # one error when the bucket ran dry (unless the close overtook it), none for the rest, one at the close
    assert 1 <= len(said) <= 2 and {m["error"] for m in said} == {"rate-limited"}
    assert said[-1]["message"] == "still more than 20 messages a second: closing"
    assert (message.type, message.data, message.extra) == (
        aiohttp.WSMsgType.CLOSE,
        RATE_LIMITED,
        "rate-limited",
    )


async def test_given_a_quick_console_when_sending_a_burst_under_the_limit_then_all_handled(
    console: Console,
) -> None:
    ws = await console.ws()
    for _ in range(BURST - 10):
        await ws.send_json({"type": "ack", "offer": "none"})
    await ready(ws)  # handled; no error came before it


def test_given_an_emptied_bucket_when_time_passes_then_it_refills_and_the_refusals_start_again() -> None:
    now = [0.0]
    rate = MessageRate(lambda: now[0], burst=2, per_s=1.0, persist=2)
    assert [rate.take() for _ in range(4)] == [Verdict.HANDLE, Verdict.HANDLE, Verdict.REFUSE, Verdict.DROP]
    now[0] += 1.0
    assert [rate.take(), rate.take()] == [Verdict.HANDLE, Verdict.REFUSE]
    assert [rate.take(), rate.take()] == [Verdict.DROP, Verdict.CLOSE]
