"""What a follower does with a call its router saw end (several instances, switchboard/cluster/).

The leader writes the call log. A follower only forgets the caller it looked up for the call's pop, as
the leader's call-log writer does once written. One thing only the follower knows: a customer an agent
attached here during the call. The leader logged the call under the customer its own lookup found.
So once the leader's row is in the store, the follower writes the record again naming that customer.
Writing again keeps the row's wrap-up (``CallLog.record``).
"""

from __future__ import annotations

import asyncio

import structlog

from crm_core.domain.calls import LoggedCall
from crm_core.domain.ports import CallLog
from routing import commands as cmd
from routing.ids import CallId
from switchboard.callers import CallerCache

log = structlog.get_logger("followed-calls")

WAIT_S = 30.0  # for the leader's row; a leader that cannot write for longer retries on its own
POLL_S = 0.1


class FollowedCalls:
    def __init__(self, callers: CallerCache, call_log: CallLog) -> None:
        self._callers = callers
        self._log = call_log
        self._tasks: set[asyncio.Task[None]] = set()

    def notice(self, command: cmd.LogCall) -> None:
        call = command.record.call
        attached = self._callers.attached(call)
        self._callers.forget(call)
        if attached is not None:
            task = asyncio.create_task(self._attach(command, attached))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _attach(self, command: cmd.LogCall, customer: int) -> None:
        call = command.record.call
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT_S
        while await self._found(call) is None:
            if loop.time() >= deadline:
                log.warning("followed-calls.not-logged", call=call)
                break
            await asyncio.sleep(POLL_S)
        try:
            await self._log.record(command.record, customer)
        except Exception:
            log.exception("followed-calls.attach-failed", call=call, customer=customer)

    async def _found(self, call: CallId) -> LoggedCall | None:
        try:
            return await self._log.get_call(call)
        except Exception:  # the store away for a moment: look again
            return None

    async def idle(self) -> None:
        await asyncio.gather(*self._tasks, return_exceptions=True)
