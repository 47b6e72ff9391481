"""A closed line whose after-hours policy is its on-call chain: answering is not accepting there either.
The person rung picks up, hears who the call is for and presses 1 (only then bridged); no key in time,
another key or a hang-up is an attempt that failed and the next person is rung; after the last, the caller
leaves a message. Every attempt ends in one ``EscalationAttempt``; there is no agent to tell.

Times: c1 arrives at 10 on the closed sales line; Dr. Smith rings on ``sb-c1-1``, Dr. Jones on ``sb-c1-2``.
"""

from __future__ import annotations

from routing_harness import CALLER, SALES_DID, Scenario, make_plan, of_type
from routing_harness import attempts as harness_attempts

from routing import commands as cmd
from routing.hours import Hours
from routing.ids import BridgeId, CallId, OfferId
from routing.plan import AfterHours, AfterHoursKind, OnCallStep
from routing.records import Outcome
from routing.states import CallState, OfferState

C1 = CallId("c1")
SMITH = OnCallStep("Dr. Smith", "PJSIP/smith", 20)
JONES = OnCallStep("Dr. Jones", "Local/+15550002@out", 10, number="+15550002")


def leg(n: int) -> OfferId:
    return OfferId(f"sb-c1-{n}")


def closed(chain: tuple[OnCallStep, ...] = (SMITH, JONES)) -> Scenario:
    after = AfterHours(AfterHoursKind.ON_CALL, None, chain)
    sc = Scenario(make_plan(1, sales_line={"hours": Hours(timezone="UTC", weekly={}), "after_hours": after}))
    sc.arrive("c1", at=10)
    return sc


def attempts(sc: Scenario) -> list[tuple[str, str, int, int, float, float, str]]:
    return harness_attempts(sc.emitted)


def test_given_a_closed_line_when_the_person_rung_picks_up_then_prompted_and_not_yet_bridged() -> None:
    sc = closed()
    assert sc.router.call_state(C1) is CallState.ESCALATING
    assert sc.answer(leg(1), at=12) == [cmd.PromptOnCall(leg(1), C1, SALES_DID, CALLER)]
    assert sc.router.book.offers[leg(1)].state is OfferState.PROMPTED
    assert sc.tick(12 + 20 - 0.1) == []  # the step's time again, from the pick-up, to press 1


def test_given_a_closed_line_when_the_person_presses_1_then_bridged_and_the_record_names_them() -> None:
    sc = closed()
    sc.answer(leg(1), at=12)
    out = sc.press(leg(1), "1", at=14)
    assert of_type(out, cmd.BridgeCall) == [cmd.BridgeCall(C1, leg(1), BridgeId("sb-bridge-c1"))]
    assert not of_type(out, cmd.EscalationUpdate)  # no agent has the call to follow it
    assert attempts(sc) == [("Dr. Smith", "PJSIP/smith", 1, 1, 10, 14, "accepted")]
    assert sc.router.call_state(C1) is CallState.CONNECTED
    sc.hang_up("c1", at=60)
    record = sc.record_of("c1")
    assert (record.on_call, record.after_hours, record.outcome, record.answered_at) == (
        "Dr. Smith", True, Outcome.ANSWERED, 14,
    )  # fmt: skip


def test_given_a_closed_line_when_nobody_presses_1_then_the_next_person_and_after_the_last_a_message() -> (
    None
):
    sc = closed()
    sc.answer(leg(1), at=12)
    out = sc.tick(12 + 20)  # Dr. Smith picked up and pressed nothing: a voicemail, or no yes
    assert cmd.CancelOffer(leg(1), C1) in out
    assert [o.endpoint for o in of_type(out, cmd.OfferCall)] == ["Local/+15550002@out"]
    sc.answer(leg(2), at=35)
    out = sc.press(leg(2), "2", at=36)  # Dr. Jones declines
    assert of_type(out, cmd.TakeMessage) == [cmd.TakeMessage(C1, "sb-vm-c1", 180.0)]
    assert attempts(sc) == [
        ("Dr. Smith", "PJSIP/smith", 1, 1, 10, 32, "voicemail-or-no-key"),
        ("Dr. Jones", "+15550002", 1, 2, 32, 36, "declined"),
    ]  # rung once over, as before: no second round after hours
    assert sc.router.call_state(C1) is CallState.MESSAGE


def test_given_a_closed_line_when_the_caller_hangs_up_while_a_person_is_prompted_then_abandoned() -> None:
    sc = closed()
    sc.answer(leg(1), at=12)
    out = sc.hang_up("c1", at=15)
    assert cmd.CancelOffer(leg(1), C1) in out
    assert attempts(sc) == [("Dr. Smith", "PJSIP/smith", 1, 1, 10, 15, "caller-hung-up")]
    assert sc.record_of("c1").outcome is Outcome.ABANDONED
    assert sc.router.audit() == []


def test_given_a_closed_line_when_the_person_rung_does_not_answer_then_the_attempt_is_no_answer() -> None:
    sc = closed((SMITH,))
    out = sc.leg_ended(leg(1), at=30)
    assert of_type(out, cmd.TakeMessage)
    assert attempts(sc) == [("Dr. Smith", "PJSIP/smith", 1, 1, 10, 30, "no-answer")]
