"""1,000 deliveries queued at once, drained without loss: the delivery queue and its workers.

Queues ``--deliveries`` deliveries in one call (half email, half SMS), then runs ``--workers`` delivery
workers (each with a store of its own, as separate processes would have) against a real SMTP server
(aiosmtpd) and an SMS provider's far end (an aiohttp server), both on loopback. The provider answers 503
to every ``--fail-every``-th request (0: never), so some deliveries go round the retry path (backoff
``--backoff-s``). It then checks what arrived against the queue: every delivery reached its far end
(by the delivery id each mail carries in a header and each SMS in its read link), and counts any that
arrived twice.

Printed: the time to queue them all, the time to drain (every row sent or failed), deliveries a second,
queued-to-sent latency percentiles (``created_at`` to ``updated_at`` of the rows), retries, and lost /
doubled / failed counts.

    .venv/bin/python bench/deliveries.py [--deliveries 1000] [--workers 2] [--batch 50] [--fail-every 7]
                                         [--database-url postgresql+asyncpg://postgres@127.0.0.1/db]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import structlog  # noqa: E402
from aiohttp import web  # noqa: E402
from aiosmtpd.smtp import SMTP, Envelope, Session  # noqa: E402

from agent_console.message_links import token  # noqa: E402
from config.deliveries import SmsProvider, Smtp  # noqa: E402
from crm_core.domain.deliveries import Channel, DeliveryStatus, NewDelivery, RetryPolicy  # noqa: E402
from crm_core.sql.migrate import upgrade_async  # noqa: E402
from crm_core.sql.store import SqlStore  # noqa: E402
from routing.ids import LineId  # noqa: E402
from switchboard.deliveries import DeliveryWorker  # noqa: E402
from switchboard.senders import EmailSender, FormSmsProvider, Sender, SmsSender  # noqa: E402

SECRET = "bench-link-secret"
LINK = re.compile(r"/m/(\d+)-")
DELIVERY_HEADER = re.compile(rb"X-Switchboard-Delivery: (\d+)")


class FarEnds:
    def __init__(self, fail_every: int) -> None:
        self.mail: Counter[int] = Counter()
        self.sms: Counter[int] = Counter()
        self.requests = 0
        self.fail_every = fail_every

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.content if isinstance(envelope.content, bytes) else b""
        found = DELIVERY_HEADER.search(content)
        if found:
            self.mail[int(found.group(1))] += 1
        return "250 OK"

    async def provider(self, request: web.Request) -> web.Response:
        form = await request.post()
        self.requests += 1
        if self.fail_every and self.requests % self.fail_every == 0:
            return web.Response(status=503, text="busy")
        found = LINK.search(str(form["Body"]))
        if found:
            self.sms[int(found.group(1))] += 1
        return web.json_response({"sid": f"SM{self.requests}"}, status=201)


async def serve(ends: FarEnds) -> tuple[Any, web.AppRunner, Smtp, SmsProvider]:
    loop = asyncio.get_running_loop()
    smtp = await loop.create_server(lambda: SMTP(ends, hostname="bench"), "127.0.0.1", 0)
    app = web.Application()
    app.router.add_post("/Messages.json", ends.provider)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    smtp_port = smtp.sockets[0].getsockname()[1]
    sms_url = f"http://127.0.0.1:{runner.addresses[0][1]}/Messages.json"
    return (smtp, runner, Smtp(host="127.0.0.1", port=smtp_port, sender="bench@example.com"),
            SmsProvider("form", sms_url, "AC1", "t", "+18005550199"))  # fmt: skip


def new(i: int) -> NewDelivery:
    email = i % 2 == 0
    return NewDelivery(
        message_id=i, business=LineId("smith"), channel=Channel.EMAIL if email else Channel.SMS,
        recipient=f"office{i}@example.com" if email else f"+1415555{i % 10000:04d}",
        content={"case_id": i, "urgent": True, "line_name": "Dr. Smith's office", "message": f"message {i}"},
    )  # fmt: skip


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))]


async def run(args: argparse.Namespace) -> None:
    url = args.database_url or f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/deliveries.db"
    await upgrade_async(url)
    ends = FarEnds(args.fail_every)
    smtp_server, runner, smtp, sms = await serve(ends)
    stores = [SqlStore.open(url, "US") for _ in range(args.workers)]
    policy = RetryPolicy(attempts=args.attempts, base_s=args.backoff_s, max_s=args.backoff_s * 8)
    try:
        started = time.perf_counter()
        await stores[0].deliveries.enqueue([new(i) for i in range(args.deliveries)])
        queued_s = time.perf_counter() - started
        tasks = [asyncio.create_task(worker(store, smtp, sms, policy, args).run()) for store in stores]
        started = time.perf_counter()
        while True:
            counts = await stores[0].deliveries.counts()
            if counts.get(DeliveryStatus.QUEUED, 0) == 0:
                break
            if time.perf_counter() - started > args.timeout_s:
                print(f"gave up after {args.timeout_s:g} s: {counts}")
                break
            await asyncio.sleep(0.05)
        drained_s = time.perf_counter() - started
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await report(stores[0], ends, args, queued_s, drained_s)
    finally:
        for store in stores:
            await store.close()
        smtp_server.close()
        await runner.cleanup()


def worker(
    store: SqlStore, smtp: Smtp, sms: SmsProvider, policy: RetryPolicy, args: argparse.Namespace
) -> DeliveryWorker:
    senders: dict[Channel, Sender] = {
        Channel.EMAIL: EmailSender(smtp),
        Channel.SMS: SmsSender(FormSmsProvider(sms)),
    }
    link = lambda i: f"http://127.0.0.1/m/{token(SECRET, i)}"  # noqa: E731
    now = lambda: datetime.now(UTC)  # noqa: E731
    return DeliveryWorker(
        store.deliveries, senders, link, policy, now, lease_s=60, batch=args.batch, poll_s=0.02
    )


async def report(
    store: SqlStore, ends: FarEnds, args: argparse.Namespace, queued_s: float, drained_s: float
) -> None:
    counts = await store.deliveries.counts()
    rows = [await store.deliveries.get(i) for i in range(1, args.deliveries + 1)]
    latency = [(r.updated_at - r.created_at).total_seconds() for r in rows if r.status is DeliveryStatus.SENT]
    arrived = ends.mail + ends.sms
    lost = [r.id for r in rows if r.status is DeliveryStatus.SENT and arrived[r.id] == 0]
    doubled = sum(1 for n in arrived.values() if n > 1)
    retries = sum(r.attempts - 1 for r in rows)
    print(f"deliveries {args.deliveries} (half email, half SMS), workers {args.workers}, batch {args.batch}, "
          f"provider 503 every {args.fail_every or 'never'}")  # fmt: skip
    print(f"queued in one call: {queued_s * 1000:.0f} ms")
    print(f"drained in {drained_s:.2f} s: {args.deliveries / drained_s:.0f} deliveries/s")
    if latency:
        print(f"queued -> sent: p50 {percentile(latency, 50):.2f} s, p99 {percentile(latency, 99):.2f} s, "
              f"max {max(latency):.2f} s")  # fmt: skip
    print(f"statuses {dict((str(k), v) for k, v in counts.items())}; retries {retries}")
    print(f"lost (sent, never arrived) {len(lost)}; arrived twice {doubled}; "
          f"arrived {len(arrived)} of {args.deliveries}")  # fmt: skip


def main() -> None:
    # One log line per attempt would cost more than the attempts: warnings only.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--deliveries", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--fail-every", type=int, default=7)
    parser.add_argument("--attempts", type=int, default=6)
    parser.add_argument("--backoff-s", type=float, default=0.2)
    parser.add_argument("--timeout-s", type=float, default=300)
    parser.add_argument("--database-url")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
