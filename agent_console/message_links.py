"""``GET /m/<token>``: the link an emailed or texted message carries; opening it marks the delivery read
and shows the message.

A token is ``<delivery id>-<HMAC-SHA256 of "delivery:<id>" under the link secret, base64url>``: it names
one delivery and cannot be made without the secret, and it is compared in constant time. Anything
wrong with it (a made-up id, a bad MAC, no such delivery) is a plain 404 that says nothing more, so the
page tells a guesser nothing. Opening it again shows the message again; a delivery that is past read
(filed) or was never sent stays as it is.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
from collections.abc import Callable, Mapping
from typing import Protocol

import structlog
from aiohttp import web

from crm_core.domain.deliveries import Delivery, DeliveryNotFound, DeliveryStatus, IllegalDeliveryTransition

log = structlog.get_logger("message-links")
PATH = "/m/{token}"
MAX_TOKEN = 80


class DeliveryMarks(Protocol):
    """The delivery queue (``crm_core.sql.deliveries.SqlDeliveries``)."""

    async def get(self, delivery_id: int) -> Delivery: ...
    async def change(self, delivery_id: int, status: DeliveryStatus, detail: str) -> Delivery: ...


READ = "delivery"  # the read link's purpose; another purpose (an SMS receipt's URL) makes other tokens


def _mac(secret: str, delivery_id: int, purpose: str) -> str:
    digest = hmac.new(secret.encode(), f"{purpose}:{delivery_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def token(secret: str, delivery_id: int, purpose: str = READ) -> str:
    return f"{delivery_id}-{_mac(secret, delivery_id, purpose)}"


def delivery_of(secret: str, raw: str, purpose: str = READ) -> int | None:
    """The delivery ``raw`` names, if it is a token made with ``secret`` for ``purpose``; else None."""
    number, _, mac = raw.partition("-")
    if len(raw) > MAX_TOKEN or not number.isascii() or not number.isdigit() or len(number) > 18:
        return None
    delivery_id = int(number)
    expected = _mac(secret, delivery_id, purpose)
    return delivery_id if hmac.compare_digest(mac.encode(), expected.encode()) else None


class DeliveryEndpoint:
    """What the endpoints a delivery's tokens open share (this read link, ``sms_receipts``)."""

    def __init__(
        self,
        deliveries: DeliveryMarks,
        secret: str,
        watch: Callable[[Delivery, str | None], None] | None = None,
    ) -> None:
        self._deliveries = deliveries
        self._secret = secret
        self._watch = watch  # hears of each status the endpoint records (the consoles)

    async def _delivery(self, raw: str, purpose: str) -> Delivery:
        """The delivery ``raw`` names if it is a token made for ``purpose``; else a bare 404."""
        delivery_id = delivery_of(self._secret, raw, purpose)
        if delivery_id is None:
            raise web.HTTPNotFound()
        try:
            return await self._deliveries.get(delivery_id)
        except DeliveryNotFound:
            raise web.HTTPNotFound() from None


class MessageLinks(DeliveryEndpoint):
    def add_to(self, app: web.Application) -> None:
        app.router.add_get(PATH, self.open)

    async def open(self, request: web.Request) -> web.Response:
        delivery = await self._delivery(request.match_info["token"], READ)
        delivery_id = delivery.id
        if delivery.status in (DeliveryStatus.SENT, DeliveryStatus.DELIVERED):
            try:
                delivery = await self._deliveries.change(delivery_id, DeliveryStatus.READ, "link opened")
                if self._watch is not None:
                    self._watch(delivery, "link opened")
            except IllegalDeliveryTransition:  # changed meanwhile (filed): show it as it is
                delivery = await self._deliveries.get(delivery_id)
            log.info("delivery.read", delivery=delivery_id, message=delivery.message_id)
        return web.Response(text=page(delivery.content, delivery.status), content_type="text/html")


def page(content: Mapping[str, object], status: DeliveryStatus) -> str:
    """The message as a small page; every value is escaped."""
    rows = [
        ("For", content.get("line_name")), ("From", content.get("caller_name")),
        ("Call back", content.get("callback_number")), ("Taken", content.get("taken_at")),
        ("Urgent", "yes" if content.get("urgent") else "no"),
    ]  # fmt: skip
    cells = "".join(f"<tr><th>{k}</th><td>{html.escape(str(v or ''))}</td></tr>" for k, v in rows)
    text = html.escape(str(content.get("message", "")))
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Message</title>'
        '<meta name="viewport" content="width=device-width"></head><body><h1>Message</h1>'
        f'<table>{cells}</table><p style="white-space: pre-wrap">{text}</p>'
        f"<p>This delivery: {status}.</p></body></html>"
    )
