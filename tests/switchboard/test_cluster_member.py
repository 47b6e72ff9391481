"""Two members on the real Redis, each driving a hand-written node: one leads at a time, a follower
applies the leader's lines in order, and takes over, with the whole history, when the leader stops
renewing. (Real processes, Asterisk and SIGKILL: tests/integration/cluster/.)"""

from __future__ import annotations

import asyncio
import contextlib

import pytest
import redis.asyncio as aioredis
import structlog.testing
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from config.cluster import ClusterSettings
from crm_core.domain.journal import JournalLine
from switchboard.cluster import member as member_module
from switchboard.cluster.journal_stream import Line, StreamWriter
from switchboard.cluster.lease import Lease
from switchboard.cluster.member import Member, where
from tests.integration.conftest import wait_until
from tests.support_redis import redis_keys, redis_url

LEASE_MS = 400


class Store:
    """What the store keeps of the journal: the lines the leader wrote (the service's PostgreSQL)."""

    def __init__(self) -> None:
        self.seq = 0
        self.reads: list[str] = []  # "fence <token>" and "read", in the order they came


class Node:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.applied: list[int] = []
        self.seq = 0
        self.leading = False
        self.writer: StreamWriter | None = None
        self.terms: list[int] = []
        self.stopping = False

    def apply(self, line: Line) -> None:
        self.applied.append(line.seq)
        self.seq = line.seq

    async def reload(self) -> int:
        self.seq = self.store.seq
        return self.seq

    async def raise_fence(self, token: int) -> None:
        self.store.reads.append(f"fence {token}")

    async def start_term(self, writer: StreamWriter) -> int:
        self.writer = writer
        self.store.seq = self.seq
        return self.seq

    async def lead(self, lease: Lease) -> None:
        self.leading = True
        assert lease.token is not None
        self.terms.append(lease.token)

    async def stand_down(self) -> None:
        self.leading = False

    async def stored_seq(self) -> int:
        self.store.reads.append("read")
        return self.store.seq

    def may_lead(self) -> bool:
        return not self.stopping

    def heard_of(self, token: int) -> None:
        pass

    def record(self, count: int) -> None:
        """As the leader's router would: the next lines, tapped to the stream and kept in the store."""
        assert self.writer is not None
        for _ in range(count):
            self.seq += 1
            self.store.seq = self.seq
            self.writer.tap(JournalLine(self.seq, f"event {self.seq}"))


async def test_given_two_members_then_one_leads_the_other_follows_and_takes_over_with_the_history() -> None:
    async with redis_keys("member") as (redis, prefix):
        store = Store()
        nodes = {name: Node(store) for name in ("a", "b")}
        members = {
            name: Member(node, redis, redis, ClusterSettings(redis_url="redis://", instance=name,
                                                                lease_ms=LEASE_MS, key_prefix=prefix), 0)
            for name, node in nodes.items()
        }  # fmt: skip
        tasks = {name: asyncio.create_task(m.run()) for name, m in members.items()}
        try:
            await wait_until(lambda: any(n.leading for n in nodes.values()), 3)
            leader = next(name for name, n in nodes.items() if n.leading)
            other = "b" if leader == "a" else "a"
            assert not nodes[other].leading
            nodes[leader].record(50)
            await wait_until(lambda: nodes[other].applied == list(range(1, 51)), 3)
            nodes[leader].store.seq = 53  # three more lines reached the store but never the stream

            # The leader dies without a word: its task ends, its lease is left to expire.
            tasks[leader].cancel()
            members[leader].lease.token = None  # as a killed process: it gives nothing back
            await asyncio.gather(tasks[leader], return_exceptions=True)
            await redis.set(members[leader].lease.key, f"{leader} 1", px=LEASE_MS)  # still held in Redis
            started = asyncio.get_running_loop().time()
            await wait_until(lambda: nodes[other].leading, 3)
            took = asyncio.get_running_loop().time() - started
            assert took < LEASE_MS / 1000 + 0.5, took
            # It went on from the store's line, not from the stream's: those three lines are history too.
            assert nodes[other].seq == 53 and nodes[other].terms[-1] > nodes[leader].terms[-1]
            # The store was fenced with the new leader's token before it read what the store holds.
            assert store.reads[-2:] == [f"fence {nodes[other].terms[-1]}", "read"], store.reads
        finally:
            for task in tasks.values():
                task.cancel()
            with contextlib.suppress(Exception):
                await asyncio.gather(*tasks.values(), return_exceptions=True)


async def test_given_a_leader_that_cannot_renew_then_it_stands_down_by_its_own_clock() -> None:
    async with redis_keys("member-renew") as (redis, prefix):
        node = Node(Store())
        settings = ClusterSettings(redis_url="redis://", instance="a", lease_ms=LEASE_MS, key_prefix=prefix)
        member = Member(node, redis, redis, settings, 0)
        task = asyncio.create_task(member.run())
        try:
            await wait_until(lambda: node.leading, 3)
            await redis.set(member.lease.key, "thief 999", px=60_000)  # another holds it now
            await wait_until(lambda: not node.leading, 2)
            assert not member.lease.valid()
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


async def test_given_a_member_on_its_way_out_then_it_takes_no_lease() -> None:
    async with redis_keys("member-stopping") as (redis, prefix):
        node = Node(Store())
        node.stopping = True
        settings = ClusterSettings(redis_url="redis://", instance="a", lease_ms=LEASE_MS, key_prefix=prefix)
        member = Member(node, redis, redis, settings, 0)
        task = asyncio.create_task(member.run())
        try:
            await asyncio.sleep(LEASE_MS / 1000)  # ten tries
            assert not node.leading and await member.lease.holder() is None
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


class LosesCancellation:
    """The stream reads of a Redis client that loses a cancellation, as redis-py's own read timeout can
    (a cancel that comes while it expires turns into its TimeoutError): the read ends, the cancel is gone."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis
        self.lost = 0

    async def xread(self, streams: dict[str, str], count: int, block: int | None) -> object:
        try:
            return await self.redis.xread(streams, count=count, block=block)  # type: ignore[arg-type]
        except asyncio.CancelledError:
            task = asyncio.current_task()
            assert task is not None
            task.uncancel()
            self.lost += 1
            raise RedisTimeoutError("Timeout reading from redis") from None


async def test_given_a_cancel_lost_in_a_stream_read_when_the_lease_is_taken_then_it_leads_at_once() -> None:
    async with redis_keys("member-lost-cancel") as (redis, prefix):
        node = Node(Store())
        settings = ClusterSettings(redis_url="redis://", instance="a", lease_ms=LEASE_MS, key_prefix=prefix)
        reads = LosesCancellation(redis)
        await redis.set(f"{prefix}:leader", "gone 1", px=LEASE_MS)  # another held it; it lapses
        member = Member(node, redis, reads, settings, 0)  # type: ignore[arg-type]
        task = asyncio.create_task(member.run())
        try:
            # The follower's read lost the cancel; its task must end all the same, or the new leader
            # waits ten seconds for it and then gives the lease back.
            await wait_until(lambda: node.leading, 3)
            assert reads.lost >= 1
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


async def test_given_a_task_suspended_deep_in_awaits_then_where_names_each_frame_outermost_first() -> None:
    gate = asyncio.Event()

    async def inner() -> None:
        await gate.wait()

    async def outer() -> None:
        await inner()

    task = asyncio.create_task(outer())
    await asyncio.sleep(0)
    try:
        places = where(task).split(" -> ")
        assert places[:2] == [
            f"{outer.__qualname__}:{outer.__code__.co_firstlineno + 1}",
            f"{inner.__qualname__}:{inner.__code__.co_firstlineno + 1}",
        ]
        assert places[2].startswith("Event.wait:"), places
    finally:
        gate.set()
        await task


class StuckReload(Node):
    """A node whose reload, once it has led, never returns (as a store read that hangs)."""

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self.led = False
        self.never = asyncio.Event()

    async def lead(self, lease: Lease) -> None:
        await super().lead(lease)
        self.led = True

    async def reload(self) -> int:
        if self.led:
            await self.never.wait()
        return await super().reload()


async def test_given_a_member_that_hangs_in_a_step_then_it_says_which_and_where_it_waits(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(member_module, "STUCK_S", 0.3)
    async with redis_keys("member-stuck") as (redis, prefix):
        node = StuckReload(Store())
        settings = ClusterSettings(redis_url="redis://", instance="a", lease_ms=LEASE_MS, key_prefix=prefix)
        member = Member(node, redis, redis, settings, 0)
        with structlog.testing.capture_logs() as logs:
            task = asyncio.create_task(member.run())
            try:
                await wait_until(lambda: node.leading, 3)
                await asyncio.sleep(0.5)  # leading for longer than STUCK_S is no news
                assert not [e for e in logs if e["event"] == "member.stuck"]
                await redis.set(member.lease.key, "thief 999", px=60_000)  # another takes it
                await wait_until(lambda: any(e["event"] == "member.stuck" for e in logs), 3)
            finally:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        stuck = next(e for e in logs if e["event"] == "member.stuck")
        assert stuck["step"] == "reloading after leading" and stuck["for_s"] >= 0.3
        assert "Member._reload_after_leading" in stuck["where"] and "StuckReload.reload" in stuck["where"]


async def test_given_a_leader_standing_down_when_its_tasks_lose_the_cancel_then_they_end_by_themselves() -> (
    None
):
    # A cancel can be lost (asyncio.wait_for before 3.12 swallows one that meets its inner call's end);
    # a renewal loop that lost it went on renewing the lease of a member standing down, and nobody led.
    # So the loops end once the term is over whether or not the cancel reaches them: here it never does.
    async with redis_keys("member-renew-stops") as (redis, prefix):
        settings = ClusterSettings(redis_url="redis://", instance="a", lease_ms=LEASE_MS, key_prefix=prefix)
        member = Member(Node(Store()), redis, redis, settings, 0)
        assert await member.lease.acquire() is not None
        lost = asyncio.Event()
        loops = [asyncio.create_task(member._renew(lost)), asyncio.create_task(member._watch(lost))]
        await asyncio.sleep(LEASE_MS / 1000)  # a few renewals: the lease is kept while the term is on
        assert member.lease.valid() and not any(t.done() for t in loops)
        lost.set()  # the term is over; no cancel is sent
        _, pending = await asyncio.wait(loops, timeout=member.lease.renew_every_s * 3)
        for task in pending:
            task.cancel()
        assert not pending, [t.get_coro() for t in pending]
        renewed_until = await redis.pttl(member.lease.key)
        await asyncio.sleep(member.lease.renew_every_s * 2)
        assert await redis.pttl(member.lease.key) < renewed_until  # nobody renews it any more


async def test_given_a_follower_read_that_loses_its_cancel_when_taking_over_then_its_socket_is_closed() -> (
    None
):
    # The follower's blocking stream read, cancelled as the member takes the lease, can lose the cancel
    # inside the Redis client: the takeover then waited for the read's own end (a failover of 2.1 s).
    async with redis_keys("member-deaf-read") as (redis, prefix):
        settings = ClusterSettings(redis_url="redis://", instance="a", lease_ms=LEASE_MS, key_prefix=prefix)
        reads = aioredis.Redis.from_url(redis_url())
        member = Member(Node(Store()), redis, reads, settings, 0)
        cancels = 0

        async def deaf_read() -> None:
            nonlocal cancels
            while True:
                try:
                    await reads.xread({f"{prefix}:nothing": "$"}, block=5000)
                except asyncio.CancelledError:
                    cancels += 1  # lost, as inside the client
                except RedisError:
                    return  # its socket closed under it

        following = asyncio.create_task(deaf_read())
        await asyncio.sleep(0.1)  # in its blocking read
        started = asyncio.get_running_loop().time()
        with structlog.testing.capture_logs() as logs:
            ended = await member._stop_following(following)
        took = asyncio.get_running_loop().time() - started
        await reads.aclose()

    assert ended and cancels == 1
    assert took < 1.0  # not the read's 5 s
    slow = [e for e in logs if e["event"] == "member.follower-slow-to-stop"]
    assert len(slow) == 1 and "deaf_read" in slow[0]["where"]
