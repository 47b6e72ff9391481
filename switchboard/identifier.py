"""Answers the router's ``IdentifyCaller``: the caller's tier, and who served their last answered call.

The customers come from the ``CallerCache`` (the same lookup the screen pop and the call log reuse), the
last call from the call log, by the caller's number or by the customer's id (when the number is one
customer's). Each question runs in its own task, so the router loop never waits on the store. Whatever
happens — an unknown caller, a store that is down, a lookup slower than ``timeout_s`` — the router gets
an answer, empty if need be: it routes a call whose answer is late without it, and an empty answer costs
it nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import structlog

from crm_core.domain.ports import CallerHistory
from routing import commands as cmd
from routing import events as ev
from routing.ids import AgentId, CallId
from switchboard.callers import CallerCache

log = structlog.get_logger("identifier")

Profile = tuple[str | None, AgentId | None, float | None]  # tier, last agent, when that call ended
UNKNOWN: Profile = (None, None, None)


class CallerIdentifier:
    def __init__(
        self,
        callers: CallerCache,
        history: CallerHistory,
        submit: Callable[[ev.Event], None],
        clock: Callable[[], float],
        timeout_s: float = 5.0,
    ) -> None:
        self._callers = callers
        self._history = history
        self._submit = submit
        self._clock = clock
        self._timeout_s = timeout_s
        self._tasks: set[asyncio.Task[None]] = set()

    def notice(self, command: cmd.IdentifyCaller) -> None:
        """The bus hands it the router's questions (switchboard/command_table.py)."""
        task = asyncio.create_task(self._answer(command.call, command.caller_number))
        self._tasks.add(task)  # held, so the task is not collected before it answers
        task.add_done_callback(self._tasks.discard)

    async def idle(self) -> None:
        """Wait until every question asked so far is answered."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _answer(self, call: CallId, number: str) -> None:
        try:
            async with asyncio.timeout(self._timeout_s):
                tier, agent, ended_at = await self._profile(call, number)
        except TimeoutError:
            log.warning("caller.identify-timed-out", call=call, after_s=self._timeout_s)
            tier, agent, ended_at = UNKNOWN
        except Exception:
            log.exception("caller.identify-failed", call=call)
            tier, agent, ended_at = UNKNOWN
        self._submit(ev.CallerIdentified(call, tier, agent, ended_at, self._clock()))

    async def _profile(self, call: CallId, number: str) -> Profile:
        found = await self._callers.matches(call, number)
        if not found and not number.startswith("+"):
            return UNKNOWN  # withheld or not a dialable number: there is no history to find
        # Several customers sharing the number (an office's main line): nobody has picked one yet, so the
        # history is the number's alone, and the tier the most recently updated one's (as before the
        # lookup returned them all).
        one = found[0] if len(found) == 1 else None
        last = await self._history.last_answered_call(number, None if one is None else one.id)
        tier = found[0].tier if found else None
        if last is None:
            return tier, None, None
        return tier, last.record.agent, last.ended_at.timestamp()
