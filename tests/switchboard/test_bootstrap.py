"""The wiring: the shipped config, through the bootstrap, gives the console its floor, desk and schemas."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from agent_console import messages
from config.settings import load
from crm_core.sql.migrate import upgrade_async
from crm_core.sql.store import SqlStore
from routing.ids import LineId
from switchboard.bootstrap import Service, endpoints, normaliser

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[Service]:
    url = f"sqlite+aiosqlite:///{tmp_path}/crm.db"
    await upgrade_async(url)
    store = SqlStore.open(url, "US")
    settings = load(ROOT / "config" / "switchboard.toml", normaliser, env={})
    service = Service(dataclasses.replace(settings, database_url=url), store, lambda: 0.0)
    yield service
    await service.ari.close()
    await service.webhooks.close()
    await store.close()


async def test_given_the_shipped_config_then_the_console_knows_the_codes_the_profiles_and_serves_schemas(
    service: Service,
) -> None:
    floor = service.hub.floor
    assert floor.disposition_codes == service.settings.disposition_codes
    assert floor.region == "US" and set(floor.answering) == {"smith"}
    assert endpoints(service.settings) == {}  # the example's webhook is commented out
    client: TestClient[Any, Any] = TestClient(TestServer(service.web))
    await client.start_server()
    try:
        async with client.get("/protocol/schemas.json") as r:
            assert r.status == 200 and (await r.json())["version"] == 2
    finally:
        await client.close()


def test_given_a_line_with_a_webhook_then_its_endpoint_carries_the_secret() -> None:
    settings = load(ROOT / "config" / "switchboard.toml", normaliser, env={})
    smith = dataclasses.replace(settings.answering[LineId("smith")], webhook_url="https://x.example/h",
                                webhook_secret="k")  # fmt: skip
    with_hook = dataclasses.replace(settings, answering={LineId("smith"): smith})
    found = endpoints(with_hook)
    assert (found[LineId("smith")].url, found[LineId("smith")].secret) == ("https://x.example/h", "k")


async def test_given_the_service_when_prometheus_scrapes_then_metrics_are_served_without_login(
    service: Service,
) -> None:
    client: TestClient[Any, Any] = TestClient(TestServer(service.web))
    await client.start_server()
    try:
        async with client.get("/metrics") as r:
            body = await r.text()
            assert r.status == 200 and r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    finally:
        await client.close()
    assert 'switchboard_queue_waiting_calls{queue="acme"} 0.0' in body
    assert "switchboard_ari_connected 0.0" in body
    assert service.metrics.pop_acknowledged in service.hub.ack_observers


def test_given_the_shipped_config_then_the_answering_pop_lists_who_an_escalation_rings(
    service: Service,
) -> None:
    business = messages.business(LineId("smith"), service.hub.floor)

    assert business is not None and business["on_call"] == [
        "Dr. Smith",
        "Nurse Patel",
    ]  # [[lines.smith.on_call]]
