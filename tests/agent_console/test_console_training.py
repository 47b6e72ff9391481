"""The console of an agent in training (issue 17): told as it starts and ends, and told again after the
snapshot by a tab that joins meanwhile, also after a restart (the router's books restated)."""

from __future__ import annotations

from crm_core.domain.users import Role
from routing import events as ev
from routing.ids import AgentId
from tests.agent_console.fakes import FakeUsers, user
from tests.agent_console.harness import make_console, next_of, restarted

A1 = AgentId("a1")


async def test_given_an_agent_when_a_supervisor_trains_them_then_every_tab_shows_it_until_it_ends() -> None:
    users = FakeUsers(user("alice", Role.AGENT, "a1"))
    async with make_console(users) as before:
        ws = await before.ws()
        await before.loop.ask(ev.TrainingStarted(A1, "boss", 4.0, 1000.0))
        told = await next_of(ws, "training")
        assert told == {"type": "training", "agent": "a1", "per_minute": 4.0, "by": "boss", "at": 1000.0}
        late = await before.ws()  # a second tab: the snapshot, then the training it missed
        assert await late.receive_json(timeout=2) == told
        async with make_console(users) as after:
            restarted(before, after)
            again = await after.ws()
            assert await again.receive_json(timeout=2) == told
            await after.loop.ask(ev.TrainingEnded(A1, "boss", 1001.0))
            assert (await next_of(again, "training"))["per_minute"] is None
            fresh = await after.ws()
            await after.loop.ask(ev.AgentBecameReady(A1, 1002.0))  # the next message is not a training one
            assert (await fresh.receive_json(timeout=2))["type"] == "state"
