"""The router's clock: timers set for calls, offers and agents, fired by ``Tick``.

A timer never needs cancelling. It carries the value one counter of its subject had when it was set
(``CANCELLED_BY``, the one table of which counter cancels which timer); once that counter has moved on,
or the subject is gone, the timer lapses when it comes due. The router's front decides what a live
timer does (``Router`` dispatches on ``TimerKind``); whether it still applies in the subject's present
state is for that handler to say.
"""

from __future__ import annotations

import enum
import heapq
from collections.abc import Iterator, Mapping
from typing import NamedTuple

from routing.book import AgentEntry, Book, CallEntry, OfferEntry
from routing.ids import AgentId, CallId, OfferId


class TimerKind(enum.StrEnum):
    OFFER = "offer"  # an offer's ring deadline: the PBX never told us the ring ended
    WRAP_UP = "wrap-up"  # an agent's after-call work is over
    PAUSE = "pause"  # a timed ring-no-answer pause is over
    IDENTIFY = "identify"  # the customer store took too long to identify the caller
    STICKY = "sticky"  # a call held for one agent waits for anyone from now on
    RULE = "rule"  # the call's next overflow rule comes due
    ANNOUNCE = "announce"  # time to tell the caller their place in line again
    MAX_WAIT = "max-wait"  # the caller has waited as long as the queue allows
    MESSAGE = "message"  # a voicemail has gone on as long as it may
    DIAL = "dial"  # a callback's customer (or a transfer's outside number) did not pick up in time
    ACCEPT = "accept"  # an on-call person who picked up has not pressed 1 in the step's time


class Counter(enum.StrEnum):
    """A counter of a timer's subject, named by its attribute there."""

    NONE = ""  # no counter: the timer lapses only with its subject (or by its subject's state)
    AGENT_VERSION = "version"  # AgentEntry.version: bumped on every change of the agent's state
    QUEUE_ENTRY = "entry"  # CallEntry.entry: bumped each time the call enters a queue
    WAIT_ROUND = "wait_round"  # CallEntry.wait_round: bumped when the maximum wait restarts


CANCELLED_BY: Mapping[TimerKind, Counter] = {
    TimerKind.OFFER: Counter.NONE,  # gone once withdrawn or lost; answered offers stay but ignore it
    TimerKind.WRAP_UP: Counter.AGENT_VERSION,  # ready early, paused, logged out, or wrap-up extended
    TimerKind.PAUSE: Counter.AGENT_VERSION,
    TimerKind.IDENTIFY: Counter.NONE,
    TimerKind.STICKY: Counter.QUEUE_ENTRY,  # moved, transferred or overflowed to another queue
    TimerKind.RULE: Counter.QUEUE_ENTRY,
    TimerKind.ANNOUNCE: Counter.QUEUE_ENTRY,
    TimerKind.MAX_WAIT: Counter.WAIT_ROUND,  # a transfer or a move starts a fresh maximum wait
    TimerKind.MESSAGE: Counter.NONE,
    TimerKind.DIAL: Counter.NONE,
    TimerKind.ACCEPT: Counter.NONE,  # gone with its offer; a prompted offer that moved on ignores it
}


class Timer(NamedTuple):
    """Ordered by ``(at, seq)``: ``seq`` is unique, so the rest is never compared."""

    at: float
    seq: int
    kind: TimerKind
    key: str  # the subject's id: a call, an offer or an agent
    token: int  # the subject's counter (``CANCELLED_BY``) when the timer was set


# The attribute each kind's counter is read from, looked up once: timers are on the hot path.
_FIELD: Mapping[TimerKind, str | None] = {k: c.value or None for k, c in CANCELLED_BY.items()}


def start(book: Book, kind: TimerKind, at: float, subject: CallEntry | AgentEntry | OfferEntry) -> None:
    """Set a timer for ``subject``, due at ``at``."""
    field = _FIELD[kind]
    token: int = 0 if field is None else getattr(subject, field)
    book.timer_seq += 1
    heapq.heappush(book.timers, Timer(at, book.timer_seq, kind, subject.id, token))


def due(book: Book, at: float) -> Iterator[Timer]:
    """The timers due by ``at``, soonest first, each taken off the heap as it is reached; one set while
    firing another, and due by ``at`` too, comes in its turn."""
    heap = book.timers
    while heap and heap[0].at <= at:
        yield heapq.heappop(heap)


def any_due(book: Book, at: float) -> bool:
    """Whether a ``Tick`` at ``at`` would fire a timer (a tick that fires none changes nothing)."""
    return bool(book.timers) and book.timers[0].at <= at


def live_call(book: Book, timer: Timer) -> CallEntry | None:
    """The call a timer was set for, if it is still going and its counter has not moved on."""
    call = book.calls.get(CallId(timer.key))
    field = _FIELD[timer.kind]
    if call is None or (field is not None and getattr(call, field) != timer.token):
        return None
    return call


def live_agent(book: Book, timer: Timer) -> AgentEntry | None:
    agent = book.agents[AgentId(timer.key)]
    field = _FIELD[timer.kind]
    return None if field is not None and getattr(agent, field) != timer.token else agent


def live_offer(book: Book, timer: Timer) -> OfferEntry | None:
    offer = book.offers.get(OfferId(timer.key))
    field = _FIELD[timer.kind]
    return None if offer is None or (field is not None and getattr(offer, field) != timer.token) else offer
