"""Tells a business about a message its answering service took: a signed JSON POST to the line's webhook.

The body is signed with the line's secret: header ``X-Switchboard-Signature: sha256=<hex HMAC-SHA256 of
the body>``. Each attempt has ``timeout_s``; a failure (a connection error, a timeout, any status but
2xx) is tried again after ``backoff_s``, doubled each time, ``attempts`` times in all. The console never
waits for this: the take-message handler starts it in a task and tells the agent's tabs how it went.

The log names a webhook by ``scheme://host[:port]/path`` only (``shown``): a business may put a password
in the URL's userinfo or a token in its query, and logs are read by more people than the config.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import structlog
from yarl import URL

from agent_console.desk import Notified
from routing.ids import LineId

log = structlog.get_logger("webhooks")
SIGNATURE = "X-Switchboard-Signature"


@dataclass(frozen=True, slots=True)
class Delivery:
    ok: bool
    attempts: int
    error: str | None


def shown(url: str) -> str:
    """``url`` without its userinfo, query and fragment: what a log may say of it."""
    try:
        parsed = URL(url)
        return str(parsed.with_user(None).with_query(None).with_fragment(None))
    except (ValueError, TypeError):
        return "<a URL that does not parse>"


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class Webhooks:
    """One aiohttp session for every line's webhook; ``close`` it with the service."""

    def __init__(self, timeout_s: float = 5.0, attempts: int = 3, backoff_s: float = 1.0) -> None:
        self._timeout_s = timeout_s
        self._attempts = attempts
        self._backoff_s = backoff_s
        self._session: aiohttp.ClientSession | None = None

    async def post(self, url: str, secret: str | None, payload: Mapping[str, Any]) -> Delivery:
        error: str | None = None
        delay = self._backoff_s
        safe_url = shown(url)
        for attempt in range(1, self._attempts + 1):
            error = await self.once(url, secret, payload)
            log.info("webhook.attempt", url=safe_url, attempt=attempt, ok=error is None, error=error,
                     case_id=payload.get("case_id"))  # fmt: skip
            if error is None:
                return Delivery(True, attempt, None)
            if attempt < self._attempts:
                await asyncio.sleep(delay)
                delay *= 2
        log.warning("webhook.failed", url=safe_url, attempts=self._attempts, error=error)
        return Delivery(False, self._attempts, error)

    async def once(self, url: str, secret: str | None, payload: Mapping[str, Any]) -> str | None:
        """One signed attempt, no retry (the delivery worker keeps its own schedule): None when the
        webhook took it, else what went wrong, with the URL as ``shown``."""
        body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
        headers = {"Content-Type": "application/json"}
        if secret:
            headers[SIGNATURE] = signature(secret, body)
        error = await self._try(url, body, headers)
        return None if error is None else error.replace(url, shown(url))  # aiohttp names the URL

    async def _try(self, url: str, body: bytes, headers: Mapping[str, str]) -> str | None:
        """None when the webhook took it, else what went wrong."""
        session = self._open()
        try:
            async with asyncio.timeout(self._timeout_s), session.post(url, data=body, headers=headers) as r:
                if 200 <= r.status < 300:
                    return None
                return f"HTTP {r.status}"
        except TimeoutError:
            return f"no answer within {self._timeout_s:g} s"
        except aiohttp.ClientError as exc:
            return f"{type(exc).__name__}: {exc}"[:200]

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


@dataclass(frozen=True, slots=True)
class Endpoint:
    url: str
    secret: str | None


class LineWebhooks:
    """The console desk's ``Notifier``: each line's webhook (from ``[lines.<id>.answering]``)."""

    def __init__(self, webhooks: Webhooks, endpoints: Mapping[LineId, Endpoint]) -> None:
        self._webhooks = webhooks
        self._endpoints = endpoints

    def configured(self, line: LineId) -> bool:
        return line in self._endpoints

    async def notify(self, line: LineId, payload: dict[str, Any]) -> Notified:
        endpoint = self._endpoints[line]
        delivery = await self._webhooks.post(endpoint.url, endpoint.secret, payload)
        return Notified(delivery.ok, delivery.attempts, delivery.error)
