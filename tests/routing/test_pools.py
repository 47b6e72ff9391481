"""The lazy heaps behind the pools: stale entries lapse, and memory stays bounded by the live ones."""

from __future__ import annotations

from routing.ids import AgentId
from routing.pools import LazyHeap


def test_given_stale_entries_then_peek_and_drain_skip_them_in_key_order() -> None:
    live = {AgentId("a"): 1, AgentId("b"): 1, AgentId("c"): 2}
    heap: LazyHeap[AgentId] = LazyHeap(lambda item, version: live.get(item) == version)
    heap.push((3,), 1, AgentId("a"))
    heap.push((1,), 1, AgentId("b"))
    heap.push((2,), 1, AgentId("c"))  # version 1 is stale: c is at version 2
    heap.push((4,), 2, AgentId("c"))
    assert heap.peek() == ((1,), "b")
    assert heap.drain() == ["b", "a", "c"]
    assert heap.peek() is None


def test_given_many_pushes_of_the_same_few_items_then_the_heap_stays_small() -> None:
    version = {AgentId("a"): 0, AgentId("b"): 0}
    heap: LazyHeap[AgentId] = LazyHeap(lambda item, v: version[item] == v)
    for n in range(10_000):
        agent = AgentId("ab"[n % 2])
        version[agent] = n
        heap.push((n,), n, agent)
    assert len(heap) <= 2 * 2 + 64 + 1
    assert heap.drain() == ["a", "b"]
