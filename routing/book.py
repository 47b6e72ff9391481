"""The router's own records of calls, offers and agents: mutable, private to the routing core."""

from __future__ import annotations

from dataclasses import dataclass, field

from routing.events import SupervisionMode
from routing.ids import AgentId, CallId, LineId, OfferId, QueueId, SupervisorLegId
from routing.states import AgentState, CallState


@dataclass(slots=True)
class CallEntry:
    id: CallId
    seq: int  # arrival order: the place in line, kept through failed offers, moves and callbacks
    did: str
    source: str
    line: LineId
    line_name: str
    queue: QueueId | None  # None for calls that never queue (on-call chain, voicemail after hours)
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
    max_wait_at: float | None = None  # when max wait ends, until its timer is set (Router._arm_max_wait)
    rule_due: bool = False  # a rule came due while the call was ringing someone
    visited: tuple[QueueId, ...] = ()
    held_for: AgentId | None = None  # sticky: waiting for this agent alone
    announced: int | None = None  # last position announced, which must never go up
    callback_offered: bool = False
    callback_of: CallId | None = None
    after_hours: bool = False
    chain_step: int = 0
    offers: dict[OfferId, None] = field(default_factory=dict)  # ringing now (several in ring-all)
    offer: OfferId | None = None  # the answered offer
    agent: AgentId | None = None
    on_call: str | None = None
    recording: str | None = None
    answered_at: float | None = None  # the first answer: the call as a whole
    stretch_at: float | None = None  # when the current agent's stretch began (their talk time)
    attempts: int = 0
    parts: int = 0  # agents' stretches logged on their own so far (transfers, escalations)
    escalation: Escalation | None = None
    supervised: int = 0  # supervisor legs placed on this call so far (their ids count on)
    wait_round: int = 0  # bumped when the maximum wait restarts (transfer, move); older timers lapse

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


@dataclass(slots=True)
class Escalation:
    """An escalation to the line's on-call chain: who asked, who is rung, how it went so far."""

    agent: AgentId | None  # None once the agent has hung up: it goes on blind
    step: int = 0
    attempts: tuple[tuple[str, str], ...] = ()
    at: float = 0.0  # when the person now rung started ringing


@dataclass(slots=True)
class Supervision:
    """A supervisor on an agent's call: their phone ``leg`` rings until ``answered``, then hears it."""

    supervisor: AgentId
    agent: AgentId
    call: CallId
    mode: SupervisionMode
    leg: SupervisorLegId
    answered: bool = False


@dataclass(slots=True)
class OfferEntry:
    id: OfferId
    call: CallId
    agent: AgentId | None  # None: an on-call person's number
    label: str  # the agent id or the on-call person's name
    deadline: float
    ringing: bool = False
    answered: bool = False  # kept after the answer: its leg ending means the agent hung up


@dataclass(slots=True)
class AgentEntry:
    id: AgentId
    state: AgentState = AgentState.LOGGED_OUT
    reason: str | None = None
    since: float = 0.0
    until: float | None = None  # end of wrap-up or of a timed pause
    call: CallId | None = None
    version: int = 0  # bumped on every state change; stale ready-heap entries and timers lapse
    ready_seq: int = 0
    misses: int = 0  # consecutive unanswered offers
    day: int = -1  # the ordinal of the day the counters below are for
    calls_today: int = 0
    talk_today_s: float = 0.0
