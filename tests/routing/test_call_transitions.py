"""The call lifecycle table, pair by pair: in the table itself, and as the router applies it."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from routing_harness import MAX_WAIT_S, Scenario, make_plan

from routing.errors import IllegalTransition
from routing.hours import Hours
from routing.ids import CallId
from routing.plan import Action, AfterHours, AfterHoursKind, OnCallStep, Priorities, Rule
from routing.states import CALL_TRANSITIONS, CallState, CallTrigger, next_call_state

S, T = CallState, CallTrigger
_Feed = Callable[[Scenario], object]
_SHORT_WAIT = {"max_wait_s": 10.0}  # so the caller's max wait comes before the router's ring timer
_VOICEMAIL = {"rules": (Rule(30, Action.VOICEMAIL),)}
ON_CALL = OnCallStep("Dr. Who", "PJSIP/oncall", 15)
_ESCALATES = {"sales_line": {"on_call": (ON_CALL,), "escalation_rounds": 1}}
_WARM = {
    "sales_line": {"on_call": (OnCallStep("Dr. Who", "PJSIP/oncall", 15, warm=True),), "escalation_rounds": 1}
}


def _reach(state: CallState, **plan_options: Any) -> Scenario:
    """Call c1 in ``state``, with a1 the only agent; c1 arrives at 12 and is answered at 15.

    The states only some queues reach: identifying (a queue that ranks callers by tier), message (a
    voicemail rule at 30 s) and dialing (c1 asked for a callback, whose call is ``sb-cb-c1``; a1 took it).
    Held and escalating: a1 put c1 on hold, or escalated it (Dr. Who rings on ``sb-c1-2``), at 20.
    """
    if state in (S.HELD, S.ESCALATING):
        sc = _reach(S.CONNECTED, **{**_ESCALATES, **plan_options})
        (sc.hold if state is S.HELD else sc.escalate)("a1", at=20)
        return sc
    if state is S.IDENTIFYING:
        sc = Scenario(make_plan(1, priorities=Priorities(tiers={"vip": 5}), **plan_options))
        sc.arrive("c1", at=12)
        return sc
    if state is S.MESSAGE:
        sc = Scenario(make_plan(1, rules=(Rule(30, Action.VOICEMAIL),), **plan_options))
        sc.arrive("c1", at=12)
        sc.tick(42)
        return sc
    if state is S.DIALING:
        sc = Scenario(make_plan(1, rules=(Rule(30, Action.CALLBACK),), **plan_options))
        sc.arrive("c1", at=12)
        sc.tick(42)
        sc.press_callback("c1", at=43)
        sc.staff("a1", at=50)
        sc.answer("sb-sb-cb-c1-1", at=52)
        return sc
    sc = Scenario(make_plan(1, **plan_options))
    sc.log_in("a1", at=10)
    if state is S.WAITING:
        sc.arrive("c1", at=12)
        return sc
    sc.ready("a1", at=11)
    sc.arrive("c1", at=12)
    if state is S.OFFERED:
        return sc
    sc.answer("sb-c1-1", at=15)
    if state is S.CONNECTED:
        return sc
    assert state is S.ENDED
    sc.hang_up("c1", at=60)
    return sc


def _subject(state: CallState) -> CallId:
    return CallId("sb-cb-c1" if state is S.DIALING else "c1")


@pytest.mark.parametrize("state", list(S))
def test_given_each_state_when_reached_then_router_reports_it(state: CallState) -> None:
    assert _reach(state).router.call_state(_subject(state)) is state


def test_given_call_never_seen_when_asked_then_reported_ended() -> None:
    assert Scenario().router.call_state(CallId("nobody")) is S.ENDED


# --- the table as a pure function -------------------------------------------------------------------
@pytest.mark.parametrize(("state", "trigger"), list(itertools.product(S, T)))
def test_given_state_when_trigger_then_next_state_is_the_table_entry_or_illegal(
    state: CallState, trigger: CallTrigger
) -> None:
    expected = CALL_TRANSITIONS.get((state, trigger))
    if expected is None:
        with pytest.raises(IllegalTransition) as raised:
            next_call_state("c1", state, trigger)
        assert (raised.value.subject, raised.value.state, raised.value.trigger) == ("c1", state, trigger)
    else:
        assert next_call_state("c1", state, trigger) is expected


def test_given_ended_call_then_no_trigger_leaves_ended() -> None:
    assert not [t for (s, t) in CALL_TRANSITIONS if s is S.ENDED]


# --- the table as the router applies it -------------------------------------------------------------
_CLOSED = {
    "hours": Hours(timezone="UTC", weekly={}),
    "after_hours": AfterHours(AfterHoursKind.ON_CALL, None, (ON_CALL,)),
}
_FULL = {"max_length": 1, "when_full": Action.VOICEMAIL, "priorities": Priorities(tiers={"vip": 5})}


def _blind_then_missed(sc: Scenario) -> object:
    """a1 hangs up while Dr. Who rings; Dr. Who does not answer either: the caller leaves a message."""
    sc.agent_hangs_up("a1", at=25)
    return sc.leg_ended("sb-c1-2", at=35)


def _warm_back(sc: Scenario) -> object:
    """Dr. Who (warm) accepts at 25 and a1 talks with them, then takes the caller back."""
    sc.accept("sb-c1-2", at=25)
    assert sc.router.call_state(CallId("c1")) is S.ESCALATING  # the caller still on hold
    return sc.back_to_caller("a1", at=30)


def _full_then(sc: Scenario) -> object:
    """c1 already waits in a queue of one; c2 arrives and goes to voicemail while being identified."""
    sc.arrive("c2", at=20)
    return sc.router.call_state(CallId("c2"))


_LEGAL: list[tuple[CallState, CallTrigger, str, _Feed, dict[str, Any]]] = [
    (S.IDENTIFYING, T.IDENTIFIED, "store answers", lambda sc: sc.identified("c1", "vip", at=13), {}),
    (S.IDENTIFYING, T.IDENTIFIED, "store too slow", lambda sc: sc.tick(12 + 1), {}),
    (S.IDENTIFYING, T.HANG_UP, "caller abandons", lambda sc: sc.hang_up("c1", at=12.5), {}),
    (S.WAITING, T.OFFER, "agent becomes ready", lambda sc: sc.ready("a1", at=20), {}),
    (S.WAITING, T.HANG_UP, "caller abandons", lambda sc: sc.hang_up("c1", at=20), {}),
    (S.WAITING, T.HANG_UP, "max wait", lambda sc: sc.tick(12 + MAX_WAIT_S), {}),
    (S.WAITING, T.VOICEMAIL, "voicemail rule", lambda sc: sc.tick(12 + 30), _VOICEMAIL),
    (S.OFFERED, T.OFFER_LOST, "leg rings out", lambda sc: sc.leg_ended("sb-c1-1", at=27), {}),
    (S.OFFERED, T.OFFER_LOST, "leg cannot be placed", lambda sc: sc.leg_failed("sb-c1-1", at=12), {}),
    (S.OFFERED, T.OFFER_LOST, "router's ring timer", lambda sc: sc.tick(12 + 15 + 5), {}),
    (S.OFFERED, T.OFFER_LOST, "agent declines", lambda sc: sc.pause("a1", "break", at=13), {}),
    (S.OFFERED, T.ANSWER, "agent answers", lambda sc: sc.answer("sb-c1-1", at=15), {}),
    (S.OFFERED, T.HANG_UP, "caller abandons while ringing", lambda sc: sc.hang_up("c1", at=14), {}),
    (S.OFFERED, T.HANG_UP, "max wait while ringing", lambda sc: sc.tick(12 + 10), _SHORT_WAIT),
    (S.CONNECTED, T.HANG_UP, "caller hangs up", lambda sc: sc.hang_up("c1", at=60), {}),
    (S.CONNECTED, T.HANG_UP, "agent hangs up", lambda sc: sc.leg_ended("sb-c1-1", at=60), {}),
    (S.CONNECTED, T.BRIDGE_FAILED, "bridge fails", lambda sc: sc.bridge_failed("c1", at=16), {}),
    (S.CONNECTED, T.HANG_UP, "agent hangs up on the console", lambda sc: sc.agent_hangs_up("a1"), {}),
    (S.CONNECTED, T.HOLD, "agent holds", lambda sc: sc.hold("a1", at=20), {}),
    (S.CONNECTED, T.TRANSFER, "to a queue", lambda sc: sc.transfer("a1", "queue", "support", at=20), {}),
    (S.CONNECTED, T.ESCALATE, "agent escalates", lambda sc: sc.escalate("a1", at=20), _ESCALATES),
    (S.HELD, T.RESUME, "agent resumes", lambda sc: sc.resume("a1", at=30), {}),
    (S.HELD, T.TRANSFER, "held, to a queue", lambda sc: sc.transfer("a1", "queue", "support", at=30), {}),
    (S.HELD, T.ESCALATE, "held, escalates", lambda sc: sc.escalate("a1", at=30), {}),
    (S.HELD, T.HANG_UP, "held caller hangs up", lambda sc: sc.hang_up("c1", at=30), {}),
    (S.HELD, T.BRIDGE_FAILED, "held, bridge fails", lambda sc: sc.bridge_failed("c1", at=30), {}),
    (S.ESCALATING, T.ANSWER, "on-call answers", lambda sc: sc.accept("sb-c1-2", at=25), {}),
    (S.ESCALATING, T.ESCALATION_FAILED, "nobody answers", lambda sc: sc.leg_ended("sb-c1-2", at=35), {}),
    (S.ESCALATING, T.TAKE_BACK, "warm, agent takes caller back", lambda sc: _warm_back(sc), _WARM),
    (S.ESCALATING, T.HANG_UP, "escalating caller hangs up", lambda sc: sc.hang_up("c1", at=30), {}),
    (S.ESCALATING, T.BRIDGE_FAILED, "escalating, bridge fails", lambda sc: sc.bridge_failed("c1"), {}),
    (S.ESCALATING, T.VOICEMAIL, "agent gone, nobody answers", lambda sc: _blind_then_missed(sc), {}),
    (S.MESSAGE, T.HANG_UP, "caller done", lambda sc: sc.hang_up("c1", at=80), {}),
    (S.MESSAGE, T.HANG_UP, "message too long", lambda sc: sc.tick(42 + 180 + 5), {}),
]
_CALLBACK_LEGAL: list[tuple[CallState, CallTrigger, str, _Feed]] = [
    (S.OFFERED, T.AGENT_TOOK_CALLBACK, "agent takes it", lambda sc: sc.answer("sb-sb-cb-c1-1", at=52)),
    (S.DIALING, T.CUSTOMER_ANSWER, "customer answers", lambda sc: sc.customer_answers("sb-cb-c1", at=55)),
    (S.DIALING, T.HANG_UP, "customer unreachable", lambda sc: sc.hang_up("sb-cb-c1", at=60)),
    (S.DIALING, T.HANG_UP, "agent gives up", lambda sc: sc.leg_ended("sb-sb-cb-c1-1", at=60)),
    (S.DIALING, T.HANG_UP, "nobody picks up", lambda sc: sc.tick(52 + 30 + 5)),
]
_ELSEWHERE: list[tuple[CallState, CallTrigger, str, Callable[[], Scenario], _Feed]] = [
    (
        S.WAITING,  # every call starts waiting; one for a queue that ranks callers is looked up first
        T.IDENTIFY,
        "queue uses the caller's profile",
        lambda: Scenario(make_plan(1, priorities=Priorities(tiers={"vip": 5}))),
        lambda sc: sc.arrive("c1", at=12),
    ),
    (S.IDENTIFYING, T.VOICEMAIL, "queue full", lambda: _arrived(**_FULL), _full_then),
    (
        S.WAITING,  # in passing: a closed line's call arrives and its on-call chain is rung
        T.RING_ON_CALL,
        "closed line rings its on-call chain",
        lambda: Scenario(make_plan(1, sales_line=_CLOSED)),
        lambda sc: sc.arrive("c1", at=12),
    ),
    (
        S.ESCALATING,  # after hours, with no agent: the chain exhausted, off to voicemail
        T.VOICEMAIL,
        "on-call chain exhausted",
        lambda: _after_hours(),
        lambda sc: sc.leg_ended("sb-c1-1", at=30),
    ),
]


def _arrived(**plan_options: Any) -> Scenario:
    sc = Scenario(make_plan(1, **plan_options))
    sc.arrive("c1", at=12)
    sc.tick(13)  # the store did not answer: c1 waits
    return sc


def _after_hours() -> Scenario:
    sc = Scenario(make_plan(1, sales_line=_CLOSED))
    sc.arrive("c1", at=12)
    return sc


@pytest.mark.parametrize(
    ("state", "trigger", "feed", "plan_options"),
    [pytest.param(s, t, f, o, id=name) for s, t, name, f, o in _LEGAL],
)
def test_given_call_state_when_event_then_router_follows_the_table(
    state: CallState, trigger: CallTrigger, feed: _Feed, plan_options: dict[str, Any]
) -> None:
    sc = _reach(state, **plan_options)
    assert sc.router.call_state(CallId("c1")) is state
    feed(sc)
    assert sc.router.call_state(CallId("c1")) is CALL_TRANSITIONS[(state, trigger)]


@pytest.mark.parametrize(
    ("state", "trigger", "feed"), [pytest.param(s, t, f, id=name) for s, t, name, f in _CALLBACK_LEGAL]
)
def test_given_callback_state_when_event_then_router_follows_the_table(
    state: CallState, trigger: CallTrigger, feed: _Feed
) -> None:
    sc = _reach(S.DIALING) if state is S.DIALING else _reach_callback_offered()
    assert sc.router.call_state(CallId("sb-cb-c1")) is state
    feed(sc)
    assert sc.router.call_state(CallId("sb-cb-c1")) is CALL_TRANSITIONS[(state, trigger)]


def _reach_callback_offered() -> Scenario:
    sc = Scenario(make_plan(1, rules=(Rule(30, Action.CALLBACK),)))
    sc.arrive("c1", at=12)
    sc.tick(42)
    sc.press_callback("c1", at=43)
    sc.staff("a1", at=50)
    return sc


@pytest.mark.parametrize(
    ("state", "trigger", "setup", "feed"),
    [pytest.param(s, t, setup, f, id=name) for s, t, name, setup, f in _ELSEWHERE],
)
def test_given_call_state_reached_in_passing_when_event_then_router_follows_the_table(
    state: CallState, trigger: CallTrigger, setup: Callable[[], Scenario], feed: _Feed
) -> None:
    """States a call passes through within one event (identifying a call that meets a full queue)."""
    sc = setup()
    result = feed(sc)
    final = result if isinstance(result, CallState) else sc.router.call_state(CallId("c1"))
    assert final is CALL_TRANSITIONS[(state, trigger)]


def test_every_legal_pair_is_exercised_through_the_router() -> None:
    pairs = {(s, t) for s, t, *_ in _LEGAL} | {(s, t) for s, t, *_ in _CALLBACK_LEGAL}
    assert pairs | {(s, t) for s, t, *_ in _ELSEWHERE} == set(CALL_TRANSITIONS)


@pytest.mark.parametrize("state", [S.WAITING, S.OFFERED])
def test_given_call_not_connected_when_bridge_failed_then_refused_and_unchanged(state: CallState) -> None:
    sc = _reach(state)
    before, emitted = sc.snapshot("c1"), len(sc.emitted)
    with pytest.raises(IllegalTransition) as raised:
        sc.bridge_failed("c1", at=16)
    assert (raised.value.subject, raised.value.state, raised.value.trigger) == ("c1", state, T.BRIDGE_FAILED)
    assert sc.snapshot("c1") == before
    assert len(sc.emitted) == emitted


def _withdrawn() -> Scenario:
    """c1's first offer rang out, so c1 waits again and ``sb-c1-1`` is history."""
    sc = _reach(S.OFFERED)
    sc.leg_ended("sb-c1-1", at=27)
    return sc


# Late or repeated reports about a call or offer the router has finished with: answered with nothing.
_IGNORED: list[tuple[str, Callable[[], Scenario], _Feed]] = [
    ("waiting: replayed arrival", lambda: _reach(S.WAITING), lambda sc: sc.arrive("c1", at=13)),
    ("offered: replayed arrival", lambda: _reach(S.OFFERED), lambda sc: sc.arrive("c1", at=13)),
    ("connected: replayed arrival", lambda: _reach(S.CONNECTED), lambda sc: sc.arrive("c1", at=16)),
    ("connected: ringing reported late", lambda: _reach(S.CONNECTED), lambda sc: sc.ring("sb-c1-1", at=16)),
    ("connected: answer reported twice", lambda: _reach(S.CONNECTED), lambda sc: sc.answer("sb-c1-1", at=16)),
    ("connected: leg failure after answer", lambda: _reach(S.CONNECTED), lambda sc: sc.leg_failed("sb-c1-1")),
    ("connected: past the ring timer", lambda: _reach(S.CONNECTED), lambda sc: sc.tick(12 + 15 + 5)),
    ("connected: past max wait", lambda: _reach(S.CONNECTED), lambda sc: sc.tick(12 + MAX_WAIT_S + 1)),
    ("withdrawn: ringing", _withdrawn, lambda sc: sc.ring("sb-c1-1", at=28)),
    ("withdrawn: answered", _withdrawn, lambda sc: sc.answer("sb-c1-1", at=28)),
    ("withdrawn: leg ended", _withdrawn, lambda sc: sc.leg_ended("sb-c1-1", at=28)),
    ("withdrawn: leg failed", _withdrawn, lambda sc: sc.leg_failed("sb-c1-1", at=28)),
    ("withdrawn: its ring timer", _withdrawn, lambda sc: sc.tick(12 + 15 + 5)),
    ("ended: caller hangs up", lambda: _reach(S.ENDED), lambda sc: sc.hang_up("c1", at=61)),
    ("ended: ringing", lambda: _reach(S.ENDED), lambda sc: sc.ring("sb-c1-1", at=61)),
    ("ended: answered", lambda: _reach(S.ENDED), lambda sc: sc.answer("sb-c1-1", at=61)),
    ("ended: leg ended", lambda: _reach(S.ENDED), lambda sc: sc.leg_ended("sb-c1-1", at=61)),
    ("ended: leg failed", lambda: _reach(S.ENDED), lambda sc: sc.leg_failed("sb-c1-1", at=61)),
    ("ended: bridge failed", lambda: _reach(S.ENDED), lambda sc: sc.bridge_failed("c1", at=61)),
    ("ended: every timer", lambda: _reach(S.ENDED), lambda sc: sc.tick(10_000)),
    ("never seen: offer answered", lambda: _reach(S.WAITING), lambda sc: sc.answer("sb-zz-1", at=13)),
    ("never seen: caller hangs up", lambda: _reach(S.WAITING), lambda sc: sc.hang_up("zz", at=13)),
]


@pytest.mark.parametrize(("setup", "feed"), [pytest.param(s, f, id=name) for name, s, f in _IGNORED])
def test_given_finished_call_or_offer_when_late_event_then_ignored(
    setup: Callable[[], Scenario], feed: _Feed
) -> None:
    sc = setup()
    before = sc.snapshot("c1")
    assert feed(sc) == []
    assert sc.snapshot("c1") == before
