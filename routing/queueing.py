"""Queueing: a call's arrival and its wait in line, up to an agent or another way out.

- A call to a closed line (hours, holiday, closure) follows the line's after-hours policy: the
  answering-service queue, the on-call chain (each person rung in turn, a message if nobody answers),
  voicemail, or a closed message.
- In a queue that uses the caller's profile (tier priority, repeat callers, sticky agent), the call first
  waits up to ``identify_timeout_s`` for the customer store's answer.
- Overflow rules fire as the call waits: widen skills, add another queue's agents, move, offer a
  callback, voicemail, hang up; a full queue sends new calls where ``when_full`` says. The caller hears
  their place in line now and then, and leaves with a goodbye once the queue's maximum wait is over.
- A supervisor may move a waiting call to another queue, or put it at the front of its own.
"""

from __future__ import annotations

from routing import commands as cmd
from routing import endings, escalation, offers, timers
from routing import events as ev
from routing.book import Book, CallEntry
from routing.commands import CALLBACK_CONFIRMED, CLOSED, GOODBYE
from routing.errors import IllegalTransition, TrainingCallKept, UnknownQueue
from routing.ids import AgentId, CallId, QueueId, callback_id, recording_name
from routing.plan import Action, AfterHoursKind, Plan, Queue, Rule
from routing.records import Outcome, Party
from routing.states import IN_LINE, QUEUED, AgentState, CallState, CallTrigger
from routing.timers import TimerKind

_S, _CT = CallState, CallTrigger
_WAITING = _S.WAITING  # tested on every arrival (see routing/book.py on enum members read off their class)


# --- arrival --------------------------------------------------------------------------------------
def call_arrived(book: Book, plan: Plan, e: ev.CallArrived) -> list[cmd.Command]:
    if e.call in book.calls:
        return []  # a replayed StasisStart after a reconnect: already ours
    if e.call in book.ended:
        # Over, yet its channel is still in the app: the hangup was under way (after a reconnect this
        # one waits behind it and finds the channel gone) or died with the process (after a crash).
        return [cmd.EndCall(e.call, (e.call,), None)]
    did = plan.dids.get(e.did)
    if did is None:
        book.remember_ended(e.call)
        return [
            cmd.RejectCall(e.call, f"number {e.did} is not in the number plan"),
            cmd.LogCall(endings.unrouted_record(e)),
        ]
    line = plan.lines[did.line]
    call = new_call(book, plan, e.call, e.did, e.caller_number, e.caller_name, e.at)
    out: list[cmd.Command] = [cmd.AnswerCall(call.id)]
    if line.hours is not None and not line.hours.is_open(e.at):
        call.after_hours = True
        return out + _after_hours(book, plan, call, e.at)
    return out + _arrive_in(book, plan, call, line.queue, e.at)


def new_call(
    book: Book, plan: Plan, call: CallId, did: str, number: str | None, name: str | None, at: float
) -> CallEntry:
    """A call come in on ``did`` (a number of the plan), next in arrival order, on the books."""
    found = plan.dids[did]
    line = plan.lines[found.line]
    book.arrival_seq += 1
    entry = CallEntry(id=call, seq=book.arrival_seq, did=did, source=found.source, line=line.id,
                      line_name=line.name, caller_number=number, caller_name=name, arrived_at=at)  # fmt: skip
    book.calls[call] = entry
    return entry


def _arrive_in(book: Book, plan: Plan, call: CallEntry, queue: QueueId, at: float) -> list[cmd.Command]:
    """First entry into a queue: the max-wait clock starts, and the caller may be looked up."""
    call.max_wait_at = at + plan.queues[queue].max_wait_s
    if call.caller_number is None or not plan.queues[queue].needs_caller_profile:
        return enter(book, plan, call, queue, at)
    call.fire(_CT.IDENTIFY)  # not offered to anyone until the store answers or time runs out
    arm_max_wait(book, call)
    out = enter(book, plan, call, queue, at)
    if call.state is not _S.IDENTIFYING:
        return out  # the queue was full: the call went to voicemail or was ended
    timers.start(book, TimerKind.IDENTIFY, at + plan.identify_timeout_s, call)
    return [cmd.IdentifyCaller(call.id, call.caller_number), *out]


def _after_hours(book: Book, plan: Plan, call: CallEntry, at: float) -> list[cmd.Command]:
    policy = plan.lines[call.line].after_hours
    if policy.kind is AfterHoursKind.QUEUE and policy.queue is not None:
        return _arrive_in(book, plan, call, policy.queue, at)
    if policy.kind is AfterHoursKind.ON_CALL and policy.chain:
        return escalation.after_hours(book, plan, call, policy.chain, at)
    if policy.kind is AfterHoursKind.HANG_UP:
        return end_unserved(book, plan, call, at, CLOSED)
    return voicemail(book, plan, call, at)


def enter(
    book: Book, plan: Plan, call: CallEntry, queue: QueueId, at: float, sent: bool = False
) -> list[cmd.Command]:
    """Put the call in ``queue`` (on arrival or a move) unless it is full; keeps its place in line.

    ``sent``: a supervisor sent it there, so a full queue does not turn it away."""
    q = plan.queues[queue]
    # A callback or a transferred caller is never turned away: they keep the place they already had.
    turned_away = not call.is_callback and call.parts == 0 and not sent
    if q.max_length and turned_away and len(book.queued[queue]) >= q.max_length:
        call.visited += (queue,)
        if q.when_full is Action.MOVE and q.full_queue and q.full_queue not in call.visited:
            return enter(book, plan, call, q.full_queue, at)
        if q.when_full is Action.HANG_UP:
            return end_unserved(book, plan, call, at, GOODBYE)
        return voicemail(book, plan, call, at)
    file_in(book, call, queue, at)
    if call.state is _WAITING:
        return offers.try_call(book, plan, call, at)
    return []


def file_in(book: Book, call: CallEntry, queue: QueueId, at: float) -> None:
    """A new entry in ``queue``'s line: its skill step, rules and announcements start over."""
    if call.queue is not None:
        book.queued[call.queue].pop(call.id, None)
    call.queue, call.step, call.extra, call.held_for = queue, 0, (), None
    call.visited += (queue,)
    call.entry += 1
    call.entered_at, call.rule_index, call.rule_due, call.announced = at, 0, False, None
    book.queued[queue][call.id] = None


# --- the caller's profile -------------------------------------------------------------------------
def caller_identified(book: Book, plan: Plan, e: ev.CallerIdentified) -> list[cmd.Command]:
    call = book.calls.get(e.call)
    if call is None or call.identified or call.queue is None:
        return []
    call.identified = True
    queue = plan.queues[call.queue]
    p = queue.priorities
    repeat = e.last_call_at is not None and 0 <= e.at - e.last_call_at <= p.repeat_within_s
    call.priority = max(call.priority, p.tiers.get(e.tier or "", 0), p.repeat if repeat else 0)
    if call.state is _S.IDENTIFYING:
        return _identified(book, plan, call, queue, e.last_agent, e.at)
    if call.state is _S.WAITING:
        return offers.try_call(book, plan, call, e.at)  # its place in line changed: re-file it
    return []


def identify_timed_out(book: Book, plan: Plan, call: CallEntry, at: float) -> list[cmd.Command]:
    if call.state is not _S.IDENTIFYING:
        return []
    assert call.queue is not None
    return _identified(book, plan, call, plan.queues[call.queue], None, at)


def _identified(
    book: Book, plan: Plan, call: CallEntry, queue: Queue, last_agent: AgentId | None, at: float
) -> list[cmd.Command]:
    call.fire(_CT.IDENTIFIED)
    agent = book.agents.get(last_agent) if last_agent is not None else None
    sticky = (
        queue.sticky_s > 0
        and agent is not None
        and queue.id in plan.agents[agent.id].queues
        and agent.state is not AgentState.LOGGED_OUT
    )
    if sticky and agent is not None:
        if agent.state is AgentState.READY:
            return offers.offer(book, plan, call, [agent], at)
        call.held_for = agent.id
        book.held.setdefault(agent.id, []).append(call.id)
        timers.start(book, TimerKind.STICKY, at + queue.sticky_s, call)
        return arm(book, plan, call, at)  # it waits, only not for just anyone
    return offers.try_call(book, plan, call, at)


def sticky_over(book: Book, plan: Plan, call: CallEntry, at: float) -> list[cmd.Command]:
    """The agent the call was held for did not come free in time: anyone may take it now."""
    if call.held_for is None:
        return []
    call.held_for = None
    return offers.try_call(book, plan, call, at)


# --- the wait: rules, announcements, the maximum wait ----------------------------------------------
def arm(book: Book, plan: Plan, call: CallEntry, at: float) -> list[cmd.Command]:
    """The call has to wait: start its rule and announcement clocks for this queue entry.

    Started only once a call waits, not when it arrives: most calls meet a ready agent at once and
    never need them. A rule already due (the call rang an agent past it) applies now.
    """
    arm_max_wait(book, call)
    if call.armed == call.entry:
        return []
    call.armed = call.entry
    assert call.queue is not None
    queue = plan.queues[call.queue]
    if queue.announce_every_s > 0 and not call.is_callback:
        timers.start(book, TimerKind.ANNOUNCE, call.entered_at + queue.announce_every_s, call)
    if call.rule_index >= len(queue.rules):
        return []
    due = call.entered_at + queue.rules[call.rule_index].after_s
    if due <= at:
        return fire_rule(book, plan, call, at)
    timers.start(book, TimerKind.RULE, due, call)
    return []


def arm_max_wait(book: Book, call: CallEntry) -> None:
    """Max wait counts from arrival, but its timer is only set once it could matter: when the call
    waits, or rings someone past it. Most calls are answered first and never need it."""
    if call.max_wait_at is not None:
        timers.start(book, TimerKind.MAX_WAIT, call.max_wait_at, call)  # transfers and moves restart it
        call.max_wait_at = None


def rule_came_due(book: Book, plan: Plan, call: CallEntry, at: float) -> list[cmd.Command]:
    if call.state is not _S.WAITING:
        call.rule_due = call.state in QUEUED  # ringing someone: it applies if the call comes back
        return []
    return fire_rule(book, plan, call, at)


def fire_rule(book: Book, plan: Plan, call: CallEntry, at: float) -> list[cmd.Command]:
    assert call.queue is not None
    queue = plan.queues[call.queue]
    rule = queue.rules[call.rule_index]
    call.rule_index += 1
    if call.rule_index < len(queue.rules):
        after = queue.rules[call.rule_index].after_s
        timers.start(book, TimerKind.RULE, call.entered_at + after, call)
    return _apply(book, plan, call, rule, at)


def _apply(book: Book, plan: Plan, call: CallEntry, rule: Rule, at: float) -> list[cmd.Command]:
    assert call.queue is not None
    if rule.action is Action.WIDEN:
        call.step = min(call.step + 1, len(book.steps[call.queue]) - 1)
    elif rule.action is Action.ADD_QUEUE:
        assert rule.queue is not None  # Rule checks it
        call.extra = (*call.extra, rule.queue)
    elif rule.action is Action.MOVE:
        assert rule.queue is not None
        return enter(book, plan, call, rule.queue, at)
    elif call.is_callback:
        return offers.try_call(
            book, plan, call, at
        )  # nobody is on the line to hear a prompt or leave a message
    elif rule.action is Action.CALLBACK:
        if call.caller_number is None:
            return offers.try_call(book, plan, call, at)
        call.callback_offered = True
        return [cmd.OfferCallbackChoice(call.id), *offers.try_call(book, plan, call, at)]
    elif rule.action is Action.VOICEMAIL:
        return voicemail(book, plan, call, at)
    else:
        return end_unserved(book, plan, call, at, GOODBYE)  # hang-up
    call.held_for = None
    return offers.try_call(book, plan, call, at)


def announce(book: Book, plan: Plan, call: CallEntry, at: float) -> list[cmd.Command]:
    """The caller's place in line and the expected wait; never a place further back than last time."""
    assert call.queue is not None
    queue = plan.queues[call.queue]
    timers.start(book, TimerKind.ANNOUNCE, at + queue.announce_every_s, call)
    if call.state not in IN_LINE:
        return []
    ahead = sum(1 for c in book.queued[call.queue] if book.calls[c].order() < call.order())
    position = ahead + 1 if call.announced is None else min(ahead + 1, call.announced)
    call.announced = position
    members = [a for a, spec in plan.agents.items() if call.queue in spec.queues]
    staffed = sum(1 for a in members if book.agents[a].state is not AgentState.LOGGED_OUT)
    expected = position * book.handle_s[call.queue] / max(staffed, 1)
    return [cmd.AnnouncePosition(call.id, position, round(expected, 1))]


def max_wait_over(book: Book, plan: Plan, call: CallEntry, at: float) -> list[cmd.Command]:
    if call.state not in QUEUED:
        return []
    return end_unserved(book, plan, call, at, GOODBYE, "max-wait")


# --- the ways out without an agent -----------------------------------------------------------------
def voicemail(book: Book, plan: Plan, call: CallEntry, at: float) -> list[cmd.Command]:
    call.fire(_CT.VOICEMAIL)  # never while ringing someone
    if call.queue is not None:
        book.queued[call.queue].pop(call.id, None)
    call.version += 1
    call.recording = recording_name(call.id)
    limit = plan.queues[call.queue].voicemail_max_s if call.queue else 180.0
    timers.start(book, TimerKind.MESSAGE, at + limit + plan.offer_grace_s, call)
    return [cmd.TakeMessage(call.id, call.recording, limit)]


def message_over(book: Book, plan: Plan, call: CallEntry, at: float) -> list[cmd.Command]:
    """The caller's message has gone on as long as it may: the call ends."""
    assert call.state is _S.MESSAGE  # a message is only left by ending the call
    call.fire(_CT.HANG_UP)
    return [
        cmd.EndCall(call.id, (call.id,), None),
        endings.finish(book, call, Outcome.VOICEMAIL, Party.SYSTEM, at),
    ]


def end_unserved(
    book: Book, plan: Plan, call: CallEntry, at: float, farewell: str | None, reason: str = "gave-up"
) -> list[cmd.Command]:
    """The system gives up on a call no agent took: goodbye, and it is logged no-agent."""
    out: list[cmd.Command] = []
    was_offered = call.state is _S.OFFERED
    call.fire(_CT.HANG_UP)
    if was_offered:
        out += offers.withdraw_all(book, plan, call, reason, at)
    out.append(cmd.EndCall(call.id, (call.id,), None, farewell))
    return [*out, endings.finish(book, call, Outcome.NO_AGENT, Party.SYSTEM, at)]


def callback_requested(book: Book, plan: Plan, e: ev.CallbackRequested) -> list[cmd.Command]:
    """The caller chose a callback: this call ends, and a callback keeping its place in line waits."""
    call = book.calls.get(e.call)
    if call is None or not call.callback_offered or call.state is not _S.WAITING:
        return []  # a stray key press, or the caller is already being put through
    assert call.queue is not None and call.caller_number is not None
    call.fire(_CT.HANG_UP)
    out: list[cmd.Command] = [
        cmd.EndCall(call.id, (call.id,), None, CALLBACK_CONFIRMED),
        endings.finish(book, call, Outcome.CALLBACK, Party.CALLER, e.at),
    ]
    back = CallEntry(
        id=callback_id(call.id),
        seq=call.seq,
        did=call.did,
        source=call.source,
        line=call.line,
        line_name=call.line_name,
        caller_number=call.caller_number,
        caller_name=call.caller_name,
        arrived_at=e.at,
        priority=max(call.priority, plan.queues[call.queue].priorities.callback),
        identified=True,
        callback_of=call.id,
        after_hours=call.after_hours,
    )
    book.calls[back.id] = back
    return out + enter(book, plan, back, call.queue, e.at)


# --- supervisors: the queue -----------------------------------------------------------------------
def call_moved(book: Book, plan: Plan, e: ev.CallMoved) -> list[cmd.Command]:
    """A waiting call to another queue, like a transfer's caller: its place by arrival, that queue's
    rules and a fresh maximum wait; a full queue does not turn it away."""
    call = _waiting_call(book, e.call, "move")
    if call.trainee is not None:
        raise TrainingCallKept(call.id, f"queue {e.queue}")
    if e.queue not in plan.queues:
        raise UnknownQueue(e.queue)
    queue = QueueId(e.queue)
    if not call.is_callback:  # a callback has nobody on the line to wait too long
        call.max_wait_at = e.at + plan.queues[queue].max_wait_s
        call.wait_round += 1
    return enter(book, plan, call, queue, e.at, sent=True)


def call_prioritised(book: Book, plan: Plan, e: ev.CallPrioritised) -> list[cmd.Command]:
    """To the front of its queue: one priority above the highest of the calls waiting there now
    (unchanged if it is already above them all)."""
    call = _waiting_call(book, e.call, "prioritise")
    assert call.queue is not None
    others = [book.calls[c] for c in book.queued[call.queue] if c != call.id]
    top = max((c.priority for c in others if c.state in IN_LINE), default=None)
    if top is None or call.priority > top:
        return []
    call.priority = top + 1
    return offers.try_call(book, plan, call, e.at)  # filed again under its new place in line


def _waiting_call(book: Book, call_id: CallId, trigger: str) -> CallEntry:
    call = book.calls.get(call_id)
    if call is None or call.state not in IN_LINE or call.queue is None:
        raise IllegalTransition(call_id, _S.ENDED if call is None else call.state, trigger)
    return call
