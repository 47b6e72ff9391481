"""The lease, its fence on the journal stream, and a follower's reading of it, against the real Redis.

The lease's clock is a test's own (``Ticking``), so "the lease looks gone by our clock" needs no sleeping;
Redis's own expiry is real and short (``LEASE_MS``) where a test waits for it.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest
from redis.exceptions import TimeoutError as RedisTimeoutError

from agent_console.devices import KnownDevices
from crm_core.domain.journal import JournalLine
from switchboard.cluster.follower import Follower, Position, Step, step
from switchboard.cluster.journal_stream import BadEntry, Line, Mark, StreamWriter, parse, stream_key
from switchboard.cluster.lease import SAFETY, Lease, NotLeading, holder_of
from switchboard.cluster.node import shared_key
from tests.support_redis import redis_keys

LEASE_MS = 400


class Ticking:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


# --- a follower's steps (pure) ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("at", "entry", "expected"),
    [
        (Position(5, 2), Line(6, 2, "e"), Step.APPLY),  # the next line of the same leadership
        (Position(5, None), Line(6, 7, "e"), Step.APPLY),  # just loaded: any leadership's next line
        (Position(5, 2), Line(5, 2, "e"), Step.SKIP),  # read again after a reload
        (Position(5, 2), Line(3, 9, "e"), Step.SKIP),
        (Position(5, 2), Line(7, 2, "e"), Step.RELOAD),  # a line missing
        (Position(5, 2), Line(6, 3, "e"), Step.RELOAD),  # a leadership whose start we did not see
        (Position(5, 2), Mark(5, 3), Step.ADOPT),  # a new leader goes on from our line
        (Position(5, 2), Mark(4, 3), Step.RELOAD),  # ... from an earlier one: our last line is not history
        (Position(5, 2), Mark(6, 3), Step.RELOAD),  # ... from a later one we do not have
    ],
)
def test_given_a_position_and_the_next_entry_then_the_follower_step(
    at: Position, entry: Line | Mark, expected: Step
) -> None:
    assert step(at, entry) is expected


def test_given_entries_as_redis_gives_them_then_lines_and_marks_are_read_and_others_refused() -> None:
    assert parse(b"12-0", {b"t": b"3", b"e": b"{}"}) == Line(12, 3, "{}")
    assert parse("12-3", {"t": "3", "m": "1"}) == Mark(12, 3)
    for entry_id, fields in [
        ("12-0", {"e": "{}"}),
        ("12-4", {"t": "3", "m": "1"}),
        ("x-0", {"t": "1", "e": ""}),
    ]:
        with pytest.raises(BadEntry):
            parse(entry_id, fields)
    assert holder_of(b"a 7") is not None and holder_of(b"garbage") is None and holder_of(None) is None


# --- the lease ------------------------------------------------------------------------------------------
async def test_given_a_held_lease_then_nobody_else_takes_it_until_it_expires_and_the_token_grows() -> None:
    async with redis_keys("lease") as (redis, prefix):
        a, b = Lease(redis, prefix, "a", LEASE_MS), Lease(redis, prefix, "b", LEASE_MS)
        first = await a.acquire()
        assert first is not None and await b.acquire() is None
        assert await a.renew()
        await asyncio.sleep(LEASE_MS / 1000 + 0.1)  # a stops renewing: Redis lets it go
        second = await b.acquire()
        assert second is not None and second > first
        assert not await a.renew()  # a learns it lost the lease and no longer counts itself leader
        assert not a.valid() and a.token is None
        holder = await b.holder()
        assert holder is not None and (holder.instance, holder.token) == ("b", second)


async def test_given_a_leader_frozen_past_its_lease_then_its_own_clock_refuses_before_redis_frees_it() -> (
    None
):
    async with redis_keys("lease-clock") as (redis, prefix):
        clock = Ticking()
        a = Lease(redis, prefix, "a", 10_000, monotonic=clock)
        await a.acquire()
        a.check()  # valid just after taking it
        clock.now += 10 * SAFETY - 0.01
        a.check()
        clock.now += 0.02  # past SAFETY of the lease by our clock: Redis would still hold it for us
        with pytest.raises(NotLeading):
            a.check()
        assert await redis.pttl(a.key) > 1000


async def test_given_redis_lost_its_data_then_new_tokens_are_still_above_every_earlier_one() -> None:
    async with redis_keys("lease-seed") as (redis, prefix):
        a = Lease(redis, prefix, "a", 60_000)
        before = await a.acquire()
        assert before is not None
        await redis.delete(a.key, f"{prefix}:fence")  # what a restarted Redis without its data holds
        await asyncio.sleep(0.01)  # a restart takes longer than a millisecond
        b = Lease(redis, prefix, "b", 60_000)
        after = await b.acquire()
        assert after is not None and after > before


async def test_given_a_clean_stop_then_the_lease_is_given_back_at_once() -> None:
    async with redis_keys("lease-release") as (redis, prefix):
        a, b = Lease(redis, prefix, "a", 60_000), Lease(redis, prefix, "b", 60_000)
        await a.acquire()
        await a.release()
        assert await b.acquire() is not None


# --- the stream's fence -------------------------------------------------------------------------------
async def test_given_a_deposed_leader_then_the_stream_refuses_its_lines_and_keeps_the_new_leaders() -> None:
    async with redis_keys("fence") as (redis, prefix):
        # The old leader's clock does not move: it still believes its lease valid, so the fence in Redis
        # is what must refuse it (its own clock would have stopped it first otherwise: the next test).
        old = Lease(redis, prefix, "old", LEASE_MS, monotonic=Ticking())
        new = Lease(redis, prefix, "new", LEASE_MS)
        await old.acquire()
        refused: list[str] = []
        old_writer = StreamWriter(redis, prefix, old, refused.append)
        assert await old_writer.mark(0)
        running = asyncio.create_task(old_writer.run())
        old_writer.tap(JournalLine(1, "one"))
        await old_writer.flush()
        await asyncio.sleep(LEASE_MS / 1000 + 0.1)  # frozen: never renewed
        await new.acquire()
        new_writer = StreamWriter(redis, prefix, new, refused.append)
        assert await new_writer.mark(1)
        old_writer.tap(JournalLine(2, "the deposed leader's"))  # woke up and goes on
        await asyncio.wait_for(running, 2)
        assert old_writer.stopped and refused == ["the lease is not ours any more"]
        assert not await old_writer.mark(2)
        entries = [parse(i, f) for i, f in await redis.xrange(stream_key(prefix))]
        first = entries[0]
        assert isinstance(first, Mark) and entries == [
            first,
            Line(1, first.token, "one"),
            Mark(1, new.token or 0),
        ]
        assert new.token is not None and new.token > first.token


async def test_given_a_leader_whose_lease_ran_out_by_its_clock_then_it_appends_nothing_more() -> None:
    async with redis_keys("own-clock") as (redis, prefix):
        clock = Ticking()
        lease = Lease(redis, prefix, "a", 60_000, monotonic=clock)
        await lease.acquire()
        refused: list[str] = []
        writer = StreamWriter(redis, prefix, lease, refused.append)
        running = asyncio.create_task(writer.run())
        writer.tap(JournalLine(1, "one"))
        await writer.flush()
        clock.now += 60  # frozen a minute; Redis still holds the lease for it
        writer.tap(JournalLine(2, "two"))
        await asyncio.wait_for(running, 2)
        assert refused == ["the lease has run out by our clock"]
        assert [parse(i, f) for i, f in await redis.xrange(stream_key(prefix))] == [
            Line(1, lease.token or 0, "one")
        ]


async def test_given_a_follower_then_it_applies_in_order_and_reloads_when_history_is_not_the_leaders() -> (
    None
):
    async with redis_keys("follow") as (redis, prefix):
        lease = Lease(redis, prefix, "l", 60_000)
        await lease.acquire()
        writer = StreamWriter(redis, prefix, lease, lambda _: None)
        await writer.mark(0)
        running = asyncio.create_task(writer.run())
        for seq in (1, 2, 3):
            writer.tap(JournalLine(seq, f"e{seq}"))
        await writer.flush()
        applied: list[int] = []
        store_at = [2]

        async def reload() -> int:
            return store_at[0]

        follower = Follower(redis, prefix, lambda line: applied.append(line.seq), reload, seq=0)
        await follower.drain()
        assert applied == [1, 2, 3] and follower.at == Position(3, lease.token)
        # Redis loses its data; the next leader had only line 2 and goes on from there with its own 3 and 4.
        running.cancel()
        await redis.delete(stream_key(prefix), lease.key)
        successor = Lease(redis, prefix, "s", 60_000)
        await successor.acquire()
        writer = StreamWriter(redis, prefix, successor, lambda _: None)
        assert await writer.mark(2)
        running = asyncio.create_task(writer.run())
        writer.tap(JournalLine(3, "their e3"))
        writer.tap(JournalLine(4, "their e4"))
        await writer.flush()
        await follower.drain()  # its line 3 is not theirs: it reloads (the store has line 2) and reads on
        assert follower.reloads == 1 and applied == [1, 2, 3, 3, 4]
        assert follower.at == Position(4, successor.token)
        running.cancel()


async def test_given_two_instances_then_a_browser_one_knows_is_known_to_the_other() -> None:
    async with redis_keys("device-key") as (redis, prefix):
        a, b = KnownDevices(await shared_key(redis, prefix)), KnownDevices(await shared_key(redis, prefix))
        cookie = a.issue("alice")
        assert b.device_of(cookie, "alice") is not None
        assert KnownDevices().device_of(cookie, "alice") is None  # a key of its own: a stranger's browser


class LostReply:
    """A Redis client whose next ``eval`` runs but whose reply never comes back (a timeout while Redis
    was slow): the writer sends the same batch again, and Redis already holds it."""

    def __init__(self, redis: Any) -> None:
        self._redis = redis
        self.lose_next = False

    async def eval(self, *args: Any) -> Any:
        answer = await self._redis.eval(*args)
        if self.lose_next:
            self.lose_next = False
            raise RedisTimeoutError("Timeout reading from the test's Redis")
        return answer


async def test_given_a_batchs_reply_lost_then_sent_again_it_lands_once_and_the_leader_goes_on() -> None:
    """Seen after Redis came back from a freeze: the retry was refused (its ids not above the stream's
    last) and the leader stood down, with every other member still following."""
    async with redis_keys("lost-reply") as (redis, prefix):
        lease = Lease(redis, prefix, "a", 60_000)
        await lease.acquire()
        refused: list[str] = []
        flaky = LostReply(redis)
        writer = StreamWriter(cast(Any, flaky), prefix, lease, refused.append)
        assert await writer.mark(0)
        running = asyncio.create_task(writer.run())
        try:
            flaky.lose_next = True
            for seq in (1, 2):
                writer.tap(JournalLine(seq, f"e{seq}"))
            await writer.flush()
            writer.tap(JournalLine(3, "e3"))
            await writer.flush()
            assert refused == [] and not writer.stopped
            entries = [parse(i, f) for i, f in await redis.xrange(stream_key(prefix))]
            assert [e.seq for e in entries if isinstance(e, Line)] == [1, 2, 3]  # each once, in order
        finally:
            writer.stopped = True
            writer.tap(JournalLine(4, "never"))
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)


async def test_given_a_line_of_that_id_with_other_text_then_the_batch_is_still_refused() -> None:
    """Only a line identical to one already there (token and text) is taken for a resend."""
    async with redis_keys("not-a-resend") as (redis, prefix):
        lease = Lease(redis, prefix, "a", 60_000)
        await lease.acquire()
        refused: list[str] = []
        writer = StreamWriter(redis, prefix, lease, refused.append)
        assert await writer.mark(0)
        running = asyncio.create_task(writer.run())
        writer.tap(JournalLine(1, "e1"))
        await writer.flush()
        writer.tap(JournalLine(1, "another e1"))
        await asyncio.wait_for(running, 2)
        assert writer.stopped and len(refused) == 1 and "refused line 1" in refused[0]
        entries = [parse(i, f) for i, f in await redis.xrange(stream_key(prefix))]
        assert [(e.seq, e.event) for e in entries if isinstance(e, Line)] == [(1, "e1")]
