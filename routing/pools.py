"""Who may take what: heaps of ready agents and of waiting calls, one pair per *pool*.

A pool is a queue at one step of its skill requirement (``(queue, step)``; step 0 is the queue's own
requirement, each widening rule adds a step). An agent who meets a step's requirement is in that pool;
a waiting call is in the pool of its queue's current step and in those of queues added by overflow.

Both heaps drop stale entries lazily (an agent who stopped being ready, a call that was answered), so a
state change costs O(pools of the agent or call), never O(agents); each heap is compacted when stale
entries outnumber live ones, so memory stays bounded by the live population.

The pools themselves are worked out once from the plan (``requirement_steps``, ``agent_pools``,
``filing``); the ``Book`` holds them with the heaps.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping
from typing import Generic, TypeVar

from routing.ids import AgentId, CallId, QueueId
from routing.plan import Action, Plan, Queue, Strategy
from routing.strategies import meets, skill_score

Pool = tuple[QueueId, int]
Key = tuple[float | int | str, ...]
T = TypeVar("T", AgentId, CallId)


class LazyHeap(Generic[T]):
    """A min-heap of ``(key, version, item)``; an entry is live while ``is_live(item, version)`` holds."""

    __slots__ = ("_entries", "_is_live", "_limit")

    def __init__(self, is_live: Callable[[T, int], bool]) -> None:
        self._entries: list[tuple[Key, int, T]] = []
        self._is_live: Callable[[T, int], bool] = is_live
        self._limit = 64  # compact past this size; reset to twice the live size after each compaction

    def push(self, key: Key, version: int, item: T) -> None:
        heapq.heappush(self._entries, (key, version, item))
        if len(self._entries) > self._limit:
            self._compact()

    def peek(self) -> tuple[Key, T] | None:
        entries = self._entries
        while entries:
            key, version, item = entries[0]
            if self._is_live(item, version):
                return key, item
            heapq.heappop(entries)
        return None

    def drain(self) -> list[T]:
        """Every live item, best first, leaving the heap empty (ring-all takes them all)."""
        out = []
        while (top := self.peek()) is not None:
            out.append(top[1])
            heapq.heappop(self._entries)
        return out

    def __len__(self) -> int:
        return len(self._entries)

    def _compact(self) -> None:
        self._entries = [e for e in self._entries if self._is_live(e[2], e[1])]
        heapq.heapify(self._entries)
        self._limit = 2 * len(self._entries) + 64


# Filing a ready agent for one of their queues: that queue's ready heaps (one per skill step the agent
# meets), the agent's penalty and skill score there, and the queue's strategy. One key serves all heaps.
Filing = tuple[QueueId, list[LazyHeap[AgentId]], int, int, Strategy]


def requirement_steps(queue: Queue) -> list[dict[str, int]]:
    """The queue's skill requirement, then as each widening rule leaves it, in rule order."""
    steps = [dict(queue.skills)]
    for rule in queue.rules:
        if rule.action is Action.WIDEN:
            widened = {**steps[-1], **rule.skills}
            steps.append({name: level for name, level in widened.items() if level > 0})
    return steps


def agent_pools(
    plan: Plan, steps: Mapping[QueueId, list[dict[str, int]]], agent_id: AgentId
) -> list[tuple[int, Pool]]:
    """The pools the agent is in, with their penalty for each, lowest penalty (most preferred) first."""
    agent = plan.agents[agent_id]
    found = [
        (agent.penalty(q), (q, k))
        for q in agent.queues
        for k, required in enumerate(steps[q])
        if meets(required, agent.skills)
    ]
    return sorted(found, key=lambda p: p[0])


def filing(
    plan: Plan,
    pools: list[tuple[int, Pool]],
    ready: Mapping[Pool, LazyHeap[AgentId]],
    agent_id: AgentId,
) -> list[Filing]:
    """What filing the ready agent needs, per queue of theirs, worked out once."""
    agent = plan.agents[agent_id]
    out = []
    for q in dict.fromkeys(pool[0] for _, pool in pools):
        heaps = [ready[pool] for _, pool in pools if pool[0] == q]
        queue = plan.queues[q]
        out.append((q, heaps, agent.penalty(q), skill_score(queue.skills, agent.skills), queue.strategy))
    return out
