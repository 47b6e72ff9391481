"""The router's task: a router that fails on one event answers that event's asker, and goes on routing."""

from __future__ import annotations

import asyncio

import pytest

from agent_console.errors import NoLeader
from routing import commands as cmd
from routing import events as ev
from routing import views
from routing.ids import AgentId
from routing.plan import Agent, Plan
from routing.router import Router
from routing.states import AgentState
from switchboard.bus import LocalBus
from switchboard.runtime import RouterLoop

A1 = AgentId("a1")


class BrokenOnHold(Router):
    def handle(self, event: ev.Event) -> list[cmd.Command]:
        if isinstance(event, ev.HoldRequested):
            raise KeyError(type(event))  # as today's router does for an event it has no handler for
        return super().handle(event)


async def test_given_a_router_failing_on_an_event_when_asked_then_the_asker_gets_it_and_the_loop_lives() -> (
    None
):
    loop = RouterLoop(
        BrokenOnHold(Plan(agents={A1: Agent(id=A1, name="Alice", endpoint="Local/1", queues=())})),
        lambda: 0.0,
        LocalBus(),
    )
    task = asyncio.create_task(loop.run())
    try:
        with pytest.raises(KeyError):
            await loop.ask(ev.HoldRequested(A1, 1.0))
        commands = await asyncio.wait_for(loop.ask(ev.AgentLoggedIn(A1, 2.0)), 2)
        assert any(isinstance(c, cmd.AgentStateChanged) for c in commands)
    finally:
        task.cancel()


async def test_given_a_refused_event_nobody_waits_for_then_it_is_logged_and_the_loop_lives() -> None:
    loop = RouterLoop(
        BrokenOnHold(Plan(agents={A1: Agent(id=A1, name="Alice", endpoint="Local/1", queues=())})),
        lambda: 0.0,
        LocalBus(),
    )
    task = asyncio.create_task(loop.run())
    try:
        loop.submit(ev.AgentBecameReady(AgentId("nobody"), 1.0))  # refused: an unknown agent
        loop.submit(ev.HoldRequested(A1, 1.0))  # fails
        commands = await asyncio.wait_for(loop.ask(ev.AgentLoggedIn(A1, 2.0)), 2)
        assert any(isinstance(c, cmd.AgentStateChanged) for c in commands)
    finally:
        task.cancel()


class Ticks(Router):
    """Counts the clock's ticks it is handed."""

    ticks = 0

    def handle(self, event: ev.Event) -> list[cmd.Command]:
        if isinstance(event, ev.Tick):
            self.ticks += 1
        return super().handle(event)


async def test_given_the_pbx_not_reconciled_yet_then_no_deadline_is_checked_until_it_is() -> None:
    router = Ticks(Plan(agents={A1: Agent(id=A1, name="Alice", endpoint="Local/1", queues=())}))
    loop = RouterLoop(router, lambda: 0.0, LocalBus(), tick_s=0.01)
    ready = asyncio.Event()
    task = asyncio.create_task(loop.run(ready))
    try:
        await asyncio.sleep(0.1)
        assert router.ticks == 0  # what the PBX did while we were down is not in yet
        await loop.ask(ev.AgentLoggedIn(A1, 1.0))  # events are handled meanwhile
        ready.set()
        for _ in range(200):
            if router.ticks:
                break
            await asyncio.sleep(0.01)
        assert router.ticks > 0
    finally:
        task.cancel()


async def test_given_a_lease_gone_by_our_clock_then_no_event_is_routed_and_askers_hear_no_leader() -> None:
    router = Router(Plan(agents={A1: Agent(id=A1, name="Alice", endpoint="Local/1", queues=())}))
    published: list[cmd.Command] = []
    bus = LocalBus()
    bus.subscribe(published.append)
    loop = RouterLoop(router, lambda: 0.0, bus)
    leading = [True]
    loop.may_route = lambda: leading[0]
    task = asyncio.create_task(loop.run())
    try:
        await asyncio.wait_for(loop.ask(ev.AgentLoggedIn(A1, 1.0)), 2)
        seen = len(published)
        leading[0] = False
        with pytest.raises(NoLeader):
            await asyncio.wait_for(loop.ask(ev.AgentBecameReady(A1, 2.0)), 2)
        assert len(published) == seen  # nothing said, nothing carried out
        assert views.agent_view(router.book, A1).state is AgentState.NOT_READY  # as it was: not made ready
    finally:
        task.cancel()
