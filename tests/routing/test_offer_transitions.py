"""The offer lifecycle table, pair by pair: in the table itself, and as the router applies it.

The router forgets an offer once it is missed, withdrawn or ended; the tests keep hold of the offer's
entry from before the event, which the router moved to its last state before letting go of it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from routing_harness import Scenario, make_plan

from routing import events as ev
from routing.book import OfferEntry
from routing.errors import IllegalTransition
from routing.hours import Hours
from routing.ids import OfferId
from routing.plan import AfterHours, AfterHoursKind, OnCallStep, Strategy
from routing.states import OFFER_TRANSITIONS, OfferState, OfferTrigger, next_offer_state

OS, T = OfferState, OfferTrigger
LEG = OfferId("sb-c1-1")
ON_CALL = OnCallStep("Dr. Who", "PJSIP/oncall", 15)
WARM = OnCallStep("Dr. Who", "PJSIP/oncall", 15, warm=True)
_Feed = Callable[[Scenario], object]


def _reach(state: OfferState, staff: tuple[str, ...] = ("a1",), **plan_options: Any) -> Scenario:
    """c1 arrives at 12 and rings a1 on ``sb-c1-1`` (placed); its phone rings at 13, a1 answers at 15.

    With a2 staffed too in a ring-all queue, c1 also rings a2 on ``sb-c1-2``."""
    sc = Scenario(make_plan(2, **plan_options))
    sc.staff(*staff, at=10)
    sc.arrive("c1", at=12)
    if state is OS.PLACED:
        return sc
    sc.ring(LEG, at=13)
    if state is OS.RINGING:
        return sc
    assert state is OS.ANSWERED
    sc.answer(LEG, at=15)
    return sc


def _entry(sc: Scenario, offer: str = LEG) -> OfferEntry:
    return sc.router.book.offers[OfferId(offer)]


@pytest.mark.parametrize("state", [OS.PLACED, OS.RINGING, OS.ANSWERED])
def test_given_each_live_state_when_reached_then_the_router_holds_the_offer_in_it(state: OfferState) -> None:
    assert _entry(_reach(state)).state is state


# --- the table as a pure function -------------------------------------------------------------------
@pytest.mark.parametrize(("state", "trigger"), list(itertools.product(OS, T)))
def test_given_state_when_trigger_then_next_state_is_the_table_entry_or_illegal(
    state: OfferState, trigger: OfferTrigger
) -> None:
    expected = OFFER_TRANSITIONS.get((state, trigger))
    if expected is None:
        with pytest.raises(IllegalTransition) as raised:
            next_offer_state("sb-c1-1", state, trigger)
        assert (raised.value.subject, raised.value.state, raised.value.trigger) == ("sb-c1-1", state, trigger)
    else:
        assert next_offer_state("sb-c1-1", state, trigger) is expected


def test_given_a_finished_offer_then_no_trigger_leaves_it() -> None:
    assert not [t for (s, t) in OFFER_TRANSITIONS if s in (OS.MISSED, OS.WITHDRAWN, OS.ENDED)]


def test_given_an_illegal_trigger_when_fired_on_an_entry_then_raises_and_the_entry_is_unchanged() -> None:
    sc = _reach(OS.RINGING)
    entry = _entry(sc)
    with pytest.raises(IllegalTransition):
        entry.fire(T.END)
    assert entry.state is OS.RINGING


# --- the table as the router applies it -------------------------------------------------------------
_RING_ALL = {"strategy": Strategy.RING_ALL, "staff": ("a1", "a2")}
_LEGAL: list[tuple[OfferState, OfferTrigger, str, _Feed, dict[str, Any]]] = [
    (OS.PLACED, T.RING, "agent's phone rings", lambda sc: sc.ring(LEG, at=13), {}),
    (OS.PLACED, T.ANSWER, "answered before ringing was reported", lambda sc: sc.answer(LEG, at=14), {}),
    (OS.PLACED, T.NO_ANSWER, "leg cannot be placed", lambda sc: sc.leg_failed(LEG, at=12), {}),
    (OS.PLACED, T.NO_ANSWER, "router's ring timer", lambda sc: sc.tick(12 + 15 + 5), {}),
    (OS.PLACED, T.WITHDRAW, "caller hangs up", lambda sc: sc.hang_up("c1", at=13), {}),
    (OS.RINGING, T.ANSWER, "agent answers", lambda sc: sc.answer(LEG, at=15), {}),
    (OS.RINGING, T.NO_ANSWER, "rings out", lambda sc: sc.leg_ended(LEG, at=27), {}),
    (OS.RINGING, T.NO_ANSWER, "agent declines on the console", lambda sc: sc.agent_hangs_up("a1", at=14), {}),
    (OS.RINGING, T.NO_ANSWER, "agent pauses while it rings", lambda sc: sc.pause("a1", at=14), {}),
    (OS.RINGING, T.WITHDRAW, "caller hangs up while it rings", lambda sc: sc.hang_up("c1", at=14), {}),
    (OS.RINGING, T.WITHDRAW, "another phone answers", lambda sc: sc.answer("sb-c1-2", at=14), _RING_ALL),
    (OS.ANSWERED, T.END, "caller hangs up", lambda sc: sc.hang_up("c1", at=60), {}),
    (OS.ANSWERED, T.END, "agent's phone hangs up", lambda sc: sc.leg_ended(LEG, at=60), {}),
    (OS.ANSWERED, T.END, "transferred", lambda sc: sc.transfer("a1", "queue", "support", at=60), {}),
]


@pytest.mark.parametrize(
    ("state", "trigger", "feed", "options"),
    [pytest.param(s, t, f, o, id=name) for s, t, name, f, o in _LEGAL],
)
def test_given_offer_state_when_event_then_router_follows_the_table(
    state: OfferState, trigger: OfferTrigger, feed: _Feed, options: dict[str, Any]
) -> None:
    sc = _reach(state, **options)
    entry = _entry(sc)
    feed(sc)
    assert entry.state is OFFER_TRANSITIONS[(state, trigger)]
    # A missed, withdrawn or ended offer is off the books; a later report about its leg is ignored.
    finished = entry.state in (OS.MISSED, OS.WITHDRAWN, OS.ENDED)
    assert sc.router.book.offers.get(LEG) is (None if finished else entry)


def test_given_an_after_hours_person_rung_when_ringing_then_no_screen_pops_and_a_pick_up_prompts_them() -> (
    None
):
    closed = {
        "hours": Hours(timezone="UTC", weekly={}),
        "after_hours": AfterHours(AfterHoursKind.ON_CALL, None, (ON_CALL,)),
    }
    sc = Scenario(make_plan(1, sales_line=closed))
    sc.arrive("c1", at=12)
    assert sc.ring(LEG, at=13) == []
    assert _entry(sc).state is OS.PLACED
    sc.answer(LEG, at=14)
    assert _entry(sc).state is OS.PROMPTED  # answering is not accepting, after hours too
    sc.press(LEG, "1", at=15)
    assert _entry(sc).state is OS.ANSWERED


# An escalation's leg to an on-call person: a1 took c1 at 15 and escalates at 20; Dr. Who is rung on
# ``sb-c1-2`` and, for ``prompted``, picks up at 22 and hears who the call is for.
ESCALATED = OfferId("sb-c1-2")
_ESCALATION_LEGAL: list[tuple[OfferState, OfferTrigger, str, _Feed]] = [
    (OS.PLACED, T.PICK_UP, "on-call person picks up", lambda sc: sc.answer(ESCALATED, at=22)),
    (OS.PROMPTED, T.ANSWER, "presses 1", lambda sc: sc.press(ESCALATED, "1", at=24)),
    (OS.PROMPTED, T.NO_ANSWER, "presses 2", lambda sc: sc.press(ESCALATED, "2", at=24)),
    (OS.PROMPTED, T.NO_ANSWER, "no key in time", lambda sc: sc.tick(22 + 15)),
    (OS.PROMPTED, T.NO_ANSWER, "hangs up unheard", lambda sc: sc.leg_ended(ESCALATED, at=24)),
    (OS.PROMPTED, T.WITHDRAW, "caller hangs up", lambda sc: sc.hang_up("c1", at=24)),
]


def _escalated(state: OfferState, warm: bool = False) -> Scenario:
    """For a warm patch (``warm``), Dr. Who is warm; ``consulted``: they press 1 at 24 and talk with a1."""
    sc = Scenario(make_plan(1, sales_line={"on_call": (WARM if warm else ON_CALL,), "escalation_rounds": 1}))
    sc.staff("a1", at=10)
    sc.arrive("c1", at=12)
    sc.answer(LEG, at=15)
    sc.escalate("a1", at=20)
    if state in (OS.PROMPTED, OS.CONSULTED):
        sc.answer(ESCALATED, at=22)
    if state is OS.CONSULTED:
        sc.press(ESCALATED, "1", at=24)
    return sc


# A warm-patch person's leg: Dr. Who (warm) picks up at 22; for ``consulted``, presses 1 at 24 and talks
# with a1, the caller on hold.
_WARM_LEGAL: list[tuple[OfferState, OfferTrigger, str, _Feed]] = [
    (OS.PROMPTED, T.CONSULT, "warm: presses 1", lambda sc: sc.press(ESCALATED, "1", at=24)),
    (OS.CONSULTED, T.ANSWER, "agent connects the caller", lambda sc: sc.connect_caller("a1", at=30)),
    (OS.CONSULTED, T.ANSWER, "agent hangs up after announcing", lambda sc: sc.leg_ended(LEG, at=30)),
    (OS.CONSULTED, T.END, "agent takes the caller back", lambda sc: sc.back_to_caller("a1", at=30)),
    (OS.CONSULTED, T.END, "person hangs up on the agent", lambda sc: sc.leg_ended(ESCALATED, at=30)),
    (OS.CONSULTED, T.END, "person's leg lost", lambda sc: sc.feed(ev.OfferLost(ESCALATED, 30))),
    (OS.CONSULTED, T.WITHDRAW, "caller hangs up meanwhile", lambda sc: sc.hang_up("c1", at=30)),
]


@pytest.mark.parametrize(
    ("state", "trigger", "feed", "warm"),
    [pytest.param(s, t, f, False, id=name) for s, t, name, f in _ESCALATION_LEGAL]
    + [pytest.param(s, t, f, True, id=f"warm: {name}") for s, t, name, f in _WARM_LEGAL],
)
def test_given_an_escalation_leg_in_a_state_when_event_then_router_follows_the_table(
    state: OfferState, trigger: OfferTrigger, feed: _Feed, warm: bool
) -> None:
    sc = _escalated(state, warm)
    entry = _entry(sc, ESCALATED)
    assert entry.state is state
    feed(sc)
    assert entry.state is OFFER_TRANSITIONS[(state, trigger)]
    finished = entry.state in (OS.MISSED, OS.WITHDRAWN, OS.ENDED)
    assert (ESCALATED in sc.router.book.offers) is not finished
    assert sc.router.audit() == []


def test_every_legal_pair_is_exercised_through_the_router() -> None:
    pairs = {(s, t) for s, t, *_ in _LEGAL} | {(s, t) for s, t, *_ in _ESCALATION_LEGAL}
    assert pairs | {(s, t) for s, t, *_ in _WARM_LEGAL} == set(OFFER_TRANSITIONS)
