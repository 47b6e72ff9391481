"""Warm patch: an on-call person whose method is warm presses 1 and talks with the agent first (the caller
on hold); the agent connects them ("Connect caller": caller and person bridged, the agent out, as a cold
patch) or takes the caller back ("Back to caller": the person's leg hung up, the attempt says so). An agent
who hung up before the 1 means a cold patch; one who hangs up while announcing connects them.

Times: c1 arrives at 10, a1 answers at 15 (leg ``sb-c1-1``), escalates at 20; Dr. Warm rings on ``sb-c1-2``,
picks up at 22 and presses 1 at 24.
"""

from __future__ import annotations

from typing import Any

import pytest
from routing_harness import SALES, Scenario, make_plan, of_type, records
from routing_harness import attempts as harness_attempts

from routing import commands as cmd
from routing.commands import EscalationStatus as Esc
from routing.errors import NoWarmPatch
from routing.ids import AgentId, BridgeId, CallId, OfferId
from routing.plan import OnCallStep
from routing.records import Outcome
from routing.states import AgentState, CallState, OfferState

C1, A1, BRIDGE = CallId("c1"), AgentId("a1"), BridgeId("sb-bridge-c1")
AGENT_LEG, PERSON = OfferId("sb-c1-1"), OfferId("sb-c1-2")
WARM = OnCallStep("Dr. Warm", "Local/+15550003@out", 20, number="+15550003", warm=True)
COLD = OnCallStep("Dr. Cold", "PJSIP/cold", 20)


def escalated(*chain: OnCallStep) -> Scenario:
    sc = Scenario(
        make_plan({"a1": (SALES,)}, sales_line={"on_call": chain or (WARM,), "escalation_rounds": 1})
    )
    sc.staff("a1", at=1)
    sc.arrive("c1", at=10)
    sc.answer(AGENT_LEG, at=15)
    sc.escalate("a1", at=20)
    return sc


def announcing() -> Scenario:
    """Dr. Warm has pressed 1: a1 speaks with them, c1 on hold."""
    sc = escalated()
    sc.answer(PERSON, at=22)
    sc.press(PERSON, "1", at=24)
    return sc


def attempts(sc: Scenario) -> list[tuple[str, str, int, int, float, float, str]]:
    return harness_attempts(sc.emitted)


def segment(out: list[cmd.Command]) -> Any:
    """The agent's own stretch of the call, logged when they let go of it."""
    (record,) = [r for r in records(out) if r.part_of is not None]
    return record


def update(status: Esc, attempts: tuple[tuple[str, str], ...], at: float) -> cmd.EscalationUpdate:
    return cmd.EscalationUpdate(agent=A1, call=C1, status=status, person="Dr. Warm", attempts=attempts, at=at)


def test_given_a_warm_person_when_they_press_1_then_they_join_the_agent_and_the_caller_stays_on_hold() -> (
    None
):
    sc = escalated()
    sc.answer(PERSON, at=22)
    out = sc.press(PERSON, "1", at=24)
    assert out == [cmd.ConsultOnCall(PERSON, C1, BRIDGE), update(Esc.CONSULTING, (), 24)]
    assert sc.router.call_state(C1) is CallState.ESCALATING  # the caller still on hold
    assert sc.router.book.offers[PERSON].state is OfferState.CONSULTED
    assert sc.state("a1") is AgentState.ON_CALL and attempts(sc) == []  # not over until the agent says
    assert sc.tick(24 + 60) == []  # no deadline cuts the announcement short
    assert sc.router.audit() == []


def test_given_the_agent_announced_when_they_connect_the_caller_then_bridged_and_the_agent_out() -> None:
    sc = announcing()
    out = sc.connect_caller("a1", at=40)
    assert of_type(out, cmd.EscalationUpdate) == [update(Esc.ANSWERED, (("Dr. Warm", "accepted"),), 40)]
    assert cmd.DropLeg(C1, AGENT_LEG, BRIDGE) in out and out[-1] == cmd.BridgeCall(C1, PERSON, BRIDGE)
    assert attempts(sc) == [("Dr. Warm", "+15550003", 1, 1, 20, 40, "accepted")]
    stretch = segment(out)
    assert (stretch.agent, stretch.outcome, stretch.talk_s) == ("a1", Outcome.TRANSFERRED, 25)
    assert sc.router.call_state(C1) is CallState.CONNECTED
    sc.hang_up("c1", at=90)
    assert sc.record_of("c1").on_call == "Dr. Warm"


def test_given_the_agent_announced_when_they_go_back_to_the_caller_then_the_person_is_hung_up() -> None:
    sc = announcing()
    out = sc.back_to_caller("a1", at=40)
    assert out == [
        cmd.CancelOffer(PERSON, C1),
        cmd.EscalationAttempt(call=C1, person="Dr. Warm", number="+15550003", round=1, step=1,
                              started_at=20, ended_at=40, result="taken-back"),
        cmd.ResumeCall(C1, BRIDGE),
        update(Esc.CANCELLED, (("Dr. Warm", "taken-back"),), 40),
    ]  # fmt: skip
    assert sc.router.call_state(C1) is CallState.CONNECTED and sc.state("a1") is AgentState.ON_CALL
    assert sc.router.audit() == []
    sc.hang_up("c1", at=90)
    record = sc.record_of("c1")
    assert (record.agent, record.on_call, record.outcome) == ("a1", None, Outcome.ANSWERED)


def test_given_the_agent_hung_up_before_the_1_then_the_warm_person_is_patched_cold() -> None:
    sc = escalated()
    sc.agent_hangs_up("a1", at=21)
    sc.answer(PERSON, at=22)
    out = sc.press(PERSON, "1", at=24)
    assert not of_type(out, cmd.ConsultOnCall)
    assert out[-1] == cmd.BridgeCall(C1, PERSON, BRIDGE)
    assert attempts(sc) == [("Dr. Warm", "+15550003", 1, 1, 20, 24, "accepted")]


def test_given_a_cold_person_then_no_announcement_whatever_the_agent() -> None:
    sc = escalated(COLD)
    sc.answer(PERSON, at=22)
    assert sc.press(PERSON, "1", at=24)[-1] == cmd.BridgeCall(C1, PERSON, BRIDGE)


def test_given_the_agent_announcing_when_their_phone_hangs_up_then_the_caller_is_connected() -> None:
    sc = announcing()
    out = sc.leg_ended(AGENT_LEG, at=40)
    assert out[-1] == cmd.BridgeCall(C1, PERSON, BRIDGE)
    assert attempts(sc)[-1][-1] == "accepted" and segment(out).outcome is Outcome.TRANSFERRED
    assert sc.router.call_state(C1) is CallState.CONNECTED


def test_given_the_agent_announcing_when_they_hang_up_on_the_console_then_the_caller_is_connected() -> None:
    sc = announcing()
    assert sc.agent_hangs_up("a1", at=40)[-1] == cmd.BridgeCall(C1, PERSON, BRIDGE)


def test_given_the_agent_announcing_when_the_person_hangs_up_then_the_caller_is_back_with_the_agent() -> None:
    sc = announcing()
    out = sc.leg_ended(PERSON, at=40)
    assert cmd.ResumeCall(C1, BRIDGE) in out
    assert of_type(out, cmd.EscalationUpdate) == [update(Esc.CANCELLED, (("Dr. Warm", "hung-up"),), 40)]
    assert attempts(sc)[-1][-1] == "hung-up"
    assert sc.router.call_state(C1) is CallState.CONNECTED


def test_given_the_agent_announcing_when_the_caller_hangs_up_then_every_leg_ends_and_the_attempt_tells() -> (
    None
):
    sc = announcing()
    out = sc.hang_up("c1", at=40)
    assert cmd.CancelOffer(PERSON, C1) in out
    assert cmd.EndCall(C1, (AGENT_LEG,), BRIDGE) in out
    assert attempts(sc) == [("Dr. Warm", "+15550003", 1, 1, 20, 40, "caller-hung-up")]
    assert PERSON not in sc.router.book.offers and C1 not in sc.router.book.calls


@pytest.mark.parametrize("connect", [True, False])
def test_given_no_warm_patch_under_way_when_the_agent_decides_then_refused_and_nothing_changes(
    connect: bool,
) -> None:
    sc = escalated()
    sc.answer(PERSON, at=22)  # prompted, not yet accepted
    before = sc.snapshot("c1")
    with pytest.raises(NoWarmPatch):
        (sc.connect_caller if connect else sc.back_to_caller)("a1", at=23)
    assert sc.snapshot("c1") == before
    assert sc.router.book.offers[PERSON].state is OfferState.PROMPTED


def test_given_a_warm_patch_under_way_when_restated_then_the_console_shows_the_announcement() -> None:
    sc = announcing()
    (told,) = of_type(sc.router.restated(30), cmd.EscalationUpdate)
    assert (told.person, told.status) == ("Dr. Warm", Esc.CONSULTING)
