"""The router's promises over random event sequences (Hypothesis stateful testing).

The machine plays the PBX, the callers and the agents. It answers the router's own commands (rings,
answers, rings out or fails the offers the router made), throws in late, repeated and illegal events,
lets time pass, and after every event checks what the router must always hold true:

- a call is never offered to two agents at once, and an agent never holds two calls;
- FIFO: no call is offered while an earlier caller of the same queue waits, and the longest-idle
  ready agent is the one rung;
- nothing waits while a ready agent of its queue exists;
- every call ends exactly once: one ``LogCall``, with one consistent outcome;
- what ``AgentStateChanged`` reported is what ``agent_view`` shows;
- an event the router refuses (``RoutingError``) changes nothing: a twin router that never saw it
  answers every later event identically.
"""

from __future__ import annotations

import contextlib
import enum
import itertools
import pickle
import types
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from routing_harness import (
    CALLER,
    OFFER_GRACE_S,
    RING_TIMEOUT_S,
    SALES,
    SALES_DID,
    SALES_RADIO_DID,
    SUPPORT,
    SUPPORT_DID,
    UNKNOWN_DID,
    make_plan,
)

from routing import commands as cmd
from routing import events as ev
from routing import timers
from routing.book import Book
from routing.errors import IllegalTransition, RoutingError, UnknownAgent
from routing.ids import AgentId, CallId, OfferId, QueueId
from routing.records import CallRecord, Outcome, Party
from routing.router import Router
from routing.states import AGENT_TRANSITIONS, AgentState, AgentTrigger, CallState

MAX_WAIT_S = 120.0
PLAN = make_plan(
    {"a1": (SALES,), "a2": (SALES,), "x1": (SALES, SUPPORT), "s1": (SUPPORT,)}, max_wait_s=MAX_WAIT_S
)
AGENTS = [AgentId(a) for a in PLAN.agents]
QUEUE_OF_DID = {SALES_DID: SALES, SALES_RADIO_DID: SALES, SUPPORT_DID: SUPPORT, UNKNOWN_DID: None}
_AgentEvent = Callable[[AgentId, float], ev.Event]
AGENT_EVENTS: dict[AgentTrigger, _AgentEvent] = {
    AgentTrigger.LOG_IN: ev.AgentLoggedIn,
    AgentTrigger.READY: ev.AgentBecameReady,
    AgentTrigger.PAUSE: lambda agent, at: ev.AgentPaused(agent, "break", at),
    AgentTrigger.LOG_OUT: ev.AgentLoggedOut,
}
# Steps of time: the router's deadlines (ring 15 s + grace 5 s, max wait 120 s), mostly shorter gaps.
STEPS = st.one_of(st.sampled_from([0, 0.5, 5, 15, 20, 60, 120]), st.floats(0, 25), st.floats(0, 150))

WAITING, OFFERED, CONNECTED, LEAVING, ENDED = "waiting", "offered", "connected", "leaving", "ended"


@dataclass
class _Call:
    """What the machine knows of a call, from the commands the router emitted about it."""

    queue: QueueId | None
    seq: int  # arrival order
    arrived_at: float
    status: str = "new"
    offers: int = 0

    @property
    def active(self) -> bool:
        return self.status not in ("new", ENDED)


OFFER_REPORTS = ["ringing", "answered", "answered", "ended", "failed", "lost"]


class RouterMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.router = Router(PLAN)
        self.twin = Router(PLAN)  # fed only the events the router accepted
        self.now = 0.0
        self.calls: dict[CallId, _Call] = {}
        self.live: dict[OfferId, cmd.OfferCall] = {}  # ringing or connected offers
        self.offered_at: dict[OfferId, float] = {}
        self.answered: set[OfferId] = set()
        self.popped: set[OfferId] = set()
        self.past: list[OfferId] = [OfferId("sb-never-1")]  # offers that are over, and one never made
        self.logs: Counter[CallId] = Counter()
        self.agent_state = dict.fromkeys(AGENTS, AgentState.LOGGED_OUT)
        self.ready_since: dict[AgentId, int] = {}  # readiness order, for longest idle
        self.keeps_place: dict[AgentId, bool] = {}  # the last offer was withdrawn through no fault of theirs
        self.readiness = itertools.count()
        # What the service's journal keeps (switchboard/journal.py): a snapshot of the books and every
        # event handled since, except ticks that fire no timer.
        self.snapshot = pickle.dumps(self.router.book)
        self.journal: list[ev.Event] = []

    # --- feeding ----------------------------------------------------------------------------------------
    def _view(self) -> dict[str, Any]:
        return {
            "agents": {a: self.router.agent_view(a) for a in AGENTS},
            "waiting": {q: self.router.waiting(q) for q in PLAN.queues},
            "calls": {c: self.router.call_state(c) for c in self.calls},
            "active": self.router.active_calls,
        }

    def _feed(self, event: ev.Event) -> list[cmd.Command] | RoutingError:
        before = self._view()
        if not isinstance(event, ev.Tick) or timers.any_due(self.router.book, event.at):
            self.journal.append(event)
        else:
            quiet = plain(self.router.book)
            self.router.handle(event)
            assert plain(self.router.book) == quiet, "a tick that fires no timer changed the books"
        try:
            out = self.router.handle(event)
        except RoutingError as error:
            assert self._view() == before, f"{event} raised {error!r} but changed the router"
            return error
        assert out == self.twin.handle(event), "a refused event earlier left a trace"
        self._follow(out, before["agents"])
        return out

    def _fed(self, event: ev.Event) -> list[cmd.Command]:
        out = self._feed(event)
        assert not isinstance(out, RoutingError), f"{event} is legal here but raised {out!r}"
        return out

    # --- the world --------------------------------------------------------------------------------------
    @initialize(agents=st.lists(st.sampled_from(AGENTS), unique=True))
    def agents_start_the_shift(self, agents: list[AgentId]) -> None:
        for agent in agents:
            self._fed(ev.AgentLoggedIn(agent, self.now))
            self._fed(ev.AgentBecameReady(agent, self.now))

    @rule(did=st.sampled_from(list(QUEUE_OF_DID)), number=st.sampled_from([CALLER, None]))
    def call_arrives(self, did: str, number: str | None) -> None:
        call, queue = CallId(f"c{len(self.calls) + 1}"), QUEUE_OF_DID[did]
        agent_free = any(_ready(self.router, a) and queue in _queues(a) for a in AGENTS)
        self.calls[call] = _Call(queue, len(self.calls), self.now)
        self._fed(ev.CallArrived(call, did, number, None, self.now))
        expected = ENDED if queue is None else OFFERED if agent_free else WAITING
        assert self.calls[call].status == expected

    @precondition(lambda self: self.calls)
    @rule(data=st.data())
    def caller_hangs_up(self, data: st.DataObject) -> None:
        """Mostly a caller still with us; sometimes the PBX confirming the end of a call already over."""
        active = [c for c, m in self.calls.items() if m.active]
        mostly_active = bool(active) and data.draw(st.integers(0, 4)) > 0
        call = data.draw(st.sampled_from(active) if mostly_active else _any(self.calls))
        was_active = self.calls[call].active
        out = self._fed(ev.CallerHungUp(call, self.now))
        assert [r.call for r in _records(out)] == ([call] if was_active else [])

    @precondition(lambda self: self.live)
    @rule(data=st.data(), report=st.sampled_from(OFFER_REPORTS))
    def pbx_reports_on_an_offer(self, data: st.DataObject, report: str) -> None:
        offer = data.draw(st.sampled_from(sorted(self.live)))
        answered, popped = offer in self.answered, offer in self.popped
        out = self._fed(_offer_event(report, offer, self.now))
        if report == "ringing":
            assert len(out) == (0 if answered or popped else 1)  # one screen pop per offer
        elif report in ("answered", "failed") and answered:
            assert out == []  # reported twice, or a failure after the answer
        elif report == "answered":
            assert offer in self.answered
        else:
            assert offer not in self.live  # rang out, failed, or the agent hung up: the offer is over

    @rule(agent=st.sampled_from(AGENTS), trigger=st.sampled_from(list(AGENT_EVENTS)))
    def agent_acts(self, agent: AgentId, trigger: AgentTrigger) -> None:
        legal = (self.router.agent_view(agent).state, trigger) in AGENT_TRANSITIONS
        out = self._feed(AGENT_EVENTS[trigger](agent, self.now))
        assert isinstance(out, IllegalTransition) is not legal

    @precondition(lambda self: self._idle_agents())
    @rule(data=st.data())
    def agent_gets_back_to_work(self, data: st.DataObject) -> None:
        agent = data.draw(st.sampled_from(self._idle_agents()))
        if self.router.agent_view(agent).state is AgentState.LOGGED_OUT:
            self._fed(ev.AgentLoggedIn(agent, self.now))
        self._fed(ev.AgentBecameReady(agent, self.now))

    def _idle_agents(self) -> list[AgentId]:
        idle = (AgentState.LOGGED_OUT, AgentState.NOT_READY)
        return [a for a in AGENTS if self.router.agent_view(a).state in idle]

    @rule(step=STEPS)
    def time_passes(self, step: float) -> None:
        self.now += step
        self._fed(ev.Tick(self.now))
        # Every timer due has fired: no phone rings past its deadline, no caller waits past max wait.
        for offer in set(self.live) - self.answered:
            assert self.now < self.offered_at[offer] + RING_TIMEOUT_S + OFFER_GRACE_S
        for call in (m for m in self.calls.values() if m.status in (WAITING, OFFERED)):
            assert self.now < call.arrived_at + MAX_WAIT_S

    @rule()
    def a_snapshot_is_taken(self) -> None:
        self.snapshot = pickle.dumps(self.router.book)
        self.journal.clear()

    @rule()
    def the_service_restarts(self) -> None:
        """The books rebuilt from the snapshot and the journal are the books; routing goes on with them."""
        rebuilt = Router(PLAN)
        book = pickle.loads(self.snapshot)
        assert isinstance(book, Book)
        rebuilt.book = book
        for event in self.journal:
            with contextlib.suppress(RoutingError):  # refused the first time too
                rebuilt.handle(event)
        assert plain(rebuilt.book) == plain(self.router.book)
        self.router = rebuilt

    @rule(data=st.data(), oddity=st.sampled_from(["late-offer", "replay", "bridge-failed", "ghost"]))
    def something_odd_happens(self, data: st.DataObject, oddity: str) -> None:
        """Late, repeated and illegal reports: answered with nothing, or refused without a trace."""
        if oddity == "late-offer":
            report = data.draw(st.sampled_from(["ringing", "answered", "ended", "failed"]))
            assert self._fed(_offer_event(report, data.draw(st.sampled_from(self.past)), self.now)) == []
        elif oddity == "replay" and self.calls:
            call = data.draw(_any(self.calls))
            if self.calls[call].active:  # an ended call's replay is a known gap: see the behaviour tests
                assert self._fed(ev.CallArrived(call, SALES_DID, CALLER, None, self.now)) == []
        elif oddity == "bridge-failed" and self.calls:
            connected = [c for c, m in self.calls.items() if m.status == CONNECTED]
            self._bridge_fails(data.draw(st.sampled_from(connected) if connected else _any(self.calls)))
        elif oddity == "ghost":
            event = AGENT_EVENTS[data.draw(st.sampled_from(list(AGENT_EVENTS)))](AgentId("ghost"), self.now)
            assert isinstance(self._feed(event), UnknownAgent)

    def _bridge_fails(self, call: CallId) -> None:
        status = self.calls[call].status
        out = self._feed(ev.BridgeFailed(call, "gone", self.now))
        if status == CONNECTED:
            assert [r.hung_up_by for r in _records(out)] == [Party.SYSTEM]
        elif status in (WAITING, OFFERED):
            assert isinstance(out, IllegalTransition)
        else:
            assert out == []

    def teardown(self) -> None:
        """Every caller hangs up: every call is then logged exactly once and every agent is free."""
        for call in [c for c, m in self.calls.items() if m.active]:
            self._fed(ev.CallerHungUp(call, self.now))
        assert all(self.logs[c] == 1 for c in self.calls)
        assert self.router.active_calls == 0
        assert not self.live
        busy = {AgentState.RINGING, AgentState.ON_CALL}
        assert not [a for a in AGENTS if self.router.agent_view(a).state in busy]

    # --- following the commands -------------------------------------------------------------------------
    def _follow(self, out: list[cmd.Command], agents_before: dict[AgentId, Any]) -> None:
        for i, command in enumerate(out):
            match command:
                case cmd.AnswerCall(call=call):
                    assert self.calls[call].status == "new"
                    self.calls[call].status = WAITING
                case cmd.RejectCall(call=call):
                    assert self.calls[call].status == "new" and self.calls[call].queue is None
                case cmd.OfferCall():
                    self._offered(command)
                case cmd.CancelOffer(offer=offer, call=call):
                    assert self.live.pop(offer).call == call and offer not in self.answered
                    self.past.append(offer)
                    self.calls[call].status = LEAVING if _ends_next(out[i + 1 :], call) else WAITING
                case cmd.WithdrawOffer(offer=offer, call=call, reason=reason, agent=agent):
                    assert out[i - 1] == cmd.CancelOffer(offer, call)
                    # Not the agent's doing (the caller left, or the agent declined): they keep their
                    # place in the idle order if they are ready again; so does one whose leg was lost.
                    blameless = reason in ("caller-hung-up", "max-wait", "leg-lost")
                    self.keeps_place[agent] = blameless
                    if reason == "ring-timeout":  # and no earlier
                        assert self.now >= self.offered_at[offer] + RING_TIMEOUT_S + OFFER_GRACE_S
                case cmd.PopScreen(offer=offer, call=call, agent=agent):
                    assert offer not in self.popped and offer not in self.answered
                    assert (self.live[offer].call, self.live[offer].agent) == (call, agent)
                    self.popped.add(offer)
                case cmd.BridgeCall(offer=offer, call=call):
                    assert self.calls[call].status == OFFERED and self.live[offer].call == call
                    self.answered.add(offer)
                    self.calls[call].status = CONNECTED
                case cmd.CallConnected(agent=agent, call=call):
                    assert self.calls[call].status == CONNECTED
                case cmd.EndCall(call=call):
                    assert self.calls[call].active and _ends_next(out[i + 1 :], call)
                    self._over(call)  # its agent is free from here on, before the call is logged
                    self.calls[call].status = LEAVING
                case cmd.AgentStateChanged(agent=agent, state=state):
                    fresh = not self.keeps_place.get(agent, False) or agent not in self.ready_since
                    if (
                        state is AgentState.READY
                        and self.agent_state[agent] is not AgentState.READY
                        and fresh
                    ):
                        self.ready_since[agent] = next(self.readiness)
                    self.keeps_place[agent] = False
                    self.agent_state[agent] = state
                case cmd.LogCall(record=record):
                    self._logged(record)
        self._check_after(out, agents_before)

    def _offered(self, offer: cmd.OfferCall) -> None:
        call = self.calls[offer.call]
        assert call.status == WAITING, "only a waiting call is offered"
        assert not [o for o in self.live.values() if o.call == offer.call], "a call offered twice at once"
        assert not [o for o in self.live.values() if o.agent == offer.agent], "an agent given two calls"
        assert offer.agent is not None and call.queue in PLAN.agents[offer.agent].queues
        earlier = [c for c, m in self.calls.items() if m.queue == call.queue and m.status == WAITING]
        assert min(earlier, key=lambda c: self.calls[c].seq) == offer.call, "FIFO"
        ready = [a for a in AGENTS if self.agent_state[a] is AgentState.READY and call.queue in _queues(a)]
        assert min(ready, key=self.ready_since.__getitem__) == offer.agent, "longest idle"
        call.status, call.offers = OFFERED, call.offers + 1
        self.live[offer.offer] = offer
        self.offered_at[offer.offer] = self.now
        assert offer.timeout_s == RING_TIMEOUT_S

    def _logged(self, record: CallRecord) -> None:
        call = self.calls[record.call]
        self.logs[record.call] += 1
        assert self.logs[record.call] == 1, "a call logged twice"
        self._over(record.call)
        call.status = ENDED
        assert record.offers == call.offers
        assert record.wait_s >= 0 and record.talk_s >= 0 and record.ended_at == self.now
        if record.outcome is Outcome.ANSWERED:
            assert record.answered_at is not None and record.agent is not None
        else:
            assert record.answered_at is None and record.talk_s == 0
            expected_by = Party.CALLER if record.outcome is Outcome.ABANDONED else Party.SYSTEM
            assert record.hung_up_by is expected_by
        assert (record.queue is None) is (call.queue is None)
        assert record.arrived_at == call.arrived_at
        if record.outcome is Outcome.NO_AGENT and call.queue is not None:  # max wait, and no earlier
            assert record.ended_at >= call.arrived_at + MAX_WAIT_S

    def _over(self, call: CallId) -> None:
        for offer in [o for o, c in self.live.items() if c.call == call]:
            del self.live[offer]
            self.past.append(offer)

    def _check_after(self, out: list[cmd.Command], agents_before: dict[AgentId, Any]) -> None:
        assert LEAVING not in {m.status for m in self.calls.values()}, "a call left without a log"
        reported = {c.agent: c for c in out if isinstance(c, cmd.AgentStateChanged)}
        held = {o.agent: o for o in self.live.values()}
        for agent in AGENTS:
            view = self.router.agent_view(agent)
            if agent in reported:
                last = reported[agent]
                assert (view.state, view.reason, view.since) == (last.state, last.reason, last.at)
            else:
                before = agents_before[agent]
                assert (view.state, view.reason, view.since) == (before.state, before.reason, before.since)
            assert view.state is self.agent_state[agent]
            offer = held.get(agent)
            if offer is None:
                assert view.call is None and view.state not in (AgentState.RINGING, AgentState.ON_CALL)
            else:
                assert view.call == offer.call
                on_call = offer.offer in self.answered
                assert view.state is (AgentState.ON_CALL if on_call else AgentState.RINGING)
        for queue in PLAN.queues:
            waiting = self.router.waiting(queue)
            modelled = [c for c, m in self.calls.items() if m.queue == queue and m.status == WAITING]
            assert waiting == modelled
            if waiting:
                assert not [a for a in AGENTS if _ready(self.router, a) and queue in _queues(a)], "idle agent"

    @invariant()
    def calls_are_where_the_commands_put_them(self) -> None:
        as_router = {WAITING: CallState.WAITING, OFFERED: CallState.OFFERED, CONNECTED: CallState.CONNECTED}
        for call, model in self.calls.items():
            assert self.router.call_state(call) is as_router.get(model.status, CallState.ENDED)
            assert self.logs[call] == (0 if model.active else 1)
        assert self.router.active_calls == sum(m.active for m in self.calls.values())


def plain(value: object) -> object:
    """``value`` as nested tuples of what it holds, to compare two books field by field (the heaps'
    bound methods by name: they point back at their book)."""
    if value is None or isinstance(value, (str, int, float, enum.Enum)):
        return value
    if isinstance(value, dict):
        return tuple((plain(k), plain(v)) for k, v in value.items())  # the order is part of the state
    if isinstance(value, (list, tuple)):
        return tuple(plain(item) for item in value)
    if isinstance(value, (set, frozenset)):
        return frozenset(plain(item) for item in value)
    if isinstance(value, types.MethodType):
        return value.__func__.__qualname__
    if isinstance(value, ZoneInfo):
        return str(value)
    names = [n for cls in type(value).__mro__ for n in getattr(cls, "__slots__", ())]
    names += list(getattr(value, "__dict__", {}))
    return (type(value).__name__, tuple((n, plain(getattr(value, n))) for n in names if hasattr(value, n)))


def _any(calls: dict[CallId, _Call]) -> st.SearchStrategy[CallId]:
    return st.sampled_from(list(calls))


def _ready(router: Router, agent: AgentId) -> bool:
    return router.agent_view(agent).state is AgentState.READY


def _queues(agent: AgentId) -> tuple[QueueId, ...]:
    return PLAN.agents[agent].queues


def _records(out: list[cmd.Command] | RoutingError) -> list[CallRecord]:
    assert not isinstance(out, RoutingError)
    return [c.record for c in out if isinstance(c, cmd.LogCall)]


def _ends_next(rest: list[cmd.Command], call: CallId) -> bool:
    """Whether ``call`` is logged later in this answer before it is offered again: leaving, not queued."""
    for command in rest:
        if isinstance(command, cmd.OfferCall) and command.call == call:
            return False
        if isinstance(command, cmd.LogCall) and command.record.call == call:
            return True
    return False


def _offer_event(report: str, offer: OfferId, at: float) -> ev.Event:
    if report == "ringing":
        return ev.OfferRinging(offer, at)
    if report == "answered":
        return ev.OfferAnswered(offer, at)
    if report == "ended":
        return ev.OfferEnded(offer, at)
    if report == "lost":  # found gone after a reconnect
        return ev.OfferLost(offer, at)
    return ev.OfferFailed(offer, "busy", at)


RouterMachine.TestCase.settings = settings(
    max_examples=200,
    stateful_step_count=50,
    deadline=None,
    database=None,  # keep no example database in the repository; failures print a reproduce blob
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
TestRouterInvariants = RouterMachine.TestCase
