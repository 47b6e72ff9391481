"""Call control from the agent's console: hang up, hold and resume, blind transfers, escalation.

Transfers go to a queue (keeping the caller's place by arrival), an agent or an outside number; an
escalation rings the line's on-call chain in turn while the caller is on hold. An agent who lets go of
a caller has their stretch logged at once as ``<call>~<n>``; the call keeps its id and is logged when it
ends. See docs/acd.md section 7.
"""

from __future__ import annotations

from routing import agents, endings, offers, queueing, supervision
from routing import commands as cmd
from routing import events as ev
from routing.book import AgentEntry, Book, CallEntry, Escalation, OfferEntry
from routing.commands import EscalationStatus
from routing.errors import AgentNotReady, NoOnCall, UnknownQueue
from routing.events import TransferKind
from routing.ids import AgentId, QueueId, bridge_id
from routing.plan import Plan
from routing.records import Outcome, Party
from routing.states import (
    AgentState,
    AgentTrigger,
    CallState,
    CallTrigger,
    OfferTrigger,
    next_agent_state,
    next_call_state,
)

_S, _CT = CallState, CallTrigger


def agent_hung_up(book: Book, plan: Plan, e: ev.AgentHungUp) -> list[cmd.Command]:
    """Like the phone's own hang-up; while the phone rings, a decline that counts as a miss."""
    agent = book.agent(e.agent)
    if agent.state is AgentState.RINGING:
        return offers.unanswered(book, plan, offers.ringing_offer_of(book, agent), "declined", e.at)
    agent, call = _agent_call(book, e.agent)
    if call.state is _S.ESCALATING:
        return left_escalation(book, plan, call, e.at)
    assert call.offer is not None
    outcome = Outcome.UNREACHED if call.state is _S.DIALING else Outcome.ANSWERED
    out: list[cmd.Command] = [cmd.EndCall(call.id, (call.id, call.offer), bridge_id(call.id))]
    return out + endings.close(book, plan, call, outcome, Party.AGENT, e.at)


def hold_requested(book: Book, plan: Plan, e: ev.HoldRequested) -> list[cmd.Command]:
    agent, call = _agent_call(book, e.agent)
    call.fire(_CT.HOLD)
    return [cmd.HoldCall(call.id, bridge_id(call.id)), cmd.CallHeld(agent.id, call.id, True, e.at)]


def resume_requested(book: Book, plan: Plan, e: ev.ResumeRequested) -> list[cmd.Command]:
    agent, call = _agent_call(book, e.agent)
    call.fire(_CT.RESUME)
    return [cmd.ResumeCall(call.id, bridge_id(call.id)), cmd.CallHeld(agent.id, call.id, False, e.at)]


def _agent_call(book: Book, agent_id: AgentId) -> tuple[AgentEntry, CallEntry]:
    """The agent and the call they are on; refused (not allowed now) unless they are on one."""
    agent = book.agent(agent_id)
    next_agent_state(agent.id, agent.state, AgentTrigger.CALL_CONTROL)  # refused unless on a call
    assert agent.call is not None
    return agent, book.calls[agent.call]


# --- transfers ------------------------------------------------------------------------------------
def transfer_requested(book: Book, plan: Plan, e: ev.TransferRequested) -> list[cmd.Command]:
    """A blind transfer: the agent's stretch is logged and they go to wrap-up; the caller waits on."""
    agent, call = _agent_call(book, e.agent)
    next_call_state(call.id, call.state, _CT.TRANSFER)  # refused unless connected or held
    target: AgentEntry | None = None
    if e.kind is TransferKind.QUEUE and e.target not in plan.queues:
        raise UnknownQueue(e.target)
    if e.kind is TransferKind.AGENT:
        target = book.agent(AgentId(e.target))
        if target.state is not AgentState.READY:
            raise AgentNotReady(target.id, target.state)
    out: list[cmd.Command] = [cmd.HoldCall(call.id, bridge_id(call.id))]
    out += let_go(book, plan, agent, call, e.at)
    assert call.queue is not None
    _requeue(book, plan, call, QueueId(e.target) if e.kind is TransferKind.QUEUE else call.queue, e.at)
    if target is not None:
        return out + offers.offer(book, plan, call, [target], e.at)
    if e.kind is TransferKind.NUMBER:
        return out + _dial_number(book, plan, call, e.target, e.at)
    return out + offers.try_call(book, plan, call, e.at)


def let_go(book: Book, plan: Plan, agent: AgentEntry, call: CallEntry, at: float) -> list[cmd.Command]:
    """The agent hands the caller on: their leg is hung up, their stretch logged, then wrap-up."""
    assert call.offer is not None
    leg, call.parts = call.offer, call.parts + 1
    record = endings.stretch_record(call, agent.id, at)
    entry = book.offers.pop(leg)
    entry.fire(OfferTrigger.END)  # its leg's end, which follows, is ours
    call.offers.pop(leg, None)
    out = supervision.stop_all_of(book, call.id, at)
    out.append(cmd.DropLeg(call.id, leg, bridge_id(call.id)))
    out += agents.after_call(book, plan, agent, call, at)
    agents.keep_form(agent, entry.pop, record)
    call.offer, call.agent, call.stretch_at = None, None, None
    return [*out, cmd.LogCall(record, call.customer)]


def customer_named(book: Book, e: ev.CustomerNamed) -> list[cmd.Command]:
    """Kept with the call, so the record names that customer whoever writes it, and a restart's replay
    or a standby knows the agent's choice (the console shows it again). A call already over is not the
    router's any more: its record is in the call log, where the console changes it."""
    call = book.calls.get(e.call)
    if call is not None:
        call.customer = e.customer
    return []


def _requeue(book: Book, plan: Plan, call: CallEntry, queue: QueueId, at: float) -> None:
    """A transferred caller waits again: a new entry in ``queue`` with its rules and a fresh maximum
    wait, but the place in line the call had by arrival, ahead of callers who came after it.

    Filed, not matched: the transfer says who is offered the call next."""
    call.fire(_CT.TRANSFER)
    call.max_wait_at = at + plan.queues[queue].max_wait_s
    call.wait_round += 1
    queueing.file_in(book, call, queue, at)


def _dial_number(book: Book, plan: Plan, call: CallEntry, number: str, at: float) -> list[cmd.Command]:
    call.fire(_CT.OFFER)
    call.version += 1
    leg = offers.place(book, plan, call, None, number, offers.DIAL_TIMEOUT_S, at)
    return [cmd.DialNumber(leg, call.id, number, offers.DIAL_TIMEOUT_S, call.caller_number)]


# --- escalation to the line's on-call chain ---------------------------------------------------------
def escalation_requested(book: Book, plan: Plan, e: ev.EscalationRequested) -> list[cmd.Command]:
    agent, call = _agent_call(book, e.agent)
    next_call_state(call.id, call.state, _CT.ESCALATE)  # refused unless connected or held
    if not plan.lines[call.line].escalation_chain:
        raise NoOnCall(call.line)
    call.fire(_CT.ESCALATE)
    call.escalation = Escalation(agent.id)
    return [cmd.HoldCall(call.id, bridge_id(call.id)), *_ring_escalation(book, plan, call, e.at)]


def _ring_escalation(book: Book, plan: Plan, call: CallEntry, at: float) -> list[cmd.Command]:
    assert call.escalation is not None
    call.escalation.at = at
    step = plan.lines[call.line].escalation_chain[call.escalation.step]
    out: list[cmd.Command] = [offers.ring_person(book, plan, call, step, at)]
    return out + _escalation_update(call, call.escalation, EscalationStatus.RINGING, step.name, at)


def _escalation_update(
    call: CallEntry, esc: Escalation, status: EscalationStatus, person: str | None, at: float
) -> list[cmd.Command]:
    if esc.agent is None:
        return []  # the agent hung up: the call is no longer theirs to follow
    return [
        cmd.EscalationUpdate(
            agent=esc.agent, call=call.id, status=status, person=person, attempts=esc.attempts, at=at
        )
    ]


def escalation_answered(
    book: Book, plan: Plan, call: CallEntry, entry: OfferEntry, at: float
) -> list[cmd.Command]:
    """The on-call person takes the caller; the agent, if still on the line, is let go."""
    assert call.escalation is not None
    call.fire(_CT.ANSWER)
    esc, call.escalation = call.escalation, None
    entry.fire(OfferTrigger.ANSWER)
    out = _escalation_update(call, esc, EscalationStatus.ANSWERED, entry.label, at)
    if esc.agent is not None:
        out += let_go(book, plan, book.agents[esc.agent], call, at)
    call.offer, call.on_call = entry.id, entry.label
    return [*out, cmd.BridgeCall(call.id, entry.id, bridge_id(call.id))]


def escalation_missed(
    book: Book, plan: Plan, call: CallEntry, entry: OfferEntry, reason: str, at: float
) -> list[cmd.Command]:
    """The next person in the chain; after the last, the caller is back with the agent (or, if the
    agent hung up meanwhile, leaves a message)."""
    assert call.escalation is not None
    esc = call.escalation
    out = offers.drop(book, entry, OfferTrigger.NO_ANSWER, reason)
    esc.attempts += ((entry.label, _attempt_result(reason)),)
    esc.step += 1
    if esc.step < len(plan.lines[call.line].escalation_chain):
        return out + _ring_escalation(book, plan, call, at)
    call.escalation = None
    if esc.agent is None:
        return out + queueing.voicemail(book, plan, call, at)
    call.fire(_CT.ESCALATION_FAILED)
    out.append(cmd.ResumeCall(call.id, bridge_id(call.id)))
    return out + _escalation_update(call, esc, EscalationStatus.FAILED, None, at)


def left_escalation(book: Book, plan: Plan, call: CallEntry, at: float) -> list[cmd.Command]:
    """The agent hangs up while the chain rings: their stretch ends, the escalation goes on blind."""
    assert call.escalation is not None and call.agent is not None
    call.escalation.agent = None
    return let_go(book, plan, book.agents[call.agent], call, at)


def restated(book: Book, plan: Plan) -> list[cmd.EscalationUpdate]:
    """The escalations under way, told again after a restart (``Router.restated``, after the pops and
    connections of their calls): a console that comes back shows whom the chain rings, as before."""
    out: list[cmd.EscalationUpdate] = []
    for call in book.calls.values():
        esc = call.escalation
        if esc is None or esc.agent is None:
            continue
        step = plan.lines[call.line].escalation_chain[esc.step]
        out.append(
            cmd.EscalationUpdate(
                agent=esc.agent,
                call=call.id,
                status=EscalationStatus.RINGING,
                person=step.name,
                attempts=esc.attempts,
                at=esc.at,
            )
        )
    return out


def _attempt_result(reason: str) -> str:
    """What an escalation attempt came to, for the agent: no-answer, busy, or the failure."""
    if reason in ("no-answer", "ring-timeout"):
        return "no-answer"
    return "busy" if reason == "failed: busy" else reason
