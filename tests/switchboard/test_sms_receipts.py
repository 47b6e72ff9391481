"""SMS delivery receipts: the provider's far end (an aiohttp server on loopback) is told where to post
them, and posts them to the service's real receipt endpoint, which moves the delivery on (issue 16)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from agent_console.message_links import MessageLinks, token
from agent_console.sms_receipts import PURPOSE, URL_PREFIX, SmsReceipts
from crm_core.domain.deliveries import Channel, Delivery, DeliveryStatus, NewDelivery
from crm_core.sql.store import SqlStore
from routing.ids import LineId
from tests.moving_clock import Clock
from tests.switchboard.delivery_rig import SECRET, Provider, open_store, sms_server, worker

SMITH = LineId("smith")
CONTENT: dict[str, object] = {
    "line": "smith", "line_name": "Dr. Smith's office", "urgent": True, "message": "Fever since noon",
    "taken_at": "2026-12-07T03:00:00+00:00",
}  # fmt: skip


class Service:
    """The receipt and read-link endpoints on a real server, with what the watchers heard."""

    def __init__(self, store: SqlStore, base: str) -> None:
        self.store = store
        self.base = base
        self.heard: list[tuple[DeliveryStatus, str | None]] = []

    def watch(self, delivery: Delivery, detail: str | None) -> None:
        self.heard.append((delivery.status, detail))

    def receipts(self, delivery_id: int) -> str:
        return f"{self.base}{URL_PREFIX}{token(SECRET, delivery_id, PURPOSE)}"

    async def post(self, url: str, form: dict[str, str]) -> int:
        async with aiohttp.ClientSession() as session, session.post(url, data=form) as response:
            return response.status

    async def sent_sms(self, provider: Provider) -> tuple[Delivery, dict[str, Any]]:
        """One SMS queued and sent through the provider's far end: the delivery, and the form it got."""
        async with sms_server(provider) as sms:
            [queued] = await self.store.deliveries.enqueue([new(Channel.SMS, "+14155550100")])
            await worker(self.store, Clock(), sms=sms, receipts=self.receipts).drain_once()
        return await self.store.deliveries.get(queued.id), provider.received[-1]


def new(channel: Channel, recipient: str) -> NewDelivery:
    return NewDelivery(message_id=41, business=SMITH, channel=channel, recipient=recipient, content=CONTENT)


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[Service]:
    store = await open_store(f"sqlite+aiosqlite:///{tmp_path}/receipts.db", Clock())
    app = web.Application()
    runner = web.AppRunner(app)
    served = Service(store, "")
    SmsReceipts(store.deliveries, SECRET, watch=served.watch).add_to(app)
    MessageLinks(store.deliveries, SECRET, watch=served.watch).add_to(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    served.base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        yield served
    finally:
        await runner.cleanup()
        await store.close()


async def test_given_a_sent_sms_when_the_provider_posts_delivered_then_the_delivery_is_delivered(
    service: Service,
) -> None:
    sent, form = await service.sent_sms(Provider(answers=[(201, '{"sid": "SM42"}')]))
    assert sent.status == DeliveryStatus.SENT
    callback = str(form["StatusCallback"])
    assert callback == service.receipts(sent.id)  # the provider is told where to post

    assert await service.post(callback, {"MessageSid": "SM42", "MessageStatus": "sent"}) == 204
    assert (await service.store.deliveries.get(sent.id)).status == DeliveryStatus.SENT  # nothing new
    assert await service.post(callback, {"MessageSid": "SM42", "MessageStatus": "delivered"}) == 204

    found = await service.store.deliveries.get(sent.id)
    assert found.status == DeliveryStatus.DELIVERED
    history = [(c.status, c.detail) for c in await service.store.deliveries.history(sent.id)]
    assert history[-1] == (DeliveryStatus.DELIVERED, "SMS provider: delivered, sid SM42")
    assert service.heard[-1] == (DeliveryStatus.DELIVERED, "SMS provider: delivered, sid SM42")
    assert await service.post(callback, {"MessageStatus": "delivered"}) == 204  # again: changes nothing
    assert len(await service.store.deliveries.history(sent.id)) == len(history)


async def test_given_a_sent_sms_when_the_provider_posts_undelivered_then_failed_with_its_error_code(
    service: Service,
) -> None:
    sent, form = await service.sent_sms(Provider())
    status = await service.post(
        str(form["StatusCallback"]),
        {"MessageSid": "SM1", "MessageStatus": "undelivered", "ErrorCode": "30003\r\nX-Injected: 1"},
    )
    assert status == 204
    found = await service.store.deliveries.get(sent.id)
    assert found.status == DeliveryStatus.FAILED
    [*_, last] = await service.store.deliveries.history(sent.id)
    assert last.detail == "SMS provider: undelivered (error 30003??X-Injected: 1), sid SM1"


async def test_given_a_token_not_made_for_receipts_then_404_and_nothing_changes(
    service: Service,
) -> None:
    sent, _ = await service.sent_sms(Provider())
    read_token = token(SECRET, sent.id)  # the read link's token: the recipient has it in the text
    for raw in (read_token, f"{sent.id}-forged", "x", f"{sent.id + 1}-{token(SECRET, sent.id, PURPOSE)[2:]}"):
        status = await service.post(f"{service.base}{URL_PREFIX}{raw}", {"MessageStatus": "delivered"})
        assert status == 404, raw
    assert (await service.store.deliveries.get(sent.id)).status == DeliveryStatus.SENT
    assert service.heard == []


async def test_given_an_email_delivery_or_none_then_a_receipt_for_it_is_404(service: Service) -> None:
    [mail] = await service.store.deliveries.enqueue([new(Channel.EMAIL, "ann@example.com")])
    for delivery_id in (mail.id, mail.id + 99):
        assert await service.post(service.receipts(delivery_id), {"MessageStatus": "delivered"}) == 404
    assert (await service.store.deliveries.get(mail.id)).status == DeliveryStatus.QUEUED


async def test_given_a_receipt_before_the_send_is_recorded_then_409_so_the_provider_tries_again(
    service: Service,
) -> None:
    [queued] = await service.store.deliveries.enqueue([new(Channel.SMS, "+14155550100")])
    assert await service.post(service.receipts(queued.id), {"MessageStatus": "delivered"}) == 409
    assert (await service.store.deliveries.get(queued.id)).status == DeliveryStatus.QUEUED


async def test_given_a_message_already_read_when_delivered_comes_late_then_it_stays_read(
    service: Service,
) -> None:
    sent, _ = await service.sent_sms(Provider())
    async with aiohttp.ClientSession() as session, session.get(f"{service.base}/m/{token(SECRET, sent.id)}"):
        pass
    assert await service.post(service.receipts(sent.id), {"MessageStatus": "delivered"}) == 204
    assert (await service.store.deliveries.get(sent.id)).status == DeliveryStatus.READ


async def test_given_a_receipt_without_a_status_then_400(service: Service) -> None:
    sent, _ = await service.sent_sms(Provider())
    assert await service.post(service.receipts(sent.id), {"MessageSid": "SM1"}) == 400
    assert (await service.store.deliveries.get(sent.id)).status == DeliveryStatus.SENT
