"""Who may take what: heaps of ready agents and of waiting calls, one pair per *pool*.

A pool is a queue at one step of its skill requirement (``(queue, step)``; step 0 is the queue's own
requirement, each widening rule adds a step). An agent who meets a step's requirement is in that pool;
a waiting call is in the pool of its queue's current step and in those of queues added by overflow.

Both heaps drop stale entries lazily (an agent who stopped being ready, a call that was answered), so a
state change costs O(pools of the agent or call), never O(agents); each heap is compacted when stale
entries outnumber live ones, so memory stays bounded by the live population.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from typing import Generic, TypeVar

from routing.ids import AgentId, CallId, QueueId

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
