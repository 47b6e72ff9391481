"""Call control from the agent's console: hang up, hold and resume, blind transfers (escalation to the
on-call chain is ``routing.escalation``'s).

Transfers go to a queue (keeping the caller's place by arrival), an agent or an outside number. An
agent who lets go of a caller has their stretch logged at once as ``<call>~<n>``; the call keeps its id
and is logged when it ends. See docs/acd.md section 7.
"""

from __future__ import annotations

from routing import agents, endings, escalation, offers, queueing, supervision, training
from routing import commands as cmd
from routing import events as ev
from routing.book import AgentEntry, Book, CallEntry
from routing.errors import AgentNotReady, UnknownQueue
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
    agent, call = agent_call(book, e.agent)
    if call.state is _S.ESCALATING:
        return escalation.left(book, plan, call, e.at)
    assert call.offer is not None
    outcome = Outcome.UNREACHED if call.state is _S.DIALING else Outcome.ANSWERED
    out: list[cmd.Command] = [cmd.EndCall(call.id, (call.id, call.offer), bridge_id(call.id))]
    return out + endings.close(book, plan, call, outcome, Party.AGENT, e.at)


def hold_requested(book: Book, plan: Plan, e: ev.HoldRequested) -> list[cmd.Command]:
    agent, call = agent_call(book, e.agent)
    call.fire(_CT.HOLD)
    return [cmd.HoldCall(call.id, bridge_id(call.id)), cmd.CallHeld(agent.id, call.id, True, e.at)]


def resume_requested(book: Book, plan: Plan, e: ev.ResumeRequested) -> list[cmd.Command]:
    agent, call = agent_call(book, e.agent)
    call.fire(_CT.RESUME)
    return [cmd.ResumeCall(call.id, bridge_id(call.id)), cmd.CallHeld(agent.id, call.id, False, e.at)]


def agent_call(book: Book, agent_id: AgentId) -> tuple[AgentEntry, CallEntry]:
    """The agent and the call they are on; refused (not allowed now) unless they are on one."""
    agent = book.agent(agent_id)
    next_agent_state(agent.id, agent.state, AgentTrigger.CALL_CONTROL)  # refused unless on a call
    assert agent.call is not None
    return agent, book.calls[agent.call]


# --- transfers ------------------------------------------------------------------------------------
def transfer_requested(book: Book, plan: Plan, e: ev.TransferRequested) -> list[cmd.Command]:
    """A blind transfer: the agent's stretch is logged and they go to wrap-up; the caller waits on."""
    agent, call = agent_call(book, e.agent)
    next_call_state(call.id, call.state, _CT.TRANSFER)  # refused unless connected or held
    target: AgentEntry | None = None
    if e.kind is TransferKind.QUEUE and e.target not in plan.queues:
        raise UnknownQueue(e.target)
    if e.kind is TransferKind.AGENT:
        target = book.agent(AgentId(e.target))
        if target.state is not AgentState.READY:
            raise AgentNotReady(target.id, target.state)
    if call.trainee is not None or book.training:
        training.check_transfer(book, call, e.kind, e.target)
    out: list[cmd.Command] = [cmd.HoldCall(call.id, bridge_id(call.id))]
    out += let_go(book, plan, agent, call, e.at)
    assert call.queue is not None
    _requeue(book, plan, call, QueueId(e.target) if e.kind is TransferKind.QUEUE else call.queue, e.at)
    if target is not None:
        if call.trainee is not None:  # a practice caller: the other trainee's now, in no queue's line
            call.trainee = target.id
            book.queued[call.queue].pop(call.id, None)
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
