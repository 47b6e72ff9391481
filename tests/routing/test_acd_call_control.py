"""Call control from the agent's console, rule by rule: hang up (and decline), hold and resume, blind
transfers to a queue, an agent or a number, and escalation to the line's on-call chain; refusals too.

Times: c1 arrives at 10 and a1 answers it at 15 (``connected``); the agent acts at 20.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from routing_harness import CALLER, SALES, SALES_DID, SUPPORT, Scenario, make_plan, of_type, records

from routing import commands as cmd
from routing import events as ev
from routing.agents import RING_NO_ANSWER
from routing.commands import EscalationStatus as Esc
from routing.errors import AgentNotReady, IllegalTransition, NoOnCall, UnknownAgent, UnknownQueue
from routing.ids import AgentId, BridgeId, CallId, OfferId
from routing.plan import Action, AfterHours, AfterHoursKind, NoAnswerPolicy, OnCallStep, Rule
from routing.records import Outcome, Party
from routing.states import AgentState, CallState
from routing.views import EscalationView

A, S = AgentState, CallState
C1, BRIDGE = CallId("c1"), BridgeId("sb-bridge-c1")
LEG = OfferId("sb-c1-1")  # a1's leg
NEXT = OfferId("sb-c1-2")  # whatever is rung after the agent let go (or while they escalate)
NUMBER = "+15550001111"
SMITH, JONES = OnCallStep("Dr. Smith", "PJSIP/smith", 20), OnCallStep("Dr. Jones", "PJSIP/jones", 20)
STAFF = {"a1": (SALES,), "a2": (SALES,), "b1": (SUPPORT,)}


def connected(
    chain: tuple[OnCallStep, ...] = (SMITH, JONES),
    *,
    staff: tuple[str, ...] = ("a1",),
    rounds: int = 1,
    **options: Any,
) -> Scenario:
    """c1 on the sales line, answered by a1 at 15; ``staff`` are ready (a1 first, so a1 takes c1).
    An escalation goes through the chain ``rounds`` times."""
    line = {"on_call": chain, "escalation_rounds": rounds}
    sc = Scenario(make_plan(STAFF, sales_line=line, **options))
    sc.staff(*staff, at=1)
    sc.arrive("c1", at=10)
    assert sc.agent_of("c1") == "a1"
    sc.answer(LEG, at=15)
    return sc


def view(sc: Scenario, call: str = "c1") -> Any:
    return sc.router.call_view(CallId(call))


def refused(sc: Scenario, error: type[Exception], act: Any) -> Exception:
    """``act`` raises ``error`` and changes nothing the router lets anyone see."""
    before, views, emitted = sc.snapshot("c1"), view(sc), len(sc.emitted)
    with pytest.raises(error) as raised:
        act()
    assert (sc.snapshot("c1"), view(sc), len(sc.emitted)) == (before, views, emitted)
    return raised.value


def segment(out: list[cmd.Command]) -> Any:
    (record,) = [r for r in records(out) if r.part_of is not None]
    return record


# --- hang up from the console -----------------------------------------------------------------------
def test_given_a_connected_call_when_the_agent_hangs_up_then_both_legs_end_and_it_is_logged_by_agent() -> (
    None
):
    sc = connected(wrap_up_s=30)
    out = sc.agent_hangs_up("a1", at=40)
    assert cmd.EndCall(C1, (C1, LEG), BRIDGE) in out
    record = sc.record_of("c1")
    assert (record.outcome, record.hung_up_by, record.agent, record.talk_s) == (
        Outcome.ANSWERED, Party.AGENT, "a1", 25,
    )  # fmt: skip
    assert sc.state("a1") == A.WRAP_UP
    assert sc.leg_ended(LEG, at=41) == []  # the PBX confirming our own hang-up


def test_given_a_ringing_phone_when_the_agent_hangs_up_then_declined_a_miss_and_the_call_goes_on() -> None:
    sc = Scenario(make_plan(STAFF))
    sc.staff("a1", "a2", at=1)
    sc.arrive("c1", at=10)
    out = sc.agent_hangs_up("a1", at=12)
    assert cmd.WithdrawOffer(AgentId("a1"), C1, LEG, "declined") in out
    assert cmd.CancelOffer(LEG, C1) in out
    assert sc.state("a1") == A.NOT_READY  # one miss is the default policy
    assert sc.router.agent_view(AgentId("a1")).reason == RING_NO_ANSWER
    assert sc.agent_of("c1") == "a2"


def test_given_misses_tolerated_when_the_agent_declines_then_they_stay_ready_and_the_call_waits() -> None:
    sc = Scenario(make_plan(STAFF, no_answer=NoAnswerPolicy(misses=2)))
    sc.staff("a1", at=1)
    sc.arrive("c1", at=10)
    sc.agent_hangs_up("a1", at=12)
    # Ready again, so the call (back in its place) rings a1 once more: a decline is a miss, not a block.
    assert sc.state("a1") == A.RINGING and sc.offer_of("c1").offer == NEXT


def test_given_a_callback_being_dialed_when_the_agent_hangs_up_then_unreached_by_agent() -> None:
    sc = Scenario(make_plan(1, rules=(Rule(5, Action.CALLBACK),)))
    sc.arrive("c1", at=10)
    sc.tick(15)
    sc.press_callback("c1", at=16)
    sc.staff("a1", at=20)
    sc.answer("sb-sb-cb-c1-1", at=21)
    out = sc.agent_hangs_up("a1", at=25)
    cb = CallId("sb-cb-c1")
    assert cmd.EndCall(cb, (cb, OfferId("sb-sb-cb-c1-1")), BridgeId("sb-bridge-sb-cb-c1")) in out
    assert (sc.record_of(cb).outcome, sc.record_of(cb).hung_up_by) == (Outcome.UNREACHED, Party.AGENT)


_NO_CALL: dict[AgentState, Callable[[Scenario], object]] = {
    A.LOGGED_OUT: lambda sc: None,
    A.NOT_READY: lambda sc: sc.log_in("a2", at=16),
    A.READY: lambda sc: sc.staff("a2", at=16),
}


@pytest.mark.parametrize("state", list(_NO_CALL))
def test_given_no_call_when_the_agent_hangs_up_then_not_allowed_and_nothing_changes(
    state: AgentState,
) -> None:
    sc = connected()
    _NO_CALL[state](sc)
    assert sc.state("a2") == state
    refused(sc, IllegalTransition, lambda: sc.agent_hangs_up("a2", at=50))


def test_given_wrap_up_when_the_agent_hangs_up_then_not_allowed() -> None:
    sc = connected(wrap_up_s=30)
    sc.hang_up("c1", at=40)
    refused(sc, IllegalTransition, lambda: sc.agent_hangs_up("a1", at=50))


def test_given_an_unknown_agent_when_any_call_control_then_unknown_agent() -> None:
    sc = connected()
    for act in (sc.agent_hangs_up, sc.hold, sc.resume, sc.escalate):
        refused(sc, UnknownAgent, lambda act=act: act("ghost"))
    refused(sc, UnknownAgent, lambda: sc.transfer("ghost", "queue", "support"))


# --- hold and resume --------------------------------------------------------------------------------
def test_given_a_connected_call_when_held_then_music_for_the_caller_and_the_console_told() -> None:
    sc = connected()
    assert sc.hold("a1", at=20) == [cmd.HoldCall(C1, BRIDGE), cmd.CallHeld(AgentId("a1"), C1, True, 20)]
    assert view(sc).held and view(sc).state is S.HELD
    assert sc.state("a1") == A.ON_CALL
    assert sc.resume("a1", at=30) == [cmd.ResumeCall(C1, BRIDGE), cmd.CallHeld(AgentId("a1"), C1, False, 30)]
    assert not view(sc).held and view(sc).state is S.CONNECTED


def test_given_held_when_held_again_or_not_held_when_resumed_then_not_allowed() -> None:
    sc = connected()
    refused(sc, IllegalTransition, lambda: sc.resume("a1", at=20))
    sc.hold("a1", at=20)
    refused(sc, IllegalTransition, lambda: sc.hold("a1", at=21))


def test_given_a_held_caller_when_they_hang_up_then_the_call_ends_normally() -> None:
    sc = connected()
    sc.hold("a1", at=20)
    out = sc.hang_up("c1", at=30)
    assert cmd.EndCall(C1, (LEG,), BRIDGE) in out
    assert (sc.record_of("c1").outcome, sc.record_of("c1").hung_up_by) == (Outcome.ANSWERED, Party.CALLER)
    assert sc.state("a1") == A.READY


def test_given_a_held_caller_when_the_agent_phone_hangs_up_then_the_call_ends_by_agent() -> None:
    sc = connected()
    sc.hold("a1", at=20)
    assert cmd.EndCall(C1, (C1,), BRIDGE) in sc.leg_ended(LEG, at=30)
    assert sc.record_of("c1").hung_up_by == Party.AGENT


def test_given_a_held_call_when_the_bridge_fails_late_then_ended() -> None:
    sc = connected()
    sc.hold("a1", at=20)
    assert cmd.EndCall(C1, (C1, LEG), BRIDGE) in sc.bridge_failed("c1", at=21)
    assert sc.record_of("c1").hung_up_by == Party.SYSTEM


def test_given_a_callback_being_dialed_when_hold_then_not_allowed() -> None:
    sc = Scenario(make_plan(1, rules=(Rule(5, Action.CALLBACK),)))
    sc.arrive("c1", at=10)
    sc.tick(15)
    sc.press_callback("c1", at=16)
    sc.staff("a1", at=20)
    sc.answer("sb-sb-cb-c1-1", at=21)
    with pytest.raises(IllegalTransition):
        sc.hold("a1", at=22)


# --- transfer to a queue ----------------------------------------------------------------------------
def test_given_a_connected_call_when_transferred_to_a_queue_then_stretch_logged_and_next_agent_rung() -> None:
    sc = connected(staff=("a1", "b1"), wrap_up_s=30)
    out = sc.transfer("a1", "queue", "support", at=20)
    assert out[:2] == [cmd.HoldCall(C1, BRIDGE), cmd.DropLeg(C1, LEG, BRIDGE)]
    stretch = segment(out)
    assert (stretch.call, stretch.part_of, stretch.agent, stretch.queue) == ("c1~1", "c1", "a1", SALES)
    assert (stretch.outcome, stretch.hung_up_by, stretch.answered_at, stretch.ended_at) == (
        Outcome.TRANSFERRED, Party.AGENT, 15, 20,
    )  # fmt: skip
    assert sc.state("a1") == A.WRAP_UP
    assert sc.offer_of("c1") == cmd.OfferCall(
        offer=NEXT, call=C1, agent=AgentId("b1"), endpoint="PJSIP/1003", timeout_s=15.0, caller_number=CALLER
    )
    assert sc.leg_ended(LEG, at=21) == []  # a1's leg, hung up by us
    sc.answer(NEXT, at=25)
    sc.hang_up("c1", at=40)
    whole = sc.record_of("c1")
    assert (whole.agent, whole.queue, whole.answered_at, whole.part_of, whole.outcome) == (
        "b1", SUPPORT, 15, None, Outcome.ANSWERED,
    )  # fmt: skip


def test_given_a_transferred_caller_then_they_keep_their_place_ahead_of_later_arrivals() -> None:
    sc = Scenario(make_plan(STAFF))
    sc.staff("a1", at=1)
    sc.arrive("c0", at=5, did="+15550100003")  # support: nobody there, it waits
    sc.arrive("c1", at=10)
    sc.answer(LEG, at=15)
    sc.arrive("c2", at=18, did="+15550100003")
    sc.transfer("a1", "queue", "support", at=20)
    sc.arrive("c3", at=21, did="+15550100003")
    assert sc.router.waiting(SUPPORT) == ["c0", "c1", "c2", "c3"]
    assert view(sc).state is S.WAITING


def test_given_a_full_queue_when_a_caller_is_transferred_there_then_they_still_wait() -> None:
    sc = connected(max_length=1)
    sc.arrive("c2", at=12, did="+15550100003")
    out = sc.transfer("a1", "queue", "support", at=20)
    assert not of_type(out, cmd.TakeMessage)
    assert sc.router.waiting(SUPPORT) == ["c1", "c2"]


def test_given_a_long_wait_before_the_answer_when_transferred_then_max_wait_counts_afresh() -> None:
    sc = Scenario(make_plan(STAFF, max_wait_s=100))
    sc.arrive("c1", at=0)
    sc.staff("a1", at=50)  # c1 waited: its max-wait timer (at 100) is set
    sc.answer(LEG, at=52)
    sc.transfer("a1", "queue", "support", at=90)
    assert sc.tick(150) == [] and view(sc).state is S.WAITING  # the old clock does not end it
    out = sc.tick(190)
    assert sc.record_of("c1").outcome == Outcome.NO_AGENT and of_type(out, cmd.EndCall)


def test_given_a_held_call_when_transferred_then_it_goes_all_the_same() -> None:
    sc = connected(staff=("a1", "b1"))
    sc.hold("a1", at=20)
    sc.transfer("a1", "queue", "support", at=25)
    assert sc.offer_of("c1").agent == "b1"


def test_given_an_unknown_queue_when_transferred_then_refused_and_the_agent_keeps_the_caller() -> None:
    sc = connected()
    error = refused(sc, UnknownQueue, lambda: sc.transfer("a1", "queue", "nowhere", at=20))
    assert error.queue == "nowhere"  # type: ignore[attr-defined]
    assert view(sc).agent == "a1"


def test_given_no_call_when_transfer_then_not_allowed() -> None:
    sc = connected()
    sc.log_in("a2", at=16)
    refused(sc, IllegalTransition, lambda: sc.transfer("a2", "queue", "support", at=20))


def test_given_a_connected_callback_when_transferred_then_the_next_agent_is_bridged_not_redialing() -> None:
    sc = Scenario(make_plan(STAFF, rules=(Rule(5, Action.CALLBACK),)))
    sc.arrive("c1", at=10)
    sc.tick(15)
    sc.press_callback("c1", at=16)
    sc.staff("a1", at=20)
    sc.answer("sb-sb-cb-c1-1", at=21)
    sc.customer_answers("sb-cb-c1", at=25)
    stretch = segment(sc.transfer("a1", "queue", "support", at=30))
    assert (stretch.callback_of, stretch.answered_at) == ("c1", 25)
    sc.staff("b1", at=31)
    out = sc.answer("sb-sb-cb-c1-2", at=32)
    assert not of_type(out, cmd.DialCustomer)
    assert cmd.BridgeCall(CallId("sb-cb-c1"), OfferId("sb-sb-cb-c1-2"), BridgeId("sb-bridge-sb-cb-c1")) in out


# --- transfer to an agent ---------------------------------------------------------------------------
def test_given_a_ready_agent_when_transferred_to_them_then_they_ring_at_once_ahead_of_the_line() -> None:
    sc = connected()
    sc.arrive("c0", at=11)  # waits in sales, ahead of c1 by arrival
    sc.staff("a2", at=16)  # a2 takes c0
    sc.answer(OfferId("sb-c0-1"), at=17)
    sc.staff("b1", at=18)
    out = sc.transfer("a1", "agent", "b1", at=20)
    assert segment(out).agent == "a1"
    assert sc.offer_of("c1") == cmd.OfferCall(
        offer=NEXT, call=C1, agent=AgentId("b1"), endpoint="PJSIP/1003", timeout_s=15.0, caller_number=CALLER
    )
    sc.answer(NEXT, at=22)
    assert view(sc).agent == "b1" and sc.state("b1") == A.ON_CALL


def test_given_the_target_does_not_answer_then_the_call_goes_back_to_its_queue() -> None:
    sc = connected(staff=("a1", "b1"), wrap_up_s=30)
    sc.transfer("a1", "agent", "b1", at=20)
    sc.leg_ended(NEXT, at=35)  # b1's phone rang out
    assert sc.state("b1") == A.NOT_READY  # a miss, like any unanswered offer
    assert sc.router.waiting(SALES) == ["c1"]


@pytest.mark.parametrize(
    ("target", "error"), [("ghost", UnknownAgent), ("b1", AgentNotReady), ("a1", AgentNotReady)]
)
def test_given_a_target_that_cannot_take_it_when_transferred_then_refused_and_nothing_changes(
    target: str, error: type[Exception]
) -> None:
    sc = connected()
    sc.log_in("b1", at=16)  # not ready
    refused(sc, error, lambda: sc.transfer("a1", "agent", target, at=20))
    assert view(sc).agent == "a1" and sc.state("a1") == A.ON_CALL


# --- transfer to a number ---------------------------------------------------------------------------
def test_given_a_number_when_transferred_then_it_is_dialed_and_bridged_and_noted_on_the_record() -> None:
    sc = connected()
    out = sc.transfer("a1", "number", NUMBER, at=20)
    assert cmd.DialNumber(NEXT, C1, NUMBER, 30.0, CALLER) in out
    assert segment(out).agent == "a1"
    assert sc.answer(NEXT, at=24) == [cmd.BridgeCall(C1, NEXT, BRIDGE)]
    sc.hang_up("c1", at=60)
    whole = sc.record_of("c1")
    assert (whole.on_call, whole.agent, whole.answered_at, whole.outcome) == (
        NUMBER, None, 15, Outcome.ANSWERED,
    )  # fmt: skip


@pytest.mark.parametrize("miss", ["rings out", "busy", "ring timer"])
def test_given_a_number_that_does_not_answer_then_the_caller_goes_back_to_the_queue(miss: str) -> None:
    sc = connected(wrap_up_s=100)
    sc.transfer("a1", "number", NUMBER, at=20)
    {
        "rings out": lambda: sc.leg_ended(NEXT, at=50),
        "busy": lambda: sc.leg_failed(NEXT, at=21),
        "ring timer": lambda: sc.tick(20 + 30 + 5),
    }[miss]()
    assert sc.router.waiting(SALES) == ["c1"]
    sc.staff("a2", at=60)
    assert sc.agent_of("c1") == "a2"


# --- escalation -------------------------------------------------------------------------------------
def test_given_a_connected_call_when_escalated_then_caller_held_and_the_first_person_rung() -> None:
    sc = connected()
    out = sc.escalate("a1", at=20)
    assert out == [
        cmd.HoldCall(C1, BRIDGE),
        cmd.OfferCall(
            offer=NEXT, call=C1, agent=None, endpoint="PJSIP/smith", timeout_s=20, caller_number=CALLER
        ),
        cmd.EscalationUpdate(
            agent=AgentId("a1"), call=C1, status=Esc.RINGING, person="Dr. Smith", attempts=(), at=20
        ),
    ]
    assert view(sc).held and view(sc).escalation == EscalationView(
        AgentId("a1"), Esc.RINGING, "Dr. Smith", (), 20
    )
    assert sc.state("a1") == A.ON_CALL
    assert sc.router.audit() == []


def test_given_an_escalation_when_the_second_person_answers_then_bridged_and_the_agent_let_go() -> None:
    sc = connected(wrap_up_s=30)
    sc.escalate("a1", at=20)
    out = sc.leg_ended(NEXT, at=30)  # Dr. Smith does not answer
    assert (
        cmd.OfferCall(
            offer=OfferId("sb-c1-3"),
            call=C1,
            agent=None,
            endpoint="PJSIP/jones",
            timeout_s=20,
            caller_number=CALLER,
        )
        in out
    )
    tried = (("Dr. Smith", "no-answer"),)
    assert (
        cmd.EscalationUpdate(
            agent=AgentId("a1"), call=C1, status=Esc.RINGING, person="Dr. Jones", attempts=tried, at=30
        )
        in out
    )
    out = sc.accept(OfferId("sb-c1-3"), at=35)
    accepted = (*tried, ("Dr. Jones", "accepted"))
    assert of_type(out, cmd.EscalationUpdate) == [
        cmd.EscalationUpdate(
            agent=AgentId("a1"), call=C1, status=Esc.PROMPTED, person="Dr. Jones", attempts=tried, at=35
        ),
        cmd.EscalationUpdate(
            agent=AgentId("a1"), call=C1, status=Esc.ANSWERED, person="Dr. Jones", attempts=accepted, at=35
        ),
    ]
    assert cmd.DropLeg(C1, LEG, BRIDGE) in out and out[-1] == cmd.BridgeCall(C1, OfferId("sb-c1-3"), BRIDGE)
    stretch = segment(out)
    assert (stretch.call, stretch.agent, stretch.talk_s, stretch.outcome) == (
        "c1~1",
        "a1",
        20,
        Outcome.TRANSFERRED,
    )
    assert sc.state("a1") == A.WRAP_UP
    assert view(sc).escalation is None and not view(sc).held
    sc.hang_up("c1", at=90)
    assert (sc.record_of("c1").on_call, sc.record_of("c1").agent) == ("Dr. Jones", None)


def test_given_an_escalation_nobody_answers_then_the_caller_is_back_with_the_agent() -> None:
    sc = connected()
    sc.escalate("a1", at=20)
    sc.tick(20 + 20 + 5)  # Dr. Smith rings out by the router's timer
    out = sc.leg_failed("sb-c1-3", at=46)  # Dr. Jones cannot be reached
    attempts = (("Dr. Smith", "no-answer"), ("Dr. Jones", "failed: endpoint offline"))
    assert [c for c in out if not isinstance(c, cmd.EscalationAttempt)][-2:] == [
        cmd.ResumeCall(C1, BRIDGE),
        cmd.EscalationUpdate(
            agent=AgentId("a1"), call=C1, status=Esc.FAILED, person=None, attempts=attempts, at=46
        ),
    ]
    assert view(sc).state is S.CONNECTED and view(sc).agent == "a1"
    sc.hold("a1", at=50)  # the call is the agent's as before


def test_given_a_busy_on_call_phone_then_the_attempt_says_busy() -> None:
    sc = connected((SMITH,))
    sc.escalate("a1", at=20)
    out = sc.feed(ev.OfferFailed(NEXT, "busy", 21))
    assert of_type(out, cmd.EscalationUpdate)[-1].attempts == (("Dr. Smith", "busy"),)


def test_given_an_escalation_when_the_caller_hangs_up_then_every_leg_stops_and_it_is_logged() -> None:
    sc = connected()
    sc.escalate("a1", at=20)
    out = sc.hang_up("c1", at=25)
    assert cmd.CancelOffer(NEXT, C1) in out and cmd.EndCall(C1, (LEG,), BRIDGE) in out
    assert (sc.record_of("c1").outcome, sc.record_of("c1").hung_up_by) == (Outcome.ANSWERED, Party.CALLER)
    assert sc.state("a1") == A.READY


@pytest.mark.parametrize("how", ["console", "phone"])
def test_given_an_escalation_when_the_agent_hangs_up_then_it_goes_on_blind(how: str) -> None:
    sc = connected()
    sc.escalate("a1", at=20)
    out = sc.agent_hangs_up("a1", at=25) if how == "console" else sc.leg_ended(LEG, at=25)
    assert segment(out).agent == "a1" and cmd.DropLeg(C1, LEG, BRIDGE) in out
    assert sc.state("a1") == A.READY
    assert view(sc).escalation == EscalationView(None, Esc.RINGING, "Dr. Smith", (), 20)
    sc.answer(NEXT, at=30)
    out = sc.press(NEXT, "1", at=31)
    assert [c for c in out if not isinstance(c, cmd.EscalationAttempt)] == [
        cmd.BridgeCall(C1, NEXT, BRIDGE)
    ]  # nobody to tell
    sc.hang_up("c1", at=60)
    assert sc.record_of("c1").on_call == "Dr. Smith"


def test_given_a_blind_escalation_nobody_answers_then_the_caller_leaves_a_message() -> None:
    sc = connected()
    sc.escalate("a1", at=20)
    sc.agent_hangs_up("a1", at=25)
    sc.leg_ended(NEXT, at=40)
    out = sc.leg_ended(OfferId("sb-c1-3"), at=60)
    assert of_type(out, cmd.TakeMessage) and not of_type(out, cmd.EscalationUpdate)
    sc.hang_up("c1", at=90)
    assert sc.record_of("c1").outcome == Outcome.VOICEMAIL


def test_given_a_held_call_when_escalated_then_it_escalates() -> None:
    sc = connected()
    sc.hold("a1", at=18)
    sc.escalate("a1", at=20)
    assert view(sc).state is S.ESCALATING


def test_given_an_escalation_under_way_then_hold_transfer_and_another_escalation_are_not_allowed() -> None:
    sc = connected()
    sc.escalate("a1", at=20)
    for act in (sc.hold, sc.resume, sc.escalate):
        refused(sc, IllegalTransition, lambda act=act: act("a1", at=21))
    refused(sc, IllegalTransition, lambda: sc.transfer("a1", "queue", "support", at=21))


def test_given_a_line_without_a_chain_when_escalated_then_no_on_call_and_nothing_changes() -> None:
    sc = Scenario(make_plan(STAFF))
    sc.staff("a1", at=1)
    sc.arrive("c1", at=10)
    sc.answer(LEG, at=15)
    error = refused(sc, NoOnCall, lambda: sc.escalate("a1", at=20))
    assert error.line == "acme-sales"  # type: ignore[attr-defined]


def test_given_only_an_after_hours_chain_then_escalation_uses_it() -> None:
    after = AfterHours(AfterHoursKind.ON_CALL, None, (JONES,))
    sc = Scenario(make_plan(STAFF, sales_line={"after_hours": after}))
    sc.staff("a1", at=1)
    sc.arrive("c1", at=10, did=SALES_DID)
    sc.answer(LEG, at=15)
    sc.escalate("a1", at=20)
    assert sc.offer_of("c1") == cmd.OfferCall(
        offer=NEXT, call=C1, agent=None, endpoint="PJSIP/jones", timeout_s=20, caller_number=CALLER
    )


def test_given_a_router_whose_books_were_tampered_with_then_the_audit_sees_call_control_breakage() -> None:
    sc = connected()
    sc.hold("a1", at=20)
    assert sc.router.audit() == []
    call = sc.router.book.calls[C1]
    call.agent = None
    assert set(sc.router.audit()) == {"c1 is on hold for no agent", "a1 is on a call that is not theirs"}
    call.agent = AgentId("a1")
    call.state = S.ESCALATING
    assert sc.router.audit() == ["c1 is escalating with escalation None", "c1 escalates to 0 people at once"]
