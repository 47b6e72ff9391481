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


@dataclass(frozen=True, slots=True, kw_only=True)
class Tally:
    """Escalation attempts counted together (a business's, a person's, or all of a report's)."""

    attempts: int
    calls: int  # the escalated calls they were for
    results: dict[str, int]  # how many came to each result, the commonest first

    @property
    def accepted(self) -> int:
        return self.results.get("accepted", 0)


def tally(attempts: Collection[Attempt]) -> Tally:
    return Tally(attempts=len(attempts), calls=len({a.call for a in attempts}), results=counts(attempts))


@dataclass(frozen=True, slots=True, kw_only=True)
class EscalationReport:
    """The report's attempts (those that began in its days, on real callers' logged calls), counted per
    business (the call's line), per person rung, and in all."""

    lines: dict[str, Tally]
    people: dict[str, Tally]
    total: Tally


def report(attempts: Iterable[tuple[str, Attempt]]) -> EscalationReport:
    """``attempts``: each with its call's line."""
    by_line: dict[str, list[Attempt]] = {}
    by_person: dict[str, list[Attempt]] = {}
    every: list[Attempt] = []
    for line, attempt in attempts:
        by_line.setdefault(line, []).append(attempt)
        by_person.setdefault(attempt.person, []).append(attempt)
        every.append(attempt)
    return EscalationReport(
        lines={k: tally(v) for k, v in sorted(by_line.items())},
        people={k: tally(v) for k, v in sorted(by_person.items())},
        total=tally(every),
    )


class EscalationAttempts(Protocol):
    async def record(self, attempt: Attempt) -> None: ...
    async def of_calls(self, calls: Collection[str]) -> Mapping[str, tuple[Attempt, ...]]:
        """Each call's attempts, in the order they were made; calls without any are left out."""
        ...

    async def report(self, since: datetime, until: datetime) -> EscalationReport:
        """The attempts that began in [since, until) on real callers' logged calls, counted."""
        ...


def counts(attempts: Iterable[Attempt]) -> dict[str, int]:
    """How many attempts came to each result, the commonest first."""
    return dict(Counter(a.result for a in attempts).most_common())
