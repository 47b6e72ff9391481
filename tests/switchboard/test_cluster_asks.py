"""A console's orders from a follower to the leader's router over the real Redis
(switchboard/cluster/asks.py): answered, refused as the router refused, given up as no-leader, never
applied late, never applied twice, and malformed entries answered without stopping the leader."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from redis import asyncio as aioredis

from agent_console.errors import NoLeader
from routing import errors
from routing import events as ev
from routing.errors import RoutingError
from routing.ids import AgentId
from routing.plan import Agent, Plan
from routing.router import Router
from routing.states import AgentState
from switchboard.bus import LocalBus
from switchboard.cluster import error_codec
from switchboard.cluster.asks import (
    BLOCK_MS,
    GROUP,
    AskClient,
    AskFailed,
    AskServer,
    answers_channel,
    stream_key,
)
from switchboard.event_codec import encode
from switchboard.runtime import RouterLoop
from tests.support_redis import redis_keys

A1 = AgentId("a1")
Keys = tuple[aioredis.Redis, str]


@pytest.fixture
async def keys() -> AsyncIterator[Keys]:
    async with redis_keys("asks") as found:
        yield found


class RecordingRouter:
    """Stands in for ``RouterLoop.ask``: keeps each event it is handed and raises what ``refuse`` gives."""

    def __init__(self, refuse: Callable[[ev.Event], Exception | None] = lambda _: None) -> None:
        self.handled: list[ev.Event] = []
        self._refuse = refuse

    async def ask(self, event: ev.Event) -> None:
        self.handled.append(event)
        refusal = self._refuse(event)
        if refusal is not None:
            raise refusal


@contextlib.asynccontextmanager
async def serving(server: AskServer) -> AsyncIterator[AskServer]:
    task = asyncio.create_task(server.run())
    try:
        yield server
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert task.cancelled(), task.exception()  # it served until cancelled, whatever it was sent


@contextlib.asynccontextmanager
async def client(
    keys: Keys, instance: str = "follower-1", timeout_s: float = 5.0
) -> AsyncIterator[AskClient]:
    redis, prefix = keys
    asker = AskClient(redis, prefix, instance, timeout_s=timeout_s)
    await asker.start()
    try:
        yield asker
    finally:
        await asker.close()


def logged_in(n: int) -> ev.Event:
    return ev.AgentLoggedIn(AgentId(f"a{n}"), float(n))


async def pending(keys: Keys) -> int:
    redis, prefix = keys
    summary: Any = await redis.xpending(stream_key(prefix), GROUP)
    return int(summary["pending"])


async def test_given_a_leader_serving_when_a_follower_asks_then_the_leaders_router_handles_it() -> None:
    router = Router(Plan(agents={A1: Agent(id=A1, name="Alice", endpoint="Local/1", queues=())}))
    loop = RouterLoop(router, lambda: 0.0, LocalBus())
    loop_task = asyncio.create_task(loop.run())
    try:
        async with (
            redis_keys("asks") as keys,
            serving(AskServer(*keys, loop.ask)) as server,
            client(keys) as asker,
        ):
            assert await asker.ask(ev.AgentLoggedIn(A1, 1.0)) is None
            assert router.book.agents[A1].state is AgentState.NOT_READY
            with pytest.raises(errors.UnknownAgent) as refused:
                await asker.ask(ev.AgentBecameReady(AgentId("nobody"), 2.0))
            assert refused.value.agent == "nobody"
            assert server.counts == {"done": 1, "refused": 1}
            assert await pending(keys) == 0
    finally:
        loop_task.cancel()


def sample(kind: type[RoutingError]) -> RoutingError:
    """``kind`` built with a distinct string for each constructor argument (they are all strings)."""
    if kind.__init__ is RoutingError.__init__:
        return kind(f"a {kind.__name__} of the leader's")
    names = list(inspect.signature(kind.__init__).parameters)[1:]
    return kind(*(f"{name}-{kind.__name__}" for name in names))


@pytest.mark.parametrize("kind", error_codec.KINDS.values(), ids=lambda k: k.__name__)
async def test_given_the_leaders_router_refuses_then_the_asker_gets_the_same_refusal(
    keys: Keys, kind: type[RoutingError]
) -> None:
    refusal = sample(kind)
    router = RecordingRouter(lambda _: refusal)
    async with serving(AskServer(*keys, router.ask)), client(keys) as asker:
        with pytest.raises(RoutingError) as raised:
            await asker.ask(logged_in(1))
    assert type(raised.value) is kind
    assert str(raised.value) == str(refusal)
    assert vars(raised.value) == vars(refusal)
    assert vars(refusal) or kind.__init__ is RoutingError.__init__  # the fields compared are there


async def test_given_the_leaders_router_fails_then_the_asker_gets_ask_failed(keys: Keys) -> None:
    router = RecordingRouter(lambda _: KeyError("no handler"))
    async with serving(AskServer(*keys, router.ask)) as server, client(keys) as asker:
        with pytest.raises(AskFailed, match="no handler"):
            await asker.ask(logged_in(1))
    assert server.counts == {"failed": 1}


async def test_given_the_leader_stops_leading_with_the_ask_queued_then_the_asker_gets_no_leader(
    keys: Keys,
) -> None:
    """Its router loop refuses what it had queued (``RouterLoop``: ``NoLeader``); the console on the
    follower must say ``no-leader`` (try again), not ``internal-error`` as it did in the cluster bench."""
    router = RecordingRouter(lambda _: NoLeader("this instance stopped leading before handling it"))
    async with serving(AskServer(*keys, router.ask)) as server, client(keys) as asker:
        with pytest.raises(NoLeader, match="stopped leading"):
            await asker.ask(logged_in(1))
    assert server.counts == {"no-leader": 1}


async def test_given_no_leader_when_asked_then_no_leader_after_the_timeout(keys: Keys) -> None:
    async with client(keys, timeout_s=0.3) as asker:
        started = time.monotonic()
        with pytest.raises(NoLeader, match="try again"):
            await asker.ask(logged_in(1))
    assert 0.3 <= time.monotonic() - started < 2.0


async def test_given_an_ask_waiting_when_its_instance_closes_then_no_leader_at_once(keys: Keys) -> None:
    redis, prefix = keys
    asker = AskClient(redis, prefix, "follower-1")
    await asker.start()
    asking = asyncio.create_task(asker.ask(logged_in(1)))
    await asyncio.sleep(0.2)  # sent, and waiting for a leader that is not there
    started = time.monotonic()
    await asker.close()
    with pytest.raises(NoLeader, match="closing"):
        await asking
    assert time.monotonic() - started < 2.0  # not the 5 s timeout


async def test_given_an_ask_given_up_when_a_leader_starts_then_it_is_not_applied(keys: Keys) -> None:
    router = RecordingRouter()
    async with client(keys, timeout_s=0.3) as hasty, client(keys, "follower-2") as patient:
        with pytest.raises(NoLeader):
            await hasty.ask(logged_in(1))
        async with serving(AskServer(*keys, router.ask)) as server:
            await patient.ask(logged_in(2))  # after the given-up one in the stream: it was read first
    assert router.handled == [logged_in(2)]
    assert server.counts == {"expired": 1, "done": 1}
    assert await pending(keys) == 0


async def test_given_an_ask_reaching_redis_after_its_deadline_then_it_is_not_applied(keys: Keys) -> None:
    """As from a follower whose connection stalled: the entry is new to Redis, its deadline is not."""
    redis, prefix = keys
    router = RecordingRouter()
    seconds, micros = await redis.time()
    past = f"{seconds * 1000 + micros // 1000 - 1}"
    await redis.xadd(
        stream_key(prefix), {"ask": "late", "from": "x", "deadline": past, "event": encode(logged_in(1))}
    )
    async with serving(AskServer(*keys, router.ask)) as server, client(keys) as asker:
        await asker.ask(logged_in(2))
    assert router.handled == [logged_in(2)]
    assert server.counts == {"expired": 1, "done": 1}


async def test_given_two_leaders_reading_at_once_then_each_ask_is_applied_once(keys: Keys) -> None:
    old, new = RecordingRouter(), RecordingRouter()
    async with (
        serving(AskServer(*keys, old.ask, consumer="old")),
        serving(AskServer(*keys, new.ask, consumer="new")),
        client(keys, "follower-1") as one,
        client(keys, "follower-2") as two,
    ):
        await asyncio.gather(*((one if n % 2 else two).ask(logged_in(n)) for n in range(300)))
    assert old.handled and new.handled, "one leader read everything: the test proves nothing"
    applied = old.handled + new.handled
    assert sorted(applied, key=lambda e: e.at) == [logged_in(n) for n in range(300)]


async def test_given_a_leader_died_holding_an_ask_then_the_next_acknowledges_it_without_applying(
    keys: Keys,
) -> None:
    redis, prefix = keys
    router = RecordingRouter()
    async with client(keys, timeout_s=0.5) as asker:
        await AskServer(*keys, router.ask)._create_group()
        asking = asyncio.create_task(asker.ask(logged_in(1)))
        # The old leader takes the entry and dies before it answers (or is deposed meanwhile).
        taken: list[object] = []
        while not taken:  # the ask is on its way: XADD after the task starts
            taken = await redis.xreadgroup(GROUP, "old", {stream_key(prefix): ">"}, count=1, block=1000)
        with pytest.raises(NoLeader):
            await asking
    assert await pending(keys) == 1
    new = AskServer(*keys, router.ask, consumer="new", abandoned_after_s=0.1)
    async with serving(new):
        for _ in range(100):
            if new.counts["abandoned"]:
                break
            await asyncio.sleep(0.02)
    assert new.counts == {"abandoned": 1}
    assert router.handled == []
    assert await pending(keys) == 0


FAR = "99999999999999"  # a deadline on Redis's clock (ms) some 3,000 years ahead


async def test_given_the_stream_deleted_while_the_leader_waits_then_it_serves_on(keys: Keys) -> None:
    """As after a FLUSHALL, or a Redis restarted with nothing saved: the read fails with UNBLOCKED."""
    redis, prefix = keys
    router = RecordingRouter()
    async with serving(AskServer(*keys, router.ask)) as server, client(keys) as asker:
        await asker.ask(logged_in(1))
        await redis.delete(stream_key(prefix))
        await asyncio.sleep(0.2)  # the read fails and the group is made again
        await asker.ask(logged_in(2))
    assert router.handled == [logged_in(1), logged_in(2)]
    assert server.counts == {"done": 2}


MALFORMED: dict[str, dict[str, str]] = {
    "not JSON": {"deadline": FAR, "event": "{not json"},
    "an unknown kind": {"deadline": FAR, "event": '{"k":"AgentTeleported","agent":"a1","at":1.0}'},
    "a missing field": {"deadline": FAR, "event": '{"k":"AgentLoggedIn","at":1.0}'},
    "a field of the wrong type": {"deadline": FAR, "event": '{"k":"AgentLoggedIn","agent":7,"at":1.0}'},
    "no event": {"deadline": FAR},
    "no deadline": {"event": encode(logged_in(1))},
    "a deadline that is no number": {"deadline": "soon", "event": encode(logged_in(1))},
    "a deadline that is never past": {"deadline": "nan", "event": encode(logged_in(1))},
}


async def test_given_malformed_asks_then_each_is_answered_unreadable_and_the_leader_goes_on(
    keys: Keys,
) -> None:
    redis, prefix = keys
    router = RecordingRouter()
    answers = redis.pubsub()
    await answers.subscribe(answers_channel(prefix, "mallory"))
    stream = stream_key(prefix)
    for n, fields in enumerate(MALFORMED.values()):
        await redis.xadd(stream, {"ask": f"m{n}", "from": "mallory", **fields})  # type: ignore[arg-type]
    await redis.xadd(stream, {"deadline": FAR, "event": "[]"})  # says neither who asks nor what
    async with serving(AskServer(*keys, router.ask)) as server, client(keys) as asker:
        await asker.ask(logged_in(9))  # after all of them: the loop lived through them
    got = []
    async with asyncio.timeout(5):
        while len(got) < len(MALFORMED):
            message = await answers.get_message(ignore_subscribe_messages=True, timeout=1.0)
            if message is not None:  # None: nothing yet, or the subscription's confirmation
                got.append(json.loads(message["data"]))
    await answers.aclose()
    assert [a["ask"] for a in got] == [f"m{n}" for n in range(len(MALFORMED))]
    assert all(a["outcome"] == "unreadable" and a["message"].startswith("an unreadable ask") for a in got)
    assert "AgentTeleported" in got[1]["message"] and "7 is not a str" in got[3]["message"]
    assert got[4]["message"].endswith("no field event") and got[5]["message"].endswith("no field deadline")
    assert router.handled == [logged_in(9)]
    assert server.counts == {"unreadable": len(MALFORMED) + 1, "done": 1}
    assert await pending(keys) == 0


async def test_given_a_leader_standing_down_when_its_server_is_stopped_without_a_cancel_then_it_ends(
    keys: Keys,
) -> None:
    """A cancel can be lost (asyncio's timeouts before 3.12): stopping alone must end the loop, within
    one blocking read, having answered what it carried out."""
    router = RecordingRouter()
    server = AskServer(*keys, router.ask)
    task = asyncio.create_task(server.run())
    async with client(keys) as asker:
        await asker.ask(ev.AgentLoggedIn(A1, at=1.0))
        server.stop()
        await asyncio.wait_for(task, timeout=BLOCK_MS / 1000 + 2.0)
    assert task.done() and not task.cancelled() and task.exception() is None
    assert router.handled == [ev.AgentLoggedIn(A1, at=1.0)]
