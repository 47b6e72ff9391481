"""The router's books: every record it keeps of calls, offers, agents and supervisions, and the heaps,
timers and counters over them. Mutable, private to the routing core; one ``Book`` per router.

The entries change state only through the transition tables of ``routing.states`` (their ``fire``
methods); everything else in an entry is bookkeeping the modules by concern keep up to date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from routing import pools
from routing.commands import PopScreen
from routing.errors import IllegalTransition, UnknownAgent
from routing.events import SupervisionMode
from routing.ids import AgentId, CallId, LineId, OfferId, QueueId, SupervisorLegId
from routing.plan import OnCallStep, Plan
from routing.pools import Filing, LazyHeap, Pool
from routing.records import CallRecord
from routing.states import (
    AGENT_TRANSITIONS,
    CALL_TRANSITIONS,
    OFFER_TRANSITIONS,
    SUPERVISION_TRANSITIONS,
    AgentState,
    AgentTrigger,
    CallState,
    CallTrigger,
    OfferState,
    OfferTrigger,
    SupervisionState,
    SupervisionTrigger,
)

if TYPE_CHECKING:
    from routing.timers import Timer

ENDED_MEMORY = 10_000  # far more calls than can end between an ARI disconnect and the reconnect

# Enum members the heaps test on every peek, bound to module names. On Python 3.11 reading a member off
# its class (``AgentState.READY``) goes through EnumType's ``__getattr__`` hook every time, which costs
# about as much as a function call; the hot paths of the routing modules bind the members they test.
_READY, _WAITING = AgentState.READY, CallState.WAITING


@dataclass(slots=True, kw_only=True)
class CallEntry:
    id: CallId
    seq: int  # arrival order: the place in line, kept through failed offers, moves and callbacks
    did: str
    source: str
    line: LineId
    line_name: str
    queue: QueueId | None = None  # None for calls that never queue (on-call chain, voicemail after hours)
    caller_number: str | None
    caller_name: str | None
    arrived_at: float
    state: CallState = CallState.WAITING
    priority: int = 0
    identified: bool = False
    # Where in its queue the call stands: which skill step, which other queues' agents may take it.
    step: int = 0
    extra: tuple[QueueId, ...] = ()
    version: int = 0  # bumped whenever its pools change or it stops waiting; stale heap entries lapse
    entry: int = 0  # bumped on each entry into a queue; stale rule and announcement timers lapse
    entered_at: float = 0.0
    rule_index: int = 0
    armed: int = 0  # the entry whose rule and announcement clocks run; they start when the call waits
    max_wait_at: float | None = None  # when max wait ends, until its timer is set (queueing.arm_max_wait)
    rule_due: bool = False  # a rule came due while the call was ringing someone
    visited: tuple[QueueId, ...] = ()
    held_for: AgentId | None = None  # sticky: waiting for this agent alone
    announced: int | None = None  # last position announced, which must never go up
    callback_offered: bool = False
    callback_of: CallId | None = None
    after_hours: bool = False
    offers: dict[OfferId, None] = field(default_factory=dict)  # its offers (several in ring-all)
    offer: OfferId | None = None  # the answered offer
    agent: AgentId | None = None
    on_call: str | None = None
    recording: str | None = None
    answered_at: float | None = None  # the first answer: the call as a whole
    stretch_at: float | None = None  # when the current agent's stretch began (their talk time)
    attempts: int = 0
    parts: int = 0  # agents' stretches logged on their own so far (transfers, escalations)
    escalation: Escalation | None = None
    customer: str | None = None  # the customer an agent named (``CustomerNamed``): the record names it
    supervised: int = 0  # supervisor legs placed on this call so far (their ids count on)
    wait_round: int = 0  # bumped when the maximum wait restarts (transfer, move); older timers lapse
    trainee: AgentId | None = None  # a training call: a practice caller for this trainee alone (issue 17)

    def fire(self, trigger: CallTrigger) -> None:
        """Move to the state the call table gives; if none, raise ``IllegalTransition``, changing nothing.

        The table is read here rather than through ``next_call_state``: this is the hot path."""
        try:
            self.state = CALL_TRANSITIONS[(self.state, trigger)]
        except KeyError:
            raise IllegalTransition(self.id, self.state, trigger) from None

    @property
    def is_callback(self) -> bool:
        return self.callback_of is not None

    @property
    def awaits_customer(self) -> bool:
        """A callback whose customer has not been reached: the agent who takes it dials them."""
        return self.is_callback and self.answered_at is None

    def order(self) -> tuple[int, int]:
        """Place in line: higher priority first, then earlier arrival."""
        return (-self.priority, self.seq)


@dataclass(slots=True, kw_only=True)
class Escalation:
    """An escalation to an on-call chain: who asked, whom it rings (``chain``, ``rounds`` times over),
    who is rung now (``step`` of ``round``), how it went so far."""

    agent: AgentId | None  # None once the agent has hung up: it goes on blind
    step: int = 0
    attempts: tuple[tuple[str, str], ...] = ()
    at: float = 0.0  # when the person now rung started ringing
    chain: tuple[OnCallStep, ...] = ()
    rounds: int = 1
    round: int = 0


@dataclass(slots=True, kw_only=True)
class Training:
    """An agent in training (``routing.training``): how many practice callers a minute the shell places
    for them, who said so and when, and their practice callers waiting for them, first come first."""

    per_minute: float
    by: str
    since: float
    waiting: dict[CallId, None] = field(default_factory=dict)


@dataclass(slots=True, kw_only=True)
class Supervision:
    """A supervisor on an agent's call: their phone ``leg`` rings until answered, then hears it."""

    supervisor: AgentId
    agent: AgentId
    call: CallId
    mode: SupervisionMode
    leg: SupervisorLegId
    state: SupervisionState = SupervisionState.RINGING

    def fire(self, trigger: SupervisionTrigger) -> None:
        try:
            self.state = SUPERVISION_TRANSITIONS[(self.state, trigger)]
        except KeyError:
            raise IllegalTransition(self.supervisor, self.state, trigger) from None


@dataclass(slots=True, kw_only=True)
class OfferEntry:
    """One leg the router dials for a call; its deadline is a timer (``TimerKind.OFFER``)."""

    id: OfferId
    call: CallId
    agent: AgentId | None  # None: an on-call person's number, or an outside number
    label: str  # the agent id, the on-call person's name, or the number
    state: OfferState = OfferState.PLACED  # kept after the answer: its leg ending means a hang-up
    pop: PopScreen | None = None  # what the agent's screen showed when the phone rang

    def fire(self, trigger: OfferTrigger) -> None:
        try:
            self.state = OFFER_TRANSITIONS[(self.state, trigger)]
        except KeyError:
            raise IllegalTransition(self.id, self.state, trigger) from None


@dataclass(frozen=True, slots=True)
class WrapUpForm:
    """The call an agent's wrap-up form is for: the pop their screen showed for it and the record of
    their part of it, as the console keeps them (``ConsoleHub``), so that a console that comes back after
    a restart is given the same form (``offers.restated``)."""

    pop: PopScreen
    record: CallRecord


@dataclass(slots=True, kw_only=True)
class AgentEntry:
    id: AgentId
    state: AgentState = AgentState.LOGGED_OUT
    reason: str | None = None
    since: float = 0.0
    until: float | None = None  # end of wrap-up or of a timed pause
    call: CallId | None = None
    form: WrapUpForm | None = None  # the call their wrap-up form is for, until it is saved or the next pop
    version: int = 0  # bumped on every state change; stale ready-heap entries and timers lapse
    ready_seq: int = 0
    misses: int = 0  # consecutive unanswered offers
    day: int = -1  # the ordinal of the day the counters below are for
    calls_today: int = 0
    talk_today_s: float = 0.0

    def fire(self, trigger: AgentTrigger) -> None:
        try:
            self.state = AGENT_TRANSITIONS[(self.state, trigger)]
        except KeyError:
            raise IllegalTransition(self.id, self.state, trigger) from None


class Book:
    """All the router's mutable state. The modules by concern read and write it; nothing else does.

    Each order has its own counter, so that one concern's events never shift another's order (a new
    timer does not change what the random strategy draws): ``arrival_seq`` (a caller's place in line),
    ``offer_seq`` (round-robin: when a queue last offered an agent a call), ``ready_seq`` (the idle
    order), ``draw_seq`` (the random strategy's draw) and ``timer_seq`` (timers due at the same time
    fire in the order they were set).
    """

    __slots__ = (
        "agent_pools",
        "agents",
        "arrival_seq",
        "calls",
        "day",
        "draw_seq",
        "ended",
        "filing",
        "handle_s",
        "held",
        "last_offer",
        "offer_seq",
        "offers",
        "queued",
        "ready",
        "ready_seq",
        "steps",
        "supervisions",
        "timer_seq",
        "timers",
        "training",
        "tz",
        "waiting",
    )

    def __init__(self, plan: Plan) -> None:
        self.calls: dict[CallId, CallEntry] = {}
        self.offers: dict[OfferId, OfferEntry] = {}
        self.agents = {a: AgentEntry(id=a) for a in plan.agents}
        self.supervisions: dict[AgentId, Supervision] = {}  # by supervisor; a handful at most
        self.training: dict[AgentId, Training] = {}  # agents in training; a handful at most
        # Ids of calls already over, oldest first, so a replayed arrival (a StasisStart seen again after
        # an ARI reconnect, before our hangup took effect) is not taken for a new call. Bounded.
        self.ended: dict[CallId, None] = {}
        self.timers: list[Timer] = []  # a heap, soonest first
        self.queued: dict[QueueId, dict[CallId, None]] = {q: {} for q in plan.queues}
        self.held: dict[AgentId, list[CallId]] = {}  # sticky routing: calls waiting for one agent
        self.last_offer: dict[tuple[QueueId, AgentId], int] = {}  # offer_seq of each queue's last offer
        self.handle_s = {q: queue.expected_handle_s for q, queue in plan.queues.items()}
        self.arrival_seq = self.offer_seq = self.ready_seq = self.draw_seq = self.timer_seq = 0
        self.tz = ZoneInfo(plan.timezone)
        self.day = (0.0, 0.0, 0)  # the center's current day: start, end (Unix s) and ordinal
        # The pools, worked out once from the plan: each queue's skill steps, a ready and a waiting heap
        # per (queue, step), each agent's pools by penalty, and what filing a ready agent needs.
        self.steps = {q: pools.requirement_steps(queue) for q, queue in plan.queues.items()}
        self.ready: dict[Pool, LazyHeap[AgentId]] = {}
        self.waiting: dict[Pool, LazyHeap[CallId]] = {}
        for q, steps in self.steps.items():
            for k in range(len(steps)):
                self.ready[(q, k)] = LazyHeap(self.agent_live)
                self.waiting[(q, k)] = LazyHeap(self.call_live)
        self.agent_pools = {a: pools.agent_pools(plan, self.steps, a) for a in plan.agents}
        self.filing: dict[AgentId, list[Filing]] = {
            a: pools.filing(plan, self.agent_pools[a], self.ready, a) for a in plan.agents
        }

    def agent(self, agent: AgentId) -> AgentEntry:
        try:
            return self.agents[agent]
        except KeyError:
            raise UnknownAgent(agent) from None

    def agent_live(self, agent: AgentId, version: int) -> bool:
        """Whether a ready-heap entry still stands: the agent is ready and has not changed since."""
        a = self.agents[agent]
        return a.state is _READY and a.version == version

    def call_live(self, call: CallId, version: int) -> bool:
        """Whether a waiting-heap entry still stands: the call waits, for anyone, as it was filed."""
        c = self.calls.get(call)
        return c is not None and c.version == version and c.state is _WAITING and c.held_for is None

    def remember_ended(self, call: CallId) -> None:
        self.ended[call] = None
        if len(self.ended) > ENDED_MEMORY:
            del self.ended[next(iter(self.ended))]

    def day_of(self, at: float) -> int:
        """The center's calendar day at ``at`` (an ordinal); the day's bounds are kept, as most calls
        of a day end within it and converting every time through the time zone is not free."""
        start, end, day = self.day
        if start <= at < end:
            return day
        local = dt.datetime.fromtimestamp(at, self.tz).date()
        start = dt.datetime.combine(local, dt.time(0), self.tz).timestamp()
        end = dt.datetime.combine(local + dt.timedelta(days=1), dt.time(0), self.tz).timestamp()
        self.day = (start, end, local.toordinal())
        return self.day[2]
