"""The delivery statuses' feed between instances (switchboard/cluster/delivery_feed.py), without Redis: the
codec, what an instance does with a message it hears (its own are not sent twice), and the re-read after a
resubscription (every delivery changed since a little before the loss, to its agent's consoles)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from redis import asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError

from crm_core.domain.deliveries import Channel, Delivery, DeliveryStatus
from routing.ids import AgentId, LineId
from switchboard.cluster.delivery_feed import CLOCK_MARGIN_S, SharedDeliveryFeed, decode, encode

AT = datetime(2026, 12, 7, 16, 0, tzinfo=UTC)


def a_delivery(n: int, status: DeliveryStatus = DeliveryStatus.QUEUED, taken_by: object = "1002") -> Delivery:
    return Delivery(
        id=n, message_id=40 + n, business=LineId("smith"), channel=Channel.EMAIL,
        recipient="dr@smith.example", status=status, attempts=1, next_attempt_at=AT, last_error=None,
        answer=None, content={"call": f"c{n}", "taken_by": taken_by}, created_at=AT, updated_at=AT,
    )  # fmt: skip


class Consoles:
    """The hub, as the feed uses it: what each agent's consoles were sent."""

    def __init__(self) -> None:
        self.sent: list[tuple[AgentId, dict[str, object]]] = []

    def send(self, agent: AgentId, message: dict[str, object]) -> None:
        self.sent.append((agent, message))


class Published:
    """The publishing client: what went on which channel; ``down`` refuses as an unreachable Redis."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, str]] = []
        self.down = False

    async def publish(self, channel: str, text: str) -> int:
        if self.down:
            raise RedisConnectionError("refused")
        self.messages.append((channel, text))
        return 1


class Store:
    def __init__(self, *found: Delivery) -> None:
        self.found = list(found)
        self.asked: list[datetime] = []

    async def changed_since(self, at: datetime) -> list[Delivery]:
        self.asked.append(at)
        return self.found


def feed(instance: str, consoles: Consoles, published: Published, store: Store) -> SharedDeliveryFeed:
    redis = cast(aioredis.Redis, published)
    unused = cast(aioredis.Redis, None)
    return SharedDeliveryFeed(redis, unused, "sb", instance, consoles, store, lambda: AT.timestamp())


def test_given_a_message_when_encoded_then_decoded_the_same() -> None:
    message: dict[str, object] = {"type": "delivery", "status": "sent", "delivery": 7}
    assert decode(encode("a", AgentId("1002"), message)) == ("a", "1002", message)
    assert decode(encode("a", AgentId("1002"), message).encode()) == ("a", "1002", message)


@pytest.mark.parametrize(
    "raw",
    [b"\xff\xfe", "not json", "[1, 2]", json.dumps({"from": "a", "agent": "1002"}),
     json.dumps({"from": "a", "agent": 7, "message": {"type": "delivery"}}),
     json.dumps({"from": "a", "agent": "1002", "message": {"type": "pop"}}),
     json.dumps({"from": "a", "agent": "1002", "message": ["delivery"]})],
)  # fmt: skip
def test_given_anything_but_our_message_when_decoded_then_none(raw: Any) -> None:
    assert decode(raw) is None


async def test_given_a_change_here_then_this_instances_consoles_at_once_and_the_channel_told() -> None:
    consoles, published = Consoles(), Published()
    here = feed("a", consoles, published, Store())
    here.changed(a_delivery(1, DeliveryStatus.SENT), "250 ok")
    assert [(agent, m["status"], m["detail"]) for agent, m in consoles.sent] == [("1002", "sent", "250 ok")]
    await here.settled()
    [(channel, text)] = published.messages
    assert channel == "sb:deliveries"
    assert decode(text) == ("a", "1002", consoles.sent[0][1])


async def test_given_redis_down_when_a_change_here_then_this_instances_consoles_still_told() -> None:
    consoles, published = Consoles(), Published()
    published.down = True
    here = feed("a", consoles, published, Store())
    here.changed(a_delivery(1, DeliveryStatus.FAILED), "550 no such user")
    await here.settled()
    assert [m["status"] for _, m in consoles.sent] == ["failed"] and published.messages == []


async def test_given_a_delivery_nobody_took_then_nobody_told() -> None:
    consoles, published = Consoles(), Published()
    here = feed("a", consoles, published, Store())
    here.changed(a_delivery(1, taken_by=None), None)
    await here.settled()
    assert (consoles.sent, published.messages) == ([], [])


def test_given_news_from_another_instance_then_sent_and_our_own_echo_not_again() -> None:
    consoles = Consoles()
    here = feed("b", consoles, Published(), Store())
    message: dict[str, object] = {"type": "delivery", "status": "read", "delivery": 3}
    here.heard(encode("a", AgentId("1002"), message))
    here.heard(encode("b", AgentId("1002"), {**message, "status": "sent"}))  # ours, sent here already
    here.heard(b"garbage")
    assert consoles.sent == [("1002", message)]


async def test_given_a_resubscription_then_every_delivery_changed_since_before_the_loss_resent() -> None:
    consoles = Consoles()
    store = Store(a_delivery(1, DeliveryStatus.SENT), a_delivery(2, taken_by=None), a_delivery(3))
    here = feed("b", consoles, Published(), store)
    lost_at = AT.timestamp() - 30
    assert await here.resend(lost_at) == 3
    assert store.asked == [datetime.fromtimestamp(lost_at, UTC) - timedelta(seconds=CLOCK_MARGIN_S)]
    assert [(agent, m["delivery"], m["status"]) for agent, m in consoles.sent] == [
        ("1002", 1, "sent"), ("1002", 3, "queued")
    ]  # fmt: skip
