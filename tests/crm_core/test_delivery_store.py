"""The delivery queue on SQLite and PostgreSQL: claims and leases, results under a claim, the history."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator

import pytest

from crm_core.domain.deliveries import (
    Accepted,
    Channel,
    DeliveryNotFound,
    DeliveryStatus,
    IllegalDeliveryTransition,
    InvalidDelivery,
    NewDelivery,
    Refused,
    RetryPolicy,
    after_attempt,
)
from crm_core.sql.engine import open_engine
from crm_core.sql.store import SqlStore
from routing.ids import LineId
from tests.moving_clock import START, Clock

SMITH = LineId("smith")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def queue(database_url: str, clock: Clock) -> AsyncIterator[SqlStore]:
    opened = SqlStore(open_engine(database_url), "US", clock=clock)
    try:
        yield opened
    finally:
        await opened.close()


def email(message_id: int = 1, to: str = "office@drsmith.example") -> NewDelivery:
    return NewDelivery(
        message_id=message_id, business=SMITH, channel=Channel.EMAIL, recipient=to, content={"text": "hi"}
    )


async def test_given_new_deliveries_when_queued_then_due_now_with_a_history_line(queue: SqlStore) -> None:
    [queued] = await queue.deliveries.enqueue([email()])
    assert queued.status is DeliveryStatus.QUEUED and queued.attempts == 0
    assert queued.next_attempt_at == START and queued.content == {"text": "hi"}
    assert [c.status for c in await queue.deliveries.history(queued.id)] == [DeliveryStatus.QUEUED]


async def test_given_a_bad_address_in_a_batch_when_queued_then_nothing_is_written(queue: SqlStore) -> None:
    with pytest.raises(InvalidDelivery):
        await queue.deliveries.enqueue([email(), email(to="not an address")])
    assert await queue.deliveries.counts() == {}


async def test_given_a_claimed_row_when_another_claims_then_it_gets_nothing_until_the_lease_ends(
    queue: SqlStore, clock: Clock
) -> None:
    [queued] = await queue.deliveries.enqueue([email()])
    first, held = await queue.deliveries.claim(lease_s=30, limit=10)
    assert [d.id for d in held] == [queued.id]
    assert (await queue.deliveries.claim(lease_s=30, limit=10))[1] == []
    clock.advance(31)  # the first holder died: its lease runs out
    second, again = await queue.deliveries.claim(lease_s=30, limit=10)
    assert [d.id for d in again] == [queued.id] and second != first
    # The dead holder's late result is not written; the new holder's is.
    sent = after_attempt(0, Accepted(DeliveryStatus.SENT, "250 ok"), clock.now, RetryPolicy())
    assert not await queue.deliveries.record(queued.id, first, sent)
    assert await queue.deliveries.record(queued.id, second, sent)
    got = await queue.deliveries.get(queued.id)
    assert (got.status, got.attempts, got.answer) == (DeliveryStatus.SENT, 1, "250 ok")


async def test_given_a_retry_when_recorded_then_the_row_waits_for_its_backoff(
    queue: SqlStore, clock: Clock
) -> None:
    [queued] = await queue.deliveries.enqueue([email()])
    token, _ = await queue.deliveries.claim(lease_s=30, limit=10)
    policy = RetryPolicy(attempts=3, base_s=10, max_s=100)
    await queue.deliveries.record(
        queued.id, token, after_attempt(0, Refused("HTTP 503", False), START, policy)
    )
    assert (await queue.deliveries.claim(lease_s=30, limit=10))[1] == []
    clock.advance(10)
    _, due = await queue.deliveries.claim(lease_s=30, limit=10)
    assert [(d.id, d.attempts, d.last_error) for d in due] == [(queued.id, 1, "HTTP 503")]
    statuses = [c.status for c in await queue.deliveries.history(queued.id)]
    assert statuses == [DeliveryStatus.QUEUED, DeliveryStatus.QUEUED]


async def test_given_a_sent_delivery_when_read_then_filed_and_never_queued_again(queue: SqlStore) -> None:
    [queued] = await queue.deliveries.enqueue([email()])
    token, _ = await queue.deliveries.claim(lease_s=30, limit=1)
    await queue.deliveries.record(
        queued.id, token, after_attempt(0, Accepted(DeliveryStatus.SENT, "ok"), START, RetryPolicy())
    )
    read = await queue.deliveries.change(queued.id, DeliveryStatus.READ, "link opened")
    assert read.status is DeliveryStatus.READ
    with pytest.raises(IllegalDeliveryTransition):
        await queue.deliveries.change(queued.id, DeliveryStatus.QUEUED, "again")
    await queue.deliveries.change(queued.id, DeliveryStatus.FILED, "done")
    history = [c.status.value for c in await queue.deliveries.history(queued.id)]
    assert history == ["queued", "sent", "read", "filed"]
    assert (await queue.deliveries.claim(lease_s=30, limit=10))[1] == []


async def test_given_an_unknown_id_when_read_then_not_found(queue: SqlStore) -> None:
    with pytest.raises(DeliveryNotFound):
        await queue.deliveries.get(999)


async def test_given_many_rows_when_workers_claim_at_once_then_each_row_goes_to_one(queue: SqlStore) -> None:
    await queue.deliveries.enqueue([email(i) for i in range(60)])
    claims = await asyncio.gather(*(queue.deliveries.claim(lease_s=30, limit=25) for _ in range(4)))
    taken = [d.id for _, rows in claims for d in rows]
    assert len(taken) == len(set(taken)) == 60


async def test_given_a_message_when_its_deliveries_are_listed_then_only_its_own(queue: SqlStore) -> None:
    await queue.deliveries.enqueue([email(7), email(7, "desk@drsmith.example"), email(8)])
    assert [d.recipient for d in await queue.deliveries.of_message(7)] == [
        "office@drsmith.example", "desk@drsmith.example",
    ]  # fmt: skip


async def test_given_deliveries_changed_at_times_when_asked_since_then_those_changed_at_or_after(
    queue: SqlStore, clock: Clock
) -> None:
    """What an instance whose subscription was down re-reads (switchboard/cluster/delivery_feed.py)."""
    old, kept, read = await queue.deliveries.enqueue([email(1), email(2), email(3)])
    clock.advance(60)
    since = clock()
    await queue.deliveries.change(kept.id, DeliveryStatus.SENT, "250 ok")
    await queue.deliveries.change(read.id, DeliveryStatus.SENT, "250 ok")
    clock.advance(5)
    await queue.deliveries.change(read.id, DeliveryStatus.READ, "link opened")
    found = await queue.deliveries.changed_since(since)
    assert [(d.id, d.status) for d in found] == [
        (kept.id, DeliveryStatus.SENT),
        (read.id, DeliveryStatus.READ),
    ]
    assert await queue.deliveries.changed_since(clock()) == [found[1]]
    assert old.id not in [d.id for d in await queue.deliveries.changed_since(since)]


async def test_given_messages_taken_on_calls_when_asked_by_call_then_those_calls_deliveries(
    queue: SqlStore,
) -> None:
    """What a console that joins reads (agent_console/delivery_catchup.py): by the calls it shows."""
    calls = ((1, "c1"), (2, "c2"), (3, "c1"), (4, None))
    first, second, third, _ = await queue.deliveries.enqueue(
        [dataclasses.replace(email(i), call=c) for i, c in calls]
    )
    assert [d.id for d in await queue.deliveries.of_calls(["c1"])] == [first.id, third.id]
    both = await queue.deliveries.of_calls(["c2", "c1", "c9"])
    assert [d.id for d in both] == [first.id, second.id, third.id]
    assert await queue.deliveries.of_calls([]) == []
