"""Read-only views of the router's books, for consoles, the wallboard, metrics and tests.

The shells take these types from here, not from the router; the functions build them from a ``Book``
(the ``Router`` offers each as a method of the same name).
"""

from __future__ import annotations

from dataclasses import dataclass

from routing import matching
from routing.book import Book, CallEntry
from routing.commands import EscalationStatus
from routing.events import SupervisionMode
from routing.ids import AgentId, CallId, LineId, OfferId, QueueId, snoop_id
from routing.plan import Plan
from routing.states import IN_LINE, AgentState, CallState


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentView:
    """A read-only snapshot of one agent, for consoles that (re)connect."""

    agent: AgentId
    state: AgentState
    reason: str | None
    since: float
    call: CallId | None
    until: float | None = None


@dataclass(frozen=True, slots=True)
class EscalationView:
    """An escalation in progress: ``person`` has been ringing since ``at``; who was rung before, how."""

    agent: AgentId | None  # who escalated; None once they hung up (it goes on blind)
    status: EscalationStatus
    person: str
    attempts: tuple[tuple[str, str], ...]
    at: float


@dataclass(frozen=True, slots=True, kw_only=True)
class CallView:
    """A read-only snapshot of one call in progress, for supervisors and tests."""

    call: CallId
    state: CallState
    queue: QueueId | None
    priority: int
    seq: int  # place in line: arrival order, kept through moves and callbacks
    held_for: AgentId | None  # sticky routing: waiting for this agent alone
    agent: AgentId | None
    offers: tuple[OfferId, ...]
    callback: bool
    after_hours: bool
    arrived_at: float
    step: int = 0  # how many widening rules have applied
    extra_queues: tuple[QueueId, ...] = ()  # queues whose agents may take it too (add-queue rules)
    held: bool = False  # the caller hears hold music while the agent is on the line (hold, escalation)
    escalation: EscalationView | None = None
    supervisors: tuple[tuple[AgentId, SupervisionMode], ...] = ()  # who supervises the call, how
    caller_number: str | None = None  # E.164 when it could be parsed; None when withheld
    line: LineId | None = None  # the service line (the business) the call came in on


def agent_view(book: Book, agent: AgentId) -> AgentView:
    a = book.agent(agent)
    return AgentView(agent=a.id, state=a.state, reason=a.reason, since=a.since, call=a.call, until=a.until)


def call_state(book: Book, call: CallId) -> CallState:
    c = book.calls.get(call)
    return CallState.ENDED if c is None else c.state


def waiting(book: Book, queue: QueueId) -> list[CallId]:
    """Calls waiting in ``queue`` (not ringing anyone), first in line first."""
    calls = [book.calls[c] for c in book.queued[queue]]
    return [c.id for c in sorted((c for c in calls if c.state in IN_LINE), key=CallEntry.order)]


def call_view(book: Book, plan: Plan, call: CallId) -> CallView | None:
    """A read-only snapshot of a call in progress; None once it is over."""
    c = book.calls.get(call)
    if c is None:
        return None
    return CallView(
        call=c.id,
        state=c.state,
        queue=c.queue,
        priority=c.priority,
        seq=c.seq,
        held_for=c.held_for,
        agent=c.agent,
        offers=tuple(c.offers),
        callback=c.is_callback,
        after_hours=c.after_hours,
        arrived_at=c.arrived_at,
        step=c.step,
        extra_queues=c.extra,
        held=c.state in (CallState.HELD, CallState.ESCALATING),
        escalation=_escalation_view(plan, c),
        supervisors=tuple((s.supervisor, s.mode) for s in book.supervisions.values() if s.call == c.id),
        caller_number=c.caller_number,
        line=c.line,
    )


def _escalation_view(plan: Plan, c: CallEntry) -> EscalationView | None:
    e = c.escalation
    if e is None:
        return None
    person = e.chain[e.step].name
    return EscalationView(e.agent, EscalationStatus.RINGING, person, e.attempts, e.at)


def may_take(book: Book, agent: AgentId, call: CallId) -> bool:
    """Whether ``agent`` meets what ``call`` asks for now (queue, skill step, added queues)."""
    c = book.calls[call]
    if c.queue is None:
        return False
    if c.trainee is not None or agent in book.training:
        return c.trainee == agent  # practice callers and trainees only meet each other
    return any(pool in matching.call_pools(c) for _, pool in book.agent_pools[agent])


def offered_agents(book: Book, call: CallId) -> frozenset[AgentId] | None:
    """The agents holding an offer of ``call`` now: their phones ring with it (several in ring-all), or
    one of them took it; none while it waits or rings an on-call person; None when the call is not live
    (never arrived, or over). A follower looks the caller up only when the pop may be on its consoles."""
    c = book.calls.get(call)
    if c is None:
        return None
    offers = (book.offers.get(offer) for offer in c.offers)
    return frozenset(o.agent for o in offers if o is not None and o.agent is not None)


def active_calls(book: Book) -> int:
    return len(book.calls)


# A callback is a call of its own whose channel (the customer's leg) exists only once it is dialled.
_NOT_DIALLED = frozenset({CallState.IDENTIFYING, CallState.WAITING, CallState.OFFERED})


def named_customers(book: Book) -> list[tuple[CallId, str | None, str]]:
    """The live calls an agent named the customer of: (call, caller number, customer)."""
    return [(c.id, c.caller_number, c.customer) for c in book.calls.values() if c.customer is not None]


def channels(book: Book) -> frozenset[str]:
    """The PBX channels the books say are up: callers, agents' and on-call legs, supervisors' legs and
    their snoops. After a restart the PBX adapter compares them with the channels the PBX has."""
    calls = (c.id for c in book.calls.values() if not (c.is_callback and c.state in _NOT_DIALLED))
    supervisors = [s.leg for s in book.supervisions.values()]
    snoops = (snoop_id(s.leg) for s in book.supervisions.values() if s.mode is not SupervisionMode.BARGE)
    return frozenset((*calls, *book.offers, *supervisors, *snoops))
