"""How calls end: the caller hangs up, the bridge fails, an answered call is closed; and the call log's
record of each call and of each agent's stretch of a call handed on."""

from __future__ import annotations

import dataclasses

from routing import agents, escalation, offers, supervision
from routing import commands as cmd
from routing import events as ev
from routing.book import Book, CallEntry
from routing.ids import AgentId, CallId, bridge_id, segment_id
from routing.plan import Plan
from routing.records import CallRecord, EndReason, Outcome, Party
from routing.states import TALKING, CallState, CallTrigger, OfferTrigger, next_call_state

_S, _CT = CallState, CallTrigger
# Members tested as every call ends, bound once (see routing/book.py on enum members read off their class).
_OFFERED, _DIALING, _MESSAGE, _ENDED = _S.OFFERED, _S.DIALING, _S.MESSAGE, _S.ENDED
_ESCALATING = _S.ESCALATING
_ANSWERED, _BY_CALLER, _OFFER_END = Outcome.ANSWERED, Party.CALLER, OfferTrigger.END


def caller_hung_up(book: Book, plan: Plan, e: ev.CallerHungUp) -> list[cmd.Command]:
    return _caller_left(book, plan, e.call, e.at, _BY_CALLER, None)


def call_gone(book: Book, plan: Plan, e: ev.CallGone) -> list[cmd.Command]:
    """As the caller hanging up, but logged with why nobody saw it; a call the PBX took down with it
    when it restarted was ended by the system, not by the caller."""
    by = Party.SYSTEM if e.reason is EndReason.PBX_RESTART else _BY_CALLER
    return _caller_left(book, plan, e.call, e.at, by, e.reason)


def _caller_left(
    book: Book, plan: Plan, call_id: CallId, at: float, by: Party, reason: EndReason | None
) -> list[cmd.Command]:
    call = book.calls.get(call_id)
    if call is None:
        return []  # we ended it ourselves; the PBX is confirming
    out: list[cmd.Command]
    if call.state is _OFFERED or (call.answered_at is None and call.state is _ESCALATING):
        # Stop the ringing first, so the freed agents are offered other calls (not this one). An after-hours
        # on-call chain has rung nobody who took the caller: abandoned, as a caller who left the queue.
        out = escalation.ended(call, "caller-hung-up", at)
        call.fire(_CT.HANG_UP)
        out += offers.withdraw_all(book, plan, call, "caller-hung-up", at)
        return [*out, finish(book, call, Outcome.ABANDONED, by, at, reason)]
    if call.state in TALKING:
        out = escalation.ended(call, "caller-hung-up", at)
        out += offers.withdraw_all(book, plan, call, "caller-hung-up", at)  # an on-call person ringing
        legs = () if call.offer is None else (call.offer,)  # None: a blind escalation
        out.append(cmd.EndCall(call.id, legs, bridge_id(call.id)))
        return out + close(book, plan, call, _ANSWERED, by, at, reason=reason)
    if call.state is _DIALING:
        assert call.offer is not None
        out = [cmd.EndCall(call.id, (call.offer,), bridge_id(call.id))]
        return out + close(book, plan, call, Outcome.UNREACHED, by, at, reason=reason)
    outcome = Outcome.VOICEMAIL if call.state is _MESSAGE else Outcome.ABANDONED
    call.fire(_CT.HANG_UP)
    return [finish(book, call, outcome, by, at, reason)]


def bridge_failed(book: Book, plan: Plan, e: ev.BridgeFailed) -> list[cmd.Command]:
    call = book.calls.get(e.call)
    if call is None:
        return []
    next_call_state(call.id, call.state, _CT.BRIDGE_FAILED)  # refused unless connected, before any change
    out = escalation.ended(call, "bridge-failed", e.at)
    out += offers.withdraw_all(book, plan, call, "bridge-failed", e.at)  # an on-call person still ringing
    legs = (call.id,) if call.offer is None else (call.id, call.offer)
    out.append(cmd.EndCall(call.id, legs, bridge_id(call.id)))
    return out + close(book, plan, call, Outcome.ANSWERED, Party.SYSTEM, e.at, _CT.BRIDGE_FAILED)


def close(
    book: Book,
    plan: Plan,
    call: CallEntry,
    outcome: Outcome,
    by: Party,
    at: float,
    trigger: CallTrigger = _CT.HANG_UP,
    *,
    reason: EndReason | None = None,
) -> list[cmd.Command]:
    """End an answered call (or a callback being dialed): log it and send the agent to wrap-up, with
    their wrap-up form for it."""
    call.fire(trigger)
    out = supervision.stop_all_of(book, call.id, at)
    if call.agent is None:
        return [*out, finish(book, call, outcome, by, at, reason)]
    agent = book.agents[call.agent]
    assert call.offer is not None  # an agent's call: the offer they answered, dropped by ``finish``
    pop = book.offers[call.offer].pop
    out += agents.after_call(book, plan, agent, call, at)
    logged = finish(book, call, outcome, by, at, reason)
    agents.keep_form(agent, pop, logged.record)
    return [*out, logged]


def finish(
    book: Book, call: CallEntry, outcome: Outcome, by: Party, at: float, reason: EndReason | None = None
) -> cmd.LogCall:
    """Take an ended call off the books; its record for the call log."""
    assert call.state is _ENDED  # through the table, by whoever ended it
    del book.calls[call.id]
    book.remember_ended(call.id)
    if call.queue is not None:
        book.queued[call.queue].pop(call.id, None)
    if call.offer is not None:
        book.offers.pop(call.offer).fire(_OFFER_END)
    if call.trainee is not None and call.trainee in book.training:
        book.training[call.trainee].waiting.pop(call.id, None)
    return cmd.LogCall(call_record(call, outcome, by, at, reason), call.customer)


def call_record(
    call: CallEntry, outcome: Outcome, by: Party, at: float, reason: EndReason | None = None
) -> CallRecord:
    return CallRecord(
        call=call.id,
        did=call.did,
        source=call.source,
        line=call.line,
        line_name=call.line_name,
        queue=call.queue,
        caller_number=call.caller_number,
        caller_name=call.caller_name,
        agent=call.agent,
        arrived_at=call.arrived_at,
        answered_at=call.answered_at,
        ended_at=at,
        outcome=outcome,
        hung_up_by=by,
        offers=call.attempts,
        priority=call.priority,
        after_hours=call.after_hours,
        on_call=call.on_call,
        recording=call.recording,
        callback_of=call.callback_of,
        end_reason=reason,
        training=call.trainee is not None,
    )


def stretch_record(call: CallEntry, agent: AgentId, at: float) -> CallRecord:
    """The record of the agent's stretch of a call they handed on (``call.parts`` counts it already)."""
    whole = call_record(call, Outcome.TRANSFERRED, Party.AGENT, at)
    return dataclasses.replace(
        whole,
        call=segment_id(call.id, call.parts),
        agent=agent,
        answered_at=call.stretch_at,
        on_call=None,
        recording=None,
        part_of=call.id,
    )


def unrouted_record(e: ev.CallArrived) -> CallRecord:
    """A call to a number the plan does not know: rejected at once."""
    return CallRecord(
        call=e.call,
        did=e.did,
        source=None,
        line=None,
        line_name=None,
        queue=None,
        caller_number=e.caller_number,
        caller_name=e.caller_name,
        agent=None,
        arrived_at=e.at,
        answered_at=None,
        ended_at=e.at,
        outcome=Outcome.NO_AGENT,
        hung_up_by=Party.SYSTEM,
        offers=0,
    )
