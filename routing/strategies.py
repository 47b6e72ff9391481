"""How a queue orders its ready agents: one sort key per (agent, queue), smallest first.

The key is computed when the agent becomes ready and stays valid while they are ready, because what it
depends on (calls and talk time today, the last offer) only changes while they are not. So picking an
agent is a heap peek, whatever the number of agents.

Every key starts with the agent's penalty for the queue (a lower penalty is preferred, as in app_queue)
and the skill score negated (the best-matching agent wins), then the strategy's own order, then the
readiness order so that ties are broken the same way on every replay.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from routing.ids import AgentId
from routing.plan import Strategy

_MASK = (1 << 64) - 1
# Bound once for ``ready_key``, which runs for every queue of every agent who becomes ready (see
# routing/book.py on enum members read off their class).
_ROUND_ROBIN, _FEWEST_CALLS = Strategy.ROUND_ROBIN, Strategy.FEWEST_CALLS
_LEAST_TALK_TIME, _RANDOM = Strategy.LEAST_TALK_TIME, Strategy.RANDOM


@dataclass(frozen=True, slots=True)
class Standing:
    """What the strategies know of an agent at the moment they became ready."""

    ready_seq: int  # readiness order: smaller became ready (idle) earlier
    day: int  # the center's day when they became ready; their counters below are of that day
    calls_today: int
    talk_today_s: float
    draw: int  # a fresh number at each filing, for the random strategy


def skill_score(required: Mapping[str, int], skills: Mapping[str, int]) -> int:
    """Sum of the agent's levels in the skills the queue asks for."""
    return sum(skills.get(name, 0) for name in required)


def meets(required: Mapping[str, int], skills: Mapping[str, int]) -> bool:
    return all(skills.get(name, 0) >= level for name, level in required.items() if level > 0)


def ready_key(
    strategy: Strategy, penalty: int, score: int, agent: AgentId, s: Standing, last_offer_seq: int
) -> tuple[float | int | str, ...]:
    """``last_offer_seq``: when this queue last offered the agent a call (0: never).

    Each key is built whole, head, the strategy's own order and the tie-break at once: one tuple per
    filing rather than three, as this runs for every queue of every agent who becomes ready."""
    if strategy is _ROUND_ROBIN:
        return (penalty, -score, last_offer_seq, s.ready_seq, agent)
    if strategy is _FEWEST_CALLS:  # ready since an earlier day: no calls today, so first
        return (penalty, -score, s.day, s.calls_today, s.ready_seq, agent)
    if strategy is _LEAST_TALK_TIME:
        return (penalty, -score, s.day, s.talk_today_s, s.ready_seq, agent)
    if strategy is _RANDOM:
        return (penalty, -score, shuffle(s.draw), s.ready_seq, agent)
    return (penalty, -score, s.ready_seq, agent)  # longest-idle, ring-all and skills-based: readiness


def shuffle(n: int) -> int:
    """A fixed, well-mixed permutation of integers (splitmix64's finaliser): random-looking, replayable."""
    z = (n + 0x9E3779B97F4A7C15) & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)
