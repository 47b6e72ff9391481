"""Training mode's promise over random event sequences (Hypothesis): no real caller is ever offered to an
agent in training, and no practice caller to an agent who is not; the audit finds nothing amiss."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from routing_harness import SALES, SALES_DID, SUPPORT, SUPPORT_DID, make_plan

from routing import commands as cmd
from routing import events as ev
from routing.errors import RoutingError
from routing.ids import AgentId, CallId, OfferId
from routing.router import Router

PLAN = make_plan({"a1": (SALES,), "a2": (SALES, SUPPORT), "a3": (SUPPORT,)}, max_wait_s=90.0)
AGENTS = [AgentId(a) for a in PLAN.agents]
agents = st.sampled_from(AGENTS)
dids = st.sampled_from([SALES_DID, SUPPORT_DID])


class TrainingMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.router = Router(PLAN)
        self.now = 0.0
        self.ids = itertools.count()
        self.practice: set[CallId] = set()
        self.legs: dict[OfferId, CallId] = {}
        self.calls: list[CallId] = []
        self.wrong: list[str] = []

    def feed(self, event: ev.Event) -> None:
        try:
            out = self.router.handle(event)
        except RoutingError:
            return
        trainees = self.router.book.training
        for offer in (c for c in out if isinstance(c, cmd.OfferCall)):
            self.legs[offer.offer] = offer.call
            practice = offer.call in self.practice
            if offer.agent is not None and practice != (offer.agent in trainees):
                self.wrong.append(f"{offer.call} (practice: {practice}) offered to {offer.agent}")

    @rule(gap=st.floats(0.0, 40.0))
    def time_passes(self, gap: float) -> None:
        self.now += gap
        self.feed(ev.Tick(self.now))

    @rule(did=dids)
    def real_caller(self, did: str) -> None:
        call = CallId(f"c{next(self.ids)}")
        self.calls.append(call)
        self.feed(ev.CallArrived(call, did, "+14155550123", None, self.now))

    @rule(agent=agents, did=dids)
    def practice_caller(self, agent: AgentId, did: str) -> None:
        call = CallId(f"p{next(self.ids)}")
        self.calls.append(call)
        self.practice.add(call)
        self.feed(ev.TrainingCallArrived(call=call, did=did, trainee=agent, caller_number=None,
                                         caller_name=None, at=self.now))  # fmt: skip

    @rule(agent=agents, rate=st.sampled_from([1.0, 4.0]))
    def training_starts(self, agent: AgentId, rate: float) -> None:
        self.feed(ev.TrainingStarted(agent, "boss", rate, self.now))

    @rule(agent=agents)
    def training_ends(self, agent: AgentId) -> None:
        self.feed(ev.TrainingEnded(agent, "boss", self.now))

    @rule(agent=agents)
    def agent_gets_ready(self, agent: AgentId) -> None:
        self.feed(ev.AgentLoggedIn(agent, self.now))
        self.feed(ev.AgentBecameReady(agent, self.now))

    @rule(agent=agents, what=st.sampled_from([ev.AgentLoggedOut, ev.AgentHungUp, ev.HoldRequested]))
    def agent_acts(
        self, agent: AgentId, what: type[ev.AgentLoggedOut | ev.AgentHungUp | ev.HoldRequested]
    ) -> None:
        self.feed(what(agent, self.now))

    @rule(agent=agents)
    def agent_pauses(self, agent: AgentId) -> None:
        self.feed(ev.AgentPaused(agent, "break", self.now))

    @rule(agent=agents, to=st.sampled_from([*AGENTS, SUPPORT]))
    def agent_transfers(self, agent: AgentId, to: str) -> None:
        kind = ev.TransferKind.QUEUE if to == SUPPORT else ev.TransferKind.AGENT
        self.feed(ev.TransferRequested(agent, kind, to, self.now))

    @rule(data=st.data(), what=st.sampled_from([ev.OfferRinging, ev.OfferAnswered, ev.OfferEnded]))
    def phone_does(
        self, data: st.DataObject, what: type[ev.OfferRinging | ev.OfferAnswered | ev.OfferEnded]
    ) -> None:
        if self.legs:
            self.feed(what(data.draw(st.sampled_from(sorted(self.legs))), self.now))

    @rule(data=st.data())
    def caller_hangs_up(self, data: st.DataObject) -> None:
        if self.calls:
            self.feed(ev.CallerHungUp(data.draw(st.sampled_from(self.calls)), self.now))

    @invariant()
    def practice_and_real_callers_never_meet_the_other_kind_of_agent(self) -> None:
        assert self.wrong == []

    @invariant()
    def the_audit_finds_nothing(self) -> None:
        assert self.router.audit() == []


TrainingMachine.TestCase.settings = settings(
    max_examples=150, stateful_step_count=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
test_training_invariants = TrainingMachine.TestCase
