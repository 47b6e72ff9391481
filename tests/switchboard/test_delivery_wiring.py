"""The service wires the deliveries: the desk's notifier queues per the line's rules, the worker started
with the service sends over real SMTP, the console app serves the read link, and stop does not wait."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from agent_console.desk import Notified
from config.deliveries import Deliveries, DeliveryRules, Rule
from config.settings import load
from crm_core.domain.deliveries import DeliveryStatus
from routing.ids import LineId
from switchboard.bootstrap import build, normaliser
from switchboard.deliveries import MessagePlanner
from telephony.simulated import SimulatedPbx
from tests.switchboard.delivery_rig import Provider, sms_server, smtp_server, until

ROOT = Path(__file__).resolve().parents[2]
SMITH = LineId("smith")


async def test_given_a_line_with_rules_when_a_message_is_filed_then_the_running_service_emails_it(
    tmp_path: Path,
) -> None:
    shipped = load(ROOT / "config" / "switchboard.toml", normaliser, env={})
    async with smtp_server() as (box, smtp):
        rules = {
            SMITH: DeliveryRules(
                urgent=Rule(email=("dr.smith@example.com",)), routine=Rule(email=("a@b.example",))
            )
        }
        settings = dataclasses.replace(
            shipped, database_url=f"sqlite+aiosqlite:///{tmp_path}/crm.db", http_port=0,
            deliveries=Deliveries(rules=rules, smtp=smtp, link_secret="k" * 40), cluster=None,
        )  # fmt: skip
        service = await build(settings, pbx=SimulatedPbx)
        await service.start(http=False)
        try:
            notifier: Any = service.desk._notifier
            assert isinstance(notifier, MessagePlanner)
            payload = {"case_id": 3, "urgent": True, "line_name": "Dr. Smith's office", "message": "Call me"}
            assert await notifier.notify(SMITH, payload) == Notified(True, 0, None)
            await asyncio.wait_for(box.arrived.wait(), 10)
            [(to, mail)] = box.received
            body = mail.get_payload(decode=True)
            assert to == ["dr.smith@example.com"] and isinstance(body, bytes) and b"Call me" in body
            link = next(w for w in body.decode().split() if "/m/" in w)

            async def sent() -> bool:
                [delivery] = await service.store.deliveries.of_message(3)
                return delivery.status is DeliveryStatus.SENT

            await until(sent)
            assert link.startswith("http://127.0.0.1:0/m/")
            async with TestClient(TestServer(service.web)) as client:
                opened = await client.get("/m/" + link.rpartition("/m/")[2])
                assert opened.status == 200 and "Call me" in await opened.text()
            [delivery] = await service.store.deliveries.of_message(3)
            assert delivery.status is DeliveryStatus.READ
        finally:
            started = time.monotonic()
            await service.stop()
            assert time.monotonic() - started < 5  # the worker is cancelled, not waited for


async def test_given_an_sms_rule_when_the_provider_posts_its_receipt_to_the_running_service_then_delivered(
    tmp_path: Path,
) -> None:
    shipped = load(ROOT / "config" / "switchboard.toml", normaliser, env={})
    provider = Provider(answers=[(201, '{"sid": "SM7"}')])
    async with sms_server(provider) as sms:
        rules = {
            SMITH: DeliveryRules(urgent=Rule(sms=("+14155550100",)), routine=Rule(sms=("+14155550100",)))
        }
        settings = dataclasses.replace(
            shipped, database_url=f"sqlite+aiosqlite:///{tmp_path}/crm.db", http_port=0,
            public_url="https://answering.example", cluster=None,
            deliveries=Deliveries(rules=rules, sms=sms, link_secret="k" * 40),
        )  # fmt: skip
        service = await build(settings, pbx=SimulatedPbx)
        await service.start(http=False)
        try:
            notifier: Any = service.desk._notifier
            payload = {"case_id": 4, "urgent": True, "line_name": "Dr. Smith's office", "message": "Call me"}
            assert await notifier.notify(SMITH, payload) == Notified(True, 0, None)

            async def sent() -> bool:
                [delivery] = await service.store.deliveries.of_message(4)
                return delivery.status is DeliveryStatus.SENT

            await until(sent)
            [form] = provider.received
            callback = str(form["StatusCallback"])
            assert callback.startswith("https://answering.example/sms/status/")
            async with TestClient(TestServer(service.web)) as client:
                path = callback.removeprefix("https://answering.example")
                posted = await client.post(path, data={"MessageSid": "SM7", "MessageStatus": "delivered"})
                assert posted.status == 204
            [delivery] = await service.store.deliveries.of_message(4)
            assert delivery.status is DeliveryStatus.DELIVERED
        finally:
            await service.stop()
