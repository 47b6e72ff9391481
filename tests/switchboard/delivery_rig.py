"""What the delivery tests share: a clock they move, a store on a SQLite file with that clock, a real
SMTP server on loopback (aiosmtpd) and an SMS provider's far end (an aiohttp server) that answers as told.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import Message
from typing import Any

from aiohttp import web
from aiosmtpd.smtp import SMTP, Envelope, Session

from config.deliveries import SmsProvider, Smtp
from crm_core.domain.deliveries import RetryPolicy
from crm_core.sql.engine import open_engine
from crm_core.sql.migrate import upgrade_async
from crm_core.sql.store import SqlStore
from switchboard.deliveries import DeliveryWorker
from switchboard.senders import EmailSender, FormSmsProvider, Sender, SmsSender
from tests.moving_clock import Clock

SECRET = "a-link-secret-of-the-tests-only-32-bytes"
BASE = "http://127.0.0.1:8080"
POLICY = RetryPolicy(attempts=3, base_s=10, max_s=100)


async def open_store(url: str, clock: Clock) -> SqlStore:
    await upgrade_async(url)
    return SqlStore(open_engine(url), "US", clock=clock)


@dataclass
class Mailbox:
    """aiosmtpd's handler: keeps what arrives; refuses the recipients named in ``refuse``."""

    received: list[tuple[list[str], Message]] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.content if isinstance(envelope.content, bytes) else b""
        self.received.append((list(envelope.rcpt_tos), message_from_bytes(content, policy=policy.default)))
        self.arrived.set()
        return "250 2.0.0 queued as T1"


@asynccontextmanager
async def smtp_server() -> AsyncIterator[tuple[Mailbox, Smtp]]:
    """A real SMTP server on 127.0.0.1 (an ephemeral port), and the settings that reach it."""
    box = Mailbox()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(functools.partial(SMTP, box, hostname="sb-test"), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield box, Smtp(host="127.0.0.1", port=port, sender="answering@example.com")
    finally:
        server.close()
        await server.wait_closed()


@dataclass
class Provider:
    """The SMS provider's far end: answers each POST with the next of ``answers`` (status, body)."""

    answers: list[tuple[int, str]] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)
    stall: bool = False  # hold each answer until ``release`` is set
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.Response:
        form = await request.post()
        self.received.append({"auth": request.headers.get("Authorization"), **form})
        self.arrived.set()
        if self.stall:
            await self.release.wait()
        status, body = self.answers.pop(0) if self.answers else (201, '{"sid": "SM1"}')
        return web.Response(status=status, text=body, content_type="application/json")


@asynccontextmanager
async def sms_server(provider: Provider) -> AsyncIterator[SmsProvider]:
    app = web.Application()
    app.router.add_post("/Accounts/AC1/Messages.json", provider.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield SmsProvider("form", f"http://127.0.0.1:{port}/Accounts/AC1/Messages.json", "AC1", "tok",
                          "+18005550199")  # fmt: skip
    finally:
        await runner.cleanup()


async def until(check: Callable[[], Awaitable[bool]], timeout_s: float = 10.0) -> None:
    """Wait until ``check()`` holds (the store is polled: it has no event to wait on)."""
    async with asyncio.timeout(timeout_s):
        while not await check():  # noqa: ASYNC110
            await asyncio.sleep(0.02)


def worker(
    store: SqlStore,
    clock: Clock,
    *,
    smtp: Smtp | None = None,
    sms: SmsProvider | None = None,
    receipts: Callable[[int], str] | None = None,
    **kw: Any,
) -> DeliveryWorker:
    from agent_console.message_links import token

    senders: dict[Any, Sender] = {}
    if smtp is not None:
        senders["email"] = EmailSender(smtp, timeout_s=5)
    if sms is not None:
        senders["sms"] = SmsSender(FormSmsProvider(sms, timeout_s=5), receipts)
    link: Callable[[int], str] = lambda i: f"{BASE}/m/{token(SECRET, i)}"  # noqa: E731
    return DeliveryWorker(store.deliveries, senders, link, POLICY, clock, poll_s=0.05, **kw)
