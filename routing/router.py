"""The router: feed it events, it answers with commands. Pure, synchronous and deterministic.

The policy, in the order a call meets it:

- A call to a closed line (hours, holiday, closure) follows the line's after-hours policy: the
  answering-service queue, the on-call chain (each person rung in turn, a message if nobody answers),
  voicemail, or a closed message.
- In a queue that uses the caller's profile (tier priority, repeat callers, sticky agent), the call first
  waits up to ``identify_timeout_s`` for the customer store's answer.
- A waiting call is matched with the best ready agent of its pools (``routing/pools.py``): lowest
  penalty, then best skill match, then the queue's strategy (``routing/strategies.py``). A ready agent
  takes the best waiting call of their preferred queues: lowest penalty first, then priority, then the
  longest wait. So nothing waits while a matching agent is ready.
- Overflow rules fire as the call waits: widen skills, add another queue's agents, move, offer a
  callback, voicemail, hang up; a full queue sends new calls where ``when_full`` says.
- An agent who lets an offer ring out is paused (``ring-no-answer``) once the queue's ``no_answer``
  policy says so, and the call goes back to its place. After a call, the agent is in wrap-up for the
  queue's ``wrap_up_s``.
- From the console, during a call: hang up (a decline while the phone rings), hold and resume, blind
  transfers to a queue (keeping the caller's place by arrival), an agent or an outside number, and
  escalation to the line's on-call chain. An agent who lets go of a caller has their stretch logged at
  once as ``<call>~<n>``; the call keeps its id and is logged when it ends. See docs/acd.md section 7.
- From a supervisor's console: listen to, whisper to or barge into an agent's connected call on the
  supervisor's own phone, for as long as that agent has the caller; move a waiting call to another
  queue, or put it at the front of its own. See docs/acd.md section 8.
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple
from zoneinfo import ZoneInfo

from routing import commands as cmd
from routing import events as ev
from routing.book import AgentEntry, CallEntry, Escalation, OfferEntry, Supervision
from routing.commands import EscalationStatus
from routing.errors import (
    AgentNotReady,
    IllegalTransition,
    NoOnCall,
    UnknownAgent,
    UnknownQueue,
    UnknownReason,
)
from routing.events import SupervisionMode, TransferKind
from routing.ids import (
    AgentId,
    CallId,
    OfferId,
    QueueId,
    bridge_id,
    callback_id,
    offer_id,
    segment_id,
    snoop_id,
    supervision_bridge_id,
    supervisor_leg_id,
)
from routing.ids import recording_name as recording_for
from routing.plan import Action, AfterHoursKind, Plan, Queue, Rule, Strategy
from routing.pools import LazyHeap, Pool
from routing.records import CallRecord, Outcome, Party
from routing.states import (
    AgentState,
    AgentTrigger,
    CallState,
    CallTrigger,
    next_agent_state,
    next_call_state,
)
from routing.strategies import Standing, meets, ready_key, skill_score

RING_NO_ANSWER = "ring-no-answer"
ENDED_MEMORY = 10_000  # far more calls than can end between an ARI disconnect and the reconnect
DIAL_TIMEOUT_S = 30.0  # how long a callback rings the customer, and a transfer an outside number
HANDLE_SMOOTHING = 0.2  # weight of the newest call in a queue's running handle time

# Symbolic prompts; telephony/ maps them to sound files.
GOODBYE, CLOSED, CALLBACK_CONFIRMED = "goodbye", "closed", "callback-confirmed"

_S, _AT, _CT = CallState, AgentTrigger, CallTrigger
_QUEUED = (_S.IDENTIFYING, _S.WAITING, _S.OFFERED)
_TALKING = (_S.CONNECTED, _S.HELD, _S.ESCALATING)  # answered, the caller still on the line
_SUPERVISABLE = (_S.CONNECTED, _S.HELD)  # an agent and a caller on a call, nothing else going on
_PHONE_BUSY = (AgentState.READY, AgentState.RINGING, AgentState.ON_CALL)  # may not supervise now


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
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


class _Timer(NamedTuple):
    """Ordered by ``(at, seq)``: ``seq`` is unique, so the rest is never compared."""

    at: float
    seq: int
    kind: str
    key: str
    token: int


class Router:
    def __init__(self, plan: Plan) -> None:
        self._plan = plan
        self._tz = ZoneInfo(plan.timezone)
        self._day = (0.0, 0.0, 0)  # the center's current day: start, end (Unix s) and ordinal
        self._calls: dict[CallId, CallEntry] = {}
        self._offers: dict[OfferId, OfferEntry] = {}
        self._agents = {a: AgentEntry(a) for a in plan.agents}
        self._timers: list[_Timer] = []
        # Ids of calls already over, oldest first, so a replayed arrival (a StasisStart seen again after
        # an ARI reconnect, before our hangup took effect) is not taken for a new call. Bounded.
        self._ended: dict[CallId, None] = {}
        self._seq = 0
        self._steps = {q: _requirement_steps(queue) for q, queue in plan.queues.items()}
        self._ready: dict[Pool, LazyHeap[AgentId]] = {}
        self._waiting: dict[Pool, LazyHeap[CallId]] = {}
        for q, steps in self._steps.items():
            for k in range(len(steps)):
                self._ready[(q, k)] = LazyHeap(self._agent_live)
                self._waiting[(q, k)] = LazyHeap(self._call_live)
        self._agent_pools = {a: self._pools_of(a) for a in plan.agents}
        # What filing a ready agent needs, worked out once per queue: one key serves all its pools.
        self._filing = {a: self._filing_of(a) for a in plan.agents}
        self._queued: dict[QueueId, dict[CallId, None]] = {q: {} for q in plan.queues}
        self._held: dict[AgentId, list[CallId]] = {}
        self._last_offer: dict[tuple[QueueId, AgentId], int] = {}
        self._handle_s = {q: queue.expected_handle_s for q, queue in plan.queues.items()}
        self._supervisions: dict[AgentId, Supervision] = {}  # by supervisor; a handful at most
        self._handlers: dict[type, Callable[[ev.Event], list[cmd.Command]]] = {
            ev.CallArrived: self._on_call_arrived,  # type: ignore[dict-item]
            ev.CallerHungUp: self._on_caller_hung_up,  # type: ignore[dict-item]
            ev.CallerIdentified: self._on_caller_identified,  # type: ignore[dict-item]
            ev.CallbackRequested: self._on_callback_requested,  # type: ignore[dict-item]
            ev.CustomerAnswered: self._on_customer_answered,  # type: ignore[dict-item]
            ev.OfferRinging: self._on_offer_ringing,  # type: ignore[dict-item]
            ev.OfferAnswered: self._on_offer_answered,  # type: ignore[dict-item]
            ev.OfferEnded: self._on_offer_ended,  # type: ignore[dict-item]
            ev.OfferFailed: self._on_offer_failed,  # type: ignore[dict-item]
            ev.BridgeFailed: self._on_bridge_failed,  # type: ignore[dict-item]
            ev.AgentLoggedIn: self._on_agent_logged_in,  # type: ignore[dict-item]
            ev.AgentBecameReady: self._on_agent_ready,  # type: ignore[dict-item]
            ev.AgentPaused: self._on_agent_paused,  # type: ignore[dict-item]
            ev.AgentLoggedOut: self._on_agent_logged_out,  # type: ignore[dict-item]
            ev.WrapUpExtended: self._on_wrap_up_extended,  # type: ignore[dict-item]
            ev.AgentHungUp: self._on_agent_hung_up,  # type: ignore[dict-item]
            ev.HoldRequested: self._on_hold_requested,  # type: ignore[dict-item]
            ev.ResumeRequested: self._on_resume_requested,  # type: ignore[dict-item]
            ev.TransferRequested: self._on_transfer_requested,  # type: ignore[dict-item]
            ev.EscalationRequested: self._on_escalation_requested,  # type: ignore[dict-item]
            ev.SupervisionRequested: self._on_supervision_requested,  # type: ignore[dict-item]
            ev.SupervisionEnded: self._on_supervision_ended,  # type: ignore[dict-item]
            ev.SupervisorAnswered: self._on_supervisor_answered,  # type: ignore[dict-item]
            ev.SupervisorLegEnded: self._on_supervisor_leg_ended,  # type: ignore[dict-item]
            ev.CallMoved: self._on_call_moved,  # type: ignore[dict-item]
            ev.CallPrioritised: self._on_call_prioritised,  # type: ignore[dict-item]
            ev.Tick: self._on_tick,  # type: ignore[dict-item]
        }

    # --- reading --------------------------------------------------------------------------------
    def agent_view(self, agent: AgentId) -> AgentView:
        a = self._agent(agent)
        return AgentView(a.id, a.state, a.reason, a.since, a.call, a.until)

    def call_state(self, call: CallId) -> CallState:
        c = self._calls.get(call)
        return CallState.ENDED if c is None else c.state

    def waiting(self, queue: QueueId) -> list[CallId]:
        """Calls waiting in ``queue`` (not ringing anyone), first in line first."""
        calls = [self._calls[c] for c in self._queued[queue]]
        waiting = [c for c in calls if c.state in (_S.WAITING, _S.IDENTIFYING)]
        return [c.id for c in sorted(waiting, key=CallEntry.order)]

    def call_view(self, call: CallId) -> CallView | None:
        """A read-only snapshot of a call in progress; None once it is over."""
        c = self._calls.get(call)
        if c is None:
            return None
        return CallView(
            c.id, c.state, c.queue, c.priority, c.seq, c.held_for, c.agent, tuple(c.offers),
            c.is_callback, c.after_hours, c.arrived_at, c.step, c.extra,
            c.state in (_S.HELD, _S.ESCALATING), self._escalation_view(c),
            tuple((s.supervisor, s.mode) for s in self._supervisions.values() if s.call == c.id),
            c.caller_number,
        )  # fmt: skip

    def _escalation_view(self, c: CallEntry) -> EscalationView | None:
        e = c.escalation
        if e is None:
            return None
        person = self._plan.lines[c.line].escalation_chain[e.step].name
        return EscalationView(e.agent, EscalationStatus.RINGING, person, e.attempts, e.at)

    def may_take(self, agent: AgentId, call: CallId) -> bool:
        """Whether ``agent`` meets what ``call`` asks for now (queue, skill step, added queues)."""
        c = self._calls[call]
        if c.queue is None:
            return False
        return any(pool in self._call_pools(c) for _, pool in self._agent_pools[agent])

    def audit(self) -> list[str]:
        """What breaks the router's promises right now, found the slow way; empty when all is well.

        Checked by brute force over every call and agent rather than through the heaps, so it catches
        a heap that has lost track: for the invariant tests, and cheap enough for a health check.
        """
        problems: list[str] = []
        holders: dict[AgentId, list[OfferId]] = {}
        for offer in self._offers.values():
            if offer.agent is not None and not offer.answered:
                holders.setdefault(offer.agent, []).append(offer.id)
        problems += [f"{a} rings for {len(o)} offers" for a, o in holders.items() if len(o) > 1]
        ready = [a.id for a in self._agents.values() if a.state is AgentState.READY]
        for c in self._calls.values():
            if c.state is _S.OFFERED and c.queue is not None:
                ring_all = self._plan.queues[c.queue].strategy is Strategy.RING_ALL
                if len(c.offers) > 1 and not ring_all:
                    problems.append(f"{c.id} rings {len(c.offers)} agents outside ring-all")
            if c.state is _S.WAITING and c.held_for is None and c.queue is not None:
                idle = [a for a in ready if self.may_take(a, c.id)]
                if idle:
                    problems.append(f"{c.id} waits while {idle[0]} is ready for it")
            problems += self._audit_talk(c)
        problems += self._audit_supervision()
        for a in self._agents.values():
            mine = a.call in self._calls and self._calls[a.call].agent == a.id
            if a.state is AgentState.ON_CALL and not mine:
                problems.append(f"{a.id} is on a call that is not theirs")
        return problems

    def _audit_talk(self, c: CallEntry) -> list[str]:
        """A call on hold or escalating still has its agent on the line; an escalation rings one person."""
        problems = []
        if c.state is _S.HELD and c.agent is None:
            problems.append(f"{c.id} is on hold for no agent")
        if (c.state is _S.ESCALATING) != (c.escalation is not None):
            problems.append(f"{c.id} is {c.state} with escalation {c.escalation}")
        if c.state is _S.ESCALATING:
            ringing = [o for o in c.offers if o in self._offers and not self._offers[o].answered]
            if len(ringing) != 1:
                problems.append(f"{c.id} escalates to {len(ringing)} people at once")
        return problems

    def _audit_supervision(self) -> list[str]:
        """A supervision follows its agent's stretch of the call, and takes the supervisor's phone."""
        problems = []
        for s in self._supervisions.values():
            c = self._calls.get(s.call)
            if c is None or c.agent != s.agent or c.state not in _TALKING:
                problems.append(f"{s.supervisor} supervises {s.agent} on {s.call}, which they are not on")
            if self._agents[s.supervisor].state in _PHONE_BUSY:
                problems.append(f"{s.supervisor} supervises while {self._agents[s.supervisor].state}")
        return problems

    @property
    def active_calls(self) -> int:
        return len(self._calls)

    # --- the one entry point --------------------------------------------------------------------
    def handle(self, event: ev.Event) -> list[cmd.Command]:
        return self._handlers[type(event)](event)

    # --- arrival --------------------------------------------------------------------------------
    def _on_call_arrived(self, e: ev.CallArrived) -> list[cmd.Command]:
        if e.call in self._calls or e.call in self._ended:
            return []  # a replayed StasisStart after a reconnect: already ours, or already over
        did = self._plan.dids.get(e.did)
        if did is None:
            self._remember_ended(e.call)
            return [
                cmd.RejectCall(e.call, f"number {e.did} is not in the number plan"),
                cmd.LogCall(self._unrouted_record(e)),
            ]
        line = self._plan.lines[did.line]
        self._seq += 1
        call = CallEntry(
            e.call, self._seq, e.did, did.source, line.id, line.name, None,
            e.caller_number, e.caller_name, e.at,
        )  # fmt: skip
        self._calls[call.id] = call
        out: list[cmd.Command] = [cmd.AnswerCall(call.id)]
        if line.hours is not None and not line.hours.is_open(e.at):
            call.after_hours = True
            return out + self._after_hours(call, e.at)
        return out + self._arrive_in(call, line.queue, e.at)

    def _arrive_in(self, call: CallEntry, queue: QueueId, at: float) -> list[cmd.Command]:
        """First entry into a queue: the max-wait clock starts, and the caller may be looked up."""
        call.max_wait_at = at + self._plan.queues[queue].max_wait_s
        if call.caller_number is None or not self._plan.queues[queue].needs_caller_profile:
            return self._enter(call, queue, at)
        call.state = _S.IDENTIFYING  # not offered to anyone until the store answers or time runs out
        self._arm_max_wait(call)
        out = self._enter(call, queue, at)
        if call.state is not _S.IDENTIFYING:
            return out  # the queue was full: the call went to voicemail or was ended
        self._add_timer(at + self._plan.identify_timeout_s, "identify", call.id)
        return [cmd.IdentifyCaller(call.id, call.caller_number), *out]

    def _after_hours(self, call: CallEntry, at: float) -> list[cmd.Command]:
        policy = self._plan.lines[call.line].after_hours
        if policy.kind is AfterHoursKind.QUEUE and policy.queue is not None:
            return self._arrive_in(call, policy.queue, at)
        if policy.kind is AfterHoursKind.ON_CALL and policy.chain:
            return self._ring_on_call(call, at)
        if policy.kind is AfterHoursKind.HANG_UP:
            return self._end_unserved(call, at, CLOSED)
        return self._voicemail(call, at)

    def _enter(self, call: CallEntry, queue: QueueId, at: float, sent: bool = False) -> list[cmd.Command]:
        """Put the call in ``queue`` (on arrival or a move) unless it is full; keeps its place in line.

        ``sent``: a supervisor sent it there, so a full queue does not turn it away."""
        q = self._plan.queues[queue]
        # A callback or a transferred caller is never turned away: they keep the place they already had.
        turned_away = not call.is_callback and call.parts == 0 and not sent
        if q.max_length and turned_away and len(self._queued[queue]) >= q.max_length:
            call.visited += (queue,)
            if q.when_full is Action.MOVE and q.full_queue and q.full_queue not in call.visited:
                return self._enter(call, q.full_queue, at)
            if q.when_full is Action.HANG_UP:
                return self._end_unserved(call, at, GOODBYE)
            return self._voicemail(call, at)
        if call.queue is not None:
            self._queued[call.queue].pop(call.id, None)
        call.queue, call.step, call.extra, call.held_for = queue, 0, (), None
        call.visited += (queue,)
        call.entry += 1
        call.entered_at, call.rule_index, call.rule_due, call.announced = at, 0, False, None
        self._queued[queue][call.id] = None
        if call.state is _S.WAITING:
            return self._try_call(call, at)
        return []

    # --- the caller's profile -------------------------------------------------------------------
    def _on_caller_identified(self, e: ev.CallerIdentified) -> list[cmd.Command]:
        call = self._calls.get(e.call)
        if call is None or call.identified or call.queue is None:
            return []
        call.identified = True
        queue = self._plan.queues[call.queue]
        p = queue.priorities
        repeat = e.last_call_at is not None and 0 <= e.at - e.last_call_at <= p.repeat_within_s
        call.priority = max(call.priority, p.tiers.get(e.tier or "", 0), p.repeat if repeat else 0)
        if call.state is _S.IDENTIFYING:
            return self._identified(call, queue, e.last_agent, e.at)
        if call.state is _S.WAITING:
            return self._try_call(call, e.at)  # its place in line changed: re-file it
        return []

    def _identified(
        self, call: CallEntry, queue: Queue, last_agent: AgentId | None, at: float
    ) -> list[cmd.Command]:
        call.state = next_call_state(call.id, call.state, _CT.IDENTIFIED)
        agent = self._agents.get(last_agent) if last_agent is not None else None
        sticky = (
            queue.sticky_s > 0
            and agent is not None
            and queue.id in self._plan.agents[agent.id].queues
            and agent.state is not AgentState.LOGGED_OUT
        )
        if sticky and agent is not None:
            if agent.state is AgentState.READY:
                return self._offer(call, [agent], at)
            call.held_for = agent.id
            self._held.setdefault(agent.id, []).append(call.id)
            self._add_timer(at + queue.sticky_s, "sticky", call.id, call.entry)
            return self._arm(call, at)  # it waits, only not for just anyone
        return self._try_call(call, at)

    # --- matching -------------------------------------------------------------------------------
    def _try_call(self, call: CallEntry, at: float) -> list[cmd.Command]:
        """Offer a waiting call to the best ready agent of its pools, or file it in their waiting heaps."""
        if call.state is not _S.WAITING or call.held_for is not None:
            return []
        assert call.queue is not None  # calls that never queue are not matched with agents
        call.version += 1  # entries filed before lapse: this call is filed afresh below, or offered
        pools = self._call_pools(call)
        if self._plan.queues[call.queue].strategy is Strategy.RING_ALL:
            everyone = [self._agents[a] for pool in pools for a in self._ready[pool].drain()]
            if everyone:
                return self._offer(call, list({a.id: a for a in everyone}.values()), at)
        else:
            for pool in pools:
                top = self._ready[pool].peek()
                if top is not None:
                    return self._offer(call, [self._agents[top[1]]], at)
        for pool in pools:
            self._waiting[pool].push(call.order(), call.version, call.id)
        return self._arm(call, at)

    def _arm(self, call: CallEntry, at: float) -> list[cmd.Command]:
        """The call has to wait: start its rule and announcement clocks for this queue entry.

        Started only once a call waits, not when it arrives: most calls meet a ready agent at once and
        never need them. A rule already due (the call rang an agent past it) applies now.
        """
        self._arm_max_wait(call)
        if call.armed == call.entry:
            return []
        call.armed = call.entry
        assert call.queue is not None
        queue = self._plan.queues[call.queue]
        if queue.announce_every_s > 0 and not call.is_callback:
            self._add_timer(call.entered_at + queue.announce_every_s, "announce", call.id, call.entry)
        if call.rule_index >= len(queue.rules):
            return []
        due = call.entered_at + queue.rules[call.rule_index].after_s
        if due <= at:
            return self._fire_rule(call, at)
        self._add_timer(due, "rule", call.id, call.entry)
        return []

    def _arm_max_wait(self, call: CallEntry) -> None:
        """Max wait counts from arrival, but its timer is only set once it could matter: when the call
        waits, or rings someone past it. Most calls are answered first and never need it."""
        if call.max_wait_at is not None:
            self._add_timer(call.max_wait_at, "max-wait", call.id, call.wait_round)  # transfers restart it
            call.max_wait_at = None

    def _try_agent(self, agent_id: AgentId, at: float) -> list[cmd.Command]:
        """Give a ready agent the best waiting call of their most preferred queues."""
        agent = self._agents[agent_id]
        assert agent.state is AgentState.READY  # called only for an agent who has just become ready
        held = self._take_held(agent_id) if agent_id in self._held else None
        if held is not None:
            return self._offer(held, [agent], at)
        best: tuple[int, tuple[float | int | str, ...], CallId] | None = None
        for penalty, pool in self._agent_pools[agent_id]:
            if best is not None and penalty > best[0]:
                break
            top = self._waiting[pool].peek()
            if top is not None and (best is None or top[0] < best[1]):
                best = (penalty, top[0], top[1])
        if best is None:
            return []
        return self._offer(self._calls[best[2]], [agent], at)

    def _take_held(self, agent_id: AgentId) -> CallEntry | None:
        """The first-in-line call held for this agent (sticky routing), if any is still held."""
        calls = [self._calls[c] for c in self._held.pop(agent_id, ()) if c in self._calls]
        held = sorted((c for c in calls if c.held_for == agent_id), key=CallEntry.order)
        if not held:
            return None
        if len(held) > 1:
            self._held[agent_id] = [c.id for c in held[1:]]
        held[0].held_for = None
        return held[0]

    def _call_pools(self, call: CallEntry) -> list[Pool]:
        assert call.queue is not None
        if not call.extra:
            return [(call.queue, call.step)]
        return [(call.queue, call.step), *((q, 0) for q in call.extra)]

    def _pools_of(self, agent_id: AgentId) -> list[tuple[int, Pool]]:
        agent = self._plan.agents[agent_id]
        pools = [
            (agent.penalty(q), (q, k))
            for q in agent.queues
            for k, required in enumerate(self._steps[q])
            if meets(required, agent.skills)
        ]
        return sorted(pools, key=lambda p: p[0])

    def _filing_of(
        self, agent_id: AgentId
    ) -> list[tuple[QueueId, list[LazyHeap[AgentId]], int, int, Strategy]]:
        """Per queue of the agent: its ready heaps (one per skill step met), penalty, score, strategy."""
        agent = self._plan.agents[agent_id]
        out = []
        for q in dict.fromkeys(pool[0] for _, pool in self._agent_pools[agent_id]):
            heaps = [self._ready[pool] for _, pool in self._agent_pools[agent_id] if pool[0] == q]
            queue = self._plan.queues[q]
            out.append((q, heaps, agent.penalty(q), skill_score(queue.skills, agent.skills), queue.strategy))
        return out

    def _agent_live(self, agent: AgentId, version: int) -> bool:
        a = self._agents[agent]
        return a.state is AgentState.READY and a.version == version

    def _call_live(self, call: CallId, version: int) -> bool:
        c = self._calls.get(call)
        return c is not None and c.version == version and c.state is _S.WAITING and c.held_for is None

    # --- offers ---------------------------------------------------------------------------------
    def _offer(self, call: CallEntry, agents: list[AgentEntry], at: float) -> list[cmd.Command]:
        assert call.queue is not None
        queue = self._plan.queues[call.queue]
        call.state = next_call_state(call.id, call.state, _CT.OFFER)
        call.version += 1
        out: list[cmd.Command] = []
        for agent in agents:
            offer = self._new_offer(call, agent.id, agent.id, queue.ring_timeout_s, at)
            endpoint = self._plan.agents[agent.id].endpoint
            timeout = queue.ring_timeout_s
            out.append(cmd.OfferCall(offer, call.id, agent.id, endpoint, timeout, call.caller_number))
            self._seq += 1
            self._last_offer[(queue.id, agent.id)] = self._seq
            agent.call = call.id
            out += self._set_agent(agent, next_agent_state(agent.id, agent.state, _AT.OFFER), None, at)
        return out

    def _new_offer(
        self, call: CallEntry, agent: AgentId | None, label: str, timeout_s: float, at: float
    ) -> OfferId:
        call.attempts += 1
        offer = OfferEntry(offer_id(call.id, call.attempts), call.id, agent, label, 0.0)
        offer.deadline = at + timeout_s + self._plan.offer_grace_s
        if call.max_wait_at is not None and call.max_wait_at <= offer.deadline:
            self._arm_max_wait(call)
        self._offers[offer.id] = offer
        call.offers[offer.id] = None
        self._add_timer(offer.deadline, "offer", offer.id)
        return offer.id

    def _ring_on_call(self, call: CallEntry, at: float) -> list[cmd.Command]:
        step = self._plan.lines[call.line].after_hours.chain[call.chain_step]
        call.state = next_call_state(call.id, call.state, _CT.OFFER)
        offer = self._new_offer(call, None, step.name, step.ring_timeout_s, at)
        return [cmd.OfferCall(offer, call.id, None, step.endpoint, step.ring_timeout_s, call.caller_number)]

    def _on_offer_ringing(self, e: ev.OfferRinging) -> list[cmd.Command]:
        offer = self._offers.get(e.offer)
        if offer is None or offer.ringing or offer.answered or offer.agent is None:
            return []  # Dial RINGING and the Ringing state change both report it; pop once
        offer.ringing = True
        call = self._calls[offer.call]
        assert call.queue is not None
        return [
            cmd.PopScreen(
                offer.agent, call.id, offer.id, call.caller_number, call.caller_name, call.did,
                call.source, call.line, call.line_name, call.queue, e.at - call.arrived_at,
                call.priority, call.is_callback, call.after_hours,
            )
        ]  # fmt: skip

    def _on_offer_answered(self, e: ev.OfferAnswered) -> list[cmd.Command]:
        offer = self._offers.get(e.offer)
        if offer is None or offer.answered:
            return []  # withdrawn (its leg is being hung up), or the answer reported twice
        call = self._calls[offer.call]
        if call.state is _S.ESCALATING:
            return self._escalation_answered(call, offer, e.at)
        trigger = _CT.AGENT_TOOK_CALLBACK if call.awaits_customer else _CT.ANSWER
        call_next = next_call_state(call.id, call.state, trigger)
        out: list[cmd.Command] = []
        if len(call.offers) > 1:  # ring-all: first answer wins, every other phone stops at once
            out += self._withdraw_all(call, "answered-elsewhere", e.at, but=offer.id)
        offer.answered = True
        call.state, call.offer, call.agent = call_next, offer.id, offer.agent
        if call.queue is not None:
            self._queued[call.queue].pop(call.id, None)
        if offer.agent is None:
            call.on_call = offer.label
            call.answered_at = e.at if call.answered_at is None else call.answered_at
            return [*out, cmd.BridgeCall(call.id, offer.id, bridge_id(call.id))]
        agent = self._agents[offer.agent]
        agent.misses = 0
        if call.awaits_customer:
            assert call.caller_number is not None
            self._add_timer(e.at + DIAL_TIMEOUT_S + self._plan.offer_grace_s, "dial", call.id)
            out.append(cmd.DialCustomer(call.id, offer.id, call.caller_number, DIAL_TIMEOUT_S))
        else:
            # A transferred call keeps its first answer: the record of the call as a whole.
            call.answered_at = e.at if call.answered_at is None else call.answered_at
            call.stretch_at = e.at
            out.append(cmd.BridgeCall(call.id, offer.id, bridge_id(call.id)))
            out.append(cmd.CallConnected(agent.id, call.id, e.at))
        return out + self._set_agent(agent, next_agent_state(agent.id, agent.state, _AT.ANSWER), None, e.at)

    def _on_customer_answered(self, e: ev.CustomerAnswered) -> list[cmd.Command]:
        call = self._calls.get(e.call)
        if call is None or call.state is not _S.DIALING:
            return []
        assert call.offer is not None and call.agent is not None
        call.state = next_call_state(call.id, call.state, _CT.CUSTOMER_ANSWER)
        call.answered_at = call.stretch_at = e.at
        return [
            cmd.BridgeCall(call.id, call.offer, bridge_id(call.id)),
            cmd.CallConnected(call.agent, call.id, e.at),
        ]

    def _on_offer_ended(self, e: ev.OfferEnded) -> list[cmd.Command]:
        offer = self._offers.get(e.offer)
        if offer is None:
            return []  # a leg we hung up ourselves
        if not offer.answered:
            return self._offer_unanswered(offer, "no-answer", e.at)
        call = self._calls[offer.call]
        if call.state is _S.ESCALATING:  # the agent's phone hung up: the escalation goes on blind
            return self._left_escalation(call, e.at)
        outcome = Outcome.UNREACHED if call.state is _S.DIALING else Outcome.ANSWERED
        out: list[cmd.Command] = [cmd.EndCall(call.id, (call.id,), bridge_id(call.id))]
        return out + self._close(call, outcome, Party.AGENT, e.at)

    def _on_offer_failed(self, e: ev.OfferFailed) -> list[cmd.Command]:
        offer = self._offers.get(e.offer)
        if offer is None or offer.answered:
            return []
        return self._offer_unanswered(offer, f"failed: {e.reason}", e.at)

    def _offer_unanswered(self, offer: OfferEntry, reason: str, at: float) -> list[cmd.Command]:
        """Nobody took this leg: the call goes back to its place in line, the agent may be paused.

        The call is placed before the agent is ready again, so it goes to another ready agent if there
        is one, and the agent, once ready, takes whichever call is first in line (not this one by rote).
        """
        call = self._calls[offer.call]
        if call.state is _S.ESCALATING:
            return self._escalation_missed(call, offer, reason, at)
        out = self._drop_offer(offer, reason)
        if offer.agent is not None:
            self._agents[offer.agent].call = None
        if not call.offers:
            out += self._call_lost_offers(call, at)
        if offer.agent is None:
            return out
        agent = self._agents[offer.agent]
        assert call.queue is not None
        policy = self._plan.queues[call.queue].no_answer
        agent.misses += 1
        if agent.misses < policy.misses:
            out += self._set_agent(agent, next_agent_state(agent.id, agent.state, _AT.MISSED), None, at)
            return out + self._try_agent(agent.id, at)
        until = at + policy.pause_s if policy.pause_s > 0 else None
        new = next_agent_state(agent.id, agent.state, _AT.NO_ANSWER)
        out += self._set_agent(agent, new, RING_NO_ANSWER, at, until)
        if until is not None:
            self._add_timer(until, "pause", agent.id, agent.version)
        return out

    def _call_lost_offers(self, call: CallEntry, at: float) -> list[cmd.Command]:
        call.state = next_call_state(call.id, call.state, _CT.OFFER_LOST)
        call.version += 1
        if call.queue is None:  # the on-call chain: the next person, or a message
            call.chain_step += 1
            if call.chain_step < len(self._plan.lines[call.line].after_hours.chain):
                return self._ring_on_call(call, at)
            return self._voicemail(call, at)
        if call.rule_due:
            call.rule_due = False
            return self._fire_rule(call, at)
        return self._try_call(call, at)

    def _withdraw(self, offer: OfferEntry, reason: str, at: float) -> list[cmd.Command]:
        """Stop a ringing leg for a reason that is not the agent's fault; the agent keeps their place."""
        out = self._drop_offer(offer, reason)
        if offer.agent is not None:
            agent = self._agents[offer.agent]
            agent.call = None
            new = next_agent_state(agent.id, agent.state, _AT.OFFER_WITHDRAWN)
            out += self._set_agent(agent, new, None, at, keep=True)
        return out

    def _drop_offer(self, offer: OfferEntry, reason: str) -> list[cmd.Command]:
        del self._offers[offer.id]
        call = self._calls[offer.call]
        call.offers.pop(offer.id, None)
        out: list[cmd.Command] = [cmd.CancelOffer(offer.id, call.id)]
        if offer.agent is not None:
            out.append(cmd.WithdrawOffer(offer.agent, call.id, offer.id, reason))
        return out

    def _withdraw_all(
        self, call: CallEntry, reason: str, at: float, but: OfferId | None = None
    ) -> list[cmd.Command]:
        """Stop every ringing leg of the call (``but`` the answered one); the agents take other calls."""
        out: list[cmd.Command] = []
        legs = [o for o in call.offers if o != but and not self._offers[o].answered]
        agents = [self._offers[o].agent for o in legs]
        for o in legs:
            out += self._withdraw(self._offers[o], reason, at)
        for agent in agents:
            if agent is not None:
                out += self._try_agent(agent, at)
        return out

    # --- the caller's side ----------------------------------------------------------------------
    def _on_caller_hung_up(self, e: ev.CallerHungUp) -> list[cmd.Command]:
        call = self._calls.get(e.call)
        if call is None:
            return []  # we ended it ourselves; the PBX is confirming
        out: list[cmd.Command]
        if call.state is _S.OFFERED:
            # Stop the ringing first, so the freed agents are offered other calls (not this one).
            call.state = next_call_state(call.id, call.state, _CT.HANG_UP)
            out = self._withdraw_all(call, "caller-hung-up", e.at)
            return [*out, self._finish(call, Outcome.ABANDONED, Party.CALLER, e.at)]
        if call.state in _TALKING:
            out = self._withdraw_all(call, "caller-hung-up", e.at)  # an on-call person still ringing
            legs = () if call.offer is None else (call.offer,)  # None: a blind escalation
            out.append(cmd.EndCall(call.id, legs, bridge_id(call.id)))
            return out + self._close(call, Outcome.ANSWERED, Party.CALLER, e.at)
        if call.state is _S.DIALING:
            assert call.offer is not None
            out = [cmd.EndCall(call.id, (call.offer,), bridge_id(call.id))]
            return out + self._close(call, Outcome.UNREACHED, Party.CALLER, e.at)
        outcome = Outcome.VOICEMAIL if call.state is _S.MESSAGE else Outcome.ABANDONED
        call.state = next_call_state(call.id, call.state, _CT.HANG_UP)
        return [self._finish(call, outcome, Party.CALLER, e.at)]

    def _on_bridge_failed(self, e: ev.BridgeFailed) -> list[cmd.Command]:
        call = self._calls.get(e.call)
        if call is None:
            return []
        next_call_state(call.id, call.state, _CT.BRIDGE_FAILED)  # refused unless connected
        out = self._withdraw_all(call, "bridge-failed", e.at)  # an on-call person still ringing
        legs = (call.id,) if call.offer is None else (call.id, call.offer)
        out.append(cmd.EndCall(call.id, legs, bridge_id(call.id)))
        return out + self._close(call, Outcome.ANSWERED, Party.SYSTEM, e.at, _CT.BRIDGE_FAILED)

    def _close(
        self, call: CallEntry, outcome: Outcome, by: Party, at: float, trigger: CallTrigger = _CT.HANG_UP
    ) -> list[cmd.Command]:
        """End an answered call (or a callback being dialed): log it and send the agent to wrap-up."""
        call.state = next_call_state(call.id, call.state, trigger)
        out = self._stop_supervisions_of(call.id, at)
        if call.agent is not None:
            out += self._after_call(self._agents[call.agent], call, at)
        return [*out, self._finish(call, outcome, by, at)]

    def _on_callback_requested(self, e: ev.CallbackRequested) -> list[cmd.Command]:
        call = self._calls.get(e.call)
        if call is None or not call.callback_offered or call.state is not _S.WAITING:
            return []  # a stray key press, or the caller is already being put through
        assert call.queue is not None and call.caller_number is not None
        call.state = next_call_state(call.id, call.state, _CT.HANG_UP)
        out: list[cmd.Command] = [
            cmd.EndCall(call.id, (call.id,), None, CALLBACK_CONFIRMED),
            self._finish(call, Outcome.CALLBACK, Party.CALLER, e.at),
        ]
        bonus = self._plan.queues[call.queue].priorities.callback
        back = CallEntry(
            callback_id(call.id), call.seq, call.did, call.source, call.line, call.line_name, None,
            call.caller_number, call.caller_name, e.at, priority=max(call.priority, bonus),
            identified=True, callback_of=call.id, after_hours=call.after_hours,
        )  # fmt: skip
        self._calls[back.id] = back
        return out + self._enter(back, call.queue, e.at)

    # --- call control, from the agent's console ---------------------------------------------------
    def _on_agent_hung_up(self, e: ev.AgentHungUp) -> list[cmd.Command]:
        """Like the phone's own hang-up; while the phone rings, a decline that counts as a miss."""
        agent = self._agent(e.agent)
        if agent.state is AgentState.RINGING:
            assert agent.call is not None
            call = self._calls[agent.call]
            offer = next(o for o in call.offers if self._offers[o].agent == agent.id)
            return self._offer_unanswered(self._offers[offer], "declined", e.at)
        agent, call = self._agent_call(e.agent)
        if call.state is _S.ESCALATING:
            return self._left_escalation(call, e.at)
        assert call.offer is not None
        outcome = Outcome.UNREACHED if call.state is _S.DIALING else Outcome.ANSWERED
        out: list[cmd.Command] = [cmd.EndCall(call.id, (call.id, call.offer), bridge_id(call.id))]
        return out + self._close(call, outcome, Party.AGENT, e.at)

    def _on_hold_requested(self, e: ev.HoldRequested) -> list[cmd.Command]:
        agent, call = self._agent_call(e.agent)
        call.state = next_call_state(call.id, call.state, _CT.HOLD)
        return [cmd.HoldCall(call.id, bridge_id(call.id)), cmd.CallHeld(agent.id, call.id, True, e.at)]

    def _on_resume_requested(self, e: ev.ResumeRequested) -> list[cmd.Command]:
        agent, call = self._agent_call(e.agent)
        call.state = next_call_state(call.id, call.state, _CT.RESUME)
        return [cmd.ResumeCall(call.id, bridge_id(call.id)), cmd.CallHeld(agent.id, call.id, False, e.at)]

    def _agent_call(self, agent_id: AgentId) -> tuple[AgentEntry, CallEntry]:
        """The agent and the call they are on; refused (not allowed now) unless they are on one."""
        agent = self._agent(agent_id)
        next_agent_state(agent.id, agent.state, _AT.CALL_CONTROL)  # refused unless on a call
        assert agent.call is not None
        return agent, self._calls[agent.call]

    def _on_transfer_requested(self, e: ev.TransferRequested) -> list[cmd.Command]:
        """A blind transfer: the agent's stretch is logged and they go to wrap-up; the caller waits on."""
        agent, call = self._agent_call(e.agent)
        next_call_state(call.id, call.state, _CT.TRANSFER)  # refused unless connected or held
        target: AgentEntry | None = None
        if e.kind is TransferKind.QUEUE and e.target not in self._plan.queues:
            raise UnknownQueue(e.target)
        if e.kind is TransferKind.AGENT:
            target = self._agent(AgentId(e.target))
            if target.state is not AgentState.READY:
                raise AgentNotReady(target.id, target.state)
        out: list[cmd.Command] = [cmd.HoldCall(call.id, bridge_id(call.id))]
        out += self._let_go(agent, call, e.at)
        assert call.queue is not None
        self._requeue(call, QueueId(e.target) if e.kind is TransferKind.QUEUE else call.queue, e.at)
        if target is not None:
            return out + self._offer(call, [target], e.at)
        if e.kind is TransferKind.NUMBER:
            return out + self._dial_number(call, e.target, e.at)
        return out + self._try_call(call, e.at)

    def _let_go(self, agent: AgentEntry, call: CallEntry, at: float) -> list[cmd.Command]:
        """The agent hands the caller on: their leg is hung up, their stretch logged, then wrap-up."""
        assert call.offer is not None
        leg, call.parts = call.offer, call.parts + 1
        record = CallRecord(
            segment_id(call.id, call.parts), call.did, call.source, call.line, call.line_name, call.queue,
            call.caller_number, call.caller_name, agent.id, call.arrived_at, call.stretch_at, at,
            Outcome.TRANSFERRED, Party.AGENT, call.attempts, call.priority, call.after_hours,
            callback_of=call.callback_of, part_of=call.id,
        )  # fmt: skip
        del self._offers[leg]  # its leg's end, which follows, is ours
        call.offers.pop(leg, None)
        out = self._stop_supervisions_of(call.id, at)
        out.append(cmd.DropLeg(call.id, leg, bridge_id(call.id)))
        out += self._after_call(agent, call, at)
        call.offer, call.agent, call.stretch_at = None, None, None
        return [*out, cmd.LogCall(record)]

    def _requeue(self, call: CallEntry, queue: QueueId, at: float) -> None:
        """A transferred caller waits again: a new entry in ``queue`` with its rules and a fresh maximum
        wait, but the place in line the call had by arrival, ahead of callers who came after it."""
        waiting = next_call_state(call.id, call.state, _CT.TRANSFER)
        call.max_wait_at = at + self._plan.queues[queue].max_wait_s
        call.wait_round += 1
        self._enter(call, queue, at)  # not waiting yet: it is filed, not matched
        call.state = waiting

    def _dial_number(self, call: CallEntry, number: str, at: float) -> list[cmd.Command]:
        call.state = next_call_state(call.id, call.state, _CT.OFFER)
        call.version += 1
        offer = self._new_offer(call, None, number, DIAL_TIMEOUT_S, at)
        return [cmd.DialNumber(offer, call.id, number, DIAL_TIMEOUT_S, call.caller_number)]

    # --- escalation to the line's on-call chain -----------------------------------------------------
    def _on_escalation_requested(self, e: ev.EscalationRequested) -> list[cmd.Command]:
        agent, call = self._agent_call(e.agent)
        escalating = next_call_state(call.id, call.state, _CT.ESCALATE)
        if not self._plan.lines[call.line].escalation_chain:
            raise NoOnCall(call.line)
        call.state, call.escalation = escalating, Escalation(agent.id)
        return [cmd.HoldCall(call.id, bridge_id(call.id)), *self._ring_escalation(call, e.at)]

    def _ring_escalation(self, call: CallEntry, at: float) -> list[cmd.Command]:
        assert call.escalation is not None
        call.escalation.at = at
        step = self._plan.lines[call.line].escalation_chain[call.escalation.step]
        offer = self._new_offer(call, None, step.name, step.ring_timeout_s, at)
        out: list[cmd.Command] = [
            cmd.OfferCall(offer, call.id, None, step.endpoint, step.ring_timeout_s, call.caller_number)
        ]
        return out + self._escalation_update(call, call.escalation, EscalationStatus.RINGING, step.name, at)

    @staticmethod
    def _escalation_update(
        call: CallEntry, esc: Escalation, status: EscalationStatus, person: str | None, at: float
    ) -> list[cmd.Command]:
        if esc.agent is None:
            return []  # the agent hung up: the call is no longer theirs to follow
        return [cmd.EscalationUpdate(esc.agent, call.id, status, person, esc.attempts, at)]

    def _escalation_answered(self, call: CallEntry, offer: OfferEntry, at: float) -> list[cmd.Command]:
        """The on-call person takes the caller; the agent, if still on the line, is let go."""
        assert call.escalation is not None
        esc, call.escalation = call.escalation, None
        call.state = next_call_state(call.id, call.state, _CT.ANSWER)
        offer.answered = True
        out = self._escalation_update(call, esc, EscalationStatus.ANSWERED, offer.label, at)
        if esc.agent is not None:
            out += self._let_go(self._agents[esc.agent], call, at)
        call.offer, call.on_call = offer.id, offer.label
        return [*out, cmd.BridgeCall(call.id, offer.id, bridge_id(call.id))]

    def _escalation_missed(
        self, call: CallEntry, offer: OfferEntry, reason: str, at: float
    ) -> list[cmd.Command]:
        """The next person in the chain; after the last, the caller is back with the agent (or, if the
        agent hung up meanwhile, leaves a message)."""
        assert call.escalation is not None
        esc = call.escalation
        out = self._drop_offer(offer, reason)
        esc.attempts += ((offer.label, _attempt_result(reason)),)
        esc.step += 1
        if esc.step < len(self._plan.lines[call.line].escalation_chain):
            return out + self._ring_escalation(call, at)
        call.escalation = None
        if esc.agent is None:
            return out + self._voicemail(call, at)
        call.state = next_call_state(call.id, call.state, _CT.ESCALATION_FAILED)
        out.append(cmd.ResumeCall(call.id, bridge_id(call.id)))
        return out + self._escalation_update(call, esc, EscalationStatus.FAILED, None, at)

    def _left_escalation(self, call: CallEntry, at: float) -> list[cmd.Command]:
        """The agent hangs up while the chain rings: their stretch ends, the escalation goes on blind."""
        assert call.escalation is not None and call.agent is not None
        call.escalation.agent = None
        return self._let_go(self._agents[call.agent], call, at)

    # --- supervisors: listen, whisper, barge ------------------------------------------------------
    def _on_supervision_requested(self, e: ev.SupervisionRequested) -> list[cmd.Command]:
        """Ring the supervisor's phone; once it answers (``SupervisorAnswered``) it hears the call.

        Refused (not allowed now) while the supervisor already supervises or their phone may be rung
        for a call (ready, ringing, on a call), and unless the agent is on a connected or held call.
        """
        boss, agent = self._agent(e.supervisor), self._agent(e.agent)
        if boss.id in self._supervisions:
            raise IllegalTransition(boss.id, "supervising", "supervise")
        if boss.state in _PHONE_BUSY:
            raise IllegalTransition(boss.id, boss.state, "supervise")
        call = self._calls.get(agent.call) if agent.state is AgentState.ON_CALL and agent.call else None
        if call is None or call.state not in _SUPERVISABLE:
            raise IllegalTransition(agent.id, agent.state if call is None else call.state, "supervise")
        call.supervised += 1
        leg = supervisor_leg_id(call.id, call.supervised)
        self._supervisions[boss.id] = Supervision(boss.id, agent.id, call.id, e.mode, leg)
        endpoint = self._plan.agents[boss.id].endpoint
        return [
            cmd.RingSupervisor(leg, call.id, boss.id, endpoint, DIAL_TIMEOUT_S),
            cmd.SupervisionChanged(boss.id, agent.id, call.id, e.mode, e.at),
        ]

    def _on_supervision_ended(self, e: ev.SupervisionEnded) -> list[cmd.Command]:
        boss = self._agent(e.supervisor)
        if boss.id not in self._supervisions:
            raise IllegalTransition(boss.id, boss.state, "stop-supervising")
        return self._stop_supervision(self._supervisions[boss.id], e.at)

    def _on_supervisor_answered(self, e: ev.SupervisorAnswered) -> list[cmd.Command]:
        s = next((s for s in self._supervisions.values() if s.leg == e.leg), None)
        if s is None or s.answered:
            return []  # already let go (its leg is being hung up), or the answer reported twice
        s.answered = True
        agent_leg = self._calls[s.call].offer
        assert agent_leg is not None  # a supervision ends with the agent's stretch
        if s.mode is SupervisionMode.BARGE:
            return [cmd.ConnectSupervisor(s.leg, s.call, agent_leg, s.mode, bridge_id(s.call), None)]
        bridge = supervision_bridge_id(s.leg)
        return [cmd.ConnectSupervisor(s.leg, s.call, agent_leg, s.mode, bridge, snoop_id(s.leg))]

    def _on_supervisor_leg_ended(self, e: ev.SupervisorLegEnded) -> list[cmd.Command]:
        s = next((s for s in self._supervisions.values() if s.leg == e.leg), None)
        return [] if s is None else self._stop_supervision(s, e.at)

    def _stop_supervisions_of(self, call: CallId, at: float) -> list[cmd.Command]:
        """The agent's stretch of ``call`` is over: every supervisor on it is let go."""
        out: list[cmd.Command] = []
        for s in [s for s in self._supervisions.values() if s.call == call]:
            out += self._stop_supervision(s, at)
        return out

    def _stop_supervision(self, s: Supervision, at: float) -> list[cmd.Command]:
        del self._supervisions[s.supervisor]
        barge = s.mode is SupervisionMode.BARGE
        snoop, bridge = (None, None) if barge else (snoop_id(s.leg), supervision_bridge_id(s.leg))
        return [
            cmd.DropSupervisor(s.leg, s.call, snoop, bridge),
            cmd.SupervisionChanged(s.supervisor, s.agent, s.call, None, at),
        ]

    # --- supervisors: the queue -------------------------------------------------------------------
    def _on_call_moved(self, e: ev.CallMoved) -> list[cmd.Command]:
        """A waiting call to another queue, like a transfer's caller: its place by arrival, that queue's
        rules and a fresh maximum wait; a full queue does not turn it away."""
        call = self._waiting_call(e.call, "move")
        if e.queue not in self._plan.queues:
            raise UnknownQueue(e.queue)
        queue = QueueId(e.queue)
        if not call.is_callback:  # a callback has nobody on the line to wait too long
            call.max_wait_at = e.at + self._plan.queues[queue].max_wait_s
            call.wait_round += 1
        return self._enter(call, queue, e.at, sent=True)

    def _on_call_prioritised(self, e: ev.CallPrioritised) -> list[cmd.Command]:
        """To the front of its queue: one priority above the highest of the calls waiting there now
        (unchanged if it is already above them all)."""
        call = self._waiting_call(e.call, "prioritise")
        assert call.queue is not None
        others = [self._calls[c] for c in self._queued[call.queue] if c != call.id]
        top = max((c.priority for c in others if c.state in (_S.WAITING, _S.IDENTIFYING)), default=None)
        if top is None or call.priority > top:
            return []
        call.priority = top + 1
        return self._try_call(call, e.at)  # filed again under its new place in line

    def _waiting_call(self, call_id: CallId, trigger: str) -> CallEntry:
        call = self._calls.get(call_id)
        if call is None or call.state not in (_S.WAITING, _S.IDENTIFYING) or call.queue is None:
            raise IllegalTransition(call_id, self.call_state(call_id), trigger)
        return call

    # --- rules, voicemail, the end of unserved calls --------------------------------------------
    def _fire_rule(self, call: CallEntry, at: float) -> list[cmd.Command]:
        assert call.queue is not None
        queue = self._plan.queues[call.queue]
        rule = queue.rules[call.rule_index]
        call.rule_index += 1
        if call.rule_index < len(queue.rules):
            after = queue.rules[call.rule_index].after_s
            self._add_timer(call.entered_at + after, "rule", call.id, call.entry)
        return self._apply(call, rule, at)

    def _apply(self, call: CallEntry, rule: Rule, at: float) -> list[cmd.Command]:
        assert call.queue is not None
        if rule.action is Action.WIDEN:
            call.step = min(call.step + 1, len(self._steps[call.queue]) - 1)
        elif rule.action is Action.ADD_QUEUE:
            assert rule.queue is not None  # Rule checks it
            call.extra = (*call.extra, rule.queue)
        elif rule.action is Action.MOVE:
            assert rule.queue is not None
            return self._enter(call, rule.queue, at)
        elif call.is_callback:
            return self._try_call(call, at)  # nobody is on the line to hear a prompt or leave a message
        elif rule.action is Action.CALLBACK:
            if call.caller_number is None:
                return self._try_call(call, at)
            call.callback_offered = True
            return [cmd.OfferCallbackChoice(call.id), *self._try_call(call, at)]
        elif rule.action is Action.VOICEMAIL:
            return self._voicemail(call, at)
        else:
            return self._end_unserved(call, at, GOODBYE)  # hang-up
        call.held_for = None
        return self._try_call(call, at)

    def _voicemail(self, call: CallEntry, at: float) -> list[cmd.Command]:
        call.state = next_call_state(call.id, call.state, _CT.VOICEMAIL)  # never while ringing someone
        if call.queue is not None:
            self._queued[call.queue].pop(call.id, None)
        call.version += 1
        call.recording = recording_for(call.id)
        limit = self._plan.queues[call.queue].voicemail_max_s if call.queue else 180.0
        self._add_timer(at + limit + self._plan.offer_grace_s, "message", call.id)
        return [cmd.TakeMessage(call.id, call.recording, limit)]

    def _end_unserved(
        self, call: CallEntry, at: float, farewell: str | None, reason: str = "gave-up"
    ) -> list[cmd.Command]:
        """The system gives up on a call no agent took: goodbye, and it is logged no-agent."""
        out: list[cmd.Command] = []
        was_offered = call.state is _S.OFFERED
        call.state = next_call_state(call.id, call.state, _CT.HANG_UP)
        if was_offered:
            out += self._withdraw_all(call, reason, at)
        out.append(cmd.EndCall(call.id, (call.id,), None, farewell))
        return [*out, self._finish(call, Outcome.NO_AGENT, Party.SYSTEM, at)]

    # --- agents ---------------------------------------------------------------------------------
    def _on_agent_logged_in(self, e: ev.AgentLoggedIn) -> list[cmd.Command]:
        agent = self._agent(e.agent)
        new = next_agent_state(agent.id, agent.state, _AT.LOG_IN)
        if new is agent.state:
            return []
        return self._set_agent(agent, new, "logged-in", e.at)

    def _on_agent_ready(self, e: ev.AgentBecameReady) -> list[cmd.Command]:
        agent = self._agent(e.agent)
        new = next_agent_state(agent.id, agent.state, _AT.READY)
        if new is agent.state:
            return []  # already ready: keep the place in the idle order
        agent.misses = 0
        return self._set_agent(agent, new, None, e.at) + self._try_agent(agent.id, e.at)

    def _on_agent_paused(self, e: ev.AgentPaused) -> list[cmd.Command]:
        agent = self._agent(e.agent)
        if e.reason not in self._plan.pause_reasons:
            raise UnknownReason(e.reason)
        return self._leave(agent, _AT.PAUSE, e.reason, e.at)

    def _on_agent_logged_out(self, e: ev.AgentLoggedOut) -> list[cmd.Command]:
        agent = self._agent(e.agent)
        if next_agent_state(agent.id, agent.state, _AT.LOG_OUT) is agent.state:
            return []
        return self._leave(agent, _AT.LOG_OUT, None, e.at)

    def _leave(
        self, agent: AgentEntry, trigger: AgentTrigger, reason: str | None, at: float
    ) -> list[cmd.Command]:
        """Pause or log out; from a ringing phone, the call goes back to its place in line."""
        new = next_agent_state(agent.id, agent.state, trigger)
        if agent.state is not AgentState.RINGING:
            return self._set_agent(agent, new, reason, at)
        assert agent.call is not None
        call = self._calls[agent.call]
        offer = next(o for o in call.offers if self._offers[o].agent == agent.id)
        out = self._drop_offer(self._offers[offer], "declined")
        agent.call = None
        out += self._set_agent(agent, new, reason, at)
        if not call.offers:
            out += self._call_lost_offers(call, at)
        return out

    def _on_wrap_up_extended(self, e: ev.WrapUpExtended) -> list[cmd.Command]:
        agent = self._agent(e.agent)
        new = next_agent_state(agent.id, agent.state, _AT.EXTEND_WRAP_UP)
        # The same wrap-up interval, only longer: ``since`` stays, the old timer lapses.
        agent.until = max(agent.until or e.at, e.at) + max(e.by_s, 0.0)
        agent.version += 1
        self._add_timer(agent.until, "wrap", agent.id, agent.version)
        return [cmd.AgentStateChanged(agent.id, new, agent.reason, agent.since, agent.until)]

    def _after_call(self, agent: AgentEntry, call: CallEntry, at: float) -> list[cmd.Command]:
        agent.call = None
        self._count(agent, call, at)
        wrap = self._plan.queues[call.queue].wrap_up_s if call.queue is not None else 0.0
        if wrap <= 0:
            new = next_agent_state(agent.id, agent.state, _AT.CALL_END_READY)
            return self._set_agent(agent, new, None, at) + self._try_agent(agent.id, at)
        new = next_agent_state(agent.id, agent.state, _AT.CALL_END)
        out = self._set_agent(agent, new, None, at, at + wrap)
        self._add_timer(at + wrap, "wrap", agent.id, agent.version)
        return out

    def _count(self, agent: AgentEntry, call: CallEntry, at: float) -> None:
        """Calls and talk time today (the center's day), and the queue's running handle time."""
        day = self._day_of(at)
        if day != agent.day:
            agent.day, agent.calls_today, agent.talk_today_s = day, 0, 0.0
        talk = 0.0 if call.stretch_at is None else at - call.stretch_at
        agent.calls_today += 1
        agent.talk_today_s += talk
        assert call.queue is not None  # agents only take calls from queues
        handle = talk + self._plan.queues[call.queue].wrap_up_s
        old = self._handle_s[call.queue]
        self._handle_s[call.queue] = old + HANDLE_SMOOTHING * (handle - old)

    def _day_of(self, at: float) -> int:
        """The center's calendar day at ``at`` (an ordinal); the day's bounds are kept, as most calls
        of a day end within it and converting every time through the time zone is not free."""
        start, end, day = self._day
        if start <= at < end:
            return day
        local = dt.datetime.fromtimestamp(at, self._tz).date()
        start = dt.datetime.combine(local, dt.time(0), self._tz).timestamp()
        end = dt.datetime.combine(local + dt.timedelta(days=1), dt.time(0), self._tz).timestamp()
        self._day = (start, end, local.toordinal())
        return self._day[2]

    def _set_agent(
        self,
        agent: AgentEntry,
        state: AgentState,
        reason: str | None,
        at: float,
        until: float | None = None,
        *,
        keep: bool = False,
    ) -> list[cmd.Command]:
        agent.state, agent.reason, agent.since, agent.until = state, reason, at, until
        agent.version += 1
        out: list[cmd.Command] = [cmd.AgentStateChanged(agent.id, state, reason, at, until)]
        if state is AgentState.READY:
            self._file_ready(agent, at, keep)
            if agent.id in self._supervisions:  # ready for calls again: the phone is theirs
                out += self._stop_supervision(self._supervisions[agent.id], at)
        return out

    def _file_ready(self, agent: AgentEntry, at: float, keep_place: bool) -> None:
        """Put a ready agent in the ready heap of each of their pools, keyed by each queue's strategy."""
        if not keep_place or agent.ready_seq == 0:
            self._seq += 1
            agent.ready_seq = self._seq
        self._seq += 1
        # Counters of an earlier day are today's zero; the key's day puts them ahead of today's.
        today = self._day_of(at)
        fresh = agent.day == today
        calls, talk = (agent.calls_today, agent.talk_today_s) if fresh else (0, 0.0)
        standing = Standing(agent.id, agent.ready_seq, today, calls, talk, self._seq)
        for queue, heaps, penalty, score, strategy in self._filing[agent.id]:
            last_offer = self._last_offer.get((queue, agent.id), 0) if strategy is Strategy.ROUND_ROBIN else 0
            key = ready_key(strategy, penalty, score, standing, last_offer)
            for heap in heaps:
                heap.push(key, agent.version, agent.id)

    # --- time -----------------------------------------------------------------------------------
    def _on_tick(self, e: ev.Tick) -> list[cmd.Command]:
        out: list[cmd.Command] = []
        while self._timers and self._timers[0].at <= e.at:
            timer = heapq.heappop(self._timers)
            out += self._timer_fired(timer, e.at)
        return out

    def _timer_fired(self, timer: _Timer, at: float) -> list[cmd.Command]:
        if timer.kind == "offer":
            offer = self._offers.get(OfferId(timer.key))
            # The PBX never told us the ring ended: do not leave the agent ringing forever.
            if offer is not None and not offer.answered:
                return self._offer_unanswered(offer, "ring-timeout", at)
            return []
        if timer.kind in ("wrap", "pause"):
            agent = self._agents[AgentId(timer.key)]
            if agent.version != timer.token:
                return []  # the agent moved on (or extended) since this timer was set
            trigger = _AT.WRAP_UP_DONE if timer.kind == "wrap" else _AT.PAUSE_OVER
            new = next_agent_state(agent.id, agent.state, trigger)
            return self._set_agent(agent, new, None, at) + self._try_agent(agent.id, at)
        call = self._calls.get(CallId(timer.key))
        if call is None:
            return []
        return self._call_timer(call, timer, at)

    def _call_timer(self, call: CallEntry, timer: _Timer, at: float) -> list[cmd.Command]:
        kind = timer.kind
        if kind in ("rule", "announce", "sticky") and timer.token != call.entry:
            return []  # set for a queue the call has since left
        if kind == "max-wait":
            if call.state not in _QUEUED or timer.token != call.wait_round:
                return []
            return self._end_unserved(call, at, GOODBYE, "max-wait")
        if kind == "identify":
            if call.state is not _S.IDENTIFYING:
                return []
            assert call.queue is not None
            return self._identified(call, self._plan.queues[call.queue], None, at)
        if kind == "sticky":
            if call.held_for is None:
                return []
            call.held_for = None
            return self._try_call(call, at)
        if kind == "rule":
            if call.state is not _S.WAITING:
                call.rule_due = call.state in _QUEUED
                return []
            return self._fire_rule(call, at)
        if kind == "announce":
            return self._announce(call, at)
        if kind == "message" and call.state is _S.MESSAGE:
            call.state = next_call_state(call.id, call.state, _CT.HANG_UP)
            return [
                cmd.EndCall(call.id, (call.id,), None),
                self._finish(call, Outcome.VOICEMAIL, Party.SYSTEM, at),
            ]
        if kind == "dial" and call.state is _S.DIALING:
            assert call.offer is not None
            out: list[cmd.Command] = [cmd.EndCall(call.id, (call.id, call.offer), bridge_id(call.id))]
            return out + self._close(call, Outcome.UNREACHED, Party.SYSTEM, at)
        return []

    def _announce(self, call: CallEntry, at: float) -> list[cmd.Command]:
        assert call.queue is not None
        queue = self._plan.queues[call.queue]
        self._add_timer(at + queue.announce_every_s, "announce", call.id, call.entry)
        if call.state not in (_S.WAITING, _S.IDENTIFYING):
            return []
        ahead = sum(1 for c in self._queued[call.queue] if self._calls[c].order() < call.order())
        position = ahead + 1 if call.announced is None else min(ahead + 1, call.announced)
        call.announced = position
        members = [a for a, spec in self._plan.agents.items() if call.queue in spec.queues]
        staffed = sum(1 for a in members if self._agents[a].state is not AgentState.LOGGED_OUT)
        expected = position * self._handle_s[call.queue] / max(staffed, 1)
        return [cmd.AnnouncePosition(call.id, position, round(expected, 1))]

    def _add_timer(self, at: float, kind: str, key: str, token: int = 0) -> None:
        self._seq += 1
        heapq.heappush(self._timers, _Timer(at, self._seq, kind, key, token))

    # --- helpers --------------------------------------------------------------------------------
    def _agent(self, agent: AgentId) -> AgentEntry:
        try:
            return self._agents[agent]
        except KeyError:
            raise UnknownAgent(agent) from None

    def _finish(self, call: CallEntry, outcome: Outcome, by: Party, at: float) -> cmd.LogCall:
        del self._calls[call.id]
        self._remember_ended(call.id)
        if call.queue is not None:
            self._queued[call.queue].pop(call.id, None)
        if call.offer is not None:
            self._offers.pop(call.offer, None)
        call.state = CallState.ENDED
        return cmd.LogCall(
            CallRecord(
                call.id, call.did, call.source, call.line, call.line_name, call.queue,
                call.caller_number, call.caller_name, call.agent, call.arrived_at, call.answered_at,
                at, outcome, by, call.attempts, call.priority, call.after_hours, call.on_call,
                call.recording, call.callback_of,
            )
        )  # fmt: skip

    def _remember_ended(self, call: CallId) -> None:
        self._ended[call] = None
        if len(self._ended) > ENDED_MEMORY:
            del self._ended[next(iter(self._ended))]

    @staticmethod
    def _unrouted_record(e: ev.CallArrived) -> CallRecord:
        return CallRecord(
            e.call, e.did, None, None, None, None, e.caller_number, e.caller_name, None,
            e.at, None, e.at, Outcome.NO_AGENT, Party.SYSTEM, 0,
        )  # fmt: skip


def _attempt_result(reason: str) -> str:
    """What an escalation attempt came to, for the agent: no-answer, busy, or the failure."""
    if reason in ("no-answer", "ring-timeout"):
        return "no-answer"
    return "busy" if reason == "failed: busy" else reason


def _requirement_steps(queue: Queue) -> list[dict[str, int]]:
    """The queue's skill requirement, then as each widening rule leaves it, in rule order."""
    steps = [dict(queue.skills)]
    for rule in queue.rules:
        if rule.action is Action.WIDEN:
            widened = {**steps[-1], **rule.skills}
            steps.append({name: level for name, level in widened.items() if level > 0})
    return steps
