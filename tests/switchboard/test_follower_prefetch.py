"""A follower looks a caller up, as the leader does at the call's arrival, unless the call already rings
only agents whose consoles are on other instances: every member used to read every caller's 360."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from crm_core.sql.migrate import upgrade_async
from routing import events as ev
from routing import views
from routing.ids import AgentId, CallId
from switchboard.bootstrap import Service
from tests.switchboard.test_cluster_reload import built
from tests.switchboard.test_journal import DID

HERE, ELSEWHERE = AgentId("a1"), AgentId("a2")  # a1's console is on this instance, a2's on another


class Tab:
    """What the hub needs of a console's connection: it is handed messages."""

    def __init__(self) -> None:
        self.agent: AgentId | None = None
        self.role = "agent"
        self.sent: list[dict[str, Any]] = []

    def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)


@pytest.fixture
async def follower(tmp_path: Path) -> AsyncIterator[Service]:
    url = f"sqlite+aiosqlite:///{tmp_path}/crm.db"
    await upgrade_async(url)
    async with built(url) as service:
        service.standing.leading = False
        for agent in (HERE, ELSEWHERE):
            service.loop.follow(ev.AgentLoggedIn(agent, 100.0))
        service.hub.join(Tab(), views.agent_view(service.router.book, HERE), "agent")  # type: ignore[arg-type]
        yield service
        for n in range(1, 6):
            service.callers.forget(CallId(f"c{n}"))


def arrives(service: Service, call: str, *ready: AgentId, then: list[ev.Event] | None = None) -> None:
    """``ready`` agents ready, then ``call`` arriving, as one batch of the leader's stream applies them."""
    for agent in ready:
        service.loop.follow(ev.AgentBecameReady(agent, 101.0))
    service.loop.follow(ev.CallArrived(CallId(call), DID, "+14155550101", None, 102.0))
    for event in then or []:
        service.loop.follow(event)


async def test_given_a_call_ringing_an_agent_whose_console_is_elsewhere_then_the_follower_looks_nothing_up(
    follower: Service,
) -> None:
    arrives(follower, "c1", ELSEWHERE)
    assert follower.router.offered_agents(CallId("c1")) == {ELSEWHERE}
    await asyncio.sleep(0)
    assert not follower.callers.live(CallId("c1"))


async def test_given_a_call_ringing_an_agent_whose_console_is_here_then_the_follower_looks_it_up(
    follower: Service,
) -> None:
    arrives(follower, "c2", HERE)
    assert not follower.callers.live(CallId("c2"))  # not before the whole batch is applied
    await asyncio.sleep(0)
    assert follower.callers.live(CallId("c2"))


async def test_given_a_call_that_waits_then_the_follower_looks_it_up_its_ring_may_be_here(
    follower: Service,
) -> None:
    arrives(follower, "c3")
    assert follower.router.offered_agents(CallId("c3")) == frozenset()
    await asyncio.sleep(0)
    assert follower.callers.live(CallId("c3"))


async def test_given_a_call_over_within_the_batch_then_nothing_is_looked_up_or_kept(
    follower: Service,
) -> None:
    arrives(follower, "c4", HERE, then=[ev.CallerHungUp(CallId("c4"), 103.0)])
    await asyncio.sleep(0)
    assert not follower.callers.live(CallId("c4"))


async def test_given_the_leader_then_every_caller_is_looked_up_at_once(follower: Service) -> None:
    follower.standing.leading = True
    arrives(follower, "c5", ELSEWHERE)
    assert follower.callers.live(CallId("c5"))
