"""The router's front: every event and every timer has its handler, and each order has its own counter."""

from __future__ import annotations

import heapq

import pytest
from routing_harness import SUPPORT_DID, Scenario, make_plan, of_type

from routing import commands as cmd
from routing.ids import CallId
from routing.plan import Strategy
from routing.timers import Timer


def test_given_something_that_is_not_an_event_when_handled_then_the_router_refuses_it_loudly() -> None:
    sc = Scenario()
    with pytest.raises(AssertionError):
        sc.router.handle(CallId("c1"))  # type: ignore[arg-type]


def test_given_a_timer_of_no_known_kind_when_due_then_the_router_refuses_it_loudly() -> None:
    sc = Scenario()
    sc.arrive("c1", at=1)
    heapq.heappush(sc.router.book.timers, Timer(2.0, 0, "not-a-kind", "c1", 0))  # type: ignore[arg-type]
    with pytest.raises(AssertionError):
        sc.tick(3)


def _random_picks(with_timers_elsewhere: bool) -> list[str]:
    """Who the random strategy rings for 20 sales calls (each abandoned while ringing).

    With ``with_timers_elsewhere``, a support call (no agent is in support) waits all along, so the
    router sets and fires its announcement timers in between: nothing to do with the sales draws."""
    sc = Scenario(make_plan(5, strategy=Strategy.RANDOM, announce_every_s=2.0))
    sc.staff(*(f"a{i}" for i in range(1, 6)), at=1)
    if with_timers_elsewhere:
        sc.arrive("s1", at=2, did=SUPPORT_DID)
    picks: list[str] = []
    for n in range(20):
        picks += [str(o.agent) for o in of_type(sc.arrive(f"c{n}", at=10 + 3 * n), cmd.OfferCall)]
        sc.tick(11 + 3 * n)
        sc.hang_up(f"c{n}", at=11 + 3 * n)
    if with_timers_elsewhere:
        assert len(of_type(sc.emitted, cmd.AnnouncePosition)) >= 20
    return picks


def test_given_random_strategy_when_timers_are_set_for_other_calls_then_the_same_agents_are_drawn() -> None:
    """The random draw has its own counter: timers (and arrivals) elsewhere do not shift it."""
    picks = _random_picks(with_timers_elsewhere=False)
    assert len(set(picks)) > 1
    assert _random_picks(with_timers_elsewhere=True) == picks
