"""The call lifecycle table, pair by pair: in the table itself, and as the router applies it."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
from routing_harness import MAX_WAIT_S, Scenario, make_plan

from routing.errors import IllegalTransition
from routing.ids import CallId
from routing.states import CALL_TRANSITIONS, CallState, CallTrigger, next_call_state

S, T = CallState, CallTrigger
_Feed = Callable[[Scenario], object]
_SHORT_WAIT = {"max_wait_s": 10.0}  # so the caller's max wait comes before the router's ring timer


def _reach(state: CallState, **plan_options: float) -> Scenario:
    """Call c1 in ``state``, with a1 the only agent; c1 arrives at 12 and is answered at 15."""
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


@pytest.mark.parametrize("state", list(S))
def test_given_each_state_when_reached_then_router_reports_it(state: CallState) -> None:
    assert _reach(state).router.call_state(CallId("c1")) is state


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
_LEGAL: list[tuple[CallState, CallTrigger, str, _Feed, dict[str, float]]] = [
    (S.WAITING, T.OFFER, "agent becomes ready", lambda sc: sc.ready("a1", at=20), {}),
    (S.WAITING, T.HANG_UP, "caller abandons", lambda sc: sc.hang_up("c1", at=20), {}),
    (S.WAITING, T.MAX_WAIT, "max wait", lambda sc: sc.tick(12 + MAX_WAIT_S), {}),
    (S.OFFERED, T.RING, "agent's phone rings", lambda sc: sc.ring("sb-c1-1", at=13), {}),
    (S.OFFERED, T.OFFER_LOST, "leg rings out", lambda sc: sc.leg_ended("sb-c1-1", at=27), {}),
    (S.OFFERED, T.OFFER_LOST, "leg cannot be placed", lambda sc: sc.leg_failed("sb-c1-1", at=12), {}),
    (S.OFFERED, T.OFFER_LOST, "router's ring timer", lambda sc: sc.tick(12 + 15 + 5), {}),
    (S.OFFERED, T.ANSWER, "agent answers", lambda sc: sc.answer("sb-c1-1", at=15), {}),
    (S.OFFERED, T.HANG_UP, "caller abandons while ringing", lambda sc: sc.hang_up("c1", at=14), {}),
    (S.OFFERED, T.MAX_WAIT, "max wait while ringing", lambda sc: sc.tick(12 + 10), _SHORT_WAIT),
    (S.CONNECTED, T.HANG_UP, "caller hangs up", lambda sc: sc.hang_up("c1", at=60), {}),
    (S.CONNECTED, T.HANG_UP, "agent hangs up", lambda sc: sc.leg_ended("sb-c1-1", at=60), {}),
    (S.CONNECTED, T.BRIDGE_FAILED, "bridge fails", lambda sc: sc.bridge_failed("c1", at=16), {}),
]


@pytest.mark.parametrize(
    ("state", "trigger", "feed", "plan_options"),
    [pytest.param(s, t, f, o, id=name) for s, t, name, f, o in _LEGAL],
)
def test_given_call_state_when_event_then_router_follows_the_table(
    state: CallState, trigger: CallTrigger, feed: _Feed, plan_options: dict[str, float]
) -> None:
    sc = _reach(state, **plan_options)
    feed(sc)
    assert sc.router.call_state(CallId("c1")) is CALL_TRANSITIONS[(state, trigger)]


def test_every_legal_pair_is_exercised_through_the_router() -> None:
    assert {(s, t) for s, t, *_ in _LEGAL} == set(CALL_TRANSITIONS)


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
