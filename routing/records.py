"""What the router reports about a finished call: one row of the call log."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from routing.ids import AgentId, CallId, LineId, QueueId


class Outcome(enum.StrEnum):
    ANSWERED = "answered"
    ABANDONED = "abandoned"  # the caller hung up while waiting or while an agent's phone rang
    NO_AGENT = "no-agent"  # the call left without an agent: unknown number, max wait reached, failure


class Party(enum.StrEnum):
    CALLER = "caller"
    AGENT = "agent"
    SYSTEM = "system"


@dataclass(frozen=True, slots=True)
class CallRecord:
    call: CallId
    did: str
    source: str | None
    line: LineId | None
    line_name: str | None
    queue: QueueId | None
    caller_number: str | None
    caller_name: str | None
    agent: AgentId | None
    arrived_at: float
    answered_at: float | None
    ended_at: float
    outcome: Outcome
    hung_up_by: Party
    offers: int  # how many agent phones were rung for this call

    @property
    def wait_s(self) -> float:
        """Time in queue: until an agent answered, or until the call ended unanswered."""
        return (self.answered_at if self.answered_at is not None else self.ended_at) - self.arrived_at

    @property
    def talk_s(self) -> float:
        return 0.0 if self.answered_at is None else self.ended_at - self.answered_at
