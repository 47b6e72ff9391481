"""Escalation until someone accepts, rule by rule: the person rung picks up, hears who the call is for
and presses 1 (only then bridged); another key, no key in time or a hang-up is an attempt that failed and
the next person is rung; the chain goes round ``escalation_rounds`` times; the chain in the event (the
on-call schedule's) wins over the line's; every attempt ends in one ``EscalationAttempt``. Then a
Hypothesis machine: an escalation never rings two people at once and ends exactly once.

Times: c1 arrives at 10, a1 answers at 15, escalates at 20; Dr. Smith rings on ``sb-c1-2``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from routing_harness import CALLER, SALES, SALES_DID, Scenario, make_plan, of_type
from routing_harness import attempts as harness_attempts

from routing import commands as cmd
from routing import escalation
from routing import events as ev
from routing.commands import EscalationStatus as Esc
from routing.errors import IllegalTransition
from routing.ids import AgentId, BridgeId, CallId, OfferId
from routing.plan import OnCallStep
from routing.states import CallState, OfferState

C1, BRIDGE, A1 = CallId("c1"), BridgeId("sb-bridge-c1"), AgentId("a1")
SMITH = OnCallStep("Dr. Smith", "PJSIP/smith", 20)
JONES = OnCallStep("Dr. Jones", "PJSIP/jones", 10)
PRIMARY = OnCallStep("Dr. Primary", "Local/+15550001@out", 25, number="+15550001")
BACKUP = OnCallStep("Dr. Backup", "Local/+15550002@out", 25, number="+15550002")


def leg(n: int) -> OfferId:
    return OfferId(f"sb-c1-{n}")


def escalated(
    rounds: int = 1, chain: tuple[OnCallStep, ...] = (), line_chain: Any = (SMITH, JONES)
) -> Scenario:
    sc = Scenario(
        make_plan({"a1": (SALES,)}, sales_line={"on_call": line_chain, "escalation_rounds": rounds})
    )
    sc.staff("a1", at=1)
    sc.arrive("c1", at=10)
    sc.answer(leg(1), at=15)
    sc.escalate("a1", at=20, chain=chain)
    return sc


def view(sc: Scenario) -> Any:
    return sc.router.call_view(C1)


def attempts(sc: Scenario) -> list[tuple[str, str, int, int, float, float, str]]:
    return harness_attempts(sc.emitted)


def test_given_the_person_rung_picks_up_then_they_are_prompted_and_not_yet_bridged() -> None:
    sc = escalated()
    out = sc.answer(leg(2), at=39)  # late in its ring time
    assert out == [
        cmd.PromptOnCall(leg(2), C1, SALES_DID, CALLER),
        cmd.EscalationUpdate(agent=A1, call=C1, status=Esc.PROMPTED, person="Dr. Smith", attempts=(), at=39),
    ]  # the agent's console: Dr. Smith picked up and is deciding
    assert sc.router.book.offers[leg(2)].state is OfferState.PROMPTED
    assert sc.router.call_state(C1) is CallState.ESCALATING and view(sc).agent == "a1"
    assert sc.answer(leg(2), at=40) == []  # the answer told twice (Dial and state change)
    assert sc.tick(20 + 20 + 5) == []  # the ring deadline does not cut the prompt short
    assert sc.tick(39 + 20 - 0.1) == []  # the step's time again, from the pick-up, to press 1
    assert cmd.CancelOffer(leg(2), C1) in sc.tick(39 + 20)


def test_given_a_prompted_person_when_they_press_1_then_bridged_the_agent_let_go_and_the_attempt_stored() -> (
    None
):
    sc = escalated()
    sc.answer(leg(2), at=23)
    out = sc.press(leg(2), "1", at=27)
    assert out[-1] == cmd.BridgeCall(C1, leg(2), BRIDGE) and cmd.DropLeg(C1, leg(1), BRIDGE) in out
    assert of_type(out, cmd.EscalationUpdate)[-1].status is Esc.ANSWERED
    assert attempts(sc) == [("Dr. Smith", "PJSIP/smith", 1, 1, 20, 27, "accepted")]
    assert sc.router.call_state(C1) is CallState.CONNECTED
    sc.hang_up("c1", at=90)
    assert sc.record_of("c1").on_call == "Dr. Smith"


# How an attempt on Dr. Smith fails, and what it is stored as; Dr. Jones is rung next each time.
_FAILED: list[tuple[str, Callable[[Scenario], object], str, float]] = [
    ("rings out", lambda sc: sc.leg_ended(leg(2), at=40), "no-answer", 40),
    ("router's ring timer", lambda sc: sc.tick(20 + 20 + 5), "no-answer", 45),
    ("busy", lambda sc: sc.feed(_failed(leg(2), "busy", 21)), "busy", 21),
    ("cannot be placed", lambda sc: sc.leg_failed(leg(2), at=21), "failed: endpoint offline", 21),
    ("presses 2", lambda sc: (sc.answer(leg(2), at=23), sc.press(leg(2), "2", at=25)), "declined", 25),
    ("no key in time", lambda sc: (sc.answer(leg(2), at=23), sc.tick(23 + 20)), "voicemail-or-no-key", 43),
    ("hangs up unheard", lambda sc: (sc.answer(leg(2), at=23), sc.leg_ended(leg(2), at=26)), "hung-up", 26),
    ("picked-up leg lost", lambda sc: (sc.answer(leg(2), at=23), sc.feed(_lost(leg(2), 26))), "lost", 26),
]


def _failed(offer: OfferId, reason: str, at: float) -> Any:
    return ev.OfferFailed(offer, reason, at)


def _lost(offer: OfferId, at: float) -> Any:
    return ev.OfferLost(offer, at)


@pytest.mark.parametrize(("how", "result", "at"), [pytest.param(f, r, t, id=n) for n, f, r, t in _FAILED])
def test_given_an_attempt_that_fails_then_it_is_stored_and_the_next_person_rung(
    how: Callable[[Scenario], object], result: str, at: float
) -> None:
    sc = escalated()
    how(sc)
    assert cmd.CancelOffer(leg(2), C1) in sc.emitted
    assert sc.offer_of("c1").endpoint == "PJSIP/jones" and sc.offer_of("c1").offer == leg(3)
    assert attempts(sc) == [("Dr. Smith", "PJSIP/smith", 1, 1, 20, at, result)]
    assert of_type(sc.emitted, cmd.EscalationUpdate)[-1].attempts == (("Dr. Smith", result),)
    assert sc.router.audit() == []


def test_given_two_rounds_nobody_accepts_then_the_chain_twice_and_the_caller_back_with_the_agent() -> None:
    sc = escalated(rounds=2)
    sc.leg_ended(leg(2), at=40)  # Smith, round 1
    sc.answer(leg(3), at=42)  # Jones picks up and says nothing
    sc.tick(42 + 10)
    sc.feed(_failed(leg(4), "busy", 53))  # Smith, round 2
    out = sc.answer(leg(5), at=55) + sc.press(leg(5), "9", at=56)  # Jones declines
    assert out[-2:] == [
        cmd.ResumeCall(C1, BRIDGE),
        cmd.EscalationUpdate(
            agent=A1,
            call=C1,
            status=Esc.FAILED,
            person=None,
            attempts=(
                ("Dr. Smith", "no-answer"),
                ("Dr. Jones", "voicemail-or-no-key"),
                ("Dr. Smith", "busy"),
                ("Dr. Jones", "declined"),
            ),
            at=56,
        ),
    ]
    assert [(a[0], a[2], a[3], a[-1]) for a in attempts(sc)] == [
        ("Dr. Smith", 1, 1, "no-answer"),
        ("Dr. Jones", 1, 2, "voicemail-or-no-key"),
        ("Dr. Smith", 2, 1, "busy"),
        ("Dr. Jones", 2, 2, "declined"),
    ]
    assert sc.router.call_state(C1) is CallState.CONNECTED and view(sc).agent == "a1"


def test_given_the_chain_in_the_event_then_it_is_rung_instead_of_the_lines_and_its_numbers_stored() -> None:
    sc = escalated(chain=(PRIMARY, BACKUP))
    assert sc.offer_of("c1").endpoint == "Local/+15550001@out" and sc.offer_of("c1").timeout_s == 25
    sc.leg_ended(leg(2), at=30)
    sc.accept(leg(3), at=33)
    assert [(a[0], a[1], a[-1]) for a in attempts(sc)] == [
        ("Dr. Primary", "+15550001", "no-answer"),
        ("Dr. Backup", "+15550002", "accepted"),
    ]


def test_given_an_event_chain_and_no_line_chain_then_it_escalates() -> None:
    sc = escalated(chain=(PRIMARY,), line_chain=())
    assert sc.offer_of("c1").endpoint == "Local/+15550001@out"


def test_given_no_chain_at_all_then_refused() -> None:
    from routing.errors import NoOnCall

    with pytest.raises(NoOnCall):
        escalated(line_chain=())


def test_given_a_blind_escalation_nobody_accepts_then_a_message_after_the_last_round() -> None:
    sc = escalated(rounds=2)
    sc.agent_hangs_up("a1", at=21)
    for n, at in ((2, 30), (3, 40), (4, 50)):
        assert not of_type(sc.leg_ended(leg(n), at=at), cmd.TakeMessage)
    assert of_type(sc.leg_ended(leg(5), at=60), cmd.TakeMessage)
    assert len(attempts(sc)) == 4


@pytest.mark.parametrize("ending", ["caller hangs up", "bridge fails"])
def test_given_the_call_ends_while_a_person_is_prompted_then_their_leg_stops_and_the_attempt_is_stored(
    ending: str,
) -> None:
    sc = escalated()
    sc.answer(leg(2), at=23)
    out = sc.hang_up("c1", at=25) if ending == "caller hangs up" else sc.bridge_failed("c1", at=25)
    assert cmd.CancelOffer(leg(2), C1) in out
    result = "caller-hung-up" if ending == "caller hangs up" else "bridge-failed"
    assert attempts(sc) == [("Dr. Smith", "PJSIP/smith", 1, 1, 20, 25, result)]


def test_given_keys_on_legs_not_prompted_then_nothing_happens() -> None:
    sc = escalated()
    assert sc.press(leg(2), "1", at=21) == []  # ringing, not picked up
    assert sc.press(leg(1), "1", at=21) == []  # the agent's own leg
    assert sc.press(OfferId("sb-c9-1"), "1", at=21) == []  # a leg long gone
    sc.answer(leg(2), at=23)
    sc.press(leg(2), "1", at=24)
    assert sc.press(leg(2), "1", at=25) == []  # accepted already
    assert sc.tick(23 + 20) == []  # its key deadline lapsed with the acceptance


def test_given_a_person_prompted_when_restated_then_the_console_shows_them_deciding() -> None:
    sc = escalated()
    (told,) = of_type(sc.router.restated(22), cmd.EscalationUpdate)
    assert (told.person, told.status, told.at) == ("Dr. Smith", Esc.RINGING, 20)
    sc.answer(leg(2), at=23)
    (told,) = of_type(sc.router.restated(30), cmd.EscalationUpdate)
    assert (told.person, told.status, told.at) == ("Dr. Smith", Esc.PROMPTED, 20)


def test_given_a_prompted_escalation_then_hold_and_another_escalation_are_refused() -> None:
    sc = escalated()
    sc.answer(leg(2), at=23)
    with pytest.raises(IllegalTransition):
        sc.escalate("a1", at=24)
    assert sc.router.book.offers[leg(2)].state is OfferState.PROMPTED


# --- invariants -------------------------------------------------------------------------------------
class EscalationMachine(RuleBasedStateMachine):
    """One call escalated to a chain of three, up to three rounds, Dr. Jones maybe a warm patch; the
    people, the caller and the agent (connecting a warm patch or taking the caller back too) do anything
    in any order."""

    @initialize(rounds=st.integers(1, 3), warm=st.booleans())
    def start(self, rounds: int, warm: bool) -> None:
        chain = (SMITH, dataclasses.replace(JONES, warm=warm), OnCallStep("Dr. Who", "PJSIP/who", 15))
        self.sc = escalated(rounds=rounds, line_chain=chain)
        self.rounds = rounds
        self.placed: list[OfferId] = [leg(2)]
        self.now = 20.0
        self.ends = 0

    def _escalating(self) -> bool:
        call = self.sc.router.book.calls.get(C1)
        return call is not None and call.escalation is not None

    def _feed(self, act: Callable[[], list[cmd.Command]]) -> None:
        before, was = len(self.sc.emitted), self._escalating()
        act()
        batch = self.sc.emitted[before:]
        self.placed += [c.offer for c in batch if isinstance(c, cmd.OfferCall)]
        if was and not self._escalating():
            self.ends += 1
            # one way out: accepted (bridged), back with the agent, a message, or the call over
            outs = [c for c in batch if isinstance(c, cmd.BridgeCall | cmd.ResumeCall | cmd.TakeMessage)]
            outs += [c for c in batch if isinstance(c, cmd.LogCall) and c.record.call == "c1"]
            assert len(outs) == 1, outs

    def _later(self, by: float) -> float:
        self.now += by
        return self.now

    @rule(by=st.floats(0, 30), digit=st.sampled_from(["1", "2", "#"]))
    def press(self, by: float, digit: str) -> None:
        at = self._later(by)
        self._feed(lambda: self.sc.press(self.placed[-1], digit, at=at))

    @rule(by=st.floats(0, 30))
    def answer(self, by: float) -> None:
        at = self._later(by)
        self._feed(lambda: self.sc.answer(self.placed[-1], at=at))

    @rule(by=st.floats(0, 30), how=st.sampled_from(["ended", "failed", "lost"]))
    def leg_goes(self, by: float, how: str) -> None:
        at, offer = self._later(by), self.placed[-1]
        if how == "ended":
            self._feed(lambda: self.sc.leg_ended(offer, at=at))
        else:
            event = _failed(offer, "busy", at) if how == "failed" else _lost(offer, at)
            self._feed(lambda: self.sc.feed(event))

    @rule(by=st.floats(0, 60))
    def tick(self, by: float) -> None:
        at = self._later(by)
        self._feed(lambda: self.sc.tick(at))

    @rule(by=st.floats(0, 30), connect=st.booleans())
    def agent_decides(self, by: float, connect: bool) -> None:
        call = self.sc.router.book.calls.get(C1)
        if call is None or escalation.consulted(self.sc.router.book, call) is None:
            return  # no warm patch to decide on (the router refuses it: tested on its own)
        at = self._later(by)
        self._feed(lambda: self.sc.feed(ev.WarmPatchDecided(A1, at, connect)))

    @rule(by=st.floats(0, 30))
    def caller_hangs_up(self, by: float) -> None:
        at = self._later(by)
        self._feed(lambda: self.sc.hang_up("c1", at=at))

    @rule(by=st.floats(0, 30))
    def agent_hangs_up(self, by: float) -> None:
        if (
            self.sc.router.book.agents[A1].call == C1
            and self.sc.router.call_state(C1) is CallState.ESCALATING
        ):
            at = self._later(by)
            self._feed(lambda: self.sc.agent_hangs_up("a1", at=at))

    @invariant()
    def one_person_at_a_time(self) -> None:
        live = [o for o in self.sc.router.book.offers.values() if o.agent is None]
        assert len(live) <= 1
        assert self.sc.router.audit() == []

    @invariant()
    def ends_exactly_once(self) -> None:
        escalating = self._escalating()
        stored = of_type(self.sc.emitted, cmd.EscalationAttempt)
        assert self.ends == (0 if escalating else 1)
        under_way = (Esc.RINGING, Esc.PROMPTED, Esc.CONSULTING)
        finals = [u for u in of_type(self.sc.emitted, cmd.EscalationUpdate) if u.status not in under_way]
        assert len(finals) <= 1
        # every leg rung ends in one stored attempt, except the one still being rung
        assert len(stored) == len(self.placed) - (1 if escalating else 0)
        assert len({(a.round, a.step) for a in stored}) == len(stored)
        assert all(a.round <= self.rounds for a in stored)


EscalationMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=25, deadline=None)
test_escalation_invariants = EscalationMachine.TestCase
