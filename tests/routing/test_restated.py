"""After a restart the consoles are told again what they showed of their calls (``Router.restated``):
the pop of a phone still ringing, the pop and connection of a call taken, its hold and whom its
escalation rings; and the call an agent's wrap-up form is for (its pop and its record), until the form
is saved or the next call pops."""

from __future__ import annotations

from routing_harness import SALES, Scenario, make_plan, of_type

from routing import commands as cmd
from routing.ids import AgentId, CallId
from routing.plan import Action, OnCallStep, Rule

A1, A2, C1 = AgentId("a1"), AgentId("a2"), CallId("c1")


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


def test_given_an_escalation_ringing_then_whom_it_rings_is_restated_after_the_agents_call() -> None:
    chain = (OnCallStep("Dr. Away", "PJSIP/away", 20), OnCallStep("Dr. Home", "PJSIP/home", 20))
    sc = Scenario(make_plan({"a1": (SALES,)}, sales_line={"on_call": chain}))
    sc.staff("a1", at=1)
    sc.arrive("c1", at=10)
    sc.ring("sb-c1-1", at=11)
    sc.answer("sb-c1-1", at=15)
    sc.escalate("a1", at=20)
    sc.leg_ended("sb-c1-2", at=30)  # Dr. Away did not answer: Dr. Home rings since 30
    (told,) = of_type(sc.emitted, cmd.EscalationUpdate)[-1:]
    out = sc.router.restated(35)
    assert [type(c) for c in out] == [cmd.PopScreen, cmd.CallConnected, cmd.EscalationUpdate]
    assert out[-1] == told and told.person == "Dr. Home" and told.at == 30
    assert told.attempts == (("Dr. Away", "no-answer"),)


def test_given_an_escalation_the_agent_left_or_that_was_answered_then_it_is_not_restated() -> None:
    chain = (OnCallStep("Dr. Home", "PJSIP/home", 20),)
    sc = Scenario(make_plan({"a1": (SALES,), "a2": (SALES,)}, sales_line={"on_call": chain}))
    sc.staff("a1", "a2", at=1)
    for call, leg, agent in (("c1", "sb-c1-1", "a1"), ("c2", "sb-c2-1", "a2")):
        sc.arrive(call, at=10)
        sc.answer(leg, at=15)
        sc.escalate(agent, at=20)
    sc.agent_hangs_up("a1", at=21)  # the chain goes on blind: a1's console follows it no more
    sc.accept("sb-c2-2", at=22)  # Dr. Home took c2
    assert not of_type(sc.router.restated(30), cmd.EscalationUpdate)


# --- the wrap-up form -------------------------------------------------------------------------------
def answered_and_over(wrap_up_s: float = 30) -> Scenario:
    """c1 arrives at 10, rings a1 at 10.5, is answered at 12 and hung up by the caller at 40."""
    sc = Scenario(make_plan(2, wrap_up_s=wrap_up_s))
    sc.staff("a1", at=1)
    sc.arrive("c1", at=10)
    sc.ring("sb-c1-1", at=10.5)
    sc.answer("sb-c1-1", at=12)
    sc.hang_up("c1", at=40)
    return sc


def test_given_an_agent_in_wrap_up_then_the_form_is_restated_as_the_pop_and_record_the_console_had() -> None:
    sc = answered_and_over()
    (pop,) = of_type(sc.emitted, cmd.PopScreen)
    (logged,) = of_type(sc.emitted, cmd.LogCall)
    assert sc.state("a1") == "wrap-up"
    assert sc.router.restated(50) == [pop, logged]  # the same pop (its wait at the ring), the same record


def test_given_the_wrap_up_over_and_the_form_not_saved_then_it_is_still_restated() -> None:
    sc = answered_and_over()
    sc.tick(70)  # wrap-up state ends; the form, as on the console, stays until saved or the next pop
    assert sc.state("a1") == "ready"
    assert [type(c) for c in sc.router.restated(80)] == [cmd.PopScreen, cmd.LogCall]


def test_given_the_form_saved_then_nothing_is_restated_and_a_save_of_another_call_keeps_it() -> None:
    sc = answered_and_over()
    assert sc.wrapped_up("a1", "c0", at=45) == []  # a late wrap-up of an older call
    assert len(sc.router.restated(50)) == 2
    assert sc.wrapped_up("a2", "c1", at=46) == []  # not a2's form
    assert len(sc.router.restated(50)) == 2
    assert sc.wrapped_up("a1", "c1", at=47) == []
    assert sc.router.restated(50) == []


def test_given_a_save_for_an_agent_the_plan_does_not_know_then_nothing_changes_and_no_refusal() -> None:
    sc = answered_and_over()
    before = sc.snapshot("c1")
    assert sc.wrapped_up("ghost", "c1", at=45) == []
    assert sc.snapshot("c1") == before and len(sc.router.restated(50)) == 2


def test_given_a_form_when_the_phone_rings_with_the_next_call_then_only_that_call_is_restated() -> None:
    sc = answered_and_over(wrap_up_s=0)  # ready at once
    sc.arrive("c2", at=41)
    sc.ring("sb-c2-1", at=42)
    (again,) = sc.router.restated(45)
    assert isinstance(again, cmd.PopScreen) and again.call == "c2"


def test_given_a_transferred_stretch_then_the_form_is_for_its_log_id_with_the_agents_own_pop() -> None:
    sc = Scenario(make_plan(2, wrap_up_s=30))
    sc.staff("a1", "a2", at=1)
    sc.arrive("c1", at=10)
    (first,) = of_type(sc.ring("sb-c1-1", at=11), cmd.PopScreen)
    sc.answer("sb-c1-1", at=12)
    sc.transfer("a1", "agent", "a2", at=20)
    sc.ring("sb-c1-2", at=21)
    out = sc.router.restated(25)
    assert out[:2] == [first, cmd.LogCall(sc.record_of("c1~1"))]  # a1's form: the stretch's own id
    assert [(c.agent, c.call) for c in of_type(out[2:], cmd.PopScreen)] == [(A2, C1)]  # a2's ringing pop


def test_given_a_call_that_only_rang_the_agent_then_there_is_no_form() -> None:
    sc = Scenario(make_plan(1, wrap_up_s=30))
    sc.staff("a1", at=1)
    sc.arrive("c1", at=10)
    sc.ring("sb-c1-1", at=11)
    sc.hang_up("c1", at=12)  # abandoned while ringing: nothing to wrap up
    assert sc.router.restated(20) == []


def test_given_a_phone_answered_without_a_ring_reported_then_there_is_no_form_as_the_console_had_no_pop() -> (
    None
):
    sc = Scenario(make_plan(1, wrap_up_s=30))
    sc.staff("a1", at=1)
    sc.arrive("c1", at=10)
    sc.answer("sb-c1-1", at=12)
    sc.hang_up("c1", at=40)
    assert sc.state("a1") == "wrap-up" and sc.router.restated(50) == []


def test_given_a_callback_whose_customer_never_answered_then_there_is_no_form() -> None:
    sc = Scenario(make_plan(1, wrap_up_s=30, rules=(Rule(5, Action.CALLBACK),)))
    sc.arrive("c1", at=10)
    sc.tick(15)
    sc.press_callback("c1", at=16)
    sc.staff("a1", at=20)
    sc.ring("sb-sb-cb-c1-1", at=20.5)
    sc.answer("sb-sb-cb-c1-1", at=21)
    sc.agent_hangs_up("a1", at=25)  # before the customer picked up: logged unreached
    assert sc.record_of(CallId("sb-cb-c1")).answered_at is None
    assert sc.router.restated(30) == []


def test_given_a_call_taken_after_its_ring_then_the_pop_restated_is_the_one_that_rang() -> None:
    sc = Scenario(make_plan(1))
    sc.staff("a1", at=1)
    sc.arrive("c1", at=10)
    (rang,) = of_type(sc.ring("sb-c1-1", at=11), cmd.PopScreen)
    sc.answer("sb-c1-1", at=15)
    assert sc.router.restated(40)[0] == rang and rang.waited_s == 1


def test_given_books_whose_form_was_tampered_with_then_the_audit_says_what_is_wrong() -> None:
    sc = answered_and_over(wrap_up_s=0)
    form = sc.router.book.agents[A1].form
    assert form is not None and sc.router.audit() == []
    sc.router.book.agents[A2].form = form
    assert sc.router.audit() == ["a2 has the wrap-up form of c1, which they did not answer"]
    sc.router.book.agents[A2].form = None
    sc.arrive("c2", at=45)
    sc.ring("sb-c2-1", at=46)  # a1 rung for the next call: the form went
    sc.router.book.agents[A1].form = form
    assert sc.router.audit() == ["a1 keeps the wrap-up form of c1 while a call pops"]
