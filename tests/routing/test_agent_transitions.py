"""The agent lifecycle table, pair by pair: in the table itself, and as the router applies it."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from routing_harness import Scenario, make_plan

from routing.commands import AgentStateChanged
from routing.errors import IllegalTransition, UnknownAgent
from routing.ids import AgentId
from routing.plan import NoAnswerPolicy
from routing.states import AGENT_TRANSITIONS, AgentState, AgentTrigger, next_agent_state

A, T = AgentState, AgentTrigger
# The triggers an agent (or the console on the agent's behalf) fires directly; the rest follow calls.
AGENT_TRIGGERS = (T.LOG_IN, T.READY, T.PAUSE, T.LOG_OUT, T.EXTEND_WRAP_UP, T.CALL_CONTROL)
_WRAP = {"wrap_up_s": 30.0}


def _reach(state: AgentState, **plan_options: Any) -> Scenario:
    """A scenario in which agent a1 is in ``state``; a1 is the only agent and c1 the only call."""
    if state is A.WRAP_UP:
        plan_options = {**_WRAP, **plan_options}
    sc = Scenario(make_plan(1, **plan_options))
    if state is A.LOGGED_OUT:
        return sc
    sc.log_in("a1", at=10)
    if state is A.NOT_READY:
        return sc
    sc.ready("a1", at=11)
    if state is A.READY:
        return sc
    sc.arrive("c1", at=12)
    if state is A.RINGING:
        return sc
    sc.answer("sb-c1-1", at=15)
    if state is A.ON_CALL:
        return sc
    assert state is A.WRAP_UP
    sc.hang_up("c1", at=60)
    return sc


@pytest.mark.parametrize("state", list(A))
def test_given_each_state_when_reached_then_router_reports_it(state: AgentState) -> None:
    assert _reach(state).state("a1") == state


# --- the table as a pure function -------------------------------------------------------------------
@pytest.mark.parametrize(("state", "trigger"), list(itertools.product(A, T)))
def test_given_state_when_trigger_then_next_state_is_the_table_entry_or_illegal(
    state: AgentState, trigger: AgentTrigger
) -> None:
    expected = AGENT_TRANSITIONS.get((state, trigger))
    if expected is None:
        with pytest.raises(IllegalTransition) as raised:
            next_agent_state("a1", state, trigger)
        assert (raised.value.subject, raised.value.state, raised.value.trigger) == ("a1", state, trigger)
        assert "a1" in str(raised.value)
    else:
        assert next_agent_state("a1", state, trigger) is expected


def test_given_any_state_when_logged_in_again_then_nothing_changes_but_logged_out() -> None:
    """A second console tab logging in must never disturb a call in progress."""
    for state in A:
        expected = A.NOT_READY if state is A.LOGGED_OUT else state
        assert AGENT_TRANSITIONS[(state, T.LOG_IN)] is expected


# --- the table as the router applies it: triggers the agent fires ------------------------------------
_EVENTS: dict[AgentTrigger, Callable[[Scenario, str], object]] = {
    T.LOG_IN: lambda sc, agent: sc.log_in(agent, at=20),
    T.READY: lambda sc, agent: sc.ready(agent, at=20),
    T.PAUSE: lambda sc, agent: sc.pause(agent, "lunch", at=20),
    T.LOG_OUT: lambda sc, agent: sc.log_out(agent, at=20),
    T.EXTEND_WRAP_UP: lambda sc, agent: sc.extend(agent, 30, at=70),
    T.CALL_CONTROL: lambda sc, agent: sc.hold(agent, at=20),  # and resume, transfer, escalate, hang up
}
_LEGAL = [(s, t) for s, t in itertools.product(A, AGENT_TRIGGERS) if (s, t) in AGENT_TRANSITIONS]
_ILLEGAL = [(s, t) for s, t in itertools.product(A, AGENT_TRIGGERS) if (s, t) not in AGENT_TRANSITIONS]


@pytest.mark.parametrize(("state", "trigger"), _LEGAL)
def test_given_agent_state_when_agent_event_then_router_follows_the_table(
    state: AgentState, trigger: AgentTrigger
) -> None:
    sc = _reach(state)
    _EVENTS[trigger](sc, "a1")
    assert sc.state("a1") == AGENT_TRANSITIONS[(state, trigger)]


@pytest.mark.parametrize(("state", "trigger"), _ILLEGAL)
def test_given_agent_state_when_illegal_agent_event_then_raises_and_nothing_changes(
    state: AgentState, trigger: AgentTrigger
) -> None:
    sc = _reach(state)
    before, emitted = sc.snapshot("c1"), len(sc.emitted)
    with pytest.raises(IllegalTransition) as raised:
        _EVENTS[trigger](sc, "a1")
    assert (raised.value.state, raised.value.trigger) == (state, trigger)
    assert sc.snapshot("c1") == before
    assert len(sc.emitted) == emitted


def test_illegal_agent_events_include_the_ones_that_would_strand_a_caller() -> None:
    """Pausing or logging out with a caller on the line is refused (while ringing it declines the call)."""
    stranding = {(A.ON_CALL, T.PAUSE), (A.ON_CALL, T.LOG_OUT)}
    assert stranding <= set(_ILLEGAL)


@pytest.mark.parametrize("trigger", AGENT_TRIGGERS)
def test_given_agent_not_in_plan_when_agent_event_then_unknown_agent(trigger: AgentTrigger) -> None:
    sc = _reach(A.READY)
    before = sc.snapshot()
    with pytest.raises(UnknownAgent) as raised:
        _EVENTS[trigger](sc, "ghost")
    assert raised.value.agent == "ghost"
    assert sc.snapshot() == before


def test_given_agent_not_in_plan_when_viewed_then_unknown_agent() -> None:
    with pytest.raises(UnknownAgent):
        Scenario().router.agent_view(AgentId("ghost"))


# --- the table as the router applies it: triggers that follow a call ---------------------------------
_Feed = Callable[[Scenario], object]
_SHORT_WAIT = {"max_wait_s": 10.0}  # so the caller's max wait comes before the router's ring timer
_TWO_MISSES = {"no_answer": NoAnswerPolicy(misses=2)}
_TIMED_PAUSE = {"no_answer": NoAnswerPolicy(misses=1, pause_s=60)}


def _pause_runs_out(sc: Scenario) -> object:
    """a1's phone rings out (a1 is paused for 60 s by the policy); the pause then ends by itself."""
    sc.ready("a1", at=20)
    sc.arrive("c1", at=21)
    sc.leg_ended("sb-c1-1", at=30)
    assert sc.router.agent_view(AgentId("a1")).until == 90
    return sc.tick(90)


_CALL_DRIVEN: list[tuple[AgentState, AgentTrigger, str, _Feed, dict[str, Any]]] = [
    (A.READY, T.OFFER, "call arrives", lambda sc: sc.arrive("c1", at=12), {}),
    (A.RINGING, T.ANSWER, "agent answers", lambda sc: sc.answer("sb-c1-1", at=15), {}),
    (A.RINGING, T.OFFER_WITHDRAWN, "caller hangs up", lambda sc: sc.hang_up("c1", at=15), {}),
    (A.RINGING, T.OFFER_WITHDRAWN, "caller reaches max wait", lambda sc: sc.tick(12 + 10), _SHORT_WAIT),
    (A.RINGING, T.NO_ANSWER, "leg rings out", lambda sc: sc.leg_ended("sb-c1-1", at=27), {}),
    (A.RINGING, T.NO_ANSWER, "leg cannot be placed", lambda sc: sc.leg_failed("sb-c1-1", at=12), {}),
    (A.RINGING, T.NO_ANSWER, "router's ring timer", lambda sc: sc.tick(12 + 15 + 5), {}),
    (
        A.RINGING,
        T.MISSED,
        "rings out, a miss allowed",
        lambda sc: sc.leg_ended("sb-c1-1", at=27),
        _TWO_MISSES,
    ),
    (A.ON_CALL, T.CALL_END_READY, "agent hangs up", lambda sc: sc.leg_ended("sb-c1-1", at=60), {}),
    (A.ON_CALL, T.CALL_END_READY, "caller hangs up", lambda sc: sc.hang_up("c1", at=60), {}),
    (A.ON_CALL, T.CALL_END_READY, "bridge fails", lambda sc: sc.bridge_failed("c1", at=60), {}),
    (A.ON_CALL, T.CALL_END, "hangs up, wrap-up follows", lambda sc: sc.hang_up("c1", at=60), _WRAP),
    (A.WRAP_UP, T.WRAP_UP_DONE, "wrap-up runs out", lambda sc: sc.tick(60 + 30), {}),
    (A.NOT_READY, T.PAUSE_OVER, "timed ring-no-answer pause ends", _pause_runs_out, _TIMED_PAUSE),
]


@pytest.mark.parametrize(
    ("state", "trigger", "feed", "plan_options"),
    [pytest.param(s, t, f, o, id=name) for s, t, name, f, o in _CALL_DRIVEN],
)
def test_given_agent_state_when_call_event_then_router_follows_the_table(
    state: AgentState, trigger: AgentTrigger, feed: _Feed, plan_options: dict[str, Any]
) -> None:
    sc = _reach(state, **plan_options)
    out = feed(sc)
    assert isinstance(out, list)
    # The first change is the transition under test; a ready agent may at once be offered the next call.
    first = next(c.state for c in out if isinstance(c, AgentStateChanged) and c.agent == "a1")
    assert first == AGENT_TRANSITIONS[(state, trigger)]


def test_every_legal_pair_is_exercised_through_the_router() -> None:
    exercised = set(_LEGAL) | {(s, t) for s, t, *_ in _CALL_DRIVEN}
    assert exercised == set(AGENT_TRANSITIONS)
