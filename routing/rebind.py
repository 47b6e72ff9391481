"""Rebinding the router's books to an edited number plan: what a restart does when the config changed.

A snapshot keeps the plan its books were built for (``switchboard/snapshot_codec.py``); the journal
replays the lines after it under that plan, then hands the books here with the plan the service runs
now. ``rebind`` builds books for the new plan and carries over what is under way:

- **Agents added**: present, logged out. **Agents removed**: dropped with their timers and the calls held
  for them (which anyone may take now); a supervision they ran ends (its legs are no longer the books',
  so the PBX adapter hangs them up when it next compares channels). A removed agent's ringing phone stops
  ringing the same way, and the call keeps its place in line. A removed agent whose phone is on a call
  (the agent of a call connected, on hold or escalating) is *leaving*: kept, in no queue, so the
  conversation goes on and is logged as usual; a later restart drops them once they are idle.
- **A waiting call** (identifying, waiting, or ringing agents) of a queue that is gone moves to the
  queue of its line (its after-hours queue, if it came after hours and the line has one); its line gone,
  to the line its number belongs to now. Its number gone too, it cannot be served: it ends, logged
  no-agent by the system, and its channel (no longer the books') is hung up by the PBX adapter.
- **A waiting call whose queue moved or changed** (rules, skills, strategy, ...) enters it afresh and
  keeps its place (arrival order, priority) and its maximum wait: its agent legs stop ringing, its rules
  start over from when it entered the queue, and those already due fire at the router's first tick.
- **A call on the phone** keeps its agent; its queue and line, if gone, become those of its number now
  (they decide its wrap-up and whose handle time it counts in), else of the agent's first queue.
- **Heaps, pools and indexes** are built again from the entries: ready agents keep their idle order.

The rebind sends no commands (it runs before the PBX adapter and the consoles): a waiting call that a
ready agent may take now is routed at the router's first tick, as a call whose caller lookup ran out then
(``IDENTIFYING``, its identify deadline now), so its offer goes out through the running loop.

It refuses (``PlanEditRefused``) what the books could not follow: a call on the phone that no queue of the
new plan can take. (A call ringing an on-call chain, an agent's escalation or a closed line's, carries its
own chain, so an edit does not touch it.)
"""

from __future__ import annotations

import dataclasses
import heapq
from collections.abc import Iterator
from dataclasses import dataclass

from routing import commands as cmd
from routing import matching, timers, views
from routing.book import AgentEntry, Book, CallEntry, OfferEntry
from routing.endings import call_record
from routing.errors import RoutingError
from routing.ids import AgentId, CallId, LineId, QueueId
from routing.plan import AfterHoursKind, Plan
from routing.records import Outcome, Party
from routing.states import QUEUED, AgentState, AgentTrigger, CallState, CallTrigger, OfferState
from routing.timers import TimerKind

_S = CallState

# Whose id a timer's key is, by kind: the timers of an agent who is dropped must go with them (the agent
# timers' handler looks the agent up in the books).
AGENT_TIMERS = frozenset({TimerKind.WRAP_UP, TimerKind.PAUSE})
OFFER_TIMERS = frozenset({TimerKind.OFFER})
CALL_TIMERS = frozenset(TimerKind) - AGENT_TIMERS - OFFER_TIMERS


class PlanEditRefused(RoutingError):
    """The books cannot be carried over to the edited plan; the reason names the call and what changed."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Rebound:
    """The books for the new plan, and what the edit did to what was under way."""

    book: Book
    plan: Plan  # the new plan, plus the leaving agents (in no queue) until their calls end
    ended: tuple[cmd.LogCall, ...]  # calls nothing in the new plan can serve
    moved: tuple[CallId, ...]  # waiting calls that entered their queue (or another) afresh
    dropped: tuple[AgentId, ...]
    leaving: tuple[AgentId, ...]


def rebind(kept: Book, old: Plan, new: Plan, at: float) -> Rebound:
    """Books for ``new`` holding what ``kept`` (books for ``old``) has under way, as of ``at``."""
    leaving = [a for a in kept.agents if a not in new.agents and _on_the_phone(kept, kept.agents[a])]
    plan = _with_leaving(new, old, leaving)
    dropped = [a for a in kept.agents if a not in plan.agents]
    book = _carried(kept, plan, set(dropped))
    for offer in list(book.offers.values()):
        if offer.agent in dropped and offer.state is not OfferState.ANSWERED:
            _unring(book, offer, at)
    ended, moved = _calls(book, old, plan, at)
    _refile(book, at)
    _route_at_first_tick(book, at)
    return Rebound(
        book=book, plan=plan, ended=tuple(ended), moved=tuple(moved), dropped=tuple(dropped),
        leaving=tuple(leaving),
    )  # fmt: skip


def _on_the_phone(book: Book, agent: AgentEntry) -> bool:
    call = book.calls.get(agent.call) if agent.call is not None else None
    return agent.state is AgentState.ON_CALL or (call is not None and call.agent == agent.id)


def _with_leaving(new: Plan, old: Plan, leaving: list[AgentId]) -> Plan:
    if not leaving:
        return new
    gone = {a: dataclasses.replace(old.agents[a], queues=(), penalties={}) for a in leaving}
    return dataclasses.replace(new, agents={**new.agents, **gone})


def _carried(kept: Book, plan: Plan, dropped: set[AgentId]) -> Book:
    """Fresh books for ``plan`` (its pools, heaps, indexes) holding ``kept``'s entries and counters."""
    book = Book(plan)
    book.agents = {a: kept.agents.get(a) or AgentEntry(id=a) for a in plan.agents}
    book.calls, book.offers, book.ended = kept.calls, kept.offers, kept.ended
    book.supervisions = {
        boss: s for boss, s in kept.supervisions.items() if boss not in dropped and s.agent not in dropped
    }
    book.arrival_seq, book.offer_seq, book.ready_seq = kept.arrival_seq, kept.offer_seq, kept.ready_seq
    book.draw_seq, book.timer_seq = kept.draw_seq, kept.timer_seq
    book.handle_s = {q: kept.handle_s.get(q, s) for q, s in book.handle_s.items()}
    last = kept.last_offer.items()
    book.last_offer = {k: n for k, n in last if k[0] in plan.queues and k[1] in plan.agents}
    book.held = {a: calls for a, calls in kept.held.items() if a not in dropped}
    if kept.tz == book.tz:
        book.day = kept.day
    book.timers = [t for t in kept.timers if not (t.kind in AGENT_TIMERS and t.key in dropped)]
    heapq.heapify(book.timers)
    for call in book.calls.values():
        if call.held_for in dropped:
            call.held_for = None
    return book


def _unring(book: Book, offer: OfferEntry, at: float) -> None:
    """Stop an agent leg ringing, in the books only: the PBX adapter hangs up a leg the books do not know."""
    call = book.calls[offer.call]
    del book.offers[offer.id]
    call.offers.pop(offer.id, None)
    agent = book.agents.get(offer.agent) if offer.agent is not None else None
    if agent is not None and agent.state is AgentState.RINGING and agent.call == call.id:
        agent.fire(AgentTrigger.OFFER_WITHDRAWN)
        agent.reason, agent.since, agent.until, agent.call = None, at, None, None
        agent.version += 1
    if not call.offers and call.state is _S.OFFERED:
        call.fire(CallTrigger.OFFER_LOST)
        call.version += 1


def _calls(book: Book, old: Plan, plan: Plan, at: float) -> tuple[list[cmd.LogCall], list[CallId]]:
    ended: list[cmd.LogCall] = []
    moved: list[CallId] = []
    for call in list(book.calls.values()):
        line = _line(call, plan)
        if call.state in QUEUED and call.queue is not None:
            queue = _queue(call, line, plan)
            if queue is None:
                ended.append(_end(book, call, at))
            elif queue != call.queue or old.queues.get(call.queue) != plan.queues[queue]:
                _reenter(book, plan, call, queue, at)
                moved.append(call.id)
        elif call.queue is not None and old.queues.get(call.queue) != plan.queues.get(call.queue):
            if call.queue not in plan.queues:
                call.queue = _queue(call, line, plan) or _agents_queue(call, plan)  # None: a message
            call.entry += 1  # the timers it had for the old queue lapse (one set to re-arm every 0 s)
        if line is not None:
            call.line = line
        elif call.id in book.calls and call.queue is not None:
            call.line = _any_line_of(call, plan)  # its escalations go by its line
    return ended, moved


def _line(call: CallEntry, plan: Plan) -> LineId | None:
    if call.line in plan.lines:
        return call.line
    did = plan.dids.get(call.did)
    return None if did is None else did.line


def _queue(call: CallEntry, line: LineId | None, plan: Plan) -> QueueId | None:
    if call.queue in plan.queues:
        return call.queue
    if line is None:
        return None
    policy = plan.lines[line].after_hours
    if call.after_hours and policy.kind is AfterHoursKind.QUEUE and policy.queue is not None:
        return policy.queue
    return plan.lines[line].queue


def _agents_queue(call: CallEntry, plan: Plan) -> QueueId | None:
    """A call with an agent whose queue and number are gone is counted in the agent's first queue (a
    leaving agent has none: the plan's first); one without (a message being left) needs no queue."""
    if call.agent is None:
        return None
    agent = plan.agents[call.agent]
    found = [*agent.queues, *plan.queues]
    if not found:
        raise PlanEditRefused(f"call {call.id} is on the phone and the new plan has no queue")
    return found[0]


def _any_line_of(call: CallEntry, plan: Plan) -> LineId:
    """A call whose line and number are gone: a line of its queue, else the plan's first."""
    found = [line.id for line in plan.lines.values() if line.queue == call.queue] + list(plan.lines)
    if not found:
        raise PlanEditRefused(f"call {call.id} goes on and the new plan has no line")
    return found[0]


def _end(book: Book, call: CallEntry, at: float) -> cmd.LogCall:
    """A waiting call nothing in the new plan serves: logged no-agent, by the system."""
    for offer in [book.offers[o] for o in call.offers if o in book.offers]:
        _unring(book, offer, at)
    call.fire(CallTrigger.HANG_UP)
    del book.calls[call.id]
    book.remember_ended(call.id)  # its channel, found again in the app, is hung up (queueing.call_arrived)
    return cmd.LogCall(call_record(call, Outcome.NO_AGENT, Party.SYSTEM, at), call.customer)


def _reenter(book: Book, plan: Plan, call: CallEntry, queue: QueueId, at: float) -> None:
    """The call enters ``queue`` afresh, keeping its place by arrival; its rules start over."""
    # A queued call's legs are all agents' (on-call people are rung only for calls outside any queue).
    for offer in [book.offers[o] for o in call.offers if o in book.offers]:
        _unring(book, offer, at)
    if call.queue != queue:
        call.queue, call.entered_at, call.announced = queue, at, None
        call.visited += (queue,)
        if call.held_for is not None:
            book.held[call.held_for] = [c for c in book.held.get(call.held_for, []) if c != call.id]
            call.held_for = None
    armed = call.armed == call.entry
    call.step, call.extra, call.rule_index, call.rule_due = 0, (), 0, False
    call.entry += 1  # its rule, announcement and sticky timers for the old entry lapse
    call.version += 1
    if armed:  # it had waited already: its clocks run for the new entry too (else from when it waits)
        call.armed = call.entry
        q = plan.queues[queue]
        if q.announce_every_s > 0 and not call.is_callback:
            timers.start(book, TimerKind.ANNOUNCE, max(call.entered_at + q.announce_every_s, at), call)
        if q.rules:
            timers.start(book, TimerKind.RULE, call.entered_at + q.rules[0].after_s, call)


def _refile(book: Book, at: float) -> None:
    """The queues' lines and the heaps, from the entries: the calls in line, then the ready agents."""
    for call in sorted(book.calls.values(), key=lambda c: c.seq):
        if call.queue is None:
            continue
        call.step = min(call.step, len(book.steps[call.queue]) - 1)
        call.extra = tuple(q for q in call.extra if q in book.steps and q != call.queue)
        if call.state in QUEUED:
            book.queued[call.queue][call.id] = None
        if call.state is _S.WAITING and call.held_for is None:
            matching.file_waiting(book, call, matching.call_pools(call))
    for agent in book.agents.values():
        if agent.state is AgentState.READY:
            matching.file_ready(book, agent, at, keep_place=True)


def _route_at_first_tick(book: Book, at: float) -> None:
    ready = [a for a in book.agents.values() if a.state is AgentState.READY]
    for call in _waiting(book):
        if any(views.may_take(book, a.id, call.id) for a in ready):
            call.fire(CallTrigger.IDENTIFY)
            timers.start(book, TimerKind.IDENTIFY, at, call)


def _waiting(book: Book) -> Iterator[CallEntry]:
    return (c for c in book.calls.values() if c.state is _S.WAITING and c.held_for is None and c.queue)
