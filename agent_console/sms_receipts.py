"""``POST /sms/status/<token>``: the SMS provider's delivery receipts, which move a texted message's
delivery from ``sent`` to ``delivered`` or ``failed`` (issue 16).

Each text goes to the provider with this URL as its ``StatusCallback`` (``switchboard.senders``); the
provider posts, form-encoded, the message's ``MessageSid``, its ``MessageStatus`` as it changes
(``queued``, ``sent``, ``delivered``, ``undelivered``, ``failed``, ...) and for a failure an
``ErrorCode``. ``delivered`` is recorded as delivered; ``undelivered`` and ``failed`` as failed, with the
provider's words and code; the other statuses say nothing the row does not already (204).

The token is ``message_links.token`` made for the purpose ``sms-status``, so it names one delivery and
cannot be made without the link secret; it is not the read link's token, which the recipient sees in
the text and could otherwise use to post a receipt. A bad token, an unknown delivery or one that is not
an SMS: 404, saying nothing more. A receipt for a delivery not recorded as sent yet (the provider's
callback beat the worker's write): 409, so a provider that retries comes back once it is. A receipt that
comes after the message was read or filed changes nothing (204, logged): the lifecycle only goes forward.
"""

from __future__ import annotations

import re

import structlog
from aiohttp import web

from agent_console.message_links import DeliveryEndpoint
from crm_core.domain.deliveries import Channel, DeliveryStatus, IllegalDeliveryTransition

log = structlog.get_logger("sms-receipts")
URL_PREFIX = "/sms/status/"  # then the token
PATH = URL_PREFIX + "{token}"
PURPOSE = "sms-status"
MAX_BODY = 16 * 1024  # a provider's receipt is a few hundred bytes
RECEIPTS = {
    "delivered": DeliveryStatus.DELIVERED,
    "undelivered": DeliveryStatus.FAILED,
    "failed": DeliveryStatus.FAILED,
}
_PRINTABLE = re.compile(r"[^\x20-\x7e]")


class SmsReceipts(DeliveryEndpoint):
    def add_to(self, app: web.Application) -> None:
        app.router.add_post(PATH, self.receive)

    async def receive(self, request: web.Request) -> web.Response:
        delivery = await self._delivery(request.match_info["token"], PURPOSE)
        if delivery.channel != Channel.SMS:
            raise web.HTTPNotFound()
        if (request.content_length or 0) > MAX_BODY:
            raise web.HTTPRequestEntityTooLarge(MAX_BODY, request.content_length or 0)
        form = await request.post()
        said = form.get("MessageStatus")
        if not isinstance(said, str) or not said:
            raise web.HTTPBadRequest(text="MessageStatus is missing")
        delivery_id = delivery.id
        status = RECEIPTS.get(said.strip().lower())
        if status is None or status == delivery.status:
            return web.Response(status=204)  # nothing new: an interim status, or the same receipt again
        if delivery.status == DeliveryStatus.QUEUED:
            raise web.HTTPConflict(text="this message is not recorded as sent yet; try again")
        detail = _detail(said, form.get("ErrorCode"), form.get("MessageSid"))
        try:
            delivery = await self._deliveries.change(delivery_id, status, detail)
        except IllegalDeliveryTransition:
            log.info("sms.receipt-late", delivery=delivery_id, status=str(delivery.status), said=_clean(said))
            return web.Response(status=204)
        log.info("sms.receipt", delivery=delivery_id, status=str(status), detail=detail)
        if self._watch is not None:
            self._watch(delivery, detail)
        return web.Response(status=204)


def _clean(value: object, limit: int = 64) -> str:
    """A provider's value as it may go in the store and the log: printable ASCII, bounded."""
    return _PRINTABLE.sub("?", str(value))[:limit]


def _detail(said: str, code: object, sid: object) -> str:
    """What the agent sees beside the status: the provider's own words."""
    text = f"SMS provider: {_clean(said)}"
    if isinstance(code, str) and code:
        text += f" (error {_clean(code)})"
    if isinstance(sid, str) and sid:
        text += f", sid {_clean(sid)}"
    return text
