"""Agent state intervals: how long each agent spent ready, ringing, on a call, in wrap-up or not ready
(with the reason), as the router reported it. Pure types; ``sql_agent_states`` stores them.

One row per interval, so a restart loses nothing already reported and any day can be recomputed from the
store; a change of pause reason is a new interval. Logged-out time has no row: an interval ends when the
agent logs out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from routing.ids import AgentId


@dataclass(frozen=True, slots=True)
class AgentInterval:
    agent: AgentId
    state: str  # routing.states.AgentState's value: ready, ringing, on-call, wrap-up, not-ready
    reason: str | None  # the pause reason for not-ready
    started_at: datetime
    ended_at: datetime | None  # None: still running

    def seconds_within(self, since: datetime, until: datetime) -> float:
        """How much of the interval falls in [since, until); a running one counts up to ``until``."""
        end = until if self.ended_at is None else min(self.ended_at, until)
        start = max(self.started_at, since)
        return max(0.0, (end - start).total_seconds())
