"""Offers: ringing agents (and on-call people) for calls, and what becomes of each ring.

An offer is one leg the router dials; its lifecycle is ``OFFER_TRANSITIONS`` (``routing.states``). A
waiting call is offered as soon as an agent is free for it (``try_call``), and a newly ready agent takes
the best waiting call (``try_agent``). An agent who lets an offer ring out may be paused
(``agents.missed``), and the call goes back to its place in line before that agent is ready again.
"""

from __future__ import annotations

from routing import agents, endings, escalation, matching, queueing, timers, training
from routing import commands as cmd
from routing import events as ev
from routing.book import AgentEntry, Book, CallEntry, OfferEntry
from routing.ids import AgentId, OfferId, bridge_id, offer_id
from routing.plan import OnCallStep, Plan
from routing.records import Outcome, Party
from routing.states import AgentState, AgentTrigger, CallState, CallTrigger, OfferState, OfferTrigger
from routing.timers import TimerKind

DIAL_TIMEOUT_S = 30.0  # how long a callback rings the customer, a transfer an outside number, a supervisor

_S, _CT, _OT, _AT = CallState, CallTrigger, OfferTrigger, AgentTrigger
# Members read on every offer, bound once (see routing/book.py on enum members read off their class).
_WAITING, _ESCALATING, _DIALING = _S.WAITING, _S.ESCALATING, _S.DIALING
_ANSWERED, _READY, _OFFER_TIMER = OfferState.ANSWERED, AgentState.READY, TimerKind.OFFER
_POPPED = frozenset({OfferState.RINGING, OfferState.ANSWERED})  # the agent's screen shows the call
_PROMPTED, _CONSULTED = OfferState.PROMPTED, OfferState.CONSULTED
_PICKED_UP = frozenset({_ANSWERED, _PROMPTED, _CONSULTED})  # an answer seen already
_TALKED = frozenset({_ANSWERED, _CONSULTED})  # the leg's end is a hang-up, not a missed offer
_CALL_OFFER, _CALL_ANSWER, _AGENT_OFFER, _AGENT_ANSWER = _CT.OFFER, _CT.ANSWER, _AT.OFFER, _AT.ANSWER
_OFFER_ANSWER = _OT.ANSWER


def try_call(book: Book, plan: Plan, call: CallEntry, at: float) -> list[cmd.Command]:
    """Offer a waiting call to the best ready agent of its pools, or file it to wait for one."""
    if call.state is not _WAITING or call.held_for is not None:
        return []
    if call.trainee is not None:
        return training.try_call(book, plan, call, at)
    call.version += 1  # entries filed before lapse: this call is filed afresh below, or offered
    pools = matching.call_pools(call)
    chosen = matching.agents_to_ring(book, plan, call, pools)
    if chosen:
        return offer(book, plan, call, chosen, at)
    matching.file_waiting(book, call, pools)
    return queueing.arm(book, plan, call, at)


def try_agent(book: Book, plan: Plan, agent_id: AgentId, at: float) -> list[cmd.Command]:
    """Give a ready agent the best waiting call of their most preferred queues."""
    agent = book.agents[agent_id]
    assert agent.state is _READY  # called only for an agent who has just become ready
    call = matching.best_call(book, agent_id)
    return [] if call is None else offer(book, plan, call, [agent], at)


def offer(book: Book, plan: Plan, call: CallEntry, chosen: list[AgentEntry], at: float) -> list[cmd.Command]:
    assert call.queue is not None
    queue = plan.queues[call.queue]
    call.fire(_CALL_OFFER)
    call.version += 1
    out: list[cmd.Command] = []
    for agent in chosen:
        leg = place(book, plan, call, agent.id, agent.id, queue.ring_timeout_s, at)
        endpoint = plan.agents[agent.id].endpoint
        timeout = queue.ring_timeout_s
        out.append(
            cmd.OfferCall(
                offer=leg,
                call=call.id,
                agent=agent.id,
                endpoint=endpoint,
                timeout_s=timeout,
                caller_number=call.caller_number,
            )
        )
        book.offer_seq += 1
        book.last_offer[(queue.id, agent.id)] = book.offer_seq
        agent.call = call.id
        out += agents.set_agent(book, agent, _AGENT_OFFER, at)
    return out


def place(
    book: Book, plan: Plan, call: CallEntry, agent: AgentId | None, label: str, timeout_s: float, at: float
) -> OfferId:
    """Book a new leg for the call, with the router's own deadline for it."""
    call.attempts += 1
    deadline = at + timeout_s + plan.offer_grace_s
    entry = OfferEntry(id=offer_id(call.id, call.attempts), call=call.id, agent=agent, label=label)
    if call.max_wait_at is not None and call.max_wait_at <= deadline:
        queueing.arm_max_wait(book, call)
    book.offers[entry.id] = entry
    call.offers[entry.id] = None
    timers.start(book, _OFFER_TIMER, deadline, entry)
    return entry.id


def ring_person(book: Book, plan: Plan, call: CallEntry, step: OnCallStep, at: float) -> cmd.OfferCall:
    """A new leg for the call that rings an on-call person's number: no agent, so no screen pops."""
    leg = place(book, plan, call, None, step.name, step.ring_timeout_s, at)
    return cmd.OfferCall(
        offer=leg,
        call=call.id,
        agent=None,
        endpoint=step.endpoint,
        timeout_s=step.ring_timeout_s,
        caller_number=call.caller_number,
    )


def ringing(book: Book, plan: Plan, e: ev.OfferRinging) -> list[cmd.Command]:
    entry = book.offers.get(e.offer)
    if entry is None or entry.agent is None or entry.state is not OfferState.PLACED:
        return []  # Dial RINGING and the Ringing state change both report it; pop once
    entry.fire(_OT.RING)
    entry.pop = pop_screen(book.calls[entry.call], entry, e.at)
    book.agents[entry.agent].form = None  # the console drops the last call's form when the next one pops
    return [entry.pop]


def pop_screen(call: CallEntry, entry: OfferEntry, at: float) -> cmd.PopScreen:
    """What the agent's screen shows of the call their phone rings for."""
    assert call.queue is not None and entry.agent is not None
    return cmd.PopScreen(
        agent=entry.agent,
        call=call.id,
        offer=entry.id,
        caller_number=call.caller_number,
        caller_name=call.caller_name,
        did=call.did,
        source=call.source,
        line=call.line,
        line_name=call.line_name,
        queue=call.queue,
        waited_s=at - call.arrived_at,
        priority=call.priority,
        callback=call.is_callback,
        after_hours=call.after_hours,
    )


def restated(book: Book, at: float) -> list[cmd.Restated]:
    """What the agents' consoles were told of their calls, told again: after a restart, a console that
    comes back shows the call its wrap-up form is for (its pop, then its record), and the pop, the
    connection and the hold of a call ringing or taken. A call taken shows the pop as it rang; one still
    ringing counts the caller's wait up to ``at``."""
    out: list[cmd.Restated] = []
    for agent in book.agents.values():
        if agent.form is not None:
            out += [agent.form.pop, cmd.LogCall(agent.form.record)]
    for entry in book.offers.values():
        call = book.calls[entry.call]
        if entry.agent is None or call.queue is None or entry.state not in _POPPED:
            continue
        answered = entry.state is _ANSWERED
        since = call.stretch_at if answered and call.stretch_at is not None else None
        if answered and entry.pop is not None:
            out.append(entry.pop)
        else:
            out.append(pop_screen(call, entry, at if since is None else since))
        if since is not None:
            out.append(cmd.CallConnected(entry.agent, call.id, since))
        if answered and call.state is _S.HELD:
            out.append(cmd.CallHeld(entry.agent, call.id, True, at))
    return out


def answered(book: Book, plan: Plan, e: ev.OfferAnswered) -> list[cmd.Command]:
    entry = book.offers.get(e.offer)
    if entry is None or entry.state in _PICKED_UP:
        return []  # withdrawn (its leg is being hung up), or the answer reported twice
    call = book.calls[entry.call]
    if call.state is _ESCALATING:
        return escalation.picked_up(book, call, entry, e.at)
    call.fire(_CT.AGENT_TOOK_CALLBACK if call.awaits_customer else _CALL_ANSWER)
    entry.fire(_OFFER_ANSWER)
    # Ring-all: the first answer wins, every other phone stops at once.
    out = withdraw_all(book, plan, call, "answered-elsewhere", e.at) if len(call.offers) > 1 else []
    call.offer, call.agent = entry.id, entry.agent
    assert call.queue is not None  # a closed line's on-call legs are the escalation's (above)
    book.queued[call.queue].pop(call.id, None)
    if entry.agent is None:  # a number the agent transferred the caller to
        call.on_call = entry.label
        call.answered_at = e.at if call.answered_at is None else call.answered_at
        return [*out, cmd.BridgeCall(call.id, entry.id, bridge_id(call.id))]
    agent = book.agents[entry.agent]
    agent.misses = 0
    if call.awaits_customer:
        assert call.caller_number is not None
        timers.start(book, TimerKind.DIAL, e.at + DIAL_TIMEOUT_S + plan.offer_grace_s, call)
        out.append(cmd.DialCustomer(call.id, entry.id, call.caller_number, DIAL_TIMEOUT_S))
    else:
        # A transferred call keeps its first answer: the record of the call as a whole.
        call.answered_at = e.at if call.answered_at is None else call.answered_at
        call.stretch_at = e.at
        out.append(cmd.BridgeCall(call.id, entry.id, bridge_id(call.id)))
        out.append(cmd.CallConnected(agent.id, call.id, e.at))
    return out + agents.set_agent(book, agent, _AGENT_ANSWER, e.at)


def customer_answered(book: Book, plan: Plan, e: ev.CustomerAnswered) -> list[cmd.Command]:
    call = book.calls.get(e.call)
    if call is None or call.state is not _DIALING:
        return []
    assert call.offer is not None and call.agent is not None
    call.fire(_CT.CUSTOMER_ANSWER)
    call.answered_at = call.stretch_at = e.at
    return [
        cmd.BridgeCall(call.id, call.offer, bridge_id(call.id)),
        cmd.CallConnected(call.agent, call.id, e.at),
    ]


def dial_over(book: Book, plan: Plan, call: CallEntry, at: float) -> list[cmd.Command]:
    """The callback's customer did not pick up in time: the agent's part is over, logged unreached."""
    if call.state is not _DIALING:
        return []
    assert call.offer is not None
    out: list[cmd.Command] = [cmd.EndCall(call.id, (call.id, call.offer), bridge_id(call.id))]
    return out + endings.close(book, plan, call, Outcome.UNREACHED, Party.SYSTEM, at)


def ended(book: Book, plan: Plan, e: ev.OfferEnded) -> list[cmd.Command]:
    entry = book.offers.get(e.offer)
    if entry is None:
        return []  # a leg we hung up ourselves
    if entry.state is _CONSULTED:  # the on-call person hung up on the agent's announcement
        return escalation.taken_back(book, book.calls[entry.call], entry, "hung-up", e.at)
    if entry.state is not _ANSWERED:
        return unanswered(book, plan, entry, "hung-up" if entry.state is _PROMPTED else "no-answer", e.at)
    call = book.calls[entry.call]
    if call.state is _ESCALATING:  # the agent's phone hung up: the escalation goes on blind
        return escalation.left(book, plan, call, e.at)
    outcome = Outcome.UNREACHED if call.state is _DIALING else Outcome.ANSWERED
    out: list[cmd.Command] = [cmd.EndCall(call.id, (call.id,), bridge_id(call.id))]
    return out + endings.close(book, plan, call, outcome, Party.AGENT, e.at)


def failed(book: Book, plan: Plan, e: ev.OfferFailed) -> list[cmd.Command]:
    entry = book.offers.get(e.offer)
    if entry is None or entry.state in _TALKED:
        return []
    return unanswered(book, plan, entry, f"failed: {e.reason}", e.at)


def lost(book: Book, plan: Plan, e: ev.OfferLost) -> list[cmd.Command]:
    """A leg gone unseen: answered, it ended as a hang-up would; ringing, it is withdrawn (the agent keeps
    their place and is not paused), and the call rings on or waits; an on-call leg counts as unanswered
    (there is no agent to blame), so the chain goes on."""
    entry = book.offers.get(e.offer)
    if entry is None:
        return []
    if entry.state in _TALKED:
        return ended(book, plan, ev.OfferEnded(e.offer, e.at))
    call = book.calls[entry.call]
    if entry.agent is None or call.state is _ESCALATING:
        return unanswered(book, plan, entry, "lost", e.at)
    # As ``unanswered`` does, but with no miss: the call is back in line first (for another ready
    # agent), then the agent is ready in their old place and takes whoever is first in line.
    out = drop(book, entry, _OT.WITHDRAW, "leg-lost")
    agent = book.agents[entry.agent]
    agent.call = None
    if not call.offers:
        out += lost_all(book, plan, call, e.at)
    out += agents.set_agent(book, agent, _AT.OFFER_WITHDRAWN, e.at, keep=True)
    return out + try_agent(book, plan, agent.id, e.at)


def deadline_passed(book: Book, plan: Plan, entry: OfferEntry, at: float) -> list[cmd.Command]:
    """The PBX never told us the ring ended: do not leave the agent ringing forever. A prompted on-call
    person has their own deadline (``escalation.accept_over``)."""
    if entry.state in _PICKED_UP:
        return []
    return unanswered(book, plan, entry, "ring-timeout", at)


def unanswered(book: Book, plan: Plan, entry: OfferEntry, reason: str, at: float) -> list[cmd.Command]:
    """Nobody took this leg: the call goes back to its place in line, the agent may be paused.

    The call is placed before the agent is ready again, so it goes to another ready agent if there
    is one, and the agent, once ready, takes whichever call is first in line (not this one by rote).
    """
    call = book.calls[entry.call]
    if call.state is _ESCALATING:
        return escalation.missed(book, plan, call, entry, reason, at)
    out = drop(book, entry, _OT.NO_ANSWER, reason)
    if entry.agent is not None:
        book.agents[entry.agent].call = None
    if not call.offers:
        out += lost_all(book, plan, call, at)
    if entry.agent is None:
        return out
    assert call.queue is not None
    return out + agents.missed(book, plan, book.agents[entry.agent], plan.queues[call.queue].no_answer, at)


def lost_all(book: Book, plan: Plan, call: CallEntry, at: float) -> list[cmd.Command]:
    """The call's last ringing leg is gone: it waits again."""
    call.fire(_CT.OFFER_LOST)
    call.version += 1
    assert call.queue is not None  # an on-call chain's legs are the escalation's (``escalation.missed``)
    if call.rule_due:
        call.rule_due = False
        return queueing.fire_rule(book, plan, call, at)
    return try_call(book, plan, call, at)


def ringing_offer_of(book: Book, agent: AgentEntry) -> OfferEntry:
    """The offer ringing the agent's phone; only for an agent who is ringing."""
    assert agent.call is not None
    call = book.calls[agent.call]
    return book.offers[next(o for o in call.offers if book.offers[o].agent == agent.id)]


def withdraw(book: Book, plan: Plan, entry: OfferEntry, reason: str, at: float) -> list[cmd.Command]:
    """Stop a ringing leg for a reason that is not the agent's fault; the agent keeps their place."""
    out = drop(book, entry, _OT.WITHDRAW, reason)
    if entry.agent is not None:
        agent = book.agents[entry.agent]
        agent.call = None
        out += agents.set_agent(book, agent, _AT.OFFER_WITHDRAWN, at, keep=True)
    return out


def drop(book: Book, entry: OfferEntry, trigger: OfferTrigger, reason: str) -> list[cmd.Command]:
    """Take an unanswered leg off the books, and tell the PBX and the agent's console."""
    entry.fire(trigger)
    del book.offers[entry.id]
    call = book.calls[entry.call]
    call.offers.pop(entry.id, None)
    out: list[cmd.Command] = [cmd.CancelOffer(entry.id, call.id)]
    if entry.agent is not None:
        out.append(cmd.WithdrawOffer(entry.agent, call.id, entry.id, reason))
    return out


def withdraw_all(book: Book, plan: Plan, call: CallEntry, reason: str, at: float) -> list[cmd.Command]:
    """Stop every unanswered leg of the call; the agents take other calls."""
    out: list[cmd.Command] = []
    legs = [book.offers[o] for o in call.offers if book.offers[o].state is not _ANSWERED]
    for leg in legs:
        out += withdraw(book, plan, leg, reason, at)
    for leg in legs:
        if leg.agent is not None:
            out += try_agent(book, plan, leg.agent, at)
    return out
