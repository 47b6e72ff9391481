"""The delivery worker's channels: email over SMTP, SMS through a provider's HTTP API, the signed webhook.

Each ``Sender`` makes one attempt and says what came of it as a ``crm_core.domain.deliveries.Attempt``:
``Accepted`` (sent, or delivered for a webhook that answered 2xx) with what the far end said, or
``Refused`` with why, and whether trying again could help. They never raise for the far end's faults:
our faults (a bug) do, and the worker records those as a retry.

SMS goes through an ``SmsProvider`` port; ``FormSmsProvider`` is the one adapter: a form POST of
``To``, ``From`` and ``Body`` with HTTP basic auth, answered by JSON carrying the message's ``sid``
(Twilio's shape). A 2xx without a ``sid`` is garbage: recorded as such and tried again, since the
provider's state is unknown. A 4xx (but 408 and 429) is permanent; a 5xx, a timeout or no connection is
tried again.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable, Mapping
from email.message import EmailMessage
from typing import Any, Protocol

import aiohttp
import aiosmtplib

from config.deliveries import SmsProvider as SmsSettings
from config.deliveries import Smtp
from crm_core.domain.deliveries import Accepted, Attempt, Delivery, DeliveryStatus, Refused
from routing.ids import LineId
from switchboard.webhooks import Endpoint, Webhooks

SMS_TEXT = 300  # characters of the message an SMS carries before it is cut
TRANSIENT_4XX = frozenset({408, 425, 429})


class Sender(Protocol):
    async def send(self, delivery: Delivery, link: str) -> Attempt: ...
    async def close(self) -> None: ...


def subject(content: Mapping[str, Any]) -> str:
    urgent = "URGENT message" if content.get("urgent") else "Message"
    return f"{urgent} for {content.get('line_name', '')} from {content.get('caller_name') or 'a caller'}"


def email_text(content: Mapping[str, Any], link: str) -> str:
    return (
        f"{content.get('message', '')}\n\n"
        f"From: {content.get('caller_name') or 'Unknown caller'}\n"
        f"Call back: {content.get('callback_number') or 'no number'}\n"
        f"Taken: {content.get('taken_at', '')} by the answering service\n\n"
        f"Open this link to mark the message read: {link}\n"
    )


def sms_text(content: Mapping[str, Any], link: str) -> str:
    message = str(content.get("message", ""))
    if len(message) > SMS_TEXT:
        message = message[: SMS_TEXT - 1] + "…"
    back = content.get("callback_number") or "no number"
    return f"{subject(content)} ({back}): {message} {link}"


class EmailSender:
    def __init__(self, smtp: Smtp, timeout_s: float = 20.0) -> None:
        self._smtp = smtp
        self._timeout_s = timeout_s

    async def send(self, delivery: Delivery, link: str) -> Attempt:
        mail = EmailMessage()
        mail["From"] = self._smtp.sender
        mail["To"] = delivery.recipient
        mail["Subject"] = subject(delivery.content)
        mail["X-Switchboard-Delivery"] = str(delivery.id)
        mail.set_content(email_text(delivery.content, link))
        s = self._smtp
        try:
            _, answer = await aiosmtplib.send(
                mail, hostname=s.host, port=s.port, start_tls=s.starttls, username=s.user,
                password=s.password, timeout=self._timeout_s,
            )  # fmt: skip
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            return Refused(f"recipient refused: {'; '.join(r.message for r in exc.recipients)}"[:300],
                           permanent=all(500 <= c < 600 for c in codes))  # fmt: skip
        except aiosmtplib.SMTPResponseException as exc:
            return Refused(f"SMTP {exc.code}: {exc.message}"[:300], permanent=500 <= exc.code < 600)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            return Refused(f"{type(exc).__name__}: {exc}"[:300], permanent=False)
        return Accepted(DeliveryStatus.SENT, answer[:300])

    async def close(self) -> None:
        return None


class SmsProvider(Protocol):
    """A way to text a number (an HTTP API); the one adapter is ``FormSmsProvider``."""

    async def text(self, to: str, body: str, receipts: str | None = None) -> Attempt:
        """Text ``body`` to ``to``; ``receipts``: where the provider posts the message's delivery
        receipts (``agent_console.sms_receipts``)."""
        ...

    async def close(self) -> None: ...


class FormSmsProvider:
    def __init__(self, settings: SmsSettings, timeout_s: float = 10.0) -> None:
        self._settings = settings
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None
        pair = f"{settings.account}:{settings.token}".encode()
        self._auth = "Basic " + base64.b64encode(pair).decode()  # HTTP basic auth (aiohttp's is deprecated)

    async def text(self, to: str, body: str, receipts: str | None = None) -> Attempt:
        s = self._settings
        form = {"To": to, "From": s.sender, "Body": body}
        if receipts is not None:
            form["StatusCallback"] = receipts
        try:
            async with self._open().post(s.url, data=form, headers={"Authorization": self._auth}) as response:
                answer = (await response.content.read(4000)).decode("utf-8", "replace")
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            return Refused(f"SMS provider unreachable: {type(exc).__name__}: {exc}"[:300], permanent=False)
        if not 200 <= status < 300:
            permanent = 400 <= status < 500 and status not in TRANSIENT_4XX
            return Refused(f"SMS provider: HTTP {status}: {answer[:200]}", permanent=permanent)
        sid = _sid(answer)
        if sid is None:
            return Refused(
                f"SMS provider answered HTTP {status} without a message id: {answer[:200]!r}", False
            )
        return Accepted(DeliveryStatus.SENT, f"sid {sid}")

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


def _sid(answer: str) -> str | None:
    try:
        found = json.loads(answer)
    except ValueError:
        return None
    sid = found.get("sid") if isinstance(found, dict) else None
    return sid if isinstance(sid, str) and sid else None


class SmsSender:
    def __init__(self, provider: SmsProvider, receipts: Callable[[int], str] | None = None) -> None:
        self._provider = provider
        self._receipts = receipts  # a delivery's receipt URL: "sent" becomes "delivered" or "failed"

    async def send(self, delivery: Delivery, link: str) -> Attempt:
        receipts = None if self._receipts is None else self._receipts(delivery.id)
        return await self._provider.text(delivery.recipient, sms_text(delivery.content, link), receipts)

    async def close(self) -> None:
        await self._provider.close()


class WebhookSender:
    """The line's webhook, signed with its secret as before (``switchboard/webhooks.py``)."""

    def __init__(self, webhooks: Webhooks, endpoints: Mapping[LineId, Endpoint]) -> None:
        self._webhooks = webhooks
        self._endpoints = endpoints  # by line: the secret is looked up, never stored in the queue

    async def send(self, delivery: Delivery, link: str) -> Attempt:
        endpoint = self._endpoints.get(delivery.business)
        secret = endpoint.secret if endpoint is not None and endpoint.url == delivery.recipient else None
        error = await self._webhooks.once(delivery.recipient, secret, delivery.content)
        if error is None:
            return Accepted(DeliveryStatus.DELIVERED, "HTTP 2xx")
        return Refused(error, permanent=False)

    async def close(self) -> None:
        await asyncio.sleep(0)  # the Webhooks session is the service's, closed with it
