"""The full ACD, rule by rule: skills, penalties, strategies, priority, sticky agents, overflow, callback,
voicemail, after-hours, wrap-up, ring-no-answer and position announcements."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from typing import Any

import pytest
from routing_harness import (
    CALLER,
    SALES,
    SALES_DID,
    SALES_LINE,
    SUPPORT,
    SUPPORT_DID,
    Scenario,
    of_type,
    records,
)

from routing import commands as cmd
from routing import views
from routing.agents import RING_NO_ANSWER
from routing.commands import CALLBACK_CONFIRMED, CLOSED, GOODBYE
from routing.errors import IllegalTransition, UnknownReason
from routing.hours import Closure, Hours, Span
from routing.ids import AgentId, BridgeId, CallId, LineId, OfferId, QueueId
from routing.plan import (
    Action,
    AfterHours,
    AfterHoursKind,
    Agent,
    Did,
    Line,
    NoAnswerPolicy,
    OnCallStep,
    Plan,
    Priorities,
    Queue,
    Rule,
    Strategy,
)
from routing.records import Outcome, Party
from routing.states import AgentState, CallState

A = AgentState
ANSWERING = QueueId("answering")
NIGHT_LINE = LineId("night")
NIGHT_DID = "+15550100009"
ON_CALL = (OnCallStep("Dr. Smith", "PJSIP/smith", 20), OnCallStep("Dr. Jones", "PJSIP/jones", 20))


def plan(
    agents: Mapping[str, Mapping[str, Any]],
    sales: Mapping[str, Any] | None = None,
    support: Mapping[str, Any] | None = None,
    night_line: Mapping[str, Any] | None = None,
) -> Plan:
    """Sales and support queues (no announcements unless asked), an answering queue, a night line.

    ``agents`` maps an agent id to Agent keyword arguments; ``queues`` defaults to sales.
    """
    quiet: dict[str, Any] = {"announce_every_s": 0.0}
    queues = [
        Queue(id=SALES, name="Sales", **{**quiet, **(sales or {})}),
        Queue(id=SUPPORT, name="Support", **{**quiet, **(support or {})}),
        Queue(id=ANSWERING, name="Answering", **quiet),
    ]
    lines = [
        Line(id=SALES_LINE, name="Acme sales", queue=SALES),
        Line(id=LineId("acme-support"), name="Acme support", queue=SUPPORT),
        Line(id=NIGHT_LINE, name="Dr. Smith's office", queue=SALES, **(night_line or {})),
    ]
    dids = [
        Did(SALES_DID, "google-ads", SALES_LINE),
        Did(SUPPORT_DID, "website", LineId("acme-support")),
        Did(NIGHT_DID, "main", NIGHT_LINE),
    ]
    plan_agents = [
        Agent(id=AgentId(a), name=a.upper(), endpoint=f"PJSIP/{a}", **{"queues": (SALES,), **spec})
        for a, spec in agents.items()
    ]
    return Plan(
        dids={d.number: d for d in dids},
        lines={li.id: li for li in lines},
        queues={q.id: q for q in queues},
        agents={a.id: a for a in plan_agents},
    )


def offered_to(commands: list[cmd.Command]) -> list[str | None]:
    return [o.agent for o in of_type(commands, cmd.OfferCall)]


def _priority(sc: Scenario, call: str) -> int:
    view = sc.router.call_view(CallId(call))
    assert view is not None
    return view.priority


def serve(sc: Scenario, call: str, offer: str, at: float, talk_s: float) -> None:
    """The offer is answered at ``at`` and the caller hangs up ``talk_s`` later."""
    sc.answer(offer, at=at)
    sc.hang_up(call, at=at + talk_s)


# --- skills and penalties ---------------------------------------------------------------------------
def test_given_skill_requirement_when_call_arrives_then_only_a_qualified_agent_is_offered_it() -> None:
    sc = Scenario(
        plan({"a1": {"skills": {"spanish": 2}}, "a2": {"skills": {"spanish": 4}}}, {"skills": {"spanish": 3}})
    )
    sc.staff("a1", "a2", at=1)
    assert offered_to(sc.arrive("c1", at=5)) == ["a2"]


def test_given_two_qualified_agents_then_the_better_match_wins_over_the_longer_idle() -> None:
    sc = Scenario(
        plan({"a1": {"skills": {"billing": 2}}, "a2": {"skills": {"billing": 5}}}, {"skills": {"billing": 1}})
    )
    sc.staff("a1", "a2", at=1)
    assert offered_to(sc.arrive("c1", at=5)) == ["a2"]


def test_given_only_underqualified_agents_when_widen_rule_fires_then_the_call_reaches_them() -> None:
    rules = (Rule(30, Action.WIDEN, skills={"spanish": 1}), Rule(60, Action.WIDEN, skills={"spanish": 0}))
    sc = Scenario(
        plan({"a1": {"skills": {"spanish": 1}}, "a2": {}}, {"skills": {"spanish": 3}, "rules": rules})
    )
    sc.staff("a2", "a1", at=1)
    assert offered_to(sc.arrive("c1", at=5)) == []
    assert sc.tick(34.9) == []
    assert offered_to(sc.tick(35)) == ["a1"]  # a2 has no Spanish at all: only the second step reaches a2
    sc.leg_ended("sb-c1-1", at=40)  # a1 lets it ring out and is paused
    assert offered_to(sc.tick(65)) == ["a2"]


def test_given_penalties_then_the_lower_penalty_agent_is_offered_first() -> None:
    sc = Scenario(plan({"a1": {"penalties": {SALES: 2}}, "a2": {"penalties": {SALES: 0}}}))
    sc.staff("a1", "a2", at=1)
    assert offered_to(sc.arrive("c1", at=5)) == ["a2"]
    assert offered_to(sc.arrive("c2", at=6)) == ["a1"]  # a higher penalty still serves when nobody else can


def test_given_agent_in_two_queues_when_ready_then_the_preferred_queue_is_served_first() -> None:
    agents = {"a1": {"queues": (SALES, SUPPORT), "penalties": {SUPPORT: 0, SALES: 1}}}
    sc = Scenario(plan(agents))
    sc.log_in("a1", at=1)
    sc.arrive("c1", at=2)  # sales, waiting longer
    sc.arrive("c2", at=3, did=SUPPORT_DID)
    sc.ready("a1", at=4)
    assert sc.offer_of("c2").agent == "a1"


def test_given_agent_in_two_queues_at_equal_penalty_then_the_longest_waiting_caller_is_served() -> None:
    sc = Scenario(plan({"a1": {"queues": (SALES, SUPPORT)}}))
    sc.log_in("a1", at=1)
    sc.arrive("c1", at=3, did=SUPPORT_DID)
    sc.arrive("c2", at=2.5)  # arrival order is by event: c1 came first
    sc.ready("a1", at=4)
    assert [o.call for o in of_type(sc.emitted, cmd.OfferCall)] == ["c1"]


# --- strategies -------------------------------------------------------------------------------------
def _history(strategy: Strategy) -> Scenario:
    """a1 became ready first; a1 had one 100 s call, a2 two 10 s calls; then both are ready again."""
    sc = Scenario(plan({"a1": {}, "a2": {}}, {"strategy": strategy}))
    sc.staff("a1", at=1)
    sc.arrive("x1", at=2)
    serve(sc, "x1", sc.offer_of("x1").offer, at=3, talk_s=100)
    sc.log_in("a2", at=104)
    sc.ready("a2", at=104)
    for i, at in enumerate((110.0, 130.0), start=2):
        sc.pause("a1", "break", at=at)
        sc.arrive(f"x{i}", at=at)
        serve(sc, f"x{i}", sc.offer_of(f"x{i}").offer, at=at + 1, talk_s=10)
        sc.ready("a1", at=at + 12)
    return sc


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [
        (Strategy.LONGEST_IDLE, "a2"),  # a2 was ready (idle) since 141, a1 since 142
        (Strategy.SKILLS_BASED, "a2"),  # no skills asked: the longest idle
        (Strategy.FEWEST_CALLS, "a1"),  # a1: 1 call today, a2: 2
        (Strategy.LEAST_TALK_TIME, "a2"),  # a1 talked 100 s, a2 20 s
        (Strategy.ROUND_ROBIN, "a1"),  # sales offered a2 last
    ],
)
def test_given_agents_with_history_when_call_arrives_then_the_strategy_picks(
    strategy: Strategy, expected: str
) -> None:
    sc = _history(strategy)
    assert offered_to(sc.arrive("c1", at=200)) == [expected]


def test_given_random_strategy_then_replaying_the_events_picks_the_same_agents_and_not_always_one() -> None:
    def picks() -> list[str | None]:
        sc = Scenario(plan({f"a{i}": {} for i in range(1, 6)}, {"strategy": Strategy.RANDOM}))
        sc.staff(*(f"a{i}" for i in range(1, 6)), at=1)
        out: list[str | None] = []
        for n in range(20):
            offer = offered_to(sc.arrive(f"c{n}", at=10 + n))
            out += offer
            sc.hang_up(f"c{n}", at=10 + n)  # abandons while ringing: the agent is ready again
        return out

    first = picks()
    assert first == picks()
    assert len(set(first)) > 1


def test_given_ring_all_when_call_arrives_then_every_ready_agent_rings_and_the_first_answer_wins() -> None:
    sc = Scenario(plan({"a1": {}, "a2": {}, "a3": {}}, {"strategy": Strategy.RING_ALL}))
    sc.staff("a1", "a2", "a3", at=1)
    sc.pause("a3", "lunch", at=2)
    assert offered_to(sc.arrive("c1", at=5)) == ["a1", "a2"]
    out = sc.answer("sb-c1-2", at=7)
    assert of_type(out, cmd.CancelOffer) == [cmd.CancelOffer(OfferId("sb-c1-1"), CallId("c1"))]
    assert of_type(out, cmd.WithdrawOffer)[0].reason == "answered-elsewhere"
    assert (sc.state("a1"), sc.state("a2")) == (A.READY, A.ON_CALL)
    assert sc.answer("sb-c1-1", at=7.1) == []  # too late: its leg is being hung up


def test_given_ring_all_when_nobody_answers_then_everyone_misses_and_the_call_waits() -> None:
    sc = Scenario(plan({"a1": {}, "a2": {}}, {"strategy": Strategy.RING_ALL}))
    sc.staff("a1", "a2", at=1)
    sc.arrive("c1", at=5)
    sc.leg_ended("sb-c1-1", at=20)
    assert sc.router.call_state(CallId("c1")) is CallState.OFFERED  # a2 still rings
    sc.leg_ended("sb-c1-2", at=20)
    assert sc.router.call_state(CallId("c1")) is CallState.WAITING
    assert (sc.state("a1"), sc.state("a2")) == (A.NOT_READY, A.NOT_READY)


# --- caller priority --------------------------------------------------------------------------------
_VIP = {"priorities": Priorities(tiers={"vip": 10}, repeat_within_s=3600, repeat=5)}


def test_given_tiered_queue_when_call_arrives_then_caller_looked_up_before_any_offer() -> None:
    sc = Scenario(plan({"a1": {}}, _VIP))
    sc.staff("a1", at=1)
    out = sc.arrive("c1", at=5)
    assert out == [cmd.AnswerCall(CallId("c1")), cmd.IdentifyCaller(CallId("c1"), CALLER)]
    assert offered_to(sc.identified("c1", "vip", at=5.01)) == ["a1"]
    assert _priority(sc, "c1") == 10


def test_given_withheld_number_then_no_lookup_and_no_wait() -> None:
    sc = Scenario(plan({"a1": {}}, _VIP))
    sc.staff("a1", at=1)
    assert offered_to(sc.arrive("c1", at=5, number=None)) == ["a1"]


def test_given_store_slow_then_the_call_is_routed_without_the_profile_and_late_answer_still_counts() -> None:
    sc = Scenario(plan({"a1": {}}, _VIP))
    sc.log_in("a1", at=1)
    sc.arrive("c1", at=5)
    sc.arrive("c2", at=6)
    sc.tick(6.5)  # c1 routed without a profile after 1 s
    sc.identified("c2", "vip", at=6.6)
    sc.tick(7)
    assert sc.router.waiting(SALES) == [CallId("c2"), CallId("c1")]
    sc.identified("c1", "vip", at=7.5)  # late: c1 is waiting, its place changes by priority
    assert sc.router.waiting(SALES) == [CallId("c1"), CallId("c2")]
    assert sc.identified("c1", "vip", at=7.6) == []  # once only


@pytest.mark.parametrize(
    ("tier", "last_call_ago", "priority"),
    [("vip", None, 10), (None, 600.0, 5), ("vip", 600.0, 10), (None, 7200.0, 0), ("gold", None, 0)],
)
def test_given_profile_then_priority_is_the_highest_that_applies(
    tier: str | None, last_call_ago: float | None, priority: int
) -> None:
    sc = Scenario(plan({"a1": {}}, _VIP))
    sc.arrive("c1", at=10_000)
    last = None if last_call_ago is None else 10_000 - last_call_ago
    sc.identified("c1", tier, last_call_at=last, at=10_000.1)
    assert _priority(sc, "c1") == priority


def test_given_vip_arrives_later_then_served_first_and_fifo_within_a_priority() -> None:
    sc = Scenario(plan({"a1": {}}, _VIP))
    sc.log_in("a1", at=1)
    for n, tier in enumerate([None, "vip", None, "vip"], start=1):
        sc.arrive(f"c{n}", at=n)
        sc.identified(f"c{n}", tier, at=n + 0.1)
    assert sc.router.waiting(SALES) == [CallId(c) for c in ("c2", "c4", "c1", "c3")]


# --- sticky agent ------------------------------------------------------------------------------------
_STICKY = {"sticky_s": 20.0}


def test_given_returning_caller_and_last_agent_ready_then_offered_to_that_agent() -> None:
    sc = Scenario(plan({"a1": {}, "a2": {}}, _STICKY))
    sc.staff("a1", "a2", at=1)
    sc.arrive("c1", at=5)
    assert offered_to(sc.identified("c1", last_agent="a2", at=5.1)) == ["a2"]


def test_given_last_agent_busy_then_held_for_them_and_served_when_they_come_back_in_time() -> None:
    sc = Scenario(plan({"a1": {}, "a2": {}}, _STICKY))
    sc.staff("a1", at=1)
    sc.log_in("a2", at=1)
    sc.arrive("c1", at=5)
    assert offered_to(sc.identified("c1", last_agent="a2", at=5.1)) == []  # a1 is ready but not theirs
    assert offered_to(sc.ready("a2", at=15)) == ["a2"]
    assert sc.tick(25.1) == []  # the hold's own timer lapses


def test_given_last_agent_not_back_in_time_then_anyone_may_take_the_call() -> None:
    sc = Scenario(plan({"a1": {}, "a2": {}}, _STICKY))
    sc.staff("a1", at=1)
    sc.log_in("a2", at=1)
    sc.arrive("c1", at=5)
    sc.identified("c1", last_agent="a2", at=5.1)
    assert offered_to(sc.tick(25.0)) == []
    assert offered_to(sc.tick(25.1)) == ["a1"]
    assert offered_to(sc.ready("a2", at=30)) == []


def test_given_two_calls_held_for_one_agent_then_served_in_order_one_at_a_time() -> None:
    sc = Scenario(plan({"a2": {}}, _STICKY))
    sc.log_in("a2", at=1)
    for n in (1, 2):
        sc.arrive(f"c{n}", at=n)
        sc.identified(f"c{n}", last_agent="a2", at=n + 0.1)
    assert [o.call for o in of_type(sc.ready("a2", at=5), cmd.OfferCall)] == ["c1"]
    sc.hang_up("c1", at=6)  # abandons while ringing: a2 is free again
    assert sc.offer_of("c2").agent == "a2"


def test_given_last_agent_logged_out_or_not_in_the_queue_then_no_hold() -> None:
    sc = Scenario(plan({"a1": {}, "a2": {}, "a3": {"queues": (SUPPORT,)}}, _STICKY))
    sc.staff("a1", at=1)
    sc.arrive("c1", at=5)
    assert offered_to(sc.identified("c1", last_agent="a2", at=5.1)) == ["a1"]
    sc.arrive("c2", at=6)
    sc.log_in("a3", at=6)
    assert sc.identified("c2", last_agent="a3", at=6.1) == []
    assert sc.router.waiting(SALES) == [CallId("c2")]


# --- overflow and escalation ------------------------------------------------------------------------
def test_given_add_queue_rule_then_the_other_queues_agents_may_take_the_call() -> None:
    sc = Scenario(
        plan({"a1": {}, "s1": {"queues": (SUPPORT,)}}, {"rules": (Rule(20, Action.ADD_QUEUE, SUPPORT),)})
    )
    sc.log_in("a1", at=1)
    sc.staff("s1", at=1)
    sc.arrive("c1", at=5)
    assert offered_to(sc.tick(25)) == ["s1"]


def test_given_add_queue_rule_then_a_support_agent_ready_later_takes_it() -> None:
    sc = Scenario(
        plan({"a1": {}, "s1": {"queues": (SUPPORT,)}}, {"rules": (Rule(20, Action.ADD_QUEUE, SUPPORT),)})
    )
    sc.log_in("a1", at=1)
    sc.log_in("s1", at=1)
    sc.arrive("c1", at=5)
    sc.tick(25)
    assert offered_to(sc.ready("s1", at=30)) == ["s1"]


def test_given_move_rule_then_the_call_moves_and_keeps_its_place_ahead_of_later_callers() -> None:
    sc = Scenario(plan({"s1": {"queues": (SUPPORT,)}}, {"rules": (Rule(20, Action.MOVE, SUPPORT),)}))
    sc.log_in("s1", at=1)
    sc.arrive("c1", at=5)
    sc.arrive("c2", at=10, did=SUPPORT_DID)
    sc.tick(25)
    assert sc.router.waiting(SUPPORT) == [CallId("c1"), CallId("c2")]
    assert sc.router.waiting(SALES) == []
    sc.ready("s1", at=30)
    sc.answer("sb-c1-1", at=31)
    sc.hang_up("c1", at=40)
    assert sc.record_of("c1").queue == SUPPORT


def test_given_rules_then_each_fires_in_turn_relative_to_entering_the_queue() -> None:
    rules = (Rule(10, Action.CALLBACK), Rule(40, Action.HANG_UP))
    sc = Scenario(plan({"a1": {}}, {"rules": rules}))
    sc.arrive("c1", at=5)
    assert sc.tick(15) == [cmd.OfferCallbackChoice(CallId("c1"))]
    out = sc.tick(45)
    assert out[0] == cmd.EndCall(CallId("c1"), (CallId("c1"),), None, GOODBYE)
    assert sc.record_of("c1").outcome is Outcome.NO_AGENT


def test_given_rule_due_while_ringing_then_applied_when_the_offer_is_lost() -> None:
    sc = Scenario(plan({"a1": {}}, {"rules": (Rule(10, Action.VOICEMAIL),), "ring_timeout_s": 30}))
    sc.staff("a1", at=1)
    sc.arrive("c1", at=5)
    assert sc.tick(15) == []
    out = sc.leg_ended("sb-c1-1", at=20)
    assert of_type(out, cmd.TakeMessage) == [cmd.TakeMessage(CallId("c1"), "sb-vm-c1", 180.0)]


def test_given_voicemail_then_the_message_is_logged_with_its_recording() -> None:
    sc = Scenario(plan({"a1": {}}, {"rules": (Rule(10, Action.VOICEMAIL),)}))
    sc.arrive("c1", at=5)
    sc.tick(15)
    sc.hang_up("c1", at=50)
    record = sc.record_of("c1")
    assert (record.outcome, record.recording, record.hung_up_by) == (
        Outcome.VOICEMAIL,
        "sb-vm-c1",
        Party.CALLER,
    )


def test_given_caller_without_number_then_no_callback_is_offered() -> None:
    sc = Scenario(plan({"a1": {}}, {"rules": (Rule(10, Action.CALLBACK),)}))
    sc.arrive("c1", at=5, number=None)
    assert sc.tick(15) == []


@pytest.mark.parametrize(
    ("when_full", "expected"),
    [(Action.VOICEMAIL, cmd.TakeMessage), (Action.HANG_UP, cmd.EndCall)],
)
def test_given_full_queue_when_call_arrives_then_when_full_applies(when_full: Action, expected: type) -> None:
    sc = Scenario(plan({"a1": {}}, {"max_length": 2, "when_full": when_full}))
    sc.arrive("c1", at=1)
    sc.arrive("c2", at=2)
    assert [type(c) for c in sc.arrive("c3", at=3)][1] is expected
    assert sc.router.waiting(SALES) == [CallId("c1"), CallId("c2")]


def test_given_full_queue_moving_elsewhere_then_the_call_waits_there_and_loops_end_in_voicemail() -> None:
    sc = Scenario(
        plan(
            {"a1": {}},
            {"max_length": 1, "when_full": Action.MOVE, "full_queue": SUPPORT},
            {"max_length": 1, "when_full": Action.MOVE, "full_queue": SALES},
        )
    )
    sc.arrive("c1", at=1)
    sc.arrive("c2", at=2)
    assert sc.router.waiting(SUPPORT) == [CallId("c2")]
    assert of_type(sc.arrive("c3", at=3), cmd.TakeMessage)


# --- callback ---------------------------------------------------------------------------------------
CB = CallId("sb-cb-c1")


def _callback_pending() -> Scenario:
    sc = Scenario(
        plan({"a1": {}}, {"rules": (Rule(10, Action.CALLBACK),), "priorities": Priorities(callback=0)})
    )
    sc.log_in("a1", at=1)
    sc.arrive("c1", at=5)
    sc.tick(15)
    sc.arrive("c2", at=16)
    return sc


def test_given_callback_offered_when_caller_presses_then_call_ends_and_callback_keeps_its_place() -> None:
    sc = _callback_pending()
    out = sc.press_callback("c1", at=20)
    assert out[0] == cmd.EndCall(CallId("c1"), (CallId("c1"),), None, CALLBACK_CONFIRMED)
    assert sc.record_of("c1").outcome is Outcome.CALLBACK
    assert sc.router.waiting(SALES) == [CB, CallId("c2")]
    assert sc.press_callback("c1", at=21) == []  # placed exactly once


def test_given_callback_chosen_when_the_arrival_is_replayed_then_hung_up_and_the_callback_waits() -> None:
    sc = _callback_pending()
    sc.press_callback("c1", at=20)
    # A restart found the caller still in the app: the hangup after the goodbye died with the old process.
    assert sc.arrive("c1", at=22) == [cmd.EndCall(CallId("c1"), (CallId("c1"),), None)]
    assert sc.router.waiting(SALES) == [CB, CallId("c2")]
    assert [r.call for r in records(sc.emitted)] == ["c1"]  # logged once, as the callback's choice


def test_given_callback_waiting_when_agent_ready_then_agent_rings_first_and_then_the_customer() -> None:
    sc = _callback_pending()
    sc.press_callback("c1", at=20)
    (offer,) = of_type(sc.ready("a1", at=30), cmd.OfferCall)
    (pop,) = of_type(sc.ring(offer.offer, at=30.1), cmd.PopScreen)
    assert pop.callback
    out = sc.answer(offer.offer, at=32)
    assert of_type(out, cmd.DialCustomer) == [cmd.DialCustomer(CB, offer.offer, CALLER, 30.0)]
    assert sc.state("a1") is A.ON_CALL
    assert of_type(sc.customer_answers(CB, at=40), cmd.BridgeCall)
    assert sc.customer_answers(CB, at=41) == []
    sc.hang_up(CB, at=100)
    record = sc.record_of(CB)
    assert (record.outcome, record.callback_of, record.answered_at) == (Outcome.ANSWERED, "c1", 40)


def test_given_callback_dialed_when_nobody_picks_up_then_unreached_and_the_agent_is_free() -> None:
    sc = _callback_pending()
    sc.press_callback("c1", at=20)
    offer = of_type(sc.ready("a1", at=30), cmd.OfferCall)[0].offer
    sc.answer(offer, at=32)
    out = sc.tick(32 + 30 + 5)
    assert of_type(out, cmd.EndCall) == [cmd.EndCall(CB, (CB, offer), BridgeId("sb-bridge-sb-cb-c1"))]
    assert sc.record_of(CB).outcome is Outcome.UNREACHED
    assert sc.offer_of("c2").agent == "a1"  # free for the next caller


def test_given_callback_rules_then_prompts_are_skipped_but_moves_apply() -> None:
    rules = (Rule(10, Action.CALLBACK), Rule(30, Action.VOICEMAIL), Rule(50, Action.MOVE, SUPPORT))
    sc = Scenario(plan({"a1": {}}, {"rules": rules}))
    sc.arrive("c1", at=5)
    sc.tick(15)
    sc.press_callback("c1", at=16)
    assert sc.tick(16 + 10) == []  # the callback's own rules: no prompt to a caller who is not there
    assert sc.tick(16 + 30) == []
    sc.tick(16 + 50)
    assert sc.router.waiting(SUPPORT) == [CB]


# --- after hours ------------------------------------------------------------------------------------
MONDAY_NOON_UTC = dt.datetime(2026, 11, 23, 12, tzinfo=dt.UTC).timestamp()
_OFFICE = Hours(timezone="UTC", weekly={0: (Span(dt.time(9), dt.time(17)),)})
_CLOSED_NOW = Hours(timezone="UTC", weekly={})


def _night(kind: AfterHoursKind, chain: tuple[OnCallStep, ...] = ON_CALL) -> Scenario:
    after = AfterHours(kind, ANSWERING if kind is AfterHoursKind.QUEUE else None, chain)
    return Scenario(
        plan(
            {"a1": {}, "n1": {"queues": (ANSWERING,)}},
            night_line={"hours": _CLOSED_NOW, "after_hours": after},
        )
    )


def test_given_open_line_then_calls_go_to_its_queue() -> None:
    sc = Scenario(plan({"a1": {}}, night_line={"hours": _OFFICE}))
    sc.staff("a1", at=MONDAY_NOON_UTC)
    assert offered_to(sc.arrive("c1", at=MONDAY_NOON_UTC, did=NIGHT_DID)) == ["a1"]


def test_given_closed_line_with_answering_service_then_the_answering_queue_takes_it_marked_after_hours() -> (
    None
):
    sc = _night(AfterHoursKind.QUEUE)
    sc.staff("a1", "n1", at=1)
    assert offered_to(sc.arrive("c1", at=5, did=NIGHT_DID)) == ["n1"]
    (pop,) = of_type(sc.ring("sb-c1-1", at=6), cmd.PopScreen)
    assert (pop.after_hours, pop.line_name, pop.queue) == (True, "Dr. Smith's office", ANSWERING)


def test_given_closed_line_with_on_call_chain_then_each_person_is_rung_in_turn() -> None:
    sc = _night(AfterHoursKind.ON_CALL)
    out = sc.arrive("c1", at=5, did=NIGHT_DID)
    assert of_type(out, cmd.OfferCall) == [
        cmd.OfferCall(
            offer=OfferId("sb-c1-1"),
            call=CallId("c1"),
            agent=None,
            endpoint="PJSIP/smith",
            timeout_s=20,
            caller_number=CALLER,
        )
    ]
    assert sc.ring("sb-c1-1", at=6) == []  # no screen to pop for a phone outside the center
    out = sc.leg_ended("sb-c1-1", at=25)
    assert [o.endpoint for o in of_type(out, cmd.OfferCall)] == ["PJSIP/jones"]
    assert sc.answer("sb-c1-2", at=30) == [
        cmd.PromptOnCall(OfferId("sb-c1-2"), CallId("c1"), NIGHT_DID, CALLER)
    ]  # answering is not accepting: Dr. Jones hears who the call is for
    assert of_type(sc.press("sb-c1-2", "1", at=33), cmd.BridgeCall)
    sc.hang_up("c1", at=90)
    record = sc.record_of("c1")
    assert (record.on_call, record.after_hours, record.queue, record.outcome) == (
        "Dr. Jones", True, None, Outcome.ANSWERED,
    )  # fmt: skip


def test_given_on_call_chain_exhausted_then_the_caller_leaves_a_message() -> None:
    sc = _night(AfterHoursKind.ON_CALL, ON_CALL[:1])
    sc.arrive("c1", at=5, did=NIGHT_DID)
    out = sc.leg_failed("sb-c1-1", at=6)
    assert of_type(out, cmd.TakeMessage) == [cmd.TakeMessage(CallId("c1"), "sb-vm-c1", 180.0)]
    assert of_type(sc.tick(6 + 180 + 5), cmd.EndCall)
    assert sc.record_of("c1").outcome is Outcome.VOICEMAIL


@pytest.mark.parametrize(
    ("kind", "chain", "expected"),
    [
        (AfterHoursKind.VOICEMAIL, (), cmd.TakeMessage(CallId("c1"), "sb-vm-c1", 180.0)),
        (AfterHoursKind.ON_CALL, (), cmd.TakeMessage(CallId("c1"), "sb-vm-c1", 180.0)),  # nobody on call
        (AfterHoursKind.HANG_UP, (), cmd.EndCall(CallId("c1"), (CallId("c1"),), None, CLOSED)),
    ],
)
def test_given_closed_line_then_its_policy_applies(
    kind: AfterHoursKind, chain: tuple[OnCallStep, ...], expected: object
) -> None:
    sc = _night(kind, chain)
    assert sc.arrive("c1", at=5, did=NIGHT_DID)[1] == expected


# --- wrap-up and ring-no-answer ---------------------------------------------------------------------
def _wrapping(**options: Any) -> Scenario:
    sc = Scenario(plan({"a1": {}}, {"wrap_up_s": 30.0, **options}))
    sc.staff("a1", at=1)
    sc.arrive("c1", at=5)
    serve(sc, "c1", "sb-c1-1", at=6, talk_s=60)
    sc.arrive("c2", at=70)
    return sc


def test_given_call_over_then_wrap_up_and_the_next_call_only_after_it() -> None:
    sc = _wrapping()
    view = sc.router.agent_view(AgentId("a1"))
    assert (view.state, view.since, view.until) == (A.WRAP_UP, 66, 96)
    assert sc.tick(95.9) == []
    assert offered_to(sc.tick(96)) == ["a1"]


def test_given_wrap_up_when_extended_then_it_ends_later_and_the_interval_is_the_same() -> None:
    sc = _wrapping()
    assert sc.extend("a1", 20, at=80) == [cmd.AgentStateChanged(AgentId("a1"), A.WRAP_UP, None, 66, 116)]
    assert sc.tick(96) == []
    assert offered_to(sc.tick(116)) == ["a1"]


def test_given_wrap_up_when_agent_ready_early_then_offered_at_once() -> None:
    sc = _wrapping()
    assert offered_to(sc.ready("a1", at=75)) == ["a1"]
    sc.answer("sb-c2-1", at=76)
    assert sc.tick(96) == []  # the wrap-up timer lapsed


def test_given_wrap_up_when_paused_then_the_timer_does_not_make_the_agent_ready() -> None:
    sc = _wrapping()
    sc.pause("a1", "lunch", at=75)
    assert sc.tick(96) == []
    assert sc.state("a1") is A.NOT_READY


def test_given_two_misses_allowed_then_the_first_miss_keeps_the_agent_ready() -> None:
    sc = Scenario(plan({"a1": {}, "a2": {}}, {"no_answer": NoAnswerPolicy(misses=2)}))
    sc.staff("a1", "a2", at=1)
    sc.arrive("c1", at=5)
    sc.leg_ended("sb-c1-1", at=20)  # a1 misses once: ready, at the back of the line
    assert (sc.state("a1"), sc.offer_of("c1").agent) == (A.RINGING, "a2") or sc.state("a1") is A.READY
    assert sc.offer_of("c1").agent == "a2"
    sc.leg_ended("sb-c1-2", at=35)
    assert sc.offer_of("c1").agent == "a1"
    sc.leg_ended("sb-c1-3", at=50)  # the second miss in a row pauses a1
    assert sc.router.agent_view(AgentId("a1")).reason == RING_NO_ANSWER


def test_given_timed_no_answer_pause_then_the_agent_is_back_by_themselves() -> None:
    sc = Scenario(plan({"a1": {}}, {"no_answer": NoAnswerPolicy(pause_s=60)}))
    sc.staff("a1", at=1)
    sc.arrive("c1", at=5)
    sc.leg_ended("sb-c1-1", at=20)
    assert sc.router.agent_view(AgentId("a1")).until == 80
    sc.ready("a1", at=30)  # back early by hand, then away again: the old timer lapses
    sc.pause("a1", "break", at=31)
    assert sc.tick(80) == []


def test_given_ringing_agent_when_pausing_then_the_call_goes_back_to_its_place_without_a_miss() -> None:
    sc = Scenario(plan({"a1": {}, "a2": {}}))
    sc.staff("a1", at=1)
    sc.log_in("a2", at=1)
    sc.arrive("c1", at=5)
    out = sc.pause("a1", "break", at=6)
    assert of_type(out, cmd.WithdrawOffer)[0].reason == "declined"
    assert sc.router.waiting(SALES) == [CallId("c1")]
    assert offered_to(sc.ready("a2", at=7)) == ["a2"]
    sc.log_out("a2", at=8)
    assert sc.state("a2") is A.LOGGED_OUT


def test_given_unknown_pause_reason_then_refused() -> None:
    sc = Scenario(plan({"a1": {}}))
    sc.staff("a1", at=1)
    with pytest.raises(UnknownReason):
        sc.pause("a1", "nap", at=2)
    assert sc.state("a1") is A.READY


def test_given_not_in_wrap_up_when_extending_then_refused() -> None:
    sc = Scenario(plan({"a1": {}}))
    sc.staff("a1", at=1)
    with pytest.raises(IllegalTransition):
        sc.extend("a1", 10, at=2)


# --- position announcements -------------------------------------------------------------------------
def test_given_announcements_then_position_and_expected_wait_at_each_interval() -> None:
    sc = Scenario(plan({"a1": {}, "a2": {}}, {"announce_every_s": 30.0, "expected_handle_s": 120.0}))
    sc.log_in("a1", at=0)
    sc.log_in("a2", at=0)
    sc.arrive("c1", at=1)
    sc.arrive("c2", at=2)
    out = sc.tick(32)
    assert of_type(out, cmd.AnnouncePosition) == [
        cmd.AnnouncePosition(CallId("c1"), 1, 60.0),  # 1 x 120 s / 2 agents staffed
        cmd.AnnouncePosition(CallId("c2"), 2, 120.0),
    ]


def test_given_a_vip_jumps_ahead_then_the_announced_position_never_goes_up() -> None:
    sc = Scenario(plan({"a1": {}}, {"announce_every_s": 30.0, **_VIP}))
    sc.log_in("a1", at=0)
    sc.arrive("c1", at=1)
    sc.identified("c1", None, at=1.1)
    sc.tick(31)
    sc.arrive("c2", at=40)
    sc.identified("c2", "vip", at=40.1)
    (c1_second,) = [a for a in of_type(sc.tick(61), cmd.AnnouncePosition) if a.call == "c1"]
    assert c1_second.position == 1


def test_given_a_ringing_call_then_no_announcement_but_they_resume_if_it_comes_back() -> None:
    sc = Scenario(plan({"a1": {}}, {"announce_every_s": 30.0, "ring_timeout_s": 45.0}))
    sc.staff("a1", at=0)
    sc.arrive("c1", at=1)
    assert sc.tick(31) == []
    sc.leg_ended("sb-c1-1", at=40)
    assert of_type(sc.tick(61), cmd.AnnouncePosition) == [cmd.AnnouncePosition(CallId("c1"), 1, 180.0)]


def test_given_calls_handled_then_the_expected_wait_follows_the_running_handle_time() -> None:
    sc = Scenario(plan({"a1": {}}, {"announce_every_s": 30.0, "expected_handle_s": 100.0}))
    sc.staff("a1", at=0)
    sc.arrive("x", at=1)
    serve(sc, "x", "sb-x-1", at=2, talk_s=200)
    sc.pause("a1", "break", at=202)
    sc.arrive("c1", at=203)
    (announced,) = of_type(sc.tick(233), cmd.AnnouncePosition)
    assert announced.expected_wait_s == 120.0  # 100 + 0.2 x (200 - 100)


def test_records_carry_priority_and_after_hours() -> None:
    sc = Scenario(plan({"a1": {}}, _VIP))
    sc.staff("a1", at=1)
    sc.arrive("c1", at=5)
    sc.identified("c1", "vip", at=5.1)
    sc.hang_up("c1", at=6)
    (record,) = records(sc.emitted)
    assert (record.priority, record.after_hours, record.outcome) == (10, False, Outcome.ABANDONED)


def test_given_closure_or_holiday_then_the_line_is_closed() -> None:
    training = Closure(MONDAY_NOON_UTC - 60, MONDAY_NOON_UTC + 60, "training")
    hours = Hours(timezone="UTC", weekly=_OFFICE.weekly, closures=(training,))
    assert not hours.is_open(MONDAY_NOON_UTC)
    assert hours.is_open(MONDAY_NOON_UTC + 60)
    thanksgiving = dt.datetime(2026, 11, 26, 17, tzinfo=dt.UTC).timestamp()  # noon in New York
    us = Hours(
        timezone="America/New_York", weekly={3: (Span(dt.time(9), dt.time(17)),)}, holiday_country="US"
    )
    assert not us.is_open(thanksgiving)
    assert us.is_open(thanksgiving + 7 * 86400)
    assert us.holiday(dt.date(2026, 11, 26)) == "Thanksgiving Day"
    assert us.local_day(dt.datetime(2026, 11, 27, 3, tzinfo=dt.UTC).timestamp()) == dt.date(2026, 11, 26)


# --- late and stray events --------------------------------------------------------------------------
def test_given_call_already_ringing_when_the_store_answers_late_then_nothing_changes() -> None:
    sc = Scenario(plan({"a1": {}}, _VIP))
    sc.staff("a1", at=1)
    sc.arrive("c1", at=5)
    assert offered_to(sc.tick(6)) == ["a1"]  # routed without the profile
    assert sc.identified("c1", "vip", at=6.5) == []
    assert sc.tick(7) == []  # nor does the identify timer do anything twice


def test_given_caller_identified_in_time_then_the_identify_timer_lapses() -> None:
    sc = Scenario(plan({"a1": {}}, _VIP))
    sc.log_in("a1", at=1)
    sc.arrive("c1", at=5)
    sc.identified("c1", None, at=5.1)
    assert sc.tick(7) == []


def test_given_on_call_ringing_when_caller_hangs_up_then_the_leg_is_cancelled_and_logged_abandoned() -> None:
    sc = _night(AfterHoursKind.ON_CALL)
    sc.arrive("c1", at=5, did=NIGHT_DID)
    out = sc.hang_up("c1", at=8)
    assert of_type(out, cmd.CancelOffer) == [cmd.CancelOffer(OfferId("sb-c1-1"), CallId("c1"))]
    assert not of_type(out, cmd.WithdrawOffer)
    assert sc.record_of("c1").outcome is Outcome.ABANDONED


def test_given_ring_all_when_one_agent_declines_then_the_others_keep_ringing() -> None:
    sc = Scenario(plan({"a1": {}, "a2": {}}, {"strategy": Strategy.RING_ALL}))
    sc.staff("a1", "a2", at=1)
    sc.arrive("c1", at=5)
    sc.pause("a1", "break", at=6)
    assert sc.router.call_state(CallId("c1")) is CallState.OFFERED
    assert sc.state("a2") is A.RINGING


def test_given_call_moved_then_the_old_queues_later_rules_lapse() -> None:
    sc = Scenario(plan({"a1": {}}, {"rules": (Rule(10, Action.MOVE, SUPPORT), Rule(40, Action.HANG_UP))}))
    sc.arrive("c1", at=5)
    sc.tick(15)
    assert sc.tick(45) == []
    assert sc.router.waiting(SUPPORT) == [CallId("c1")]


def test_given_callback_connected_then_the_dial_timer_lapses() -> None:
    sc = _callback_pending()
    sc.press_callback("c1", at=20)
    offer = of_type(sc.ready("a1", at=30), cmd.OfferCall)[0].offer
    sc.answer(offer, at=32)
    sc.customer_answers(CB, at=35)
    assert not of_type(sc.tick(32 + 30 + 5), cmd.EndCall)
    assert sc.router.call_state(CB) is CallState.CONNECTED


def test_given_callback_waiting_then_a_full_queue_does_not_turn_it_away() -> None:
    sc = Scenario(plan({"a1": {}}, {"rules": (Rule(10, Action.CALLBACK),), "max_length": 1}))
    sc.arrive("c1", at=5)
    sc.tick(15)
    sc.press_callback("c1", at=16)
    assert of_type(sc.arrive("c2", at=17), cmd.TakeMessage)  # the callback fills the queue
    assert sc.router.waiting(SALES) == [CB]


def test_a_move_or_add_queue_rule_needs_a_queue() -> None:
    with pytest.raises(ValueError, match="needs a queue"):
        Rule(10, Action.MOVE)


def test_given_a_call_held_for_its_agent_when_a_callback_rule_fires_then_offered_and_still_held() -> None:
    sc = Scenario(plan({"a1": {}, "a2": {}}, {"sticky_s": 30.0, "rules": (Rule(10, Action.CALLBACK),)}))
    sc.staff("a1", at=1)
    sc.log_in("a2", at=1)
    sc.arrive("c1", at=5)
    sc.identified("c1", last_agent="a2", at=5.1)
    assert sc.tick(15.1) == [cmd.OfferCallbackChoice(CallId("c1"))]
    assert offered_to(sc.ready("a2", at=20)) == ["a2"]


def test_given_an_on_call_chain_call_then_no_agent_may_take_it() -> None:
    sc = _night(AfterHoursKind.ON_CALL)
    sc.staff("a1", at=1)
    sc.arrive("c1", at=5, did=NIGHT_DID)
    assert not sc.router.may_take(AgentId("a1"), CallId("c1"))
    assert sc.router.call_view(CallId("nobody")) is None


def test_given_a_router_whose_books_were_tampered_with_then_the_audit_says_what_is_wrong() -> None:
    """The audit's own test: it must find what the heaps would hide (it reads the books directly)."""
    sc = Scenario(plan({"a1": {}, "a2": {}}))
    sc.log_in("a1", at=1)
    sc.log_in("a2", at=1)
    sc.arrive("c1", at=2)
    assert sc.router.audit() == []
    sc.router.book.agents[AgentId("a1")].state = A.READY  # ready without being filed: a lost wake-up
    assert sc.router.audit() == ["c1 waits while a1 is ready for it"]
    sc.ready("a2", at=3)  # a2 takes c1; now give c1 a second ringing leg outside ring-all
    call = sc.router.book.calls[CallId("c1")]
    call.offers[OfferId("sb-c1-9")] = None
    assert "c1 rings 2 agents outside ring-all" in sc.router.audit()


def test_given_a_new_day_in_the_centers_time_zone_then_calls_today_start_again() -> None:
    """fewest-calls counts the center's own day: a1's calls of yesterday do not count against a1."""
    base = Scenario(plan({"a1": {}, "a2": {}}, {"strategy": Strategy.FEWEST_CALLS}))
    sc = Scenario(dataclasses.replace(base.plan, timezone="America/New_York"))
    late = dt.datetime(2026, 11, 24, 4, 30, tzinfo=dt.UTC).timestamp()  # 23:30 in New York
    sc.staff("a1", at=late)
    for n in range(2):
        sc.arrive(f"x{n}", at=late + n)
        serve(sc, f"x{n}", f"sb-x{n}-1", at=late + n, talk_s=0.5)
    sc.log_in("a2", at=late + 10)
    sc.ready("a2", at=late + 10)
    sc.arrive("x2", at=late + 20)
    serve(sc, "x2", "sb-x2-1", at=late + 20, talk_s=0.5)  # a2: one call, a1: two, all on the 23rd
    assert sc.offer_of("x2").agent == "a2"
    after_midnight = late + 3600  # 00:30 on the 24th: a1's next call is the first of a new day
    sc.arrive("y1", at=after_midnight)
    serve(sc, "y1", sc.offer_of("y1").offer, at=after_midnight, talk_s=0.5)
    first = sc.offer_of("y1").agent
    sc.arrive("y2", at=after_midnight + 5)
    assert sc.offer_of("y2").agent != first  # one call each today: the other agent is next


def test_given_a_call_that_waited_and_was_answered_when_max_wait_passes_then_nothing_happens() -> None:
    sc = Scenario(plan({"a1": {}}, {"max_wait_s": 100.0}))
    sc.log_in("a1", at=1)
    sc.arrive("c1", at=5)  # waits: its max-wait clock is set
    sc.ready("a1", at=10)
    sc.answer("sb-c1-1", at=12)
    assert sc.tick(200) == []
    assert sc.router.call_state(CallId("c1")) is CallState.CONNECTED


def test_given_a_call_rung_at_once_when_max_wait_is_shorter_than_the_ring_then_it_still_ends_on_time() -> (
    None
):
    sc = Scenario(plan({"a1": {}}, {"max_wait_s": 10.0, "ring_timeout_s": 30.0}))
    sc.staff("a1", at=1)
    sc.arrive("c1", at=5)  # offered at once: the max-wait clock is set because the ring outlasts it
    assert of_type(sc.tick(15), cmd.EndCall) == [cmd.EndCall(CallId("c1"), (CallId("c1"),), None, GOODBYE)]


def test_given_a_rule_due_while_the_call_rings_when_the_agent_does_not_answer_then_the_rule_applies() -> None:
    sc = Scenario(plan({"a1": {}}, sales={"rules": (Rule(20, Action.VOICEMAIL),)}))
    sc.arrive("c1", at=10)  # nobody ready: it waits, and its rule falls due at 30
    sc.staff("a1", at=25)
    assert sc.agent_of("c1") == "a1"
    assert sc.tick(31) == []  # ringing: the rule waits for the call to come back
    out = sc.leg_ended("sb-c1-1", at=32)
    assert [type(c) for c in out if isinstance(c, cmd.TakeMessage)] == [cmd.TakeMessage]


def test_given_a_callback_then_its_channel_is_in_the_books_only_once_the_customer_is_dialled() -> None:
    sc = _callback_pending()
    sc.press_callback("c1", at=20)
    assert views.channels(sc.router.book) == {CallId("c2")}  # c1 is gone; its callback has no leg yet
    offer = of_type(sc.ready("a1", at=30), cmd.OfferCall)[0].offer
    assert views.channels(sc.router.book) == {CallId("c2"), offer}  # the agent's phone rings first
    sc.answer(offer, at=32)
    assert views.channels(sc.router.book) == {CallId("c2"), offer, CB}  # then the customer's is dialled


def test_given_ring_all_then_the_call_is_offered_to_every_ringing_agent_and_then_to_who_took_it() -> None:
    sc = Scenario(plan({"a1": {}, "a2": {}, "a3": {}}, {"strategy": Strategy.RING_ALL}))
    sc.staff("a1", "a2", "a3", at=1)
    sc.pause("a3", "lunch", at=2)
    sc.arrive("c1", at=5)
    assert sc.router.offered_agents(CallId("c1")) == {AgentId("a1"), AgentId("a2")}
    sc.answer("sb-c1-2", at=7)
    sc.leg_ended("sb-c1-1", at=7.1)  # the other phone's leg, hung up
    assert sc.router.offered_agents(CallId("c1")) == {AgentId("a2")}
    sc.hang_up("c1", at=9)
    assert sc.router.offered_agents(CallId("c1")) is None  # over
    assert sc.router.offered_agents(CallId("never")) is None


def test_given_a_call_waiting_or_ringing_an_on_call_person_then_no_agent_holds_it() -> None:
    sc = Scenario(plan({"a1": {}}))
    sc.arrive("c1", at=5)  # nobody logged in: it waits
    assert sc.router.offered_agents(CallId("c1")) == frozenset()
    night = _night(AfterHoursKind.ON_CALL)
    night.arrive("c2", at=5, did=NIGHT_DID)  # Dr. Smith's phone rings: not an agent's
    view = night.router.call_view(CallId("c2"))
    assert view is not None and view.offers
    assert night.router.offered_agents(CallId("c2")) == frozenset()
