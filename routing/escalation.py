"""Escalation: the answering agent hands the caller to whoever is on call, who must accept.

The caller is held while the chain (the on-call people the shell resolved from the business's schedule
and put in the ``EscalationRequested``, else the line's own chain from the config) is rung one person at
a time, ``rounds`` times over. Answering is not accepting: a person who picks up is prompted
(``PromptOnCall``) and has the step's time again to press 1; then (and only then) they are bridged with
the caller and the agent is let go. Another key, no key in time (a voicemail pickup never presses one)
or a hang-up is an attempt that failed: their leg is hung up and the next person is rung. After the last
round the caller is back with the agent, or, if the agent has hung up meanwhile, leaves a message.

Every attempt ends in exactly one ``EscalationAttempt`` (for the store) and is listed in the agent's
``EscalationUpdate``. See docs/acd.md section 7.
"""

from __future__ import annotations

from routing import call_control, offers, queueing, timers
from routing import commands as cmd
from routing import events as ev
from routing.book import Book, CallEntry, Escalation, OfferEntry
from routing.commands import EscalationStatus
from routing.errors import NoOnCall, NoWarmPatch, TrainingCallKept
from routing.ids import bridge_id
from routing.plan import OnCallStep, Plan
from routing.states import CallTrigger, OfferState, OfferTrigger, next_call_state
from routing.timers import TimerKind

ACCEPT_KEY = "1"
# What the person now rung is doing, from their leg's state, told again after a restart (else: ringing).
_RESTATED = {
    OfferState.CONSULTED: EscalationStatus.CONSULTING,
    OfferState.PROMPTED: EscalationStatus.PROMPTED,
}
_CT, _OT = CallTrigger, OfferTrigger


def requested(book: Book, plan: Plan, e: ev.EscalationRequested) -> list[cmd.Command]:
    agent, call = call_control.agent_call(book, e.agent)
    next_call_state(call.id, call.state, _CT.ESCALATE)  # refused unless connected or held
    if call.trainee is not None:  # a practice caller would ring a real on-call person
        raise TrainingCallKept(call.id, "the on-call chain")
    line = plan.lines[call.line]
    chain = e.chain or line.escalation_chain
    if not chain:
        raise NoOnCall(call.line)
    call.fire(_CT.ESCALATE)
    call.escalation = Escalation(agent=agent.id, chain=chain, rounds=max(1, line.escalation_rounds))
    return [cmd.HoldCall(call.id, bridge_id(call.id)), *_ring(book, plan, call, e.at)]


def after_hours(
    book: Book, plan: Plan, call: CallEntry, chain: tuple[OnCallStep, ...], at: float
) -> list[cmd.Command]:
    """A closed line whose policy is its on-call chain: the same prompted chain, with no agent (nobody has
    spoken to the caller), rung once over; nobody accepting, the caller leaves a message."""
    call.fire(_CT.RING_ON_CALL)
    call.escalation = Escalation(agent=None, chain=chain, rounds=1)
    return _ring(book, plan, call, at)


def _ring(book: Book, plan: Plan, call: CallEntry, at: float) -> list[cmd.Command]:
    esc = call.escalation
    assert esc is not None
    esc.at = at
    step = esc.chain[esc.step]
    out: list[cmd.Command] = [offers.ring_person(book, plan, call, step, at)]
    return out + _update(call, esc, EscalationStatus.RINGING, step.name, at)


def _update(
    call: CallEntry, esc: Escalation, status: EscalationStatus, person: str | None, at: float
) -> list[cmd.Command]:
    if esc.agent is None:
        return []  # the agent hung up: the call is no longer theirs to follow
    return [
        cmd.EscalationUpdate(
            agent=esc.agent, call=call.id, status=status, person=person, attempts=esc.attempts, at=at
        )
    ]


def picked_up(book: Book, call: CallEntry, entry: OfferEntry, at: float) -> list[cmd.Command]:
    """The person rung answered: they hear who the call is for, and the clock for their key starts."""
    assert call.escalation is not None
    esc = call.escalation
    entry.fire(_OT.PICK_UP)
    step = esc.chain[esc.step]
    timers.start(book, TimerKind.ACCEPT, at + step.ring_timeout_s, entry)
    prompt = cmd.PromptOnCall(entry.id, call.id, call.did, call.caller_number)
    return [prompt, *_update(call, esc, EscalationStatus.PROMPTED, step.name, at)]


def key_pressed(book: Book, plan: Plan, e: ev.LegKeyPressed) -> list[cmd.Command]:
    """1 on a prompted leg accepts; any other key declines. Keys on other legs mean nothing here."""
    entry = book.offers.get(e.offer)
    if entry is None or entry.state is not OfferState.PROMPTED:
        return []
    call = book.calls[entry.call]
    if e.digit == ACCEPT_KEY:
        return _accepted(book, plan, call, entry, e.at)
    return missed(book, plan, call, entry, "declined", e.at)


def accept_over(book: Book, plan: Plan, entry: OfferEntry, at: float) -> list[cmd.Command]:
    """The person picked up and pressed nothing in time: a voicemail, or someone who did not say yes."""
    if entry.state is not OfferState.PROMPTED:
        return []
    return missed(book, plan, book.calls[entry.call], entry, "no-key", at)


def _accepted(book: Book, plan: Plan, call: CallEntry, entry: OfferEntry, at: float) -> list[cmd.Command]:
    """The on-call person takes the caller: a warm-patch person talks with the agent first, if the agent
    is still on the line; else the caller is patched to them at once (cold)."""
    esc = call.escalation
    assert esc is not None
    if esc.chain[esc.step].warm and esc.agent is not None:
        entry.fire(_OT.CONSULT)
        out: list[cmd.Command] = [cmd.ConsultOnCall(entry.id, call.id, bridge_id(call.id))]
        return out + _update(call, esc, EscalationStatus.CONSULTING, entry.label, at)
    return _patched(book, plan, call, entry, at)


def _patched(book: Book, plan: Plan, call: CallEntry, entry: OfferEntry, at: float) -> list[cmd.Command]:
    """The caller is bridged with the on-call person; the agent, if still on the line, is let go."""
    esc = call.escalation
    assert esc is not None
    call.fire(_CT.ANSWER)
    call.escalation = None
    call.answered_at = at if call.answered_at is None else call.answered_at  # after hours: the first answer
    entry.fire(_OT.ANSWER)
    esc.attempts += ((entry.label, "accepted"),)
    out = [
        _attempt(call, esc, "accepted", at),
        *_update(call, esc, EscalationStatus.ANSWERED, entry.label, at),
    ]
    if esc.agent is not None:
        out += call_control.let_go(book, plan, book.agents[esc.agent], call, at)
    call.offer, call.on_call = entry.id, entry.label
    return [*out, cmd.BridgeCall(call.id, entry.id, bridge_id(call.id))]


def warm_decided(book: Book, plan: Plan, e: ev.WarmPatchDecided) -> list[cmd.Command]:
    """The agent has announced the caller: "Connect caller" patches them through (the agent drops out, as
    in a cold patch); "Back to caller" hangs up the person's leg and the caller is back with the agent."""
    _, call = call_control.agent_call(book, e.agent)
    entry = consulted(book, call)
    if entry is None:
        raise NoWarmPatch(call.id)
    if e.connect:
        return _patched(book, plan, call, entry, e.at)
    return taken_back(book, call, entry, "taken-back", e.at)


def consulted(book: Book, call: CallEntry) -> OfferEntry | None:
    """The warm-patch person talking with the call's agent, if there is one."""
    found = (book.offers[o] for o in call.offers if book.offers[o].state is OfferState.CONSULTED)
    return next(found, None)


def taken_back(book: Book, call: CallEntry, entry: OfferEntry, result: str, at: float) -> list[cmd.Command]:
    """A warm patch that did not happen (``result``: taken-back by the agent, or the person hung-up): the
    person's leg is hung up and the caller, off hold, is back with the agent; the escalation is over."""
    esc = call.escalation
    assert esc is not None
    call.fire(_CT.TAKE_BACK)
    call.escalation = None
    out = offers.drop(book, entry, _OT.END, result)
    esc.attempts += ((entry.label, result),)
    out += [_attempt(call, esc, result, at), cmd.ResumeCall(call.id, bridge_id(call.id))]
    return out + _update(call, esc, EscalationStatus.CANCELLED, entry.label, at)


def missed(
    book: Book, plan: Plan, call: CallEntry, entry: OfferEntry, reason: str, at: float
) -> list[cmd.Command]:
    """The next person in the chain, the chain again for the next round; after the last, the caller is
    back with the agent (or, if the agent hung up meanwhile, leaves a message)."""
    esc = call.escalation
    assert esc is not None
    out = offers.drop(book, entry, _OT.NO_ANSWER, reason)
    result = attempt_result(reason)
    esc.attempts += ((entry.label, result),)
    out.append(_attempt(call, esc, result, at))
    esc.step += 1
    if esc.step == len(esc.chain) and esc.round + 1 < esc.rounds:
        esc.step, esc.round = 0, esc.round + 1
    if esc.step < len(esc.chain):
        return out + _ring(book, plan, call, at)
    call.escalation = None
    if esc.agent is None:
        return out + queueing.voicemail(book, plan, call, at)
    call.fire(_CT.ESCALATION_FAILED)
    out.append(cmd.ResumeCall(call.id, bridge_id(call.id)))
    return out + _update(call, esc, EscalationStatus.FAILED, None, at)


def ended(call: CallEntry, result: str, at: float) -> list[cmd.Command]:
    """The call ended while the chain rang (the caller hung up, the bridge failed): the attempt under
    way ends with it."""
    esc = call.escalation
    return [] if esc is None else [_attempt(call, esc, result, at)]


def left(book: Book, plan: Plan, call: CallEntry, at: float) -> list[cmd.Command]:
    """The agent hangs up while the chain rings: their stretch ends, the escalation goes on blind. During
    a warm patch's announcement, hanging up connects the caller to the person."""
    assert call.escalation is not None and call.agent is not None
    entry = consulted(book, call)
    if entry is not None:  # the agent hung up after announcing the caller: connected, as they would be
        return _patched(book, plan, call, entry, at)
    call.escalation.agent = None
    return call_control.let_go(book, plan, book.agents[call.agent], call, at)


def _attempt(call: CallEntry, esc: Escalation, result: str, at: float) -> cmd.EscalationAttempt:
    step = esc.chain[esc.step]
    return cmd.EscalationAttempt(
        call=call.id,
        person=step.name,
        number=_number(step),
        round=esc.round + 1,
        step=esc.step + 1,
        started_at=esc.at,
        ended_at=at,
        result=result,
    )


def _number(step: OnCallStep) -> str:
    return step.endpoint if step.number is None else step.number


def restated(book: Book) -> list[cmd.EscalationUpdate]:
    """The escalations under way, told again after a restart (``Router.restated``, after the pops and
    connections of their calls): a console that comes back shows whom the chain rings, or who picked up
    and is deciding, as before (``at``: when that person's ring began)."""
    out: list[cmd.EscalationUpdate] = []
    for call in book.calls.values():
        esc = call.escalation
        if esc is None or esc.agent is None:
            continue
        legs = {book.offers[o].state for o in call.offers}
        status = next((told for state, told in _RESTATED.items() if state in legs), EscalationStatus.RINGING)
        out.append(
            cmd.EscalationUpdate(
                agent=esc.agent,
                call=call.id,
                status=status,
                person=esc.chain[esc.step].name,
                attempts=esc.attempts,
                at=esc.at,
            )
        )
    return out


def attempt_result(reason: str) -> str:
    """What an attempt came to: no-answer, busy, declined (another key), voicemail-or-no-key (picked up,
    no key in time), hung-up (picked up, hung up before a key), or the failure as the PBX told it."""
    if reason in ("no-answer", "ring-timeout"):
        return "no-answer"
    if reason == "no-key":
        return "voicemail-or-no-key"
    return "busy" if reason == "failed: busy" else reason
