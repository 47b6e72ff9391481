"""Whom an escalation rings, from the business's on-call schedule, resolved when the agent asks.

The router stays deterministic: it rings the chain it is given in the ``EscalationRequested`` (and a
replay of the journal rings the same people), so the store is read here, by the shell, at request time.
The chain: each tier in order (primary, backup, manager), the person on call *now* in it (overrides
first, then the rotation), rung on their first phone or mobile number through the outbound endpoint.
A person in two tiers is rung once per round. A message-only person is not rung (the message planner,
``switchboard/deliveries.py``, delivers them the message). A warm-patch person's step is ``warm``: on
pressing 1 they talk with the agent first, who then connects the caller (``routing.escalation``).

No schedule, nobody on call, or a store that cannot answer: an empty chain, and the router falls back
on the line's own chain from the config (``[[lines.<id>.on_call]]``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

import structlog
from sqlalchemy.exc import SQLAlchemyError

from crm_core.domain.coverage import on_call
from crm_core.domain.oncall import BusinessNotFound, PatchMethod, Person, Schedule, Tier
from routing.ids import LineId
from routing.plan import OnCallStep

log = structlog.get_logger("escalation")

RING_S = 20.0  # each person rings this long, and has as long again to press 1 once they pick up


class OnCallReader(Protocol):
    """``crm_core.sql.oncall.SqlOnCall``."""

    async def schedule(self, business: LineId, *, at: datetime | None = None) -> Schedule: ...
    async def person(self, business: LineId, person_id: int) -> Person: ...


class OnCallChain:
    def __init__(self, oncall: OnCallReader, outbound_endpoint: str, ring_s: float = RING_S) -> None:
        self._oncall = oncall
        self._outbound = outbound_endpoint  # ``{number}`` is filled in, as for a callback
        self._ring_s = ring_s

    async def __call__(self, line: LineId, at: float) -> tuple[OnCallStep, ...]:
        when = datetime.fromtimestamp(at, UTC)
        try:
            tiers = on_call(await self._oncall.schedule(line, at=when), when)
            people = [await self._oncall.person(line, tiers[t]) for t in Tier if t in tiers]
        except BusinessNotFound:
            return ()
        except SQLAlchemyError as exc:  # the config's chain is better than no escalation at all
            log.warning("escalation.schedule-unreadable", line=line, error=str(exc))
            return ()
        return self.steps(people)

    def steps(self, people: list[Person]) -> tuple[OnCallStep, ...]:
        out: list[OnCallStep] = []
        seen: set[int] = set()
        for person in people:
            numbers = person.numbers()
            if person.id in seen or person.patch is PatchMethod.MESSAGE_ONLY or not numbers:
                continue
            seen.add(person.id)
            endpoint = self._outbound.format(number=numbers[0])
            warm = person.patch is PatchMethod.WARM  # the agent announces the caller before connecting
            out.append(OnCallStep(person.name, endpoint, self._ring_s, number=numbers[0], warm=warm))
        return tuple(out)
