"""Escalation attempts: each time an on-call person was rung for an escalated caller, and what came of
it (the router's ``EscalationAttempt``, kept by the store so the call log and the reports can show them).

Results (``routing/escalation.py``): accepted, no-answer, busy, declined, voicemail-or-no-key, hung-up,
caller-hung-up, bridge-failed, lost, ``failed: <why>``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True, kw_only=True)
class Attempt:
    call: str
    person: str
    number: str  # as dialled: the schedule's number, or the config chain's endpoint
    round: int  # from 1
    step: int  # from 1: the place in the chain
    started_at: datetime  # the ring began
    ended_at: datetime
    result: str


class EscalationAttempts(Protocol):
    async def record(self, attempt: Attempt) -> None: ...
    async def of_calls(self, calls: Collection[str]) -> Mapping[str, tuple[Attempt, ...]]:
        """Each call's attempts, in the order they were made; calls without any are left out."""
        ...


def counts(attempts: Iterable[Attempt]) -> dict[str, int]:
    """How many attempts came to each result, the commonest first."""
    return dict(Counter(a.result for a in attempts).most_common())
