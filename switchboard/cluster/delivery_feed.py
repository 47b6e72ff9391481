"""Each message's delivery statuses on every instance's consoles of the agent who took it, over Redis
pub/sub.

Alone, the delivery hook (``switchboard.deliveries.Watchers``) told only this process's consoles
(``agent_console.forms.DeliveryFeed``): in a cluster, a status reached the agent only where the worker that
tried the delivery ran (any instance: rows are claimed under a lease), or where the read link was opened.
Now the instance that hears of a change sends it to its own consoles at once and publishes it, as the
``delivery`` message the console reads, on ``<prefix>:deliveries``; the others send it to theirs.

Pub/sub, not a stream: every message carries the delivery's whole current state (status, attempts, when),
so nothing needs replaying in order; a late one is simply replaced by the next. What is lost is lost
while an instance's subscription is down. So on each (re)subscription after the first, the instance
re-reads from the store every delivery changed since a little before the subscription was lost
(``CLOCK_MARGIN_S``: the instances' clocks differ) and sends each to its consoles: the statuses shown are
right again, up to the store's answer. A failed publish is logged; the other instances' consoles miss that
change until the next one (or their next resubscription).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

import structlog
from redis import asyncio as aioredis

from agent_console.forms import Sender, delivery, detail_of
from crm_core.domain.deliveries import Delivery
from routing.ids import AgentId
from switchboard.cluster.subscription import UNREACHABLE, Subscription

log = structlog.get_logger("cluster.delivery-feed")

CLOCK_MARGIN_S = 5.0  # re-read this much before the subscription was lost: another instance's clock
Message = dict[str, object]


class ChangedDeliveries(Protocol):
    """``crm_core.sql.deliveries.SqlDeliveries``."""

    async def changed_since(self, at: datetime) -> list[Delivery]: ...


def channel(prefix: str) -> str:
    return f"{prefix}:deliveries"


def encode(instance: str, agent: AgentId, message: Message) -> str:
    return json.dumps({"from": instance, "agent": agent, "message": message}, separators=(",", ":"))


def decode(raw: bytes | str) -> tuple[str, AgentId, Message] | None:
    """(the sending instance, the agent, the console's message); None for anything else (logged)."""
    try:
        found = json.loads(raw)
        sender, agent, message = found["from"], found["agent"], found["message"]
    except (ValueError, TypeError, KeyError):
        log.warning("delivery-feed.unreadable", raw=repr(raw)[:200])
        return None
    if not (isinstance(sender, str) and isinstance(agent, str) and isinstance(message, dict)):
        log.warning("delivery-feed.unreadable", raw=repr(raw)[:200])
        return None
    if message.get("type") != "delivery":
        log.warning("delivery-feed.unreadable", raw=repr(raw)[:200])
        return None
    return sender, AgentId(agent), message


def taken_by(d: Delivery) -> AgentId | None:
    agent = d.content.get("taken_by")
    return AgentId(agent) if isinstance(agent, str) else None


class SharedDeliveryFeed:
    """``changed`` is one of the deliveries' ``Watchers``; ``run`` subscribes until cancelled.

    ``redis`` publishes (its requests fail fast); ``subscriber`` is a client of its own, which holds its
    connection."""

    def __init__(
        self,
        redis: aioredis.Redis,
        subscriber: aioredis.Redis,
        prefix: str,
        instance: str,
        consoles: Sender,
        store: ChangedDeliveries,
        now: Callable[[], float],
    ) -> None:
        self._redis = redis
        self._channel = channel(prefix)
        self._instance = instance
        self._consoles = consoles
        self._store = store
        self._now = now
        self._publishing: set[asyncio.Task[None]] = set()
        self._lost_at: float | None = None  # when the subscription was lost (None: not lost since the last)
        self._subscription = Subscription(subscriber, self._channel, self.heard, self._caught_up, self._lost)
        self.subscribed = self._subscription.subscribed

    def changed(self, d: Delivery, detail: str | None) -> None:
        agent = taken_by(d)
        if agent is None:
            return
        message = delivery(d, detail)
        self._consoles.send(agent, message)  # this instance's consoles at once, Redis or not
        task = asyncio.get_running_loop().create_task(self._publish(encode(self._instance, agent, message)))
        self._publishing.add(task)  # held until done, so it is not collected
        task.add_done_callback(self._publishing.discard)

    async def settled(self) -> None:
        """Every publish started so far done (or failed)."""
        while self._publishing:
            await asyncio.gather(*self._publishing, return_exceptions=True)

    async def _publish(self, text: str) -> None:
        try:
            await self._redis.publish(self._channel, text)
        except UNREACHABLE as error:
            log.warning("delivery-feed.publish-failed", reason=type(error).__name__)

    def heard(self, raw: bytes | str) -> None:
        """A message on the channel: another instance's news to this one's consoles."""
        found = decode(raw)
        if found is not None and found[0] != self._instance:
            self._consoles.send(found[1], found[2])

    async def resend(self, since: float) -> int:
        """Every delivery changed since ``since`` (less the clock margin), as the store has it now, to this
        instance's consoles of the agent who took its message; how many."""
        at = datetime.fromtimestamp(since, UTC) - timedelta(seconds=CLOCK_MARGIN_S)
        found = await self._store.changed_since(at)
        for d in found:
            agent = taken_by(d)
            if agent is not None:
                self._consoles.send(agent, delivery(d, detail_of(d)))
        return len(found)

    async def run(self) -> None:
        await self._subscription.run()

    def _lost(self) -> None:
        if self._lost_at is None:  # the first of several failed tries: what came after it is missed
            self._lost_at = self._now()

    async def _caught_up(self) -> None:
        lost_at, self._lost_at = self._lost_at, None
        if lost_at is not None:  # not at the first subscription: the consoles here are new then
            sent = await self.resend(lost_at)
            log.info("delivery-feed.resent", deliveries=sent)
