"""Training mode (issue 17) in the router: a trainee is offered practice callers only, and a practice
caller is offered to their trainee only; everything else on the call is as on a real one."""

from __future__ import annotations

import pytest
from routing_harness import SALES, SALES_DID, SUPPORT, UNKNOWN_DID, Scenario, make_plan, of_type, records

from routing import commands as cmd
from routing import events as ev
from routing.errors import AgentInTraining, IllegalTransition, NotInTraining, TrainingCallKept
from routing.ids import AgentId, CallId
from routing.states import AgentState, CallState

BOSS = "boss"
A1, A2, A3 = AgentId("a1"), AgentId("a2"), AgentId("a3")


def start(s: Scenario, agent: str, per_minute: float = 2.0) -> list[cmd.Command]:
    return s.feed(ev.TrainingStarted(AgentId(agent), BOSS, per_minute, s.now))


def stop(s: Scenario, agent: str) -> list[cmd.Command]:
    return s.feed(ev.TrainingEnded(AgentId(agent), BOSS, s.now))


def practice(s: Scenario, call: str, trainee: str, did: str = SALES_DID) -> list[cmd.Command]:
    number, name = "+14155550123", "Jane Doe"
    arrived = ev.TrainingCallArrived(
        call=CallId(call), did=did, trainee=AgentId(trainee), caller_number=number, caller_name=name, at=s.now
    )
    return s.feed(arrived)


def offered_to(commands: list[cmd.Command]) -> list[tuple[str, str]]:
    return [(o.call, str(o.agent)) for o in of_type(commands, cmd.OfferCall)]


def test_given_a_ready_trainee_when_a_real_call_comes_then_it_waits_for_another_agent() -> None:
    s = Scenario(agents=2)
    s.staff("a1")
    start(s, "a1")
    assert offered_to(s.arrive("c1")) == []
    assert s.router.waiting(s.plan.lines[s.plan.dids[SALES_DID].line].queue) == [CallId("c1")]
    assert offered_to(s.ready("a2") if s.log_in("a2") is not None else []) == [("c1", "a2")]


def test_given_a_trainee_when_their_practice_caller_comes_then_only_they_are_rung_marked_training() -> None:
    s = Scenario(agents=2)
    s.staff("a2", "a1")  # a2 is the longest idle: a real call would go to a2 first
    out = start(s, "a1", 3.0)
    assert out == [cmd.TrainingChanged(A1, 3.0, BOSS, 0.0)]
    out = practice(s, "p1", "a1")
    assert isinstance(out[0], cmd.AnswerCall) and offered_to(out) == [("p1", "a1")]
    s.ring("sb-p1-1")
    s.answer("sb-p1-1", at=5.0)
    assert s.router.agent_view(A1).state is AgentState.ON_CALL
    s.hang_up("p1", at=20.0)
    assert s.record_of("p1").training is True and s.record_of("p1").agent == "a1"
    assert s.state("a1") in (AgentState.WRAP_UP, AgentState.READY)


def test_given_a_busy_trainee_when_practice_callers_come_then_they_wait_in_order_for_that_trainee() -> None:
    s = Scenario(agents=2)
    s.staff("a1", "a2")
    start(s, "a1")
    s.pause("a1")
    assert offered_to(practice(s, "p1", "a1")) == []
    assert offered_to(practice(s, "p2", "a1")) == []
    assert s.router.call_state(CallId("p1")) is CallState.WAITING  # a2 is ready, yet not rung
    assert s.router.audit() == []
    assert offered_to(s.ready("a1")) == [("p1", "a1")]


def _waiting_for_paused_trainee() -> Scenario:
    s = Scenario(agents=1)
    s.staff("a1")
    start(s, "a1")
    s.pause("a1")
    practice(s, "p1", "a1")
    return s


def test_given_a_waiting_practice_caller_when_they_hang_up_then_the_trainee_does_not_get_them() -> None:
    s = _waiting_for_paused_trainee()
    s.hang_up("p1")
    assert s.record_of("p1").training is True
    assert offered_to(s.ready("a1")) == []


def test_given_a_ringing_practice_call_when_it_rings_out_then_it_rings_the_trainee_again_once_ready() -> None:
    s = Scenario(agents=2)
    s.staff("a1", "a2")
    start(s, "a1")
    practice(s, "p1", "a1")
    out = s.leg_ended("sb-p1-1", at=16.0)
    assert offered_to(out) == [] and s.state("a1") == AgentState.NOT_READY  # ring-no-answer; a2 is ready
    assert s.router.call_state(CallId("p1")) is CallState.WAITING
    assert offered_to(s.ready("a1")) == [("p1", "a1")]


def test_when_training_ends_then_waiting_practice_callers_are_sent_away_and_real_callers_come_again() -> None:
    s = _waiting_for_paused_trainee()
    s.ready("a1")
    s.leg_ended("sb-p1-1")  # rings out: waiting for a1 again (a1 is paused by the policy or ready)
    s.arrive("c1")
    out = stop(s, "a1")
    assert out[0] == cmd.TrainingChanged(A1, None, BOSS, s.now)
    assert all(r.training for r in records(out))
    if s.state("a1") == AgentState.READY:
        assert offered_to(out) == [("c1", "a1")]
    else:
        s.ready("a1")
        assert s.agent_of("c1") == "a1"


def test_given_a_ready_trainee_when_training_ends_then_they_take_the_waiting_real_call() -> None:
    s = Scenario(agents=1)
    s.staff("a1")
    start(s, "a1")
    s.arrive("c1")
    assert offered_to(stop(s, "a1")) == [("c1", "a1")]


def test_given_a_practice_call_ringing_when_training_ends_and_it_rings_out_then_it_is_sent_away() -> None:
    s = Scenario(agents=1)
    s.staff("a1")
    start(s, "a1")
    practice(s, "p1", "a1")
    stop(s, "a1")
    out = s.leg_ended("sb-p1-1")
    assert [r.call for r in records(out)] == ["p1"] and records(out)[0].training
    assert offered_to(out) == []


def test_a_practice_caller_for_an_agent_not_in_training_or_on_an_unknown_number_is_turned_away_unlogged() -> (
    None
):
    s = Scenario(agents=1)
    s.staff("a1")
    out = practice(s, "p1", "a1")
    assert of_type(out, cmd.RejectCall) and not records(out)
    start(s, "a1")
    out = practice(s, "p2", "a1", did=UNKNOWN_DID)
    assert of_type(out, cmd.RejectCall) and not records(out)
    assert practice(s, "p2", "a1") == [cmd.EndCall(CallId("p2"), (CallId("p2"),), None)]  # already over


def test_a_practice_caller_seen_twice_is_one_call() -> None:
    s = Scenario(agents=1)
    s.staff("a1")
    start(s, "a1")
    practice(s, "p1", "a1")
    assert practice(s, "p1", "a1") == []


def test_starting_training_again_changes_the_rate_only() -> None:
    s = Scenario(agents=1)
    s.staff("a1")
    start(s, "a1", 1.0)
    assert start(s, "a1", 6.0) == [cmd.TrainingChanged(A1, 6.0, BOSS, 0.0)]
    assert s.router.restated(0.0) == s.router.trainees() == [cmd.TrainingChanged(A1, 6.0, BOSS, 0.0)]


@pytest.mark.parametrize("rate", [0.0, -1.0, float("nan"), float("inf")])
def test_a_rate_that_is_not_a_positive_number_is_refused_and_changes_nothing(rate: float) -> None:
    s = Scenario(agents=1)
    with pytest.raises(IllegalTransition):
        start(s, "a1", rate)
    assert s.router.restated(0.0) == []


def test_ending_training_of_an_agent_not_in_training_is_refused() -> None:
    s = Scenario(agents=1)
    with pytest.raises(NotInTraining):
        stop(s, "a1")


def test_a_trainee_who_is_not_ready_stays_filed_nowhere_when_training_starts() -> None:
    s = Scenario(agents=1)
    s.log_in("a1")
    start(s, "a1")
    s.arrive("c1")
    assert offered_to(s.ready("a1")) == []


def _on_practice_call(agents: int = 3) -> Scenario:
    s = Scenario(make_plan({"a1": (SALES,), "a2": (SALES,), "a3": (SALES, SUPPORT)}))
    s.staff("a1", "a2", "a3")
    start(s, "a1")
    practice(s, "p1", "a1")
    s.answer("sb-p1-1")
    return s


@pytest.mark.parametrize(
    ("kind", "target"), [("queue", "support"), ("number", "+14155550199"), ("agent", "a2")]
)
def test_a_practice_call_is_not_transferred_to_a_queue_a_number_or_an_agent_not_in_training(
    kind: str, target: str
) -> None:
    s = _on_practice_call()
    with pytest.raises(TrainingCallKept):
        s.transfer("a1", kind, target)
    assert s.router.agent_view(A1).call == "p1"


def test_a_practice_call_is_transferred_to_another_trainee() -> None:
    s = _on_practice_call()
    start(s, "a2")
    out = s.transfer("a1", "agent", "a2")
    assert offered_to(out) == [("p1", "a2")]
    assert [r.training for r in records(out)] == [True]  # a1's stretch
    out = s.leg_ended(s.offer_of("p1").offer)  # a2 lets it ring out: it waits for a2, nobody else
    assert all(agent == "a2" for _, agent in offered_to(out))
    assert s.router.waiting(SUPPORT) == [] and s.router.audit() == []


def test_a_practice_call_is_not_escalated_nor_moved_by_a_supervisor() -> None:
    s = _on_practice_call()
    with pytest.raises(TrainingCallKept):
        s.escalate("a1")
    start(s, "a2")
    s.pause("a2")
    practice(s, "p2", "a2")
    with pytest.raises(TrainingCallKept):
        s.feed(ev.CallMoved(CallId("p2"), "support", s.now))


def test_a_real_call_is_not_transferred_to_a_trainee() -> None:
    s = Scenario(agents=3)
    s.staff("a1", "a2")
    start(s, "a2")
    s.arrive("c1")
    s.answer(s.offer_of("c1").offer)
    with pytest.raises(AgentInTraining):
        s.transfer("a1", "agent", "a2")


def test_a_real_call_is_transferred_to_an_agent_while_someone_else_is_in_training() -> None:
    s = Scenario(agents=3)
    s.staff("a1", "a2", "a3")
    start(s, "a3")
    s.arrive("c1")
    s.answer(s.offer_of("c1").offer)
    assert offered_to(s.transfer("a1", "agent", "a2")) == [("c1", "a2")]
