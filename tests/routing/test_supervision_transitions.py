"""The supervision lifecycle table, pair by pair: in the table itself, and as the router applies it.

c1 arrives at 10 and a1 answers it at 15; the supervisor ``boss`` asks to listen at 20 (their phone
rings on ``sb-sv-c1-1``) and answers at 21. The router forgets a supervision once it has ended; the
tests keep hold of its entry from before the event.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
from routing_harness import SALES, Scenario, make_plan

from routing import events as ev
from routing.book import Supervision
from routing.errors import IllegalTransition
from routing.events import SupervisionMode
from routing.ids import AgentId, SupervisorLegId
from routing.states import (
    SUPERVISION_TRANSITIONS,
    SupervisionState,
    SupervisionTrigger,
    next_supervision_state,
)

V, T = SupervisionState, SupervisionTrigger
BOSS, SV = AgentId("boss"), SupervisorLegId("sb-sv-c1-1")
_Feed = Callable[[Scenario], object]


def _reach(state: SupervisionState) -> Scenario:
    sc = Scenario(make_plan({"a1": (SALES,), "boss": ()}))
    sc.staff("a1", at=1)
    sc.log_in("boss", at=1)  # not ready: the phone is free for supervising
    sc.arrive("c1", at=10)
    sc.answer("sb-c1-1", at=15)
    sc.feed(ev.SupervisionRequested(BOSS, AgentId("a1"), SupervisionMode.LISTEN, sc._at(20)))
    if state is V.CONNECTED:
        sc.feed(ev.SupervisorAnswered(SV, sc._at(21)))
    return sc


def _entry(sc: Scenario) -> Supervision:
    return sc.router.book.supervisions[BOSS]


@pytest.mark.parametrize("state", [V.RINGING, V.CONNECTED])
def test_given_each_live_state_when_reached_then_the_router_holds_the_supervision_in_it(
    state: SupervisionState,
) -> None:
    assert _entry(_reach(state)).state is state


@pytest.mark.parametrize(("state", "trigger"), list(itertools.product(V, T)))
def test_given_state_when_trigger_then_next_state_is_the_table_entry_or_illegal(
    state: SupervisionState, trigger: SupervisionTrigger
) -> None:
    expected = SUPERVISION_TRANSITIONS.get((state, trigger))
    if expected is None:
        with pytest.raises(IllegalTransition) as raised:
            next_supervision_state("boss", state, trigger)
        assert (raised.value.subject, raised.value.state, raised.value.trigger) == ("boss", state, trigger)
    else:
        assert next_supervision_state("boss", state, trigger) is expected


def _stop(sc: Scenario) -> object:
    return sc.feed(ev.SupervisionEnded(BOSS, sc._at(30)))


def _leg_ends(sc: Scenario) -> object:
    return sc.feed(ev.SupervisorLegEnded(SV, sc._at(30)))


_LEGAL: list[tuple[SupervisionState, SupervisionTrigger, str, _Feed]] = [
    (V.RINGING, T.ANSWER, "supervisor answers", lambda sc: sc.feed(ev.SupervisorAnswered(SV, sc._at(21)))),
    (V.RINGING, T.END, "stopped from the console", _stop),
    (V.RINGING, T.END, "supervisor's phone rings out", _leg_ends),
    (V.RINGING, T.END, "the call ends", lambda sc: sc.hang_up("c1", at=30)),
    (V.CONNECTED, T.END, "stopped from the console", _stop),
    (V.CONNECTED, T.END, "supervisor hangs up", _leg_ends),
    (V.CONNECTED, T.END, "the agent hands the caller on", lambda sc: sc.transfer("a1", "queue", "support")),
    (V.CONNECTED, T.END, "the supervisor takes calls again", lambda sc: sc.ready("boss", at=30)),
]


@pytest.mark.parametrize(
    ("state", "trigger", "feed"), [pytest.param(s, t, f, id=f"{s}: {name}") for s, t, name, f in _LEGAL]
)
def test_given_supervision_state_when_event_then_router_follows_the_table(
    state: SupervisionState, trigger: SupervisionTrigger, feed: _Feed
) -> None:
    sc = _reach(state)
    entry = _entry(sc)
    feed(sc)
    assert entry.state is SUPERVISION_TRANSITIONS[(state, trigger)]
    ended = entry.state is V.ENDED
    assert sc.router.book.supervisions.get(BOSS) is (None if ended else entry)


def test_given_a_connected_supervision_when_the_answer_is_reported_again_then_ignored() -> None:
    sc = _reach(V.CONNECTED)
    assert sc.feed(ev.SupervisorAnswered(SV, sc._at(22))) == []
    assert _entry(sc).state is V.CONNECTED


def test_given_an_ended_supervision_when_fired_again_then_raises_and_the_entry_is_unchanged() -> None:
    sc = _reach(V.CONNECTED)
    entry = _entry(sc)
    _stop(sc)
    with pytest.raises(IllegalTransition):
        entry.fire(T.ANSWER)
    assert entry.state is V.ENDED


def test_every_legal_pair_is_exercised_through_the_router() -> None:
    assert {(s, t) for s, t, *_ in _LEGAL} == set(SUPERVISION_TRANSITIONS)
