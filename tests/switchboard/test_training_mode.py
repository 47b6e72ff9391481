"""Training mode (issue 17) through the whole service on the simulated PBX: a supervisor's API order puts
one agent in training, practice callers come for them alone at the rate, a real caller goes to another
agent, the practice call is logged marked ``training``; the API's refusals have their codes."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from crm_core.domain.calls import Practice
from routing import events as ev
from routing.ids import AgentId, CallId
from routing.plan import Agent
from routing.states import AgentState
from switchboard.bootstrap import Service, build
from switchboard.practice import demo_calls, real_calls
from telephony.simulated import SimulatedPbx, Timing
from tests.integration.conftest import wait_until
from tests.support import radio_call
from tests.switchboard.test_bootstrap import A1, DID, Q, simulated_settings

A2 = AgentId("a2")
TOKEN = "training-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PHONES = Timing(ring_after_s=0.001, answer_after_s=0.01, hang_up_after_s=None)


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[Service, TestClient[Any, Any]]]:
    settings = simulated_settings(tmp_path)
    bob = Agent(id=A2, name="Bob", endpoint="Local/a2@nowhere", queues=(Q,))
    plan = dataclasses.replace(settings.plan, agents={**settings.plan.agents, A2: bob})
    settings = dataclasses.replace(settings, plan=plan, api_tokens=(TOKEN,))
    service = await build(settings, pbx=functools.partial(SimulatedPbx, timing=PHONES))
    await service.start(http=False)
    client: TestClient[Any, Any] = TestClient(TestServer(service.web))
    await client.start_server()
    try:
        yield service, client
    finally:
        await client.close()
        await service.stop()


async def test_given_a_trainee_then_practice_callers_ring_them_alone_and_a_real_caller_goes_to_another_agent(
    served: tuple[Service, TestClient[Any, Any]],
) -> None:
    service, client = served
    for agent in (A1, A2):  # a1 first: the longest idle, whom a real caller would ring first
        await service.loop.ask(ev.AgentLoggedIn(agent, service.clock()))
        await service.loop.ask(ev.AgentBecameReady(agent, service.clock()))
    async with client.put("/api/v1/training/a1", json={"per_minute": 30}, headers=AUTH) as r:
        assert r.status == 200, await r.text()
        body = await r.json()
    assert (body["agent"], body["per_minute"], body["by"]) == ("a1", 30.0, "api-token-1")
    async with client.get("/api/v1/training", headers=AUTH) as r:
        assert [t["agent"] for t in (await r.json())["items"]] == ["a1"]

    assert isinstance(service.pbx, SimulatedPbx)
    service.pbx.arrive(CallId("real-1"), DID, "+14155550123")
    practice = await wait_until(lambda: service.router.agent_view(A1).call, what="a practice caller on a1")
    assert str(practice).startswith("training-a1-")
    await wait_until(lambda: service.router.agent_view(A2).call == "real-1", what="the real caller on a2")
    await wait_until(lambda: service.router.agent_view(A1).state is AgentState.ON_CALL, what="a1 answering")

    await service.loop.ask(ev.AgentHungUp(A1, service.clock()))
    await service.loop.ask(ev.AgentHungUp(A2, service.clock()))
    assert await service.recorder.written(practice, timeout_s=10)
    assert await service.recorder.written(CallId("real-1"), timeout_s=10)
    logged = await service.store.get_call(practice)
    real = await service.store.get_call("real-1")
    assert logged is not None and (logged.practice, logged.record.agent) == (Practice.TRAINING, "a1")
    assert real is not None and (real.practice, real.record.agent) == (None, "a2")
    audit = [(a.action, a.target, a.outcome) for a in service.backend.supervision.audit]
    assert ("start-training", "a1", "done") in audit

    async with client.delete("/api/v1/training/a1", headers=AUTH) as r:
        assert r.status == 204
    assert service.router.trainees() == []
    placed = service.training.placed
    await asyncio.sleep(2.5)  # at 30 a minute, more would have come
    assert service.training.placed == placed


async def test_the_training_api_refuses_with_its_codes(served: tuple[Service, TestClient[Any, Any]]) -> None:
    _, client = served
    for method, path, body, status, code in [
        ("DELETE", "/api/v1/training/a1", None, 409, "agent-not-in-training"),
        ("PUT", "/api/v1/training/nobody", {"per_minute": 2}, 404, "unknown-agent"),
        ("PUT", "/api/v1/training/a1", {"per_minute": 0}, 422, "invalid-input"),
        ("PUT", "/api/v1/training/a1", {"per_minute": 61}, 422, "invalid-input"),
        ("PUT", "/api/v1/training/a1", {"per_minute": "2"}, 422, "invalid-input"),
        ("PUT", "/api/v1/training/a1", {"per_minute": 2, "agent": "a2"}, 422, "invalid-input"),
        ("PUT", "/api/v1/training/a1", {}, 422, "invalid-input"),
    ]:
        async with client.request(method, path, json=body, headers=AUTH) as r:
            assert (r.status, (await r.json())["error"]) == (status, code), (method, path, body)


async def test_the_openapi_document_lists_the_training_routes(
    served: tuple[Service, TestClient[Any, Any]],
) -> None:
    _, client = served
    async with client.get("/api/v1/openapi.json", headers=AUTH) as r:
        paths = (await r.json())["paths"]
    assert set(paths["/training"]) == {"get"}
    assert {"put", "delete"} <= set(paths["/training/{agent}"])


def test_a_trainees_practice_call_is_marked_training_in_serve_and_in_a_demo() -> None:
    real = radio_call("c1")
    practice = dataclasses.replace(real, training=True)
    assert (real_calls(real), real_calls(practice)) == (None, Practice.TRAINING)
    assert (demo_calls(real), demo_calls(practice)) == (Practice.DEMO, Practice.TRAINING)


async def test_given_an_agent_in_training_when_the_service_restarts_then_their_practice_callers_come_again(
    tmp_path: Path,
) -> None:
    settings = simulated_settings(tmp_path)
    first = await build(settings, pbx=functools.partial(SimulatedPbx, timing=PHONES))
    await first.start(http=False)
    try:
        await first.loop.ask(ev.TrainingStarted(A1, "boss", 1.0, first.clock()))
        await wait_until(lambda: first.training.placed == 1, what="the first practice caller")
    finally:
        await first.stop()
    again = await build(settings, pbx=functools.partial(SimulatedPbx, timing=PHONES))
    await again.start(http=False)
    try:
        assert [t.agent for t in again.router.trainees()] == [A1]
        await wait_until(lambda: again.training.placed == 1, what="a practice caller after the restart")
    finally:
        await again.stop()
