"""What breaks the router's promises right now, found the slow way; empty when all is well.

Checked by brute force over every call and agent rather than through the heaps, so it catches a heap
that has lost track: for the invariant tests, and cheap enough for a health check.
"""

from __future__ import annotations

from routing import views
from routing.book import AgentEntry, Book, CallEntry
from routing.ids import AgentId, OfferId
from routing.plan import Plan, Strategy
from routing.states import PHONE_BUSY, TALKING, AgentState, CallState, OfferState

_S = CallState


def problems(book: Book, plan: Plan) -> list[str]:
    found: list[str] = []
    holders: dict[AgentId, list[OfferId]] = {}
    for offer in book.offers.values():
        if offer.agent is not None and offer.state is not OfferState.ANSWERED:
            holders.setdefault(offer.agent, []).append(offer.id)
    found += [f"{a} rings for {len(o)} offers" for a, o in holders.items() if len(o) > 1]
    ready = [a.id for a in book.agents.values() if a.state is AgentState.READY]
    for c in book.calls.values():
        if c.state is _S.OFFERED and c.queue is not None:
            ring_all = plan.queues[c.queue].strategy is Strategy.RING_ALL
            if len(c.offers) > 1 and not ring_all:
                found.append(f"{c.id} rings {len(c.offers)} agents outside ring-all")
        if c.state is _S.WAITING and c.held_for is None and c.queue is not None:
            idle = [a for a in ready if views.may_take(book, a, c.id)]
            if idle:
                found.append(f"{c.id} waits while {idle[0]} is ready for it")
        found += _talk(book, c)
    found += _supervision(book)
    for a in book.agents.values():
        mine = a.call in book.calls and book.calls[a.call].agent == a.id
        if a.state is AgentState.ON_CALL and not mine:
            found.append(f"{a.id} is on a call that is not theirs")
        found += _form(book, a)
    return found


def _form(book: Book, a: AgentEntry) -> list[str]:
    """A wrap-up form is for a call the agent answered, and goes when their phone pops the next one."""
    if a.form is None:
        return []
    found = []
    pop, record = a.form.pop, a.form.record
    if pop.agent != a.id or record.agent != a.id or record.answered_at is None:
        found.append(f"{a.id} has the wrap-up form of {record.call}, which they did not answer")
    if any(o.agent == a.id and o.state is OfferState.RINGING for o in book.offers.values()):
        found.append(f"{a.id} keeps the wrap-up form of {record.call} while a call pops")
    return found


def _talk(book: Book, c: CallEntry) -> list[str]:
    """A call on hold or escalating still has its agent on the line; an escalation rings one person."""
    found = []
    if c.state is _S.HELD and c.agent is None:
        found.append(f"{c.id} is on hold for no agent")
    if (c.state is _S.ESCALATING) != (c.escalation is not None):
        found.append(f"{c.id} is {c.state} with escalation {c.escalation}")
    if c.state is _S.ESCALATING:
        ringing = [
            o for o in c.offers if o in book.offers and book.offers[o].state is not OfferState.ANSWERED
        ]
        if len(ringing) != 1:
            found.append(f"{c.id} escalates to {len(ringing)} people at once")
    return found


def _supervision(book: Book) -> list[str]:
    """A supervision follows its agent's stretch of the call, and takes the supervisor's phone."""
    found = []
    for s in book.supervisions.values():
        c = book.calls.get(s.call)
        if c is None or c.agent != s.agent or c.state not in TALKING:
            found.append(f"{s.supervisor} supervises {s.agent} on {s.call}, which they are not on")
        if book.agents[s.supervisor].state in PHONE_BUSY:
            found.append(f"{s.supervisor} supervises while {book.agents[s.supervisor].state}")
    return found
