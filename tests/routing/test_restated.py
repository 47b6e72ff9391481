"""After a restart the consoles are told again what they showed of live calls (``Router.restated``):
the pop of a phone still ringing, the pop and connection of a call taken, and its hold."""

from __future__ import annotations

from routing_harness import SALES, Scenario, make_plan, of_type

from routing import commands as cmd
from routing.ids import AgentId, CallId
from routing.plan import OnCallStep

A1, C1 = AgentId("a1"), CallId("c1")


def test_given_nothing_live_then_nothing_is_restated() -> None:
    sc = Scenario(make_plan(1))
    sc.staff("a1", at=1)
    assert sc.router.restated(50) == []


def test_given_a_leg_placed_but_not_yet_ringing_then_no_pop_is_restated() -> None:
    sc = Scenario(make_plan(1))
    sc.staff("a1", at=1)
    sc.arrive("c1", at=10)  # offered; the phone has not reported ringing
    assert sc.router.restated(11) == []


def test_given_a_phone_ringing_then_its_pop_is_restated_with_the_wait_so_far() -> None:
    sc = Scenario(make_plan(1))
    sc.staff("a1", at=1)
    sc.arrive("c1", at=10)
    out = sc.ring("sb-c1-1", at=10.5)
    (first,) = of_type(out, cmd.PopScreen)
    (again,) = sc.router.restated(14)
    assert isinstance(again, cmd.PopScreen)
    assert again.waited_s == 4 and again.offer == first.offer and again.agent == A1
    assert again.caller_number == first.caller_number and again.source == first.source


def test_given_a_call_taken_then_the_pop_and_the_connection_time_are_restated() -> None:
    sc = Scenario(make_plan(1))
    sc.staff("a1", at=1)
    sc.arrive("c1", at=10)
    sc.answer("sb-c1-1", at=15)
    out = sc.router.restated(40)
    pops, connected = of_type(out, cmd.PopScreen), of_type(out, cmd.CallConnected)
    assert [p.waited_s for p in pops] == [5]  # the wait the pop showed, not the time since
    assert connected == [cmd.CallConnected(A1, C1, 15)]
    assert not of_type(out, cmd.CallHeld)


def test_given_a_call_on_hold_then_the_hold_is_restated_too() -> None:
    sc = Scenario(make_plan(1))
    sc.staff("a1", at=1)
    sc.arrive("c1", at=10)
    sc.answer("sb-c1-1", at=15)
    sc.hold("a1", at=20)
    assert of_type(sc.router.restated(40), cmd.CallHeld) == [cmd.CallHeld(A1, C1, True, 40)]
    sc.resume("a1", at=30)
    assert not of_type(sc.router.restated(41), cmd.CallHeld)


def test_given_an_on_call_leg_ringing_then_only_the_agents_own_call_is_restated() -> None:
    chain = (OnCallStep("Dr. Smith", "PJSIP/smith", 20),)
    sc = Scenario(make_plan({"a1": (SALES,)}, sales_line={"on_call": chain}))
    sc.staff("a1", at=1)
    sc.arrive("c1", at=10)
    sc.answer("sb-c1-1", at=15)
    sc.escalate("a1", at=20)
    sc.ring("sb-c1-2", at=21)  # the doctor's phone: no console to tell
    out = sc.router.restated(30)
    assert {c.agent for c in out} == {A1}
    assert len(of_type(out, cmd.PopScreen)) == 1
