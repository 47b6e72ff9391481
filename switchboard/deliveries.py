"""Delivering taken messages: the business's rules turn a message into queued deliveries, and a worker
sends them (crm_core/domain/deliveries.py has the lifecycle, crm_core/sql/deliveries.py the queue).

``MessagePlanner`` is the console desk's ``Notifier``. The desk files the message as a case first; then
the planner queues one delivery per recipient its line's rules name (the person on call now, by SMS and
email; fixed addresses and numbers; the line's webhook) and wakes the worker. A line without rules is
handed to the old notifier (its webhook, told at once). A recipient that cannot be (a person on call with
no mobile, a bad address) is named in the answer to the agent; the others are queued all the same.

``Watchers`` hears of each delivery queued (the planner) or changed by an attempt (the worker) or a read
link: the consoles' hook (``agent_console.forms.DeliveryFeed``), so the agent who took the message sees
its deliveries' statuses live (in a cluster on every instance: switchboard/cluster/delivery_feed.py). A
watcher that raises is logged and does not stop the others.

``DeliveryWorker`` claims due rows under a lease, sends each through its channel's ``Sender``, and writes
what came of it; a failure waits its backoff, and after the last attempt the row is ``failed``. It holds
nothing the store does not: cancelled (the service stopping) or killed, the rows it held stay queued
under its claim and are taken again once the lease has run out, so a message is sent at least once (and
twice only where a worker died between the far end taking it and the store hearing so).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Callable, Coroutine, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

import structlog
from aiohttp import web

from agent_console.desk import Notified, Notifier
from agent_console.message_links import MessageLinks, token
from agent_console.sms_receipts import PURPOSE as RECEIPT
from agent_console.sms_receipts import URL_PREFIX as RECEIPTS_AT
from agent_console.sms_receipts import SmsReceipts
from config.deliveries import DeliveryRules, Rule
from config.settings import Settings
from crm_core.domain.coverage import on_call
from crm_core.domain.deliveries import (
    Attempt,
    Channel,
    Delivery,
    InvalidDelivery,
    NewDelivery,
    Refused,
    RetryPolicy,
    after_attempt,
    checked_recipient,
)
from crm_core.domain.deliveries import Decision as Decision
from crm_core.domain.oncall import BusinessNotFound, ContactKind, Person, Schedule, Tier
from crm_core.sql.store import SqlStore
from routing.ids import LineId
from switchboard.senders import EmailSender, FormSmsProvider, Sender, SmsSender, WebhookSender
from switchboard.webhooks import Endpoint, Webhooks

log = structlog.get_logger("deliveries")
CONTACT_OF = {Channel.SMS: ContactKind.MOBILE, Channel.EMAIL: ContactKind.EMAIL}
Now = Callable[[], datetime]
Run = Callable[[], Coroutine[Any, Any, None]]
Watcher = Callable[[Delivery, str | None], None]  # the delivery as it is now; why it changed


class Watchers:
    """Who hears of each delivery queued or changed (the consoles)."""

    def __init__(self) -> None:
        self._each: list[Watcher] = []

    def add(self, watcher: Watcher) -> None:
        self._each.append(watcher)

    def replace(self, old: Watcher, new: Watcher) -> None:
        """``new`` where ``old`` was (a cluster's feed for the consoles of this process alone)."""
        self._each[self._each.index(old)] = new

    def __call__(self, delivery: Delivery, detail: str | None) -> None:
        for watcher in self._each:
            try:
                watcher(delivery, detail)
            except Exception:
                log.exception("deliveries.watcher-failed", delivery=delivery.id)


class DeliveryQueue(Protocol):
    """``crm_core.sql.deliveries.SqlDeliveries``."""

    async def enqueue(self, new: Sequence[NewDelivery]) -> list[Delivery]: ...
    async def claim(self, *, lease_s: float, limit: int) -> tuple[str, list[Delivery]]: ...
    async def record(self, delivery_id: int, token: str, decision: Decision) -> bool: ...


class OnCallReader(Protocol):
    """``crm_core.sql.oncall.SqlOnCall``."""

    async def schedule(self, business: LineId, *, at: datetime | None = None) -> Schedule: ...
    async def person(self, business: LineId, person_id: int) -> Person: ...


class MessagePlanner:
    def __init__(
        self,
        rules: Mapping[LineId, DeliveryRules],
        queue: DeliveryQueue,
        oncall: OnCallReader,
        webhooks: Mapping[LineId, str],
        now: Now,
        wake: Callable[[], None],
        fallback: Notifier | None = None,
        watch: Watcher | None = None,
    ) -> None:
        self._rules = rules
        self._watch = watch
        self._queue = queue
        self._oncall = oncall
        self._webhooks = webhooks
        self._now = now
        self._wake = wake
        self._fallback = fallback

    def configured(self, line: LineId) -> bool:
        return line in self._rules or (self._fallback is not None and self._fallback.configured(line))

    async def notify(self, line: LineId, payload: dict[str, Any]) -> Notified:
        """The desk's call: queue the message's deliveries (``attempts`` 0: none tried yet)."""
        if line not in self._rules and self._fallback is not None:
            return await self._fallback.notify(line, payload)
        queued, problems = await self.queue_message(line, payload)
        return Notified(bool(queued), 0, "; ".join(problems) or None)

    async def queue_message(self, line: LineId, payload: dict[str, Any]) -> tuple[list[Delivery], list[str]]:
        """Queue the deliveries the line's rules name for ``payload`` (which has its ``case_id``); and why
        any recipient was left out. ``BusinessNotFound`` for a line without rules."""
        rules = self._rules.get(line)
        if rules is None:
            raise BusinessNotFound(line)
        rule = rules.urgent if payload.get("urgent") else rules.routine
        targets, problems = await self._targets(line, rule)
        call = payload.get("call") if isinstance(payload.get("call"), str) else None  # what a console shows
        new = []
        for channel, recipient in dict.fromkeys(targets):
            try:
                checked_recipient(channel, recipient)
            except InvalidDelivery as exc:
                problems.append(f"{channel} to {recipient[:80]!r} left out: {exc}")
                continue
            new.append(NewDelivery(message_id=int(payload["case_id"]), business=line, channel=channel,
                                   recipient=recipient, content=payload, call=call))  # fmt: skip
        queued = await self._queue.enqueue(new) if new else []
        for delivery in queued:
            if self._watch is not None:
                self._watch(delivery, None)
        self._wake()
        log.info(
            "deliveries.queued", line=line, case=payload["case_id"], count=len(queued), problems=problems
        )
        return queued, problems

    async def _targets(self, line: LineId, rule: Rule) -> tuple[list[tuple[Channel, str]], list[str]]:
        targets = [(Channel.EMAIL, a) for a in rule.email] + [(Channel.SMS, n) for n in rule.sms]
        if rule.webhook and line in self._webhooks:
            targets.append((Channel.WEBHOOK, self._webhooks[line]))
        if not rule.on_call:
            return targets, []
        person, problem = await self._on_call_now(line)
        if person is None:
            return targets, [problem]
        problems = []
        for channel in (Channel(c) for c in rule.on_call):
            found = [c.value for c in person.contacts if c.kind is CONTACT_OF[channel]]
            if not found:
                problems.append(f"{person.name}, on call, has no {CONTACT_OF[channel]} for {channel}")
            targets += [(channel, value) for value in found]
        return targets, problems

    async def _on_call_now(self, line: LineId) -> tuple[Person | None, str]:
        now = self._now()
        try:
            tiers = on_call(await self._oncall.schedule(line, at=now), now)
        except BusinessNotFound:
            return None, f"{line} has no on-call schedule"
        chosen = next((tiers[tier] for tier in Tier if tier in tiers), None)
        if chosen is None:
            return None, f"nobody is on call for {line} at {now.isoformat()}"
        return await self._oncall.person(line, chosen), ""


class DeliveryWorker:
    def __init__(
        self,
        queue: DeliveryQueue,
        senders: Mapping[Channel, Sender],
        link: Callable[[int], str],
        policy: RetryPolicy,
        now: Now,
        *,
        lease_s: float = 60.0,
        batch: int = 50,
        poll_s: float = 1.0,
        watch: Watcher | None = None,
    ) -> None:
        self._queue = queue
        self._watch = watch
        self._senders = senders
        self._link = link
        self._policy = policy
        self._now = now
        self._lease_s = lease_s
        self._batch = batch
        self._poll_s = poll_s
        self._woken = asyncio.Event()

    def wake(self) -> None:
        """Something was queued: look now rather than at the next poll."""
        self._woken.set()

    async def run(self) -> None:
        try:
            while True:
                if await self.drain_once():
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._woken.wait(), self._poll_s)
                self._woken.clear()
        finally:
            for sender in self._senders.values():
                with contextlib.suppress(Exception):
                    await sender.close()

    async def drain_once(self) -> int:
        """Claim one batch of due rows and try each; how many there were."""
        try:
            claim, rows = await self._queue.claim(lease_s=self._lease_s, limit=self._batch)
        except Exception:
            log.exception("deliveries.claim-failed")  # the store away for a moment: the next poll
            return 0
        await asyncio.gather(*(self._attempt(claim, row) for row in rows))
        return len(rows)

    async def _attempt(self, claim: str, delivery: Delivery) -> None:
        outcome = await self._send(delivery)
        decision = after_attempt(delivery.attempts, outcome, self._now(), self._policy)
        try:
            kept = await self._queue.record(delivery.id, claim, decision)
        except Exception:  # the row stays claimed; taken again after its lease
            log.exception("deliveries.record-failed", delivery=delivery.id)
            return
        log.info("delivery.attempt", delivery=delivery.id, channel=delivery.channel, status=decision.status,
                 attempts=decision.attempts, detail=decision.detail, kept=kept)  # fmt: skip
        if kept and self._watch is not None:
            now = dataclasses.replace(
                delivery, status=decision.status, attempts=decision.attempts,
                next_attempt_at=decision.next_attempt_at, updated_at=self._now(),
            )  # fmt: skip
            self._watch(now, decision.detail)

    async def _send(self, delivery: Delivery) -> Attempt:
        sender = self._senders.get(delivery.channel)
        if sender is None:
            return Refused(f"no {delivery.channel} channel is configured", permanent=True)
        try:
            return await sender.send(delivery, self._link(delivery.id))
        except Exception as exc:  # our fault, not the far end's: logged, and tried again later
            log.exception("delivery.send-failed", delivery=delivery.id)
            return Refused(f"{type(exc).__name__} in the sender", permanent=False)


class MessageDelivery:
    """What the service wires (switchboard/bootstrap.py): the planner, the worker, the read links."""

    def __init__(self, settings: Settings, store: SqlStore, webhooks: Webhooks, clock: Callable[[], float]):
        config = settings.deliveries
        self._now: Now = lambda: datetime.fromtimestamp(clock(), UTC)
        base = settings.public_url or f"http://{settings.http_host}:{settings.http_port}"
        hooks = {line: Endpoint(p.webhook_url, p.webhook_secret)
                 for line, p in settings.answering.items() if p.webhook_url is not None}  # fmt: skip
        senders: dict[Channel, Sender] = {Channel.WEBHOOK: WebhookSender(webhooks, hooks)}
        if config.smtp is not None:
            senders[Channel.EMAIL] = EmailSender(config.smtp)
        policy = RetryPolicy(config.attempts, config.backoff_s, config.max_backoff_s)
        secret = config.link_secret
        if config.sms is not None:
            receipts: Callable[[int], str] = lambda i: f"{base}{RECEIPTS_AT}{token(secret, i, RECEIPT)}"  # noqa: E731
            senders[Channel.SMS] = SmsSender(FormSmsProvider(config.sms), receipts)
        self.watchers = Watchers()  # the consoles add theirs (switchboard/bootstrap.py)
        self.worker = DeliveryWorker(
            store.deliveries, senders, lambda i: f"{base}/m/{token(secret, i)}", policy, self._now,
            lease_s=config.lease_s, batch=config.batch, watch=self.watchers,
        )  # fmt: skip
        self.links = MessageLinks(store.deliveries, secret, watch=self.watchers)
        self.receipts = SmsReceipts(store.deliveries, secret, watch=self.watchers)
        self._rules = config.rules
        self._store = store
        self._hooks = {line: e.url for line, e in hooks.items()}

    def notifier(self, fallback: Notifier) -> MessagePlanner:
        """The desk's notifier: lines with rules queue deliveries; the others go to ``fallback``."""
        return MessagePlanner(self._rules, self._store.deliveries, self._store.oncall, self._hooks,
                              self._now, self.worker.wake, fallback, self.watchers)  # fmt: skip

    def start(self, app: web.Application, run_beside: Callable[[Run], None]) -> None:
        """Serve the read links and the SMS receipts on ``app`` and run the worker beside the service
        (every instance may: rows are claimed under a lease). The service's stop cancels it; what it held
        is taken again."""
        self.links.add_to(app)
        self.receipts.add_to(app)
        run_beside(self.worker.run)
