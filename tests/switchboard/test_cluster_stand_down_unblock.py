"""A deposed leader's task that loses its cancel (the Redis client's read did, under load) is named and
unblocked, so the stand-down ends instead of waiting on it for as long as the socket stays quiet."""

from __future__ import annotations

import asyncio

import structlog
from redis.exceptions import ConnectionError as RedisConnectionError

from switchboard.cluster.member import until_ended


async def _deaf_read(socket_closed: asyncio.Event) -> None:
    """As the stuck read: every cancel lost, until its socket is closed under it."""
    while not socket_closed.is_set():
        try:
            await socket_closed.wait()
        except asyncio.CancelledError:
            continue


async def test_given_a_task_that_loses_its_cancel_then_it_is_named_and_its_socket_closed() -> None:
    socket_closed = asyncio.Event()
    closes: list[float] = []

    async def unblock() -> None:
        closes.append(asyncio.get_running_loop().time())
        if len(closes) == 2:  # the first close does not help (a reconnect raced it); the next one does
            socket_closed.set()

    stuck = asyncio.create_task(_deaf_read(socket_closed), name="asks")
    quick = asyncio.create_task(asyncio.sleep(60), name="router")
    await asyncio.sleep(0)
    for task in (stuck, quick):
        task.cancel()
    with structlog.testing.capture_logs() as logs:
        async with asyncio.timeout(2):  # without the unblock it waits for ever
            await until_ended([stuck, quick], 0.05, unblock)

    assert stuck.done() and quick.cancelled()
    assert len(closes) == 2
    named = [e for e in logs if e["event"] == "node.leader-task-stuck"]
    assert [e["task"] for e in named] == ["asks", "asks"]
    assert "_deaf_read" in named[0]["where"]


async def test_given_the_unblock_fails_then_the_wait_goes_on_and_tries_again() -> None:
    socket_closed = asyncio.Event()
    tries = 0

    async def unblock() -> None:
        nonlocal tries
        tries += 1
        if tries == 1:
            raise RedisConnectionError("the pool is being rebuilt")
        socket_closed.set()

    stuck = asyncio.create_task(_deaf_read(socket_closed))
    await asyncio.sleep(0)
    stuck.cancel()
    async with asyncio.timeout(2):
        await until_ended([stuck], 0.05, unblock)

    assert tries == 2 and stuck.done()


async def test_given_tasks_that_end_on_their_cancel_then_nothing_is_closed() -> None:
    closes = 0

    async def unblock() -> None:
        nonlocal closes
        closes += 1

    task = asyncio.create_task(asyncio.sleep(60))
    await asyncio.sleep(0)
    task.cancel()
    with structlog.testing.capture_logs() as logs:
        await until_ended([task], 0.05, unblock)

    assert closes == 0 and not logs
