"""The agent state writer: every change reaches the store in order, even through a store outage."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

from crm_core.domain.agent_states import AgentInterval, StateChange
from crm_core.sql.store import SqlStore
from routing import commands as cmd
from routing.ids import AgentId, CallId, OfferId
from routing.states import AgentState
from switchboard.state_log import StateLog


class FlakyStates:
    """Fails the first ``failures`` writes, then records them."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.written: list[tuple[str, str, str | None, datetime, str | None]] = []

    async def change(
        self, agent: str, state: str, reason: str | None, at: datetime, ring_ended: str | None = None
    ) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("database restarting")
        self.written.append((agent, state, reason, at, ring_ended))

    async def change_many(self, changes: Sequence[StateChange]) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("database restarting")
        self.written += [(c.agent, c.state, c.reason, c.at, c.ring_ended) for c in changes]

    async def close_all(self, at: datetime) -> int:
        return 0

    async def between(
        self, since: datetime, until: datetime, agents: Sequence[str] | None = None
    ) -> list[AgentInterval]:
        return []


def changed(state: AgentState, at: float, reason: str | None = None) -> cmd.AgentStateChanged:
    return cmd.AgentStateChanged(AgentId("a1"), state, reason, at)


async def test_given_a_failing_store_when_states_change_then_each_is_written_once_in_order() -> None:
    store = FlakyStates(failures=2)
    writer = StateLog(store, retry_s=0.001)
    task = asyncio.create_task(writer.run())
    for command in (
        changed(AgentState.READY, 10.0),
        cmd.CallConnected(AgentId("a1"), CallId("c1"), 11.0),  # not a state change: ignored
        changed(AgentState.RINGING, 15.0),
        cmd.WithdrawOffer(AgentId("a1"), CallId("c2"), OfferId("o2"), "ring-timeout"),
        changed(AgentState.NOT_READY, 20.0, "lunch"),
    ):
        writer.notice(command)

    await asyncio.wait_for(writer.flush(), 5)
    task.cancel()

    assert store.written == [
        ("a1", "ready", None, datetime.fromtimestamp(10.0, UTC), None),
        ("a1", "ringing", None, datetime.fromtimestamp(15.0, UTC), None),
        ("a1", "not-ready", "lunch", datetime.fromtimestamp(20.0, UTC), "ring-timeout"),
    ]


async def test_given_intervals_left_running_when_the_service_starts_then_they_end_at_start(
    sqlite_store: SqlStore,
) -> None:
    store = sqlite_store
    writer = StateLog(store.agent_states)
    task = asyncio.create_task(writer.run())
    writer.notice(changed(AgentState.ON_CALL, 100.0))
    await asyncio.wait_for(writer.flush(), 5)
    task.cancel()

    await StateLog(store.agent_states).start(500.0)  # the next process

    found = await store.agent_states.between(datetime.fromtimestamp(0, UTC), datetime.fromtimestamp(1e4, UTC))
    assert [(i.state, i.ended_at) for i in found] == [("on-call", datetime.fromtimestamp(500.0, UTC))]


async def test_given_states_kept_across_a_restart_when_the_service_starts_then_their_intervals_go_on(
    sqlite_store: SqlStore,
) -> None:
    store = sqlite_store
    writer = StateLog(store.agent_states)
    task = asyncio.create_task(writer.run())
    writer.notice(changed(AgentState.READY, 100.0))
    await asyncio.wait_for(writer.flush(), 5)
    task.cancel()

    restarted = StateLog(store.agent_states)  # the next process, its router's state restored
    await restarted.start(500.0, [changed(AgentState.READY, 500.0)])
    task = asyncio.create_task(restarted.run())
    await asyncio.wait_for(restarted.flush(), 5)
    task.cancel()

    found = await store.agent_states.between(datetime.fromtimestamp(0, UTC), datetime.fromtimestamp(1e4, UTC))
    at = datetime.fromtimestamp
    assert [(i.state, i.started_at, i.ended_at) for i in found] == [
        ("ready", at(100.0, UTC), at(500.0, UTC)),
        ("ready", at(500.0, UTC), None),  # still ready: no gap in the agent's day
    ]
