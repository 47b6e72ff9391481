"""The skeleton ACD policy, one situation at a time: given a state, when an event, then these commands."""

from __future__ import annotations

import pytest
from routing_harness import (
    CALLER,
    CALLER_NAME,
    MAX_WAIT_S,
    SALES,
    SALES_DID,
    SALES_LINE,
    SALES_RADIO_DID,
    SUPPORT,
    SUPPORT_DID,
    UNKNOWN_DID,
    Scenario,
    make_plan,
    of_type,
    records,
)

from routing import commands as cmd
from routing.agents import RING_NO_ANSWER
from routing.book import ENDED_MEMORY
from routing.commands import GOODBYE
from routing.errors import IllegalTransition
from routing.ids import AgentId, BridgeId, CallId, OfferId
from routing.records import CallRecord, Outcome, Party
from routing.states import AgentState, CallState
from routing.views import AgentView

A = AgentState
C1, O1, B1 = CallId("c1"), OfferId("sb-c1-1"), BridgeId("sb-bridge-c1")
A1, A2 = AgentId("a1"), AgentId("a2")


def _offered(commands: list[cmd.Command]) -> list[tuple[str, str | None]]:
    return [(o.call, o.agent) for o in of_type(commands, cmd.OfferCall)]


def _sales_call_record(
    *,
    agent: AgentId | None,
    arrived_at: float,
    answered_at: float | None,
    ended_at: float,
    outcome: Outcome,
    hung_up_by: Party,
    offers: int,
) -> CallRecord:
    """The record of c1, from CALLER to the sales line's google-ads number; the rest is the test's."""
    return CallRecord(
        call=C1,
        did=SALES_DID,
        source="google-ads",
        line=SALES_LINE,
        line_name="Acme sales",
        queue=SALES,
        caller_number=CALLER,
        caller_name=CALLER_NAME,
        agent=agent,
        arrived_at=arrived_at,
        answered_at=answered_at,
        ended_at=ended_at,
        outcome=outcome,
        hung_up_by=hung_up_by,
        offers=offers,
    )


# --- arrival ------------------------------------------------------------------------------------------
def test_given_ready_agent_when_call_arrives_then_caller_answered_and_agent_rung() -> None:
    sc = Scenario(agents=1)
    sc.staff("a1", at=10)
    assert sc.arrive("c1", at=12) == [
        cmd.AnswerCall(C1),
        cmd.OfferCall(
            offer=O1, call=C1, agent=A1, endpoint="PJSIP/1001", timeout_s=15.0, caller_number=CALLER
        ),
        cmd.AgentStateChanged(A1, A.RINGING, None, 12),
    ]


def test_given_no_ready_agent_when_call_arrives_then_caller_answered_and_waits() -> None:
    sc = Scenario(agents=1)
    sc.log_in("a1", at=10)
    assert sc.arrive("c1", at=12) == [cmd.AnswerCall(C1)]
    assert sc.router.waiting(SALES) == [C1]
    assert sc.router.call_state(C1) is CallState.WAITING


def test_given_unknown_number_when_call_arrives_then_rejected_and_logged_as_no_agent() -> None:
    sc = Scenario(agents=1)
    sc.staff("a1", at=10)
    out = sc.arrive("c1", at=12, did=UNKNOWN_DID)
    record = CallRecord(
        call=C1,
        did=UNKNOWN_DID,
        source=None,
        line=None,
        line_name=None,
        queue=None,
        caller_number=CALLER,
        caller_name=CALLER_NAME,
        agent=None,
        arrived_at=12,
        answered_at=None,
        ended_at=12,
        outcome=Outcome.NO_AGENT,
        hung_up_by=Party.SYSTEM,
        offers=0,
    )
    assert out == [cmd.RejectCall(C1, f"number {UNKNOWN_DID} is not in the number plan"), cmd.LogCall(record)]
    assert sc.router.active_calls == 0
    assert sc.state("a1") is A.READY
    assert sc.hang_up("c1", at=13) == []


def test_given_call_in_queue_when_arrival_replayed_then_ignored() -> None:
    sc = Scenario(agents=1)
    sc.arrive("c1", at=12)
    assert sc.arrive("c1", at=20) == []
    assert sc.router.waiting(SALES) == [C1]
    assert sc.router.active_calls == 1


def test_given_withheld_number_when_call_arrives_then_offer_and_pop_carry_none() -> None:
    sc = Scenario(agents=1)
    sc.staff("a1", at=10)
    sc.arrive("c1", at=12, number=None)
    assert sc.offer_of("c1").caller_number is None
    (pop,) = sc.ring("sb-c1-1", at=13)
    assert isinstance(pop, cmd.PopScreen)
    assert pop.caller_number is None


# --- who gets the call ----------------------------------------------------------------------------------
def test_given_three_ready_agents_when_calls_arrive_then_longest_idle_agent_first() -> None:
    sc = Scenario(agents=3)
    sc.staff("a2", at=1)
    sc.staff("a3", at=2)
    sc.staff("a1", at=3)
    for call in ("c1", "c2", "c3"):
        sc.arrive(call, at=10)
    assert [sc.agent_of(c) for c in ("c1", "c2", "c3")] == ["a2", "a3", "a1"]


def test_given_agent_ready_twice_when_call_arrives_then_agent_keeps_place_in_idle_order() -> None:
    sc = Scenario(agents=2)
    sc.staff("a1", "a2", at=1)
    assert sc.ready("a1", at=5) == []
    assert sc.router.agent_view(A1).since == 1
    sc.arrive("c1", at=10)
    assert sc.agent_of("c1") == "a1"


def test_given_agents_back_from_calls_when_calls_arrive_then_idle_order_is_readiness_order() -> None:
    sc = Scenario(agents=3)
    sc.staff("a1", "a2", "a3", at=0)
    sc.arrive("c1", at=10)
    sc.arrive("c2", at=10)
    sc.answer("sb-c1-1", at=12)
    sc.answer("sb-c2-1", at=12)
    sc.leg_ended("sb-c2-1", at=50)  # a2 first, then a1: a3 has been idle since 0
    sc.leg_ended("sb-c1-1", at=60)
    for call in ("c3", "c4", "c5"):
        sc.arrive(call, at=70)
    assert [sc.agent_of(c) for c in ("c3", "c4", "c5")] == ["a3", "a2", "a1"]


def test_given_agent_paused_and_back_when_call_arrives_then_agent_idle_longer_goes_first() -> None:
    sc = Scenario(agents=2)
    sc.staff("a1", "a2", at=0)
    sc.pause("a1", "lunch", at=5)
    sc.ready("a1", at=6)
    sc.arrive("c1", at=10)
    assert sc.agent_of("c1") == "a2"


def test_given_paused_agent_when_call_arrives_then_waits_until_agent_ready() -> None:
    sc = Scenario(agents=1)
    sc.staff("a1", at=0)
    sc.pause("a1", "lunch", at=5)
    assert sc.arrive("c1", at=10) == [cmd.AnswerCall(C1)]
    assert _offered(sc.ready("a1", at=20)) == [("c1", "a1")]


def test_given_logged_out_agent_when_call_arrives_then_not_offered() -> None:
    sc = Scenario(agents=1)
    sc.staff("a1", at=0)
    assert sc.log_out("a1", at=5) == [cmd.AgentStateChanged(A1, A.LOGGED_OUT, None, 5)]
    assert sc.arrive("c1", at=10) == [cmd.AnswerCall(C1)]


def test_given_agent_of_other_queue_ready_when_call_arrives_then_waits() -> None:
    sc = Scenario(agents={"s1": (SUPPORT,), "a1": (SALES,)})
    sc.staff("s1", at=0)
    sc.arrive("c1", at=10)
    assert sc.router.waiting(SALES) == [C1]
    assert sc.state("s1") is A.READY


def test_given_agent_in_two_queues_when_support_call_arrives_then_agent_offered() -> None:
    sc = Scenario(agents={"a1": (SALES,), "x1": (SALES, SUPPORT)})
    sc.staff("a1", "x1", at=0)
    sc.arrive("c1", at=10, did=SUPPORT_DID)
    assert sc.agent_of("c1") == "x1"
    sc.arrive("c2", at=11)
    assert sc.agent_of("c2") == "a1"


# --- first in, first out --------------------------------------------------------------------------------
def test_given_calls_waiting_when_agents_become_ready_then_served_in_arrival_order() -> None:
    sc = Scenario(agents=2)
    sc.log_in("a1", at=0)
    sc.log_in("a2", at=0)
    for i, call in enumerate(("c1", "c2", "c3"), start=1):
        sc.arrive(call, at=i)
    assert _offered(sc.ready("a2", at=10)) == [("c1", "a2")]
    assert sc.router.waiting(SALES) == ["c2", "c3"]
    assert _offered(sc.ready("a1", at=11)) == [("c2", "a1")]


def test_given_first_caller_abandoned_when_agent_becomes_ready_then_next_caller_served() -> None:
    sc = Scenario(agents=1)
    sc.log_in("a1", at=0)
    sc.arrive("c1", at=1)
    sc.arrive("c2", at=2)
    sc.hang_up("c1", at=3)
    assert _offered(sc.ready("a1", at=10)) == [("c2", "a1")]


def test_given_only_abandoned_callers_when_agent_becomes_ready_then_agent_stays_ready() -> None:
    sc = Scenario(agents=1)
    sc.log_in("a1", at=0)
    sc.arrive("c1", at=1)
    sc.hang_up("c1", at=3)
    assert sc.ready("a1", at=10) == [cmd.AgentStateChanged(A1, A.READY, None, 10)]


def test_given_calls_on_two_numbers_of_one_line_when_agent_ready_then_one_queue_in_arrival_order() -> None:
    sc = Scenario(agents=1)
    sc.log_in("a1", at=0)
    sc.arrive("c1", at=1, did=SALES_RADIO_DID)
    sc.arrive("c2", at=2, did=SALES_DID)
    assert sc.router.waiting(SALES) == ["c1", "c2"]
    assert _offered(sc.ready("a1", at=10)) == [("c1", "a1")]


def test_given_two_agents_when_three_calls_arrive_then_third_waits_until_an_agent_frees() -> None:
    sc = Scenario(agents=2)
    sc.staff("a1", "a2", at=0)
    sc.arrive("c1", at=10)
    sc.arrive("c2", at=11)
    assert sc.arrive("c3", at=12) == [cmd.AnswerCall(CallId("c3"))]
    sc.arrive("c4", at=13)
    assert sc.router.waiting(SALES) == ["c3", "c4"]
    sc.answer("sb-c1-1", at=14)
    sc.answer("sb-c2-1", at=15)
    freed = sc.leg_ended("sb-c2-1", at=100)  # a2 hangs up first
    assert _offered(freed) == [("c3", "a2")]
    assert sc.router.waiting(SALES) == ["c4"]
    assert _offered(sc.hang_up("c1", at=120)) == [("c4", "a1")]
    assert sc.router.call_state(CallId("c3")) is CallState.OFFERED


# --- ring, no answer ------------------------------------------------------------------------------------
def test_given_call_ringing_when_leg_rings_out_then_agent_not_ready_and_call_keeps_its_place() -> None:
    sc = Scenario(agents=2)
    sc.log_in("a2", at=0)
    sc.staff("a1", at=0)
    sc.arrive("c1", at=10)
    sc.arrive("c2", at=11)
    assert sc.leg_ended("sb-c1-1", at=25) == [
        cmd.CancelOffer(O1, C1),
        cmd.WithdrawOffer(A1, C1, O1, "no-answer"),
        cmd.AgentStateChanged(A1, A.NOT_READY, RING_NO_ANSWER, 25),
    ]
    assert sc.router.waiting(SALES) == ["c1", "c2"]
    assert sc.router.agent_view(A1) == AgentView(
        agent=A1, state=A.NOT_READY, reason=RING_NO_ANSWER, since=25, call=None
    )
    out = sc.ready("a2", at=30)
    second = cmd.OfferCall(
        offer=OfferId("sb-c1-2"),
        call=C1,
        agent=A2,
        endpoint="PJSIP/1002",
        timeout_s=15.0,
        caller_number=CALLER,
    )
    assert of_type(out, cmd.OfferCall) == [second]


def test_given_call_ringing_when_leg_cannot_be_placed_then_next_agent_rung_at_once() -> None:
    sc = Scenario(agents=2)
    sc.staff("a1", "a2", at=0)
    sc.arrive("c1", at=10)
    out = sc.leg_failed("sb-c1-1", at=10.5)
    assert out[:2] == [cmd.CancelOffer(O1, C1), cmd.WithdrawOffer(A1, C1, O1, "failed: endpoint offline")]
    assert cmd.AgentStateChanged(A1, A.NOT_READY, RING_NO_ANSWER, 10.5) in out
    assert _offered(out) == [("c1", "a2")]


def test_given_call_ringing_when_router_offer_timer_passes_on_tick_then_ring_no_answer() -> None:
    sc = Scenario(agents=1)  # ring timeout 15 s + grace 5 s
    sc.staff("a1", at=0)
    sc.arrive("c1", at=10)
    sc.ring("sb-c1-1", at=11)
    assert sc.tick(29.9) == []
    assert sc.tick(30) == [
        cmd.CancelOffer(O1, C1),
        cmd.WithdrawOffer(A1, C1, O1, "ring-timeout"),
        cmd.AgentStateChanged(A1, A.NOT_READY, RING_NO_ANSWER, 30),
    ]
    assert sc.router.waiting(SALES) == [C1]
    assert sc.tick(31) == []


def test_given_queue_ring_timeout_when_offered_then_pbx_told_and_timer_follows_it() -> None:
    sc = Scenario(make_plan(1, ring_timeout_s=30, offer_grace_s=2))
    sc.staff("a1", at=0)
    sc.arrive("c1", at=10)
    assert sc.offer_of("c1").timeout_s == 30
    assert sc.tick(41.9) == []
    assert of_type(sc.tick(42), cmd.WithdrawOffer)[0].reason == "ring-timeout"


def test_given_all_agents_ring_out_when_one_comes_back_then_call_offered_again_with_new_leg() -> None:
    sc = Scenario(agents=1)
    sc.staff("a1", at=0)
    sc.arrive("c1", at=10)
    sc.leg_ended("sb-c1-1", at=25)
    assert sc.router.waiting(SALES) == [C1]
    out = sc.ready("a1", at=40)
    assert [o.offer for o in of_type(out, cmd.OfferCall)] == ["sb-c1-2"]
    sc.answer("sb-c1-2", at=42)
    sc.hang_up("c1", at=100)
    record = sc.record_of("c1")
    assert (record.offers, record.agent, record.wait_s, record.talk_s) == (2, "a1", 32, 58)


# --- the caller leaves before an answer -------------------------------------------------------------------
def test_given_call_waiting_when_caller_hangs_up_then_logged_abandoned() -> None:
    sc = Scenario(agents=1)
    sc.arrive("c1", at=10)
    (log,) = sc.hang_up("c1", at=40)
    assert log == cmd.LogCall(
        _sales_call_record(
            agent=None,
            arrived_at=10,
            answered_at=None,
            ended_at=40,
            outcome=Outcome.ABANDONED,
            hung_up_by=Party.CALLER,
            offers=0,
        )
    )
    assert (log.record.wait_s, log.record.talk_s) == (30, 0)
    assert sc.router.waiting(SALES) == []
    assert sc.router.active_calls == 0


def test_given_call_ringing_when_caller_hangs_up_then_offer_cancelled_agent_ready_and_abandoned() -> None:
    sc = Scenario(agents=1)
    sc.staff("a1", at=0)
    sc.arrive("c1", at=10)
    sc.ring("sb-c1-1", at=11)
    out = sc.hang_up("c1", at=14)
    assert out[:3] == [
        cmd.CancelOffer(O1, C1),
        cmd.WithdrawOffer(A1, C1, O1, "caller-hung-up"),
        cmd.AgentStateChanged(A1, A.READY, None, 14),
    ]
    (record,) = records(out)
    assert (record.outcome, record.hung_up_by, record.offers, record.wait_s) == (
        Outcome.ABANDONED, Party.CALLER, 1, 4,
    )  # fmt: skip
    assert len(out) == 4
    assert sc.router.agent_view(A1) == AgentView(agent=A1, state=A.READY, reason=None, since=14, call=None)


def test_given_call_ringing_and_another_waiting_when_caller_hangs_up_then_agent_rung_for_the_next() -> None:
    sc = Scenario(agents=1)
    sc.staff("a1", at=0)
    sc.arrive("c1", at=10)
    sc.arrive("c2", at=11)
    out = sc.hang_up("c1", at=14)
    assert _offered(out) == [("c2", "a1")]
    assert records(out)[0].outcome is Outcome.ABANDONED


def test_given_offer_withdrawn_when_agent_answers_late_then_ignored() -> None:
    sc = Scenario(agents=1)
    sc.staff("a1", at=0)
    sc.arrive("c1", at=10)
    sc.hang_up("c1", at=14)
    assert sc.answer("sb-c1-1", at=14.2) == []
    assert sc.state("a1") is A.READY


def test_given_offer_timed_out_when_agent_answers_late_then_ignored_and_call_still_waits() -> None:
    sc = Scenario(agents=1)
    sc.staff("a1", at=0)
    sc.arrive("c1", at=10)
    sc.tick(30)
    assert sc.answer("sb-c1-1", at=30.5) == []
    assert sc.router.waiting(SALES) == [C1]
    assert sc.state("a1") is A.NOT_READY


# --- ringing and answering -------------------------------------------------------------------------------
def test_given_offer_when_ringing_reported_twice_then_screen_popped_once() -> None:
    sc = Scenario(agents=1)
    sc.staff("a1", at=0)
    sc.arrive("c1", at=10, did=SALES_RADIO_DID)
    assert sc.ring("sb-c1-1", at=11.5) == [
        cmd.PopScreen(
            agent=A1,
            call=C1,
            offer=O1,
            caller_number=CALLER,
            caller_name=CALLER_NAME,
            did=SALES_RADIO_DID,
            source="radio",
            line=SALES_LINE,
            line_name="Acme sales",
            queue=SALES,
            waited_s=1.5,
        )
    ]
    assert sc.ring("sb-c1-1", at=11.6) == []


def test_given_offer_ringing_when_agent_answers_then_bridged_and_agent_on_call() -> None:
    sc = Scenario(agents=1)
    sc.staff("a1", at=0)
    sc.arrive("c1", at=100)
    sc.ring("sb-c1-1", at=101)
    assert sc.answer("sb-c1-1", at=106) == [
        cmd.BridgeCall(C1, O1, B1),
        cmd.CallConnected(A1, C1, 106),
        cmd.AgentStateChanged(A1, A.ON_CALL, None, 106),
    ]
    assert sc.router.agent_view(A1) == AgentView(agent=A1, state=A.ON_CALL, reason=None, since=106, call=C1)
    assert sc.router.call_state(C1) is CallState.CONNECTED


# --- a connected call ends ---------------------------------------------------------------------------------
def _connected(arrived: float = 100, answered: float = 106) -> Scenario:
    sc = Scenario(agents=1)
    sc.staff("a1", at=0)
    sc.arrive("c1", at=arrived)
    sc.ring("sb-c1-1", at=arrived + 1)
    sc.answer("sb-c1-1", at=answered)
    return sc


def test_given_connected_call_when_agent_hangs_up_then_caller_hung_up_and_logged_agent_side() -> None:
    sc = _connected()
    out = sc.leg_ended("sb-c1-1", at=166)
    assert out == [
        cmd.EndCall(C1, (C1,), B1),
        cmd.AgentStateChanged(A1, A.READY, None, 166),
        cmd.LogCall(
            _sales_call_record(
                agent=A1,
                arrived_at=100,
                answered_at=106,
                ended_at=166,
                outcome=Outcome.ANSWERED,
                hung_up_by=Party.AGENT,
                offers=1,
            )
        ),
    ]
    record = sc.record_of("c1")
    assert (record.wait_s, record.talk_s) == (6, 60)


def test_given_connected_call_when_caller_hangs_up_then_agent_leg_hung_up_and_logged_caller_side() -> None:
    sc = _connected()
    out = sc.hang_up("c1", at=130)
    assert out[:2] == [cmd.EndCall(C1, (O1,), B1), cmd.AgentStateChanged(A1, A.READY, None, 130)]
    (record,) = records(out)
    assert (record.outcome, record.hung_up_by, record.agent, record.wait_s, record.talk_s) == (
        Outcome.ANSWERED, Party.CALLER, A1, 6, 24,
    )  # fmt: skip
    assert sc.leg_ended("sb-c1-1", at=130.1) == []  # the PBX confirming our hangup of the agent leg


def test_given_connected_call_when_bridge_fails_then_both_legs_hung_up_and_logged_system() -> None:
    sc = _connected()
    out = sc.bridge_failed("c1", at=106.2)
    assert out[:2] == [cmd.EndCall(C1, (C1, O1), B1), cmd.AgentStateChanged(A1, A.READY, None, 106.2)]
    (record,) = records(out)
    assert (record.outcome, record.hung_up_by, record.agent) == (Outcome.ANSWERED, Party.SYSTEM, A1)
    assert sc.hang_up("c1", at=106.3) == []


def test_given_connected_call_and_caller_waiting_when_agent_hangs_up_then_agent_rung_for_the_next() -> None:
    sc = _connected()
    sc.arrive("c2", at=110)
    out = sc.leg_ended("sb-c1-1", at=166)
    assert [type(c) for c in out] == [
        cmd.EndCall, cmd.AgentStateChanged, cmd.OfferCall, cmd.AgentStateChanged, cmd.LogCall,
    ]  # fmt: skip
    assert _offered(out) == [("c2", "a1")]
    assert sc.router.agent_view(A1).call == "c2"


def test_given_connected_call_when_agent_tries_to_pause_then_refused() -> None:
    sc = _connected()
    with pytest.raises(IllegalTransition):
        sc.pause("a1", "lunch", at=120)
    assert sc.state("a1") is A.ON_CALL


# --- max wait ---------------------------------------------------------------------------------------------
def test_given_call_waiting_when_max_wait_passes_on_tick_then_ended_and_logged_no_agent() -> None:
    sc = Scenario(agents=1)
    sc.arrive("c1", at=10)
    assert sc.tick(10 + MAX_WAIT_S - 0.1) == []
    out = sc.tick(10 + MAX_WAIT_S)
    assert out[0] == cmd.EndCall(C1, (C1,), None, GOODBYE)
    (record,) = records(out)
    assert (record.outcome, record.hung_up_by, record.wait_s, record.offers) == (
        Outcome.NO_AGENT, Party.SYSTEM, MAX_WAIT_S, 0,
    )  # fmt: skip
    assert sc.router.waiting(SALES) == []
    assert sc.hang_up("c1", at=311) == []  # the PBX confirming our hangup


def test_given_call_ringing_when_max_wait_passes_then_offer_cancelled_agent_ready_and_call_ended() -> None:
    sc = Scenario(agents=1)
    sc.log_in("a1", at=0)
    sc.arrive("c1", at=0)
    sc.ready("a1", at=MAX_WAIT_S - 5)
    out = sc.tick(MAX_WAIT_S)
    assert out == [
        cmd.CancelOffer(O1, C1),
        cmd.WithdrawOffer(A1, C1, O1, "max-wait"),
        cmd.AgentStateChanged(A1, A.READY, None, MAX_WAIT_S),
        cmd.EndCall(C1, (C1,), None, GOODBYE),
        cmd.LogCall(
            _sales_call_record(
                agent=None,
                arrived_at=0,
                answered_at=None,
                ended_at=MAX_WAIT_S,
                outcome=Outcome.NO_AGENT,
                hung_up_by=Party.SYSTEM,
                offers=1,
            )
        ),
    ]


def test_given_call_ringing_and_another_waiting_when_max_wait_passes_then_agent_rung_for_the_next() -> None:
    sc = Scenario(agents=1)
    sc.log_in("a1", at=0)
    sc.arrive("c1", at=0)
    sc.arrive("c2", at=100)
    sc.ready("a1", at=MAX_WAIT_S - 5)
    out = sc.tick(MAX_WAIT_S)
    assert _offered(out) == [("c2", "a1")]
    assert [r.call for r in records(out)] == ["c1"]


def test_given_connected_call_when_max_wait_passes_then_call_goes_on() -> None:
    sc = _connected(arrived=0, answered=10)
    assert sc.tick(MAX_WAIT_S + 100) == []
    assert sc.router.call_state(C1) is CallState.CONNECTED


def test_given_several_timers_due_when_one_tick_then_all_fire_in_time_order() -> None:
    sc = Scenario(agents=1)
    sc.arrive("c1", at=0)
    sc.arrive("c2", at=1)
    out = sc.tick(1000)
    assert [r.call for r in records(out)] == ["c1", "c2"]
    assert sc.router.active_calls == 0


# --- agents ------------------------------------------------------------------------------------------------
def test_given_logged_out_agent_when_logs_in_then_not_ready_with_reason_logged_in() -> None:
    sc = Scenario(agents=1)
    assert sc.log_in("a1", at=10) == [cmd.AgentStateChanged(A1, A.NOT_READY, "logged-in", 10)]
    assert sc.router.agent_view(A1) == AgentView(
        agent=A1, state=A.NOT_READY, reason="logged-in", since=10, call=None
    )
    assert sc.log_in("a1", at=11) == []  # a second console tab


def test_given_not_ready_agent_when_paused_with_new_reason_then_new_interval_reported() -> None:
    sc = Scenario(agents=1)
    sc.log_in("a1", at=10)
    assert sc.pause("a1", "training", at=20) == [cmd.AgentStateChanged(A1, A.NOT_READY, "training", 20)]
    assert sc.router.agent_view(A1) == AgentView(
        agent=A1, state=A.NOT_READY, reason="training", since=20, call=None
    )


def test_given_logged_out_agent_when_logged_out_again_then_nothing() -> None:
    sc = Scenario(agents=1)
    assert sc.log_out("a1", at=10) == []
    sc.log_in("a1", at=11)
    assert sc.log_out("a1", at=12) == [cmd.AgentStateChanged(A1, A.LOGGED_OUT, None, 12)]
    assert sc.log_out("a1", at=13) == []


def test_given_ready_agent_when_agent_view_read_then_never_seen_agents_are_logged_out() -> None:
    sc = Scenario(agents=2)
    sc.staff("a1", at=5)
    assert sc.router.agent_view(A1) == AgentView(agent=A1, state=A.READY, reason=None, since=5, call=None)
    assert sc.router.agent_view(A2) == AgentView(
        agent=A2, state=A.LOGGED_OUT, reason=None, since=0.0, call=None
    )


def test_given_ringing_agent_when_agent_view_read_then_shows_the_call() -> None:
    sc = Scenario(agents=1)
    sc.staff("a1", at=5)
    sc.arrive("c1", at=10)
    assert sc.router.agent_view(A1) == AgentView(agent=A1, state=A.RINGING, reason=None, since=10, call=C1)


# --- readers -----------------------------------------------------------------------------------------------
def test_given_calls_in_several_states_when_waiting_read_then_only_waiting_calls_in_order_per_queue() -> None:
    sc = Scenario(agents={"a1": (SALES,), "s1": (SUPPORT,)})
    sc.log_in("s1", at=0)
    sc.staff("a1", at=0)
    sc.arrive("c1", at=1)  # offered to a1
    sc.arrive("c2", at=2)
    sc.arrive("c3", at=3)
    sc.arrive("c4", at=4, did=SUPPORT_DID)
    sc.arrive("c5", at=5)
    sc.hang_up("c3", at=6)
    assert sc.router.waiting(SALES) == ["c2", "c5"]
    assert sc.router.waiting(SUPPORT) == ["c4"]
    assert sc.router.active_calls == 4


# --- replays ---------------------------------------------------------------------------------------------
def test_given_call_ended_by_router_when_arrival_replayed_then_hung_up_and_nothing_logged() -> None:
    sc = Scenario(agents=1)
    sc.arrive("c1", at=0)
    sc.tick(MAX_WAIT_S)
    # The caller still in the app after a restart: the goodbye's hangup died with the old process.
    assert sc.arrive("c1", at=MAX_WAIT_S + 0.1) == [cmd.EndCall(CallId("c1"), (CallId("c1"),), None)]
    assert sc.router.active_calls == 0


def test_given_rejected_call_when_arrival_replayed_then_logged_once() -> None:
    sc = Scenario(agents=1)
    sc.arrive("c1", at=0, did=UNKNOWN_DID)
    sc.arrive("c1", at=0.1, did=UNKNOWN_DID)
    assert len(records(sc.emitted)) == 1


def test_given_more_ended_calls_than_remembered_when_the_oldest_is_replayed_then_it_is_new_again() -> None:
    sc = Scenario(agents=1)
    for n in range(ENDED_MEMORY + 1):
        sc.arrive(f"r{n}", at=0, did=UNKNOWN_DID)
    # The memory is bounded: the oldest id fell out, the newest is still known.
    assert records(sc.arrive(f"r{ENDED_MEMORY}", at=1, did=UNKNOWN_DID)) == []
    assert len(records(sc.arrive("r0", at=1, did=UNKNOWN_DID))) == 1
