"""A leg found gone after a restart or a reconnect (``OfferLost``): nobody saw how it ended, so it is
never held against the agent, and the call goes on as it would after any other end of that leg."""

from __future__ import annotations

from routing_harness import SALES, Scenario, make_plan, of_type

from routing import commands as cmd
from routing import events as ev
from routing.ids import AgentId, CallId, OfferId
from routing.plan import NoAnswerPolicy, OnCallStep, Strategy
from routing.records import Outcome, Party
from routing.states import AgentState

A, C1 = AgentState, CallId("c1")
LEG, NEXT = OfferId("sb-c1-1"), OfferId("sb-c1-2")


def lost(sc: Scenario, offer: OfferId, at: float) -> list[cmd.Command]:
    return sc.feed(ev.OfferLost(offer, sc._at(at)))


def strict() -> Scenario:
    """One miss pauses an agent: a lost leg counted as a miss would show at once."""
    return Scenario(make_plan(2, no_answer=NoAnswerPolicy(misses=1, pause_s=60)))


def test_given_a_ringing_leg_lost_then_it_is_withdrawn_not_missed_and_the_call_rings_again() -> None:
    sc = strict()
    sc.staff("a1", at=1)
    sc.arrive("c1", at=10)
    sc.ring(LEG, at=10.1)
    out = lost(sc, LEG, at=12)
    assert cmd.WithdrawOffer(AgentId("a1"), C1, LEG, "leg-lost") in out
    assert cmd.CancelOffer(LEG, C1) in out
    assert sc.state("a1") == A.RINGING  # not paused: rung again, the only agent, for the same caller
    assert [o.offer for o in of_type(out, cmd.OfferCall)] == [NEXT]
    assert sc.router.book.agents[AgentId("a1")].misses == 0


def test_given_one_of_two_ringing_legs_lost_then_the_other_rings_on() -> None:
    sc = Scenario(make_plan(2, strategy=Strategy.RING_ALL))
    sc.staff("a1", "a2", at=1)
    sc.arrive("c1", at=10)
    out = lost(sc, LEG, at=12)
    assert not of_type(out, cmd.OfferCall) and sc.state("a2") == A.RINGING
    assert sc.state("a1") == A.READY  # free for the next caller, not paused


def test_given_an_answered_leg_lost_then_the_call_ends_as_the_agent_hanging_up() -> None:
    sc = strict()
    sc.staff("a1", at=1)
    sc.arrive("c1", at=10)
    sc.answer(LEG, at=15)
    out = lost(sc, LEG, at=40)
    assert cmd.EndCall(C1, (C1,), "sb-bridge-c1") in out
    record = sc.record_of("c1")
    assert (record.outcome, record.hung_up_by, record.talk_s) == (Outcome.ANSWERED, Party.AGENT, 25)


def test_given_a_ringing_leg_lost_when_another_caller_waits_then_the_agent_takes_that_one() -> None:
    sc = strict()
    sc.staff("a1", at=1)
    sc.arrive("c1", at=10)
    sc.arrive("c2", at=11)
    sc.staff("a2", at=11.5)
    assert sc.agent_of("c2") == "a2"
    out = lost(sc, LEG, at=12)  # c1 goes back first in line, and a1 is the only one free: rung again
    assert [(o.call, o.agent) for o in of_type(out, cmd.OfferCall)] == [(C1, "a1")]


def test_given_an_on_call_leg_lost_then_the_next_person_on_the_chain_is_rung() -> None:
    chain = (OnCallStep("Dr. Smith", "PJSIP/smith", 20), OnCallStep("Dr. Jones", "PJSIP/jones", 20))
    sc = Scenario(make_plan({"a1": (SALES,)}, sales_line={"on_call": chain}))
    sc.staff("a1", at=1)
    sc.arrive("c1", at=10)
    sc.answer(LEG, at=15)
    sc.escalate("a1", at=20)
    out = lost(sc, NEXT, at=25)
    assert [o.endpoint for o in of_type(out, cmd.OfferCall)] == ["PJSIP/jones"]


def test_given_a_leg_no_longer_in_the_books_then_its_loss_changes_nothing() -> None:
    sc = strict()
    assert lost(sc, OfferId("sb-gone-1"), at=5) == []
