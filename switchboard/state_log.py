"""Writes every agent state change to the store's agent state intervals, in order, never dropping one.

Like the call recorder: the router publishes ``AgentStateChanged`` and moves on; this writer stores the
changes one by one, retrying with backoff while the store is down, so occupancy and state times survive a
restart and can be recomputed for any day (crm_core.domain.figures).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Sequence

import structlog

from crm_core.domain.agent_states import StateChange
from crm_core.domain.calls import utc
from crm_core.domain.ports import AgentStateLog
from routing import commands as cmd
from switchboard.retry import until_done

log = structlog.get_logger("state_log")
# Changes written in one transaction at most: under a burst (a thousand agents changing state at once)
# the writer catches up in a few round trips instead of one per change.
BATCH = 500

StateLogCommand = cmd.WithdrawOffer | cmd.AgentStateChanged


class StateLog:
    def __init__(self, store: AgentStateLog, retry_s: float = 0.5) -> None:
        self._store = store
        self._retry_s = retry_s
        self._queue: asyncio.Queue[tuple[cmd.AgentStateChanged, str | None]] = asyncio.Queue()
        self._withdrawn: dict[str, str] = {}  # agent -> why their ring stopped, until their next change

    def notice(self, command: StateLogCommand) -> None:
        """The bus hands it state changes and, just before the change they cause, withdrawn offers."""
        match command:
            case cmd.WithdrawOffer(agent=agent, reason=reason):
                self._withdrawn[agent] = reason  # why the ring stopped: stored with the next change
            case cmd.AgentStateChanged(agent=agent):
                self._queue.put_nowait((command, self._withdrawn.pop(agent, None)))

    async def start(self, at: float, kept: Sequence[cmd.AgentStateChanged] = ()) -> None:
        """Intervals a stopped process left running end now. ``kept``: the agents whose state the router
        got back from its journal (switchboard/journal.py), each as it is now; their intervals start
        again at ``at``, so an agent who stays ready across a restart is logged ready throughout (the
        interval split in two) instead of in no state at all until their next change."""
        ended = await self._store.close_all(utc(at))
        if ended:
            log.info("agent-states.closed-after-restart", intervals=ended, kept=len(kept))
        for change in kept:
            self._queue.put_nowait((change, None))

    async def run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())  # what piled up while the last batch was written
            await self._write(
                [StateChange(c.agent, str(c.state), c.reason, utc(c.at), ended) for c, ended in batch]
            )
            for _ in batch:
                self._queue.task_done()

    async def flush(self) -> None:
        """Wait until every change handed over so far is stored."""
        await self._queue.join()

    async def _write(self, changes: list[StateChange]) -> None:
        write = functools.partial(self._store.change_many, changes)
        await until_done(write, self._retry_s, log, "agent-state.log-failed", changes=len(changes))
