"""Practice callers for the agents in training (issue 17): the shell side of ``routing.training``.

The router says who is in training and at what rate (``TrainingChanged``); ``PracticeCallers`` places
that many practice callers a minute for each of them, through the PBX (``Pbx.place_practice_call``: on
Asterisk a ``Local/`` channel into the ``switchboard-training`` dialplan, on the simulated PBX in-process).
The callers are ``switchboard demo``'s (``demo_callers``): the store's customers' numbers, and some
unknown ones, a Poisson stream at the rate, the first at once. Each dials a number of the plan whose
line's queue the trainee serves (any number, if none), whatever the hour: a practice caller meets no
opening hours. The router offers them to the trainee alone, and their records are marked ``training``.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable

import structlog

from crm_core.domain.pagination import MAX_PAGE
from crm_core.sql.store import SqlStore
from routing import commands as cmd
from routing.ids import AgentId
from routing.plan import Plan
from switchboard.demo_callers import Callers, Known
from telephony.pbx import Pbx, PracticeCall

log = structlog.get_logger("training")

KnownCallers = Callable[[], Awaitable[list[Known]]]


async def known_callers(store: SqlStore) -> list[Known]:
    """The store's customers' numbers (the first page of them: plenty for a demo or a trainee)."""
    page = await store.customers.search("", limit=MAX_PAGE)
    return [Known(phone.e164, customer.name) for customer in page.items for phone in customer.phones]


def numbers_for(plan: Plan, agent: AgentId) -> list[str]:
    """The plan's numbers whose line's queue ``agent`` serves; every number if none."""
    served = set(plan.agents[agent].queues) if agent in plan.agents else set()
    found = [did for did, d in sorted(plan.dids.items()) if plan.lines[d.line].queue in served]
    return found or sorted(plan.dids)


class PracticeCallers:
    """One task per agent in training, placing their practice callers until training ends."""

    def __init__(
        self, plan: Plan, pbx: Callable[[], Pbx], known: KnownCallers, seed: int | None = None
    ) -> None:
        self._plan = plan
        self._pbx = pbx  # the service's adapter of the moment (a new leadership makes a new one)
        self._known = known
        self._seed = seed
        self._running: dict[AgentId, asyncio.Task[None]] = {}
        self.placed = 0

    def notice(self, command: cmd.TrainingChanged) -> None:
        """Training started, changed its rate or ended: the agent's callers start, start over or stop."""
        self._stop(command.agent)
        if command.per_minute is not None:
            self._running[command.agent] = asyncio.create_task(self._place(command.agent, command.per_minute))

    async def stop(self) -> None:
        tasks = [self._running.pop(agent) for agent in list(self._running)]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _stop(self, agent: AgentId) -> None:
        task = self._running.pop(agent, None)
        if task is not None:
            task.cancel()

    async def _place(self, agent: AgentId, per_minute: float) -> None:
        seed = secrets.randbits(32) if self._seed is None else self._seed
        # Ids unique across trainees and runs: the router takes an id it has seen end for a replay.
        prefix = f"training-{agent}-{secrets.token_hex(3)}"
        callers = Callers(await self._known(), rate_per_min=per_minute, seed=seed, prefix=prefix)
        numbers = numbers_for(self._plan, agent)
        log.info("training.callers-start", agent=agent, per_minute=per_minute)
        while True:
            caller = callers.next_caller(numbers)
            await asyncio.sleep(caller.after_s)
            stay_s = caller.patience_s + caller.talk_s
            practice = PracticeCall(
                call=caller.call,
                did=caller.did,
                trainee=agent,
                number=caller.number,
                name=caller.name,
                stay_s=stay_s,
            )
            self._pbx().place_practice_call(practice)
            self.placed += 1
