"""The routing plan: numbers, service lines, queues, agents and their rules, as plain immutable data.

Built by ``config`` from the config file; the router only reads it. DIDs are already E.164 here.
Every field has a default a new call center can live with: hold music and a position announcement,
an overflow to voicemail when a queue is full, a maximum wait, one missed ring before a pause.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

from routing.hours import Hours
from routing.ids import AgentId, LineId, QueueId


class Strategy(enum.StrEnum):
    """How a queue picks among the ready agents that match its skills equally well."""

    LONGEST_IDLE = "longest-idle"  # ready (idle) the longest
    ROUND_ROBIN = "round-robin"  # offered a call of this queue the longest ago
    FEWEST_CALLS = "fewest-calls"  # fewest calls answered today
    LEAST_TALK_TIME = "least-talk-time"  # least time talking today
    RING_ALL = "ring-all"  # every matching ready agent at once; the first to answer wins
    RANDOM = "random"  # a deterministic shuffle, so a replay of the same events picks the same agent
    SKILLS_BASED = "skills-based"  # the highest skill levels, then the longest idle


class Action(enum.StrEnum):
    """What an overflow rule (or a full queue) does with a waiting call."""

    WIDEN = "widen"  # lower or drop skill requirements
    ADD_QUEUE = "add-queue"  # let another queue's agents take the call too
    MOVE = "move"  # move the call to another queue (the answering service is a queue), keeping its place
    CALLBACK = "callback"  # offer the caller a callback (press 1); the callback keeps the call's place
    VOICEMAIL = "voicemail"  # stop waiting and take a message
    HANG_UP = "hang-up"  # end the call as no-agent (after a goodbye prompt)


@dataclass(frozen=True, slots=True)
class Rule:
    """``after_s`` seconds into its wait in this queue, do ``action`` to the call."""

    after_s: float
    action: Action
    queue: QueueId | None = None  # for add-queue and move
    skills: Mapping[str, int] = field(default_factory=dict)  # for widen: new minimum levels, 0 = drop

    def __post_init__(self) -> None:
        if self.action in (Action.ADD_QUEUE, Action.MOVE) and self.queue is None:
            raise ValueError(f"a {self.action} rule needs a queue")


@dataclass(frozen=True, slots=True)
class Priorities:
    """Who jumps ahead; a call's priority is the highest that applies, FIFO within a priority."""

    tiers: Mapping[str, int] = field(default_factory=dict)  # customer tier -> priority, e.g. vip: 10
    repeat_within_s: float = 0.0  # a caller who called within this long is a repeat caller (0: off)
    repeat: int = 0
    callback: int = 0


@dataclass(frozen=True, slots=True)
class NoAnswerPolicy:
    """What happens to an agent who lets offers ring out."""

    misses: int = 1  # consecutive unanswered offers before the agent is paused
    pause_s: float = 0.0  # how long the ring-no-answer pause lasts; 0: until the agent is ready again


@dataclass(frozen=True, slots=True, kw_only=True)
class Queue:
    id: QueueId
    name: str
    ring_timeout_s: float = 15.0
    # A caller who has waited this long in total leaves with outcome no-agent instead of waiting forever.
    max_wait_s: float = 900.0
    strategy: Strategy = Strategy.LONGEST_IDLE
    skills: Mapping[str, int] = field(default_factory=dict)  # skill -> minimum level
    rules: tuple[Rule, ...] = ()  # in order of after_s
    max_length: int = 0  # waiting calls; 0 = no limit
    when_full: Action = Action.VOICEMAIL  # VOICEMAIL, HANG_UP, or MOVE to full_queue
    full_queue: QueueId | None = None
    wrap_up_s: float = 0.0  # after-call work before the agent is offered the next call
    sticky_s: float = 0.0  # hold a returning caller this long for the agent who served them last
    priorities: Priorities = field(default_factory=Priorities)
    announce_every_s: float = 60.0  # position and expected wait; 0: never
    expected_handle_s: float = 180.0  # handle time assumed for the wait estimate until calls are seen
    no_answer: NoAnswerPolicy = field(default_factory=NoAnswerPolicy)
    voicemail_max_s: float = 180.0

    @property
    def needs_caller_profile(self) -> bool:
        p = self.priorities
        return self.sticky_s > 0 or bool(p.tiers) or (p.repeat_within_s > 0 and p.repeat != 0)


@dataclass(frozen=True, slots=True)
class OnCallStep:
    """One person in an on-call chain: rung for ``ring_timeout_s``, then the next one. In an escalation,
    a person who picks up has as long again to press 1 (accept) before the next one is rung.

    ``number``: what the attempt records as dialled (the schedule's phone number); None: ``endpoint``.
    ``warm``: once they press 1, the agent (if still on the line) speaks with them before connecting the
    caller (a warm patch); else the caller is connected at once (cold)."""

    name: str
    endpoint: str
    ring_timeout_s: float = 20.0
    number: str | None = None
    warm: bool = False


class AfterHoursKind(enum.StrEnum):
    QUEUE = "queue"  # to the answering service's queue
    ON_CALL = "on-call"  # ring the on-call chain; a message if nobody answers
    VOICEMAIL = "voicemail"
    HANG_UP = "hang-up"  # a closed message, then goodbye


@dataclass(frozen=True, slots=True)
class AfterHours:
    kind: AfterHoursKind = AfterHoursKind.VOICEMAIL
    queue: QueueId | None = None
    chain: tuple[OnCallStep, ...] = ()


@dataclass(frozen=True, slots=True)
class Did:
    number: str  # E.164
    source: str  # the ad source / campaign tag the number stands for
    line: LineId


@dataclass(frozen=True, slots=True, kw_only=True)
class Line:
    id: LineId
    name: str
    queue: QueueId
    hours: Hours | None = None  # None: always open
    after_hours: AfterHours = field(default_factory=AfterHours)
    on_call: tuple[OnCallStep, ...] = ()  # who an agent escalates a caller to (answering service)
    escalation_rounds: int = 2  # how many times an escalation goes through its chain before giving up

    @property
    def escalation_chain(self) -> tuple[OnCallStep, ...]:
        """The line's own on-call chain, else the after-hours one: the same doctors, as a rule."""
        return self.on_call or self.after_hours.chain


@dataclass(frozen=True, slots=True, kw_only=True)
class Agent:
    id: AgentId
    name: str
    endpoint: str  # what the PBX dials, e.g. PJSIP/1001
    queues: tuple[QueueId, ...]
    penalties: Mapping[QueueId, int] = field(default_factory=dict)  # lower is preferred; default 0
    skills: Mapping[str, int] = field(default_factory=dict)

    def penalty(self, queue: QueueId) -> int:
        return self.penalties.get(queue, 0)


DEFAULT_PAUSE_REASONS = ("break", "lunch", "training", "meeting", "other")


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    dids: Mapping[str, Did] = field(default_factory=dict)
    lines: Mapping[LineId, Line] = field(default_factory=dict)
    queues: Mapping[QueueId, Queue] = field(default_factory=dict)
    agents: Mapping[AgentId, Agent] = field(default_factory=dict)
    # The router's own safety net for a PBX that never reports the end of a ring.
    offer_grace_s: float = 5.0
    # How long a call may wait for the customer store's answer (tier, last agent) before it is routed
    # without it; only queues that use the caller's profile wait at all.
    identify_timeout_s: float = 1.0
    pause_reasons: tuple[str, ...] = DEFAULT_PAUSE_REASONS
    timezone: str = "UTC"  # the center's own day, for "today" in fewest-calls and least-talk-time
