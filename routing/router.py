"""The router: feed it events, it answers with commands. Pure and synchronous.

Skeleton policy: one queue per service line, FIFO callers, the longest-idle ready agent (ready the
longest) gets the next call. An agent whose phone rings out goes not-ready (``ring-no-answer``) so the
call is not bounced back to an empty desk; the call keeps its place in the queue.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field

from routing import commands as cmd
from routing import events as ev
from routing.errors import UnknownAgent
from routing.ids import AgentId, CallId, LineId, OfferId, QueueId, bridge_id, offer_id
from routing.plan import Plan
from routing.records import CallRecord, Outcome, Party
from routing.states import (
    AgentState,
    AgentTrigger,
    CallState,
    CallTrigger,
    next_agent_state,
    next_call_state,
)

RING_NO_ANSWER = "ring-no-answer"
ENDED_MEMORY = 10_000  # far more calls than can end between an ARI disconnect and the reconnect


@dataclass(slots=True)
class _Call:
    id: CallId
    seq: int  # arrival order: the place in the queue, kept when an offer fails
    did: str
    source: str
    line: LineId
    line_name: str
    queue: QueueId
    caller_number: str | None
    caller_name: str | None
    arrived_at: float
    state: CallState = CallState.WAITING
    offer: OfferId | None = None
    agent: AgentId | None = None
    answered_at: float | None = None
    offers: int = 0


@dataclass(slots=True)
class _Offer:
    id: OfferId
    call: CallId
    agent: AgentId
    deadline: float
    ringing: bool = False
    answered: bool = False  # kept after the answer: its leg ending means the agent hung up


@dataclass(slots=True)
class _Agent:
    id: AgentId
    state: AgentState = AgentState.LOGGED_OUT
    reason: str | None = None
    since: float = 0.0
    call: CallId | None = None


@dataclass(frozen=True, slots=True)
class AgentView:
    """A read-only snapshot of one agent, for consoles that (re)connect."""

    agent: AgentId
    state: AgentState
    reason: str | None
    since: float
    call: CallId | None


@dataclass(order=True, slots=True)
class _Timer:
    at: float
    seq: int
    kind: str = field(compare=False)  # "offer" or "max-wait"
    key: str = field(compare=False)


class Router:
    def __init__(self, plan: Plan) -> None:
        self._plan = plan
        self._calls: dict[CallId, _Call] = {}
        self._offers: dict[OfferId, _Offer] = {}
        self._agents = {a: _Agent(a) for a in plan.agents}
        self._waiting: dict[QueueId, list[tuple[int, CallId]]] = {q: [] for q in plan.queues}
        # Insertion order is readiness order, so the first key is the longest-idle agent: O(1) to pick.
        self._ready: dict[QueueId, dict[AgentId, None]] = {q: {} for q in plan.queues}
        self._timers: list[_Timer] = []
        # Ids of calls already over, oldest first, so a replayed arrival (a StasisStart seen again after
        # an ARI reconnect, before our hangup took effect) is not taken for a new call. Bounded.
        self._ended: dict[CallId, None] = {}
        self._seq = 0
        self._handlers: dict[type, Callable[[ev.Event], list[cmd.Command]]] = {
            ev.CallArrived: self._on_call_arrived,  # type: ignore[dict-item]
            ev.CallerHungUp: self._on_caller_hung_up,  # type: ignore[dict-item]
            ev.OfferRinging: self._on_offer_ringing,  # type: ignore[dict-item]
            ev.OfferAnswered: self._on_offer_answered,  # type: ignore[dict-item]
            ev.OfferEnded: self._on_offer_ended,  # type: ignore[dict-item]
            ev.OfferFailed: self._on_offer_failed,  # type: ignore[dict-item]
            ev.BridgeFailed: self._on_bridge_failed,  # type: ignore[dict-item]
            ev.AgentLoggedIn: self._on_agent_logged_in,  # type: ignore[dict-item]
            ev.AgentBecameReady: self._on_agent_ready,  # type: ignore[dict-item]
            ev.AgentPaused: self._on_agent_paused,  # type: ignore[dict-item]
            ev.AgentLoggedOut: self._on_agent_logged_out,  # type: ignore[dict-item]
            ev.Tick: self._on_tick,  # type: ignore[dict-item]
        }

    # --- reading --------------------------------------------------------------------------------
    def agent_view(self, agent: AgentId) -> AgentView:
        a = self._agent(agent)
        return AgentView(a.id, a.state, a.reason, a.since, a.call)

    def call_state(self, call: CallId) -> CallState:
        c = self._calls.get(call)
        return CallState.ENDED if c is None else c.state

    def waiting(self, queue: QueueId) -> list[CallId]:
        """Calls waiting in ``queue``, first in line first."""
        return [cid for _, cid in sorted(self._waiting[queue]) if self._is_waiting(cid)]

    @property
    def active_calls(self) -> int:
        return len(self._calls)

    # --- the one entry point --------------------------------------------------------------------
    def handle(self, event: ev.Event) -> list[cmd.Command]:
        return self._handlers[type(event)](event)

    # --- calls ----------------------------------------------------------------------------------
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
        call = _Call(
            e.call, self._seq, e.did, did.source, line.id, line.name, line.queue,
            e.caller_number, e.caller_name, e.at,
        )  # fmt: skip
        self._calls[call.id] = call
        self._push_waiting(call)
        self._add_timer(e.at + self._plan.queues[line.queue].max_wait_s, "max-wait", call.id)
        return [cmd.AnswerCall(call.id), *self._dispatch(call.queue, e.at)]

    def _on_caller_hung_up(self, e: ev.CallerHungUp) -> list[cmd.Command]:
        call = self._calls.get(e.call)
        if call is None:
            return []  # we ended it ourselves; the PBX is confirming
        next_call_state(call.id, call.state, CallTrigger.HANG_UP)
        out: list[cmd.Command] = []
        if call.state is CallState.OFFERED:
            out += self._withdraw_offer(call, "caller-hung-up", e.at)
        elif call.state is CallState.CONNECTED:
            assert call.offer is not None and call.agent is not None
            out.append(cmd.EndCall(call.id, (call.offer,), bridge_id(call.id)))
            out += self._free_agent(call.agent, AgentTrigger.CALL_END, e.at)
        outcome = Outcome.ANSWERED if call.answered_at is not None else Outcome.ABANDONED
        out.append(self._finish(call, outcome, Party.CALLER, e.at))
        out += self._dispatch(call.queue, e.at)
        return out

    def _on_bridge_failed(self, e: ev.BridgeFailed) -> list[cmd.Command]:
        call = self._calls.get(e.call)
        if call is None:
            return []
        next_call_state(call.id, call.state, CallTrigger.BRIDGE_FAILED)
        assert call.offer is not None and call.agent is not None
        out: list[cmd.Command] = [cmd.EndCall(call.id, (call.id, call.offer), bridge_id(call.id))]
        out += self._free_agent(call.agent, AgentTrigger.CALL_END, e.at)
        out.append(self._finish(call, Outcome.ANSWERED, Party.SYSTEM, e.at))
        return out + self._dispatch(call.queue, e.at)

    # --- offers ---------------------------------------------------------------------------------
    def _on_offer_ringing(self, e: ev.OfferRinging) -> list[cmd.Command]:
        offer = self._offers.get(e.offer)
        if offer is None or offer.ringing or offer.answered:
            return []  # Dial RINGING and the Ringing state change both report it; pop once
        offer.ringing = True
        call = self._calls[offer.call]
        return [
            cmd.PopScreen(
                offer.agent, call.id, offer.id, call.caller_number, call.caller_name, call.did,
                call.source, call.line, call.line_name, call.queue, e.at - call.arrived_at,
            )
        ]  # fmt: skip

    def _on_offer_answered(self, e: ev.OfferAnswered) -> list[cmd.Command]:
        offer = self._offers.get(e.offer)
        if offer is None or offer.answered:
            return []  # withdrawn (its leg is being hung up), or the answer reported twice
        call, agent = self._calls[offer.call], self._agents[offer.agent]
        call_next = next_call_state(call.id, call.state, CallTrigger.ANSWER)
        agent_next = next_agent_state(agent.id, agent.state, AgentTrigger.ANSWER)
        offer.answered = True
        call.state, call.answered_at = call_next, e.at
        out: list[cmd.Command] = [
            cmd.BridgeCall(call.id, offer.id, bridge_id(call.id)),
            cmd.CallConnected(agent.id, call.id, e.at),
        ]
        return out + self._set_agent(agent, agent_next, None, e.at)

    def _on_offer_ended(self, e: ev.OfferEnded) -> list[cmd.Command]:
        offer = self._offers.get(e.offer)
        if offer is None:
            return []  # a leg we hung up ourselves
        if not offer.answered:
            return self._offer_unanswered(offer, "no-answer", e.at)
        call = self._calls[offer.call]
        assert call.agent is not None
        out: list[cmd.Command] = [cmd.EndCall(call.id, (call.id,), bridge_id(call.id))]
        out += self._free_agent(call.agent, AgentTrigger.CALL_END, e.at)
        out.append(self._finish(call, Outcome.ANSWERED, Party.AGENT, e.at))
        return out + self._dispatch(call.queue, e.at)

    def _on_offer_failed(self, e: ev.OfferFailed) -> list[cmd.Command]:
        offer = self._offers.get(e.offer)
        if offer is None or offer.answered:
            return []
        return self._offer_unanswered(offer, f"failed: {e.reason}", e.at)

    def _offer_unanswered(self, offer: _Offer, reason: str, at: float) -> list[cmd.Command]:
        """The agent did not take it: the agent pauses, the call goes back to its place in line."""
        call, agent = self._calls[offer.call], self._agents[offer.agent]
        call_next = next_call_state(call.id, call.state, CallTrigger.OFFER_LOST)
        agent_next = next_agent_state(agent.id, agent.state, AgentTrigger.NO_ANSWER)
        del self._offers[offer.id]
        call.state, call.offer, call.agent = call_next, None, None
        agent.call = None
        self._push_waiting(call)
        out: list[cmd.Command] = [
            cmd.CancelOffer(offer.id, call.id),
            cmd.WithdrawOffer(agent.id, call.id, offer.id, reason),
        ]
        out += self._set_agent(agent, agent_next, RING_NO_ANSWER, at)
        return out + self._dispatch(call.queue, at)

    def _withdraw_offer(self, call: _Call, reason: str, at: float) -> list[cmd.Command]:
        """Stop the agent's phone for a reason that is not the agent's fault; the agent stays ready."""
        assert call.offer is not None and call.agent is not None
        offer = self._offers.pop(call.offer)
        out: list[cmd.Command] = [
            cmd.CancelOffer(offer.id, call.id),
            cmd.WithdrawOffer(offer.agent, call.id, offer.id, reason),
        ]
        call.offer, call.agent = None, None
        return out + self._free_agent(offer.agent, AgentTrigger.OFFER_WITHDRAWN, at)

    # --- agents ---------------------------------------------------------------------------------
    def _on_agent_logged_in(self, e: ev.AgentLoggedIn) -> list[cmd.Command]:
        agent = self._agent(e.agent)
        new = next_agent_state(agent.id, agent.state, AgentTrigger.LOG_IN)
        if new is agent.state:
            return []
        return self._set_agent(agent, new, "logged-in", e.at)

    def _on_agent_ready(self, e: ev.AgentBecameReady) -> list[cmd.Command]:
        agent = self._agent(e.agent)
        new = next_agent_state(agent.id, agent.state, AgentTrigger.READY)
        if new is agent.state:
            return []  # already ready: keep the place in the idle order
        return self._set_agent(agent, new, None, e.at) + self._dispatch_for(agent.id, e.at)

    def _on_agent_paused(self, e: ev.AgentPaused) -> list[cmd.Command]:
        agent = self._agent(e.agent)
        new = next_agent_state(agent.id, agent.state, AgentTrigger.PAUSE)
        return self._set_agent(agent, new, e.reason, e.at)

    def _on_agent_logged_out(self, e: ev.AgentLoggedOut) -> list[cmd.Command]:
        agent = self._agent(e.agent)
        new = next_agent_state(agent.id, agent.state, AgentTrigger.LOG_OUT)
        if new is agent.state:
            return []
        return self._set_agent(agent, new, None, e.at)

    def _free_agent(self, agent_id: AgentId, trigger: AgentTrigger, at: float) -> list[cmd.Command]:
        agent = self._agents[agent_id]
        new = next_agent_state(agent.id, agent.state, trigger)
        agent.call = None
        return self._set_agent(agent, new, None, at) + self._dispatch_for(agent.id, at)

    def _set_agent(
        self, agent: _Agent, state: AgentState, reason: str | None, at: float
    ) -> list[cmd.Command]:
        was_ready = agent.state is AgentState.READY
        agent.state, agent.reason, agent.since = state, reason, at
        if state is AgentState.READY and not was_ready:
            for q in self._plan.agents[agent.id].queues:
                self._ready[q][agent.id] = None
        elif state is not AgentState.READY and was_ready:
            for q in self._plan.agents[agent.id].queues:
                self._ready[q].pop(agent.id, None)
        return [cmd.AgentStateChanged(agent.id, state, reason, at)]

    # --- time -----------------------------------------------------------------------------------
    def _on_tick(self, e: ev.Tick) -> list[cmd.Command]:
        out: list[cmd.Command] = []
        while self._timers and self._timers[0].at <= e.at:
            timer = heapq.heappop(self._timers)
            if timer.kind == "offer":
                offer = self._offers.get(OfferId(timer.key))
                # The PBX never told us the ring ended: do not leave the agent ringing forever.
                if offer is not None and not offer.answered:
                    out += self._offer_unanswered(offer, "ring-timeout", e.at)
            else:
                out += self._max_wait(CallId(timer.key), e.at)
        return out

    def _max_wait(self, call_id: CallId, at: float) -> list[cmd.Command]:
        call = self._calls.get(call_id)
        if call is None or call.state is CallState.CONNECTED:
            return []
        next_call_state(call.id, call.state, CallTrigger.MAX_WAIT)
        out: list[cmd.Command] = []
        if call.state is CallState.OFFERED:
            out += self._withdraw_offer(call, "max-wait", at)
        out.append(cmd.EndCall(call.id, (call.id,), None))
        out.append(self._finish(call, Outcome.NO_AGENT, Party.SYSTEM, at))
        return out

    def _add_timer(self, at: float, kind: str, key: str) -> None:
        self._seq += 1
        heapq.heappush(self._timers, _Timer(at, self._seq, kind, key))

    # --- matching -------------------------------------------------------------------------------
    def _dispatch_for(self, agent: AgentId, at: float) -> list[cmd.Command]:
        out: list[cmd.Command] = []
        for q in self._plan.agents[agent].queues:
            out += self._dispatch(q, at)
        return out

    def _dispatch(self, queue: QueueId, at: float) -> list[cmd.Command]:
        """Pair the first waiting caller with the longest-idle ready agent until one side runs out."""
        out: list[cmd.Command] = []
        waiting, ready = self._waiting[queue], self._ready[queue]
        while ready:
            call = self._pop_waiting(waiting)
            if call is None:
                break
            out += self._offer(call, self._agents[next(iter(ready))], at)
        return out

    def _offer(self, call: _Call, agent: _Agent, at: float) -> list[cmd.Command]:
        call.offers += 1
        offer = _Offer(offer_id(call.id, call.offers), call.id, agent.id, at)
        timeout = self._plan.queues[call.queue].ring_timeout_s
        offer.deadline = at + timeout + self._plan.offer_grace_s
        call.state = next_call_state(call.id, call.state, CallTrigger.OFFER)
        call.offer, call.agent = offer.id, agent.id
        agent.call = call.id
        self._offers[offer.id] = offer
        self._add_timer(offer.deadline, "offer", offer.id)
        endpoint = self._plan.agents[agent.id].endpoint
        out: list[cmd.Command] = [
            cmd.OfferCall(offer.id, call.id, agent.id, endpoint, timeout, call.caller_number)
        ]
        new = next_agent_state(agent.id, agent.state, AgentTrigger.OFFER)
        return out + self._set_agent(agent, new, None, at)

    def _push_waiting(self, call: _Call) -> None:
        heapq.heappush(self._waiting[call.queue], (call.seq, call.id))

    def _pop_waiting(self, waiting: list[tuple[int, CallId]]) -> _Call | None:
        while waiting:
            _, cid = heapq.heappop(waiting)
            if self._is_waiting(cid):
                return self._calls[cid]
        return None

    def _is_waiting(self, call: CallId) -> bool:
        c = self._calls.get(call)
        return c is not None and c.state is CallState.WAITING

    # --- helpers --------------------------------------------------------------------------------
    def _agent(self, agent: AgentId) -> _Agent:
        try:
            return self._agents[agent]
        except KeyError:
            raise UnknownAgent(agent) from None

    def _finish(self, call: _Call, outcome: Outcome, by: Party, at: float) -> cmd.LogCall:
        del self._calls[call.id]
        self._remember_ended(call.id)
        if call.offer is not None:
            self._offers.pop(call.offer, None)
        call.state = CallState.ENDED
        return cmd.LogCall(
            CallRecord(
                call.id, call.did, call.source, call.line, call.line_name, call.queue,
                call.caller_number, call.caller_name, call.agent, call.arrived_at, call.answered_at,
                at, outcome, by, call.offers,
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
