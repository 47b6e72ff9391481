"""Matching: which ready agent takes which waiting call. Choices only; it emits no commands.

A waiting call goes to the best ready agent of its pools (``routing.pools``): lowest penalty, then best
skill match, then the queue's strategy (``routing.strategies``). A ready agent takes the best waiting
call of their preferred queues: lowest penalty first, then priority, then the longest wait. What is not
matched at once is filed in the heaps, where the other side finds it.
"""

from __future__ import annotations

from routing.book import AgentEntry, Book, CallEntry
from routing.ids import AgentId, CallId
from routing.plan import Plan, Strategy
from routing.pools import Key, Pool
from routing.strategies import Standing, ready_key

_RING_ALL, _ROUND_ROBIN = Strategy.RING_ALL, Strategy.ROUND_ROBIN  # see routing/book.py on enum members


def call_pools(call: CallEntry) -> list[Pool]:
    """The pools whose agents may take the call: its queue at its skill step, and queues added to it."""
    assert call.queue is not None  # calls that never queue are not matched with agents
    if not call.extra:
        return [(call.queue, call.step)]
    return [(call.queue, call.step), *((q, 0) for q in call.extra)]


def agents_to_ring(book: Book, plan: Plan, call: CallEntry, pools: list[Pool]) -> list[AgentEntry]:
    """The best ready agent for the call, or in a ring-all queue every ready one; empty: none is free.

    Ring-all takes its agents off the ready heaps: they are about to be rung."""
    assert call.queue is not None
    if plan.queues[call.queue].strategy is _RING_ALL:
        everyone = [book.agents[a] for pool in pools for a in book.ready[pool].drain()]
        return list({a.id: a for a in everyone}.values())
    for pool in pools:
        top = book.ready[pool].peek()
        if top is not None:
            return [book.agents[top[1]]]
    return []


def file_waiting(book: Book, call: CallEntry, pools: list[Pool]) -> None:
    """File a call no agent was free for in the waiting heap of each of its pools."""
    for pool in pools:
        book.waiting[pool].push(call.order(), call.version, call.id)


def best_call(book: Book, agent_id: AgentId) -> CallEntry | None:
    """The call a newly ready agent takes: one held for them (sticky routing), else the best waiting
    call of their most preferred queues; None when nothing waits for them. A trainee takes their own
    practice callers only (``routing.training``)."""
    if book.training and agent_id in book.training:
        return _practice_call(book, agent_id)
    held = _take_held(book, agent_id) if agent_id in book.held else None
    if held is not None:
        return held
    best: tuple[int, Key, CallId] | None = None
    for penalty, pool in book.agent_pools[agent_id]:
        if best is not None and penalty > best[0]:
            break
        top = book.waiting[pool].peek()
        if top is not None and (best is None or top[0] < best[1]):
            best = (penalty, top[0], top[1])
    return None if best is None else book.calls[best[2]]


def _practice_call(book: Book, agent_id: AgentId) -> CallEntry | None:
    """The first of the trainee's practice callers waiting for them, taken out of their line."""
    waiting = book.training[agent_id].waiting
    if not waiting:
        return None
    first = next(iter(waiting))  # a practice caller who hangs up leaves the line (``endings.finish``)
    del waiting[first]
    return book.calls[first]


def _take_held(book: Book, agent_id: AgentId) -> CallEntry | None:
    """The first-in-line call held for this agent (sticky routing), if any is still held."""
    calls = [book.calls[c] for c in book.held.pop(agent_id, ()) if c in book.calls]
    held = sorted((c for c in calls if c.held_for == agent_id), key=CallEntry.order)
    if not held:
        return None
    if len(held) > 1:
        book.held[agent_id] = [c.id for c in held[1:]]
    held[0].held_for = None
    return held[0]


def file_ready(book: Book, agent: AgentEntry, at: float, keep_place: bool) -> None:
    """Put a ready agent in the ready heap of each of their pools, keyed by each queue's strategy.

    ``keep_place``: an offer was withdrawn through no fault of theirs, so they keep their idle order.
    A trainee is filed nowhere: real callers do not find them (``routing.training``)."""
    if book.training and agent.id in book.training:
        return
    if not keep_place or agent.ready_seq == 0:
        book.ready_seq += 1
        agent.ready_seq = book.ready_seq
    book.draw_seq += 1
    # Counters of an earlier day are today's zero; the key's day puts them ahead of today's.
    today = book.day_of(at)
    fresh = agent.day == today
    calls, talk = (agent.calls_today, agent.talk_today_s) if fresh else (0, 0.0)
    standing = Standing(agent.ready_seq, today, calls, talk, book.draw_seq)
    for queue, heaps, penalty, score, strategy in book.filing[agent.id]:
        last_offer = book.last_offer.get((queue, agent.id), 0) if strategy is _ROUND_ROBIN else 0
        key = ready_key(strategy, penalty, score, agent.id, standing, last_offer)
        for heap in heaps:
            heap.push(key, agent.version, agent.id)
