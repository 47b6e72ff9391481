"""The wiring: the shipped config, through the bootstrap, gives the console its floor, desk and schemas."""

from __future__ import annotations

import dataclasses
import functools
import typing
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.exc import OperationalError

from agent_console import messages
from config.settings import AriSettings, Settings, load
from crm_core.sql.migrate import upgrade_async
from crm_core.sql.store import SqlStore
from routing import commands as cmd
from routing import events as ev
from routing.ids import AgentId, CallId, LineId, QueueId
from routing.plan import Agent, Did, Line, Plan, Queue
from switchboard.bootstrap import Service, build, endpoints, normaliser, open_store
from telephony.simulated import SimulatedPbx, Timing

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[Service]:
    url = f"sqlite+aiosqlite:///{tmp_path}/crm.db"
    await upgrade_async(url)
    store = SqlStore.open(url, "US")
    settings = load(ROOT / "config" / "switchboard.toml", normaliser, env={})
    service = await build(dataclasses.replace(settings, database_url=url), store=store, clock=lambda: 0.0)
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


def test_given_the_service_then_its_command_table_names_each_commands_consumers(service: Service) -> None:
    table = service.commands
    pbx = typing.get_args(cmd.PbxCommand)
    assert {kind: table.takers(kind) for kind in pbx} == dict.fromkeys(pbx, ("pbx",))
    assert {kind: table.takers(kind) for kind in typing.get_args(cmd.NoticeCommand)} == {
        cmd.PopScreen: ("console", "metrics"),
        cmd.WithdrawOffer: ("console", "state-log", "metrics"),
        cmd.CallConnected: ("console",),
        cmd.AgentStateChanged: ("console", "state-log"),
        cmd.LogCall: ("console", "call-log", "metrics"),
        cmd.IdentifyCaller: ("identifier",),
        cmd.CallHeld: ("console",),
        cmd.EscalationUpdate: ("console",),
        cmd.EscalationAttempt: ("attempts",),
        cmd.SupervisionChanged: ("console",),
        cmd.TrainingChanged: ("console", "training"),
    }
    # The wallboard watches everything, after the consumers; the PBX's share goes out only while leading.
    assert table.handlers(cmd.AnswerCall) == (service._to_pbx, service.wallboard.notice)


# --- on the simulated PBX ---------------------------------------------------------------------------
DID, Q, A1 = "+18005550101", QueueId("q"), AgentId("a1")
FAST = Timing(ring_after_s=0.001, answer_after_s=0.01, hang_up_after_s=0.05)


def simulated_settings(tmp_path: Path) -> Settings:
    line = LineId("line")
    plan = Plan(
        dids={DID: Did(DID, "web", line)},
        lines={line: Line(id=line, name="Line", queue=Q)},
        queues={Q: Queue(id=Q, name="Queue", ring_timeout_s=15, max_wait_s=600, announce_every_s=0.0)},
        agents={A1: Agent(id=A1, name="Alice", endpoint="Local/a1@nowhere", queues=(Q,))},
    )
    return Settings(
        ari=AriSettings("http://127.0.0.1:1", "u", "p", "unused"),
        database_url=f"sqlite+aiosqlite:///{tmp_path}/crm.db",
        http_host="127.0.0.1",
        http_port=0,
        region="US",
        caller_context="unused",
        inbound_context="unused",
        plan=plan,
    )


async def test_given_a_simulated_pbx_then_health_and_metrics_read_that_pbx(tmp_path: Path) -> None:
    service = await build(simulated_settings(tmp_path), pbx=SimulatedPbx)
    try:
        assert isinstance(service.pbx, SimulatedPbx)
        assert "switchboard_ari_connected 0.0" in service.metrics.render().decode()
        assert service.health()["ari_connected"] is False
        service.pbx.connected.set()
        assert "switchboard_ari_connected 1.0" in service.metrics.render().decode()
        assert service.health()["ari_connected"] is True
    finally:
        await service.stop()


async def test_given_a_simulated_pbx_when_a_caller_dials_in_then_the_agent_takes_it_and_it_is_logged(
    tmp_path: Path,
) -> None:
    service = await build(simulated_settings(tmp_path), pbx=functools.partial(SimulatedPbx, timing=FAST))
    pbx = service.pbx
    assert isinstance(pbx, SimulatedPbx)
    await service.start(http=False)
    try:
        await service.loop.ask(ev.AgentLoggedIn(A1, service.loop.clock()))
        await service.loop.ask(ev.AgentBecameReady(A1, service.loop.clock()))
        pbx.arrive(CallId("c1"), DID, "+14155550123")
        assert await service.recorder.written(CallId("c1"), timeout_s=10)
        (logged,) = await service.store.recent_calls(5)
        record = logged.record
        assert (record.call, record.agent, str(record.outcome)) == ("c1", "a1", "answered")
        assert pbx.offers == 1
    finally:
        await service.stop()


async def test_given_settings_when_the_store_is_opened_then_migrated_unless_told_not_to(
    tmp_path: Path,
) -> None:
    settings = simulated_settings(tmp_path)
    fresh = await open_store(settings, migrate=False)
    try:
        with pytest.raises(OperationalError, match="no such table"):
            await fresh.recent_calls(1)
    finally:
        await fresh.close()
    store = await open_store(settings)
    try:
        assert await store.recent_calls(1) == []
    finally:
        await store.close()
