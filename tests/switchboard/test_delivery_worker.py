"""The delivery worker against real far ends on loopback: an SMTP server (aiosmtpd) receiving the mail, an
SMS provider's HTTP API (an aiohttp server), the line's webhook; retries, failures, and the read link."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from agent_console.message_links import MessageLinks
from crm_core.domain.deliveries import Channel, DeliveryStatus, NewDelivery, RetryPolicy
from crm_core.sql.store import SqlStore
from routing.ids import LineId
from switchboard.deliveries import DeliveryWorker
from switchboard.senders import WebhookSender
from switchboard.webhooks import Endpoint, Webhooks
from tests.moving_clock import Clock
from tests.switchboard.delivery_rig import (
    BASE,
    SECRET,
    Provider,
    open_store,
    sms_server,
    smtp_server,
    until,
    worker,
)

SMITH = LineId("smith")
CONTENT: dict[str, object] = {
    "line": "smith", "line_name": "Dr. Smith's office", "case_id": 41, "urgent": True,
    "caller_name": "Ann <script>Caller</script>", "callback_number": "+14155550123",
    "message": "Fever of 39.5 since noon", "taken_at": "2026-12-07T03:00:00+00:00", "taken_by": "1002",
}  # fmt: skip


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def store(tmp_path: Path, clock: Clock) -> AsyncIterator[SqlStore]:
    opened = await open_store(f"sqlite+aiosqlite:///{tmp_path}/deliveries.db", clock)
    yield opened
    await opened.close()


def new(channel: Channel, recipient: str) -> NewDelivery:
    return NewDelivery(message_id=41, business=SMITH, channel=channel, recipient=recipient, content=CONTENT)


async def test_given_an_email_delivery_when_drained_then_the_mail_arrives_and_its_link_marks_it_read(
    store: SqlStore, clock: Clock
) -> None:
    async with smtp_server() as (box, smtp):
        [queued] = await store.deliveries.enqueue([new(Channel.EMAIL, "dr.smith@example.com")])
        assert await worker(store, clock, smtp=smtp).drain_once() == 1
    [(to, mail)] = box.received
    assert to == ["dr.smith@example.com"] and mail["From"] == "answering@example.com"
    assert (
        " ".join(mail["Subject"].split())
        == "URGENT message for Dr. Smith's office from Ann <script>Caller</script>"
    )
    body = mail.get_payload(decode=True)
    assert isinstance(body, bytes)
    body = body.decode()
    assert "Fever of 39.5 since noon" in body and "Call back: +14155550123" in body
    link = next(word for word in body.split() if word.startswith(f"{BASE}/m/"))
    sent = await store.deliveries.get(queued.id)
    assert (sent.status, sent.attempts, sent.answer) == (DeliveryStatus.SENT, 1, "2.0.0 queued as T1")

    app = web.Application()
    MessageLinks(store.deliveries, SECRET).add_to(app)
    async with TestClient(TestServer(app)) as client:
        page = await client.get(link.removeprefix(BASE))
        text = await page.text()
        assert page.status == 200 and "Fever of 39.5 since noon" in text
        assert "&lt;script&gt;" in text and "<script>" not in text
        assert (await store.deliveries.get(queued.id)).status is DeliveryStatus.READ
        assert (await client.get(link.removeprefix(BASE))).status == 200  # again: still shown, still read
        forged = link.removeprefix(BASE)[:-3] + "AAA"
        for bad in (forged, f"/m/{queued.id}", f"/m/{queued.id + 1}-x", "/m/99999999999999999999-abc"):
            refused = await client.get(bad)
            assert refused.status == 404 and str(queued.id) not in await refused.text()
    history = [c.status for c in await store.deliveries.history(queued.id)]
    assert history == [DeliveryStatus.QUEUED, DeliveryStatus.SENT, DeliveryStatus.READ]


async def test_given_a_mailbox_the_server_refuses_then_failed_at_once_with_its_answer(
    store: SqlStore, clock: Clock
) -> None:
    async with smtp_server() as (box, smtp):
        box.refuse.add("gone@example.com")
        [queued] = await store.deliveries.enqueue([new(Channel.EMAIL, "gone@example.com")])
        await worker(store, clock, smtp=smtp).drain_once()
    failed = await store.deliveries.get(queued.id)
    assert failed.status is DeliveryStatus.FAILED and failed.attempts == 1
    assert failed.last_error is not None and "no such mailbox" in failed.last_error


async def test_given_no_mail_server_listening_then_retried_with_backoff_then_failed(
    store: SqlStore, clock: Clock, unused_tcp_port: int
) -> None:
    from config.deliveries import Smtp

    nowhere = Smtp(host="127.0.0.1", port=unused_tcp_port, sender="answering@example.com")
    [queued] = await store.deliveries.enqueue([new(Channel.EMAIL, "dr.smith@example.com")])
    sending = worker(store, clock, smtp=nowhere)
    seen = []
    for wait in (0, 10, 20):  # RetryPolicy(attempts=3, base_s=10): after the 1st failure 10 s, the 2nd 20 s
        clock.advance(wait)
        assert await sending.drain_once() == 1
        assert await sending.drain_once() == 0  # not due again before its backoff
        found = await store.deliveries.get(queued.id)
        seen.append((found.status, found.attempts))
    assert seen == [(DeliveryStatus.QUEUED, 1), (DeliveryStatus.QUEUED, 2), (DeliveryStatus.FAILED, 3)]


@pytest.mark.parametrize(
    ("answer", "status", "attempts", "error"),
    [
        ((201, '{"sid": "SM42", "status": "queued"}'), DeliveryStatus.SENT, 1, None),
        ((400, '{"code": 21211, "message": "invalid To"}'), DeliveryStatus.FAILED, 1, "HTTP 400"),
        ((503, "busy"), DeliveryStatus.QUEUED, 1, "HTTP 503: busy"),
        ((429, "slow down"), DeliveryStatus.QUEUED, 1, "HTTP 429"),
        ((200, "<html>oops</html>"), DeliveryStatus.QUEUED, 1, "without a message id"),
        ((200, '["sid"]'), DeliveryStatus.QUEUED, 1, "without a message id"),
    ],
)
async def test_given_the_providers_answer_when_an_sms_is_sent_then_recorded_so(
    store: SqlStore, clock: Clock, answer: tuple[int, str], status: DeliveryStatus, attempts: int,
    error: str | None,
) -> None:  # fmt: skip
    provider = Provider(answers=[answer])
    async with sms_server(provider) as sms:
        [queued] = await store.deliveries.enqueue([new(Channel.SMS, "+14155550100")])
        await worker(store, clock, sms=sms).drain_once()
    found = await store.deliveries.get(queued.id)
    assert (found.status, found.attempts) == (status, attempts)
    if error is None:
        assert found.answer == "sid SM42"
    else:
        assert found.last_error is not None and error in found.last_error
    [form] = provider.received
    assert form["To"] == "+14155550100" and form["From"] == "+18005550199"
    assert form["auth"] == "Basic QUMxOnRvaw=="  # AC1:tok
    assert str(form["Body"]).startswith("URGENT message for Dr. Smith's office") and "/m/" in form["Body"]


async def test_given_a_5xx_then_the_retry_is_sent_once_due(store: SqlStore, clock: Clock) -> None:
    provider = Provider(answers=[(500, "oops"), (201, '{"sid": "SM2"}')])
    async with sms_server(provider) as sms:
        [queued] = await store.deliveries.enqueue([new(Channel.SMS, "+14155550100")])
        sending = worker(store, clock, sms=sms)
        await sending.drain_once()
        clock.advance(10)
        await sending.drain_once()
    found = await store.deliveries.get(queued.id)
    assert (found.status, found.attempts, found.last_error) == (
        DeliveryStatus.SENT,
        2,
        "SMS provider: HTTP 500: oops",
    )


async def test_given_a_channel_without_a_sender_then_failed_saying_so(store: SqlStore, clock: Clock) -> None:
    [queued] = await store.deliveries.enqueue([new(Channel.SMS, "+14155550100")])
    await worker(store, clock).drain_once()
    found = await store.deliveries.get(queued.id)
    assert found.status is DeliveryStatus.FAILED and found.last_error == "no sms channel is configured"


async def test_given_the_lines_webhook_then_posted_signed_and_delivered(
    store: SqlStore, clock: Clock
) -> None:
    received: list[tuple[str, bytes]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append((request.headers["X-Switchboard-Signature"], await request.read()))
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hook", hook)
    async with TestServer(app) as server:
        url = str(server.make_url("/hook"))
        webhooks = Webhooks(timeout_s=5)
        senders: dict[Channel, Any] = {Channel.WEBHOOK: WebhookSender(webhooks, {SMITH: Endpoint(url, "s3")})}
        [queued] = await store.deliveries.enqueue([new(Channel.WEBHOOK, url)])
        await DeliveryWorker(store.deliveries, senders, str, RetryPolicy(), clock).drain_once()
        await webhooks.close()
    [(signature, body)] = received
    assert signature == "sha256=" + hmac.new(b"s3", body, hashlib.sha256).hexdigest()
    assert (await store.deliveries.get(queued.id)).status is DeliveryStatus.DELIVERED


async def test_given_a_worker_cancelled_mid_send_then_it_stops_at_once_and_the_row_is_taken_after_its_lease(
    store: SqlStore, clock: Clock
) -> None:
    provider = Provider(stall=True)
    async with sms_server(provider) as sms:
        [queued] = await store.deliveries.enqueue([new(Channel.SMS, "+14155550100")])
        running = asyncio.create_task(worker(store, clock, sms=sms, lease_s=60).run())
        await asyncio.wait_for(provider.arrived.wait(), 5)
        running.cancel()
        await asyncio.wait_for(asyncio.gather(running, return_exceptions=True), 1)
        assert (await store.deliveries.get(queued.id)).status is DeliveryStatus.QUEUED
        provider.stall = False
        provider.release.set()
        again = worker(store, clock, sms=sms, lease_s=60)
        assert await again.drain_once() == 0  # still under the stopped worker's lease
        clock.advance(61)
        assert await again.drain_once() == 1
    assert (await store.deliveries.get(queued.id)).status is DeliveryStatus.SENT


async def test_given_queued_rows_when_the_service_restarts_then_a_new_worker_on_the_file_sends_them(
    tmp_path: Path, clock: Clock
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/restart.db"
    first = await open_store(url, clock)
    await first.deliveries.enqueue([new(Channel.SMS, f"+1415555010{i}") for i in range(5)])
    await first.close()
    second = await open_store(url, clock)
    try:
        provider = Provider()
        async with sms_server(provider) as sms:
            running = asyncio.create_task(worker(second, clock, sms=sms).run())

            async def all_sent() -> bool:
                return await second.deliveries.counts() == {DeliveryStatus.SENT: 5}

            await until(all_sent)
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)
        assert sorted(str(form["To"]) for form in provider.received) == [f"+1415555010{i}" for i in range(5)]
    finally:
        await second.close()
