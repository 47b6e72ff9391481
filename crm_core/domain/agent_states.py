"""Agent state intervals: how long each agent spent ready, ringing, on a call, in wrap-up or not ready
(with the reason), as the router reported it. Pure types; ``sql.agent_states`` stores them.

One row per interval, so a restart loses nothing already reported and any day can be recomputed from the
store; a change of pause reason is a new interval. Logged-out time has no row: an interval ends when the
agent logs out. A ring that stopped without the agent answering keeps why as its reason (the router's
withdrawal reason), so a missed ring can be told from a caller who hung up while it rang.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from routing.ids import AgentId


@dataclass(frozen=True, slots=True)
class AgentInterval:
    agent: AgentId
    state: str  # routing.states.AgentState's value: ready, ringing, on-call, wrap-up, not-ready
    reason: str | None  # not-ready: the pause reason; ringing: why it stopped unanswered (None: answered)
    started_at: datetime
    ended_at: datetime | None  # None: still running

    def seconds_within(self, since: datetime, until: datetime) -> float:
        """How much of the interval falls in [since, until); a running one counts up to ``until``."""
        end = until if self.ended_at is None else min(self.ended_at, until)
        start = max(self.started_at, since)
        return max(0.0, (end - start).total_seconds())


@dataclass(frozen=True, slots=True)
class StateChange:
    """The router's report that ``agent`` entered ``state`` at ``at``, as the store takes it."""

    agent: str
    state: str
    reason: str | None
    at: datetime
    ring_ended: str | None = None  # why the ring this change ends stopped unanswered (see AgentInterval)


# Why a ring stopped, when it was the agent who did not take the call (routing's withdrawal reasons;
# "failed: ..." too: the agent's phone could not be rung). Every other reason (the caller hung up,
# someone else answered, the call went to voicemail or reached its maximum wait) is not the agent's miss.
MISSED_RING_REASONS = frozenset({"no-answer", "ring-timeout", "declined"})


def is_missed_ring(interval: AgentInterval) -> bool:
    reason = interval.reason
    return (
        interval.state == "ringing"
        and reason is not None
        and (reason in MISSED_RING_REASONS or reason.startswith("failed"))
    )
