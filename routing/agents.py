"""Agents: logging in and out, ready and paused, wrap-up after a call, and the counters of their day.

An agent who lets offers ring out is paused (``ring-no-answer``) once the queue's ``no_answer`` policy
says so. After a call, the agent is in wrap-up for the queue's ``wrap_up_s``. Every state change goes
through ``set_agent``, which files a ready agent in the ready heaps. The call the agent's wrap-up form
is for (their disposition and notes) is kept apart from the state: the form outlives wrap-up state, and
lasts until it is saved (``WrapUpSaved``) or the agent's phone rings again.
"""

from __future__ import annotations

from routing import commands as cmd
from routing import events as ev
from routing import matching, offers, supervision, timers
from routing.book import AgentEntry, Book, CallEntry, WrapUpForm
from routing.errors import UnknownReason
from routing.plan import NoAnswerPolicy, Plan
from routing.records import CallRecord
from routing.states import AgentState, AgentTrigger, OfferTrigger, next_agent_state
from routing.timers import Timer, TimerKind

RING_NO_ANSWER = "ring-no-answer"  # the reason of the pause for offers that rang out
HANDLE_SMOOTHING = 0.2  # weight of the newest call in a queue's running handle time

_AT = AgentTrigger
# Members read as every call ends, bound once (see routing/book.py on enum members read off their class).
_READY, _WRAP_UP_TIMER = AgentState.READY, TimerKind.WRAP_UP
_CALL_END, _CALL_END_READY = _AT.CALL_END, _AT.CALL_END_READY


def logged_in(book: Book, plan: Plan, e: ev.AgentLoggedIn) -> list[cmd.Command]:
    agent = book.agent(e.agent)
    if next_agent_state(agent.id, agent.state, _AT.LOG_IN) is agent.state:
        return []
    return set_agent(book, agent, _AT.LOG_IN, e.at, reason="logged-in")


def became_ready(book: Book, plan: Plan, e: ev.AgentBecameReady) -> list[cmd.Command]:
    agent = book.agent(e.agent)
    if next_agent_state(agent.id, agent.state, _AT.READY) is agent.state:
        return []  # already ready: keep the place in the idle order
    agent.misses = 0
    return set_agent(book, agent, _AT.READY, e.at) + offers.try_agent(book, plan, agent.id, e.at)


def paused(book: Book, plan: Plan, e: ev.AgentPaused) -> list[cmd.Command]:
    agent = book.agent(e.agent)
    if e.reason not in plan.pause_reasons:
        raise UnknownReason(e.reason)
    return _leave(book, plan, agent, _AT.PAUSE, e.reason, e.at)


def logged_out(book: Book, plan: Plan, e: ev.AgentLoggedOut) -> list[cmd.Command]:
    agent = book.agent(e.agent)
    if next_agent_state(agent.id, agent.state, _AT.LOG_OUT) is agent.state:
        return []
    return _leave(book, plan, agent, _AT.LOG_OUT, None, e.at)


def _leave(
    book: Book, plan: Plan, agent: AgentEntry, trigger: AgentTrigger, reason: str | None, at: float
) -> list[cmd.Command]:
    """Pause or log out; from a ringing phone, the call goes back to its place in line."""
    if agent.state is not AgentState.RINGING:
        return set_agent(book, agent, trigger, at, reason=reason)
    next_agent_state(agent.id, agent.state, trigger)  # refused before the offer is touched
    ringing = offers.ringing_offer_of(book, agent)
    call = book.calls[ringing.call]
    out = offers.drop(book, ringing, OfferTrigger.NO_ANSWER, "declined")
    agent.call = None
    out += set_agent(book, agent, trigger, at, reason=reason)
    if not call.offers:
        out += offers.lost_all(book, plan, call, at)
    return out


def wrap_up_extended(book: Book, plan: Plan, e: ev.WrapUpExtended) -> list[cmd.Command]:
    agent = book.agent(e.agent)
    agent.fire(_AT.EXTEND_WRAP_UP)  # refused unless in wrap-up
    # The same wrap-up interval, only longer: ``since`` stays, the old timer lapses.
    agent.until = max(agent.until or e.at, e.at) + max(e.by_s, 0.0)
    agent.version += 1
    timers.start(book, TimerKind.WRAP_UP, agent.until, agent)
    return [cmd.AgentStateChanged(agent.id, agent.state, agent.reason, agent.since, agent.until)]


def wrap_up_saved(book: Book, plan: Plan, e: ev.WrapUpSaved) -> list[cmd.Command]:
    """The form is done: a console that comes back after a restart is not given it again. Never refused
    (the store has the wrap-up already, whatever the books say): an unknown agent or another call of
    theirs (a late wrap-up of an older call) changes nothing."""
    agent = book.agents.get(e.agent)
    if agent is not None and agent.form is not None and agent.form.record.call == e.call:
        agent.form = None
    return []


def time_up(book: Book, plan: Plan, timer: Timer, trigger: AgentTrigger, at: float) -> list[cmd.Command]:
    """Wrap-up or a timed pause ran out: the agent is ready and takes the best waiting call."""
    agent = timers.live_agent(book, timer)
    if agent is None:
        return []  # the agent moved on (or extended) since this timer was set
    return set_agent(book, agent, trigger, at) + offers.try_agent(book, plan, agent.id, at)


def missed(book: Book, plan: Plan, agent: AgentEntry, policy: NoAnswerPolicy, at: float) -> list[cmd.Command]:
    """The agent let an offer go unanswered: ready again, or paused once the queue's policy says so."""
    agent.misses += 1
    if agent.misses < policy.misses:
        out = set_agent(book, agent, _AT.MISSED, at)
        return out + offers.try_agent(book, plan, agent.id, at)
    until = at + policy.pause_s if policy.pause_s > 0 else None
    out = set_agent(book, agent, _AT.NO_ANSWER, at, reason=RING_NO_ANSWER, until=until)
    if until is not None:
        timers.start(book, TimerKind.PAUSE, until, agent)
    return out


def after_call(book: Book, plan: Plan, agent: AgentEntry, call: CallEntry, at: float) -> list[cmd.Command]:
    """The agent's part of the call is over: counted, then wrap-up (or ready, if the queue has none)."""
    agent.call = None
    _count(book, plan, agent, call, at)
    wrap = plan.queues[call.queue].wrap_up_s if call.queue is not None else 0.0
    if wrap <= 0:
        return set_agent(book, agent, _CALL_END_READY, at) + offers.try_agent(book, plan, agent.id, at)
    out = set_agent(book, agent, _CALL_END, at, until=at + wrap)
    timers.start(book, _WRAP_UP_TIMER, at + wrap, agent)
    return out


def keep_form(agent: AgentEntry, pop: cmd.PopScreen | None, record: CallRecord) -> None:
    """The agent's part of a call is logged (``record``): their wrap-up form is for it, if their screen
    popped it (``pop``) and they answered it, as the console has it."""
    if pop is not None and record.answered_at is not None:
        agent.form = WrapUpForm(pop, record)


def _count(book: Book, plan: Plan, agent: AgentEntry, call: CallEntry, at: float) -> None:
    """Calls and talk time today (the center's day), and the queue's running handle time."""
    day = book.day_of(at)
    if day != agent.day:
        agent.day, agent.calls_today, agent.talk_today_s = day, 0, 0.0
    talk = 0.0 if call.stretch_at is None else at - call.stretch_at
    agent.calls_today += 1
    agent.talk_today_s += talk
    assert call.queue is not None  # agents only take calls from queues
    handle = talk + plan.queues[call.queue].wrap_up_s
    old = book.handle_s[call.queue]
    book.handle_s[call.queue] = old + HANDLE_SMOOTHING * (handle - old)


def set_agent(
    book: Book,
    agent: AgentEntry,
    trigger: AgentTrigger,
    at: float,
    *,
    reason: str | None = None,
    until: float | None = None,
    keep: bool = False,
) -> list[cmd.Command]:
    """Fire ``trigger``: a new interval in the new state. A ready agent is filed for calls (``keep``:
    in their old place in the idle order), and a supervision they were on ends: the phone is theirs."""
    agent.fire(trigger)
    agent.reason, agent.since, agent.until = reason, at, until
    agent.version += 1
    out: list[cmd.Command] = [cmd.AgentStateChanged(agent.id, agent.state, reason, at, until)]
    if agent.state is _READY:
        matching.file_ready(book, agent, at, keep)
        if agent.id in book.supervisions:
            out += supervision.stop(book, book.supervisions[agent.id], at)
    return out
