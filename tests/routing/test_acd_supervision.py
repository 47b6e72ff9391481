"""Supervisors, rule by rule: listen, whisper and barge on an agent's call from the supervisor's own phone,
and moving a waiting call to another queue or to the front of its own; refusals too.

Times: c1 arrives at 10 and a1 answers it at 15 (``connected``); the supervisor acts at 20, their phone
answers at 21. ``boss`` is an agent id in no queue: the supervisor's phone (PJSIP/1004).
"""

from __future__ import annotations

from typing import Any

import pytest
from routing_harness import SALES, SUPPORT, Scenario, make_plan, of_type, records

from routing import commands as cmd
from routing import events as ev
from routing import views
from routing.errors import IllegalTransition, UnknownAgent, UnknownQueue
from routing.events import SupervisionMode as Mode
from routing.ids import AgentId, BridgeId, CallId, OfferId, SupervisorLegId
from routing.plan import Action, OnCallStep, Priorities, Rule
from routing.records import Outcome
from routing.states import AgentState, CallState

A, S = AgentState, CallState
C1, BRIDGE, LEG = CallId("c1"), BridgeId("sb-bridge-c1"), OfferId("sb-c1-1")
BOSS, A1 = AgentId("boss"), AgentId("a1")
SV = SupervisorLegId("sb-sv-c1-1")
SNOOP, SV_BRIDGE = "sb-snoop-c1-1", BridgeId("sb-svbridge-c1-1")
STAFF = {"a1": (SALES,), "a2": (SALES,), "b1": (SUPPORT,), "boss": ()}


def connected(*, staff: tuple[str, ...] = ("a1",), **options: Any) -> Scenario:
    sc = Scenario(make_plan(STAFF, **options))
    sc.staff(*staff, at=1)
    sc.arrive("c1", at=10)
    assert sc.agent_of("c1") == "a1"
    sc.answer(LEG, at=15)
    return sc


def supervise(sc: Scenario, mode: Mode, boss: str = "boss", agent: str = "a1", at: float = 20) -> Any:
    return sc.feed(ev.SupervisionRequested(AgentId(boss), AgentId(agent), mode, sc._at(at)))


def sv_answers(sc: Scenario, leg: str = SV, at: float = 21) -> list[cmd.Command]:
    return sc.feed(ev.SupervisorAnswered(SupervisorLegId(leg), sc._at(at)))


def sv_leg_ends(sc: Scenario, leg: str = SV, at: float = 30) -> list[cmd.Command]:
    return sc.feed(ev.SupervisorLegEnded(SupervisorLegId(leg), sc._at(at)))


def stop(sc: Scenario, boss: str = "boss", at: float = 30) -> list[cmd.Command]:
    return sc.feed(ev.SupervisionEnded(AgentId(boss), sc._at(at)))


def move(sc: Scenario, call: str, queue: str, at: float | None = None) -> list[cmd.Command]:
    return sc.feed(ev.CallMoved(CallId(call), queue, sc._at(at)))


def to_front(sc: Scenario, call: str, at: float | None = None) -> list[cmd.Command]:
    return sc.feed(ev.CallPrioritised(CallId(call), sc._at(at)))


def view(sc: Scenario, call: str = "c1") -> Any:
    return sc.router.call_view(CallId(call))


def refused(sc: Scenario, error: type[Exception], act: Any, *calls: str) -> None:
    """``act`` raises ``error`` and changes nothing the router lets anyone see."""
    calls = calls or ("c1",)
    before = (sc.snapshot(*calls), [view(sc, c) for c in calls], len(sc.emitted))
    with pytest.raises(error):
        act()
    assert (sc.snapshot(*calls), [view(sc, c) for c in calls], len(sc.emitted)) == before


def dropped(leg: str = SV, mode: Mode = Mode.LISTEN) -> cmd.DropSupervisor:
    if mode is Mode.BARGE:
        return cmd.DropSupervisor(SupervisorLegId(leg), C1, None, None)
    return cmd.DropSupervisor(SupervisorLegId(leg), C1, SNOOP, SV_BRIDGE)


# --- listen, whisper, barge -------------------------------------------------------------------------
@pytest.mark.parametrize("mode", list(Mode))
def test_given_a_connected_call_when_a_supervisor_asks_then_their_phone_rings_and_the_console_hears(
    mode: Mode,
) -> None:
    sc = connected()
    out = supervise(sc, mode)
    assert out == [
        cmd.RingSupervisor(SV, C1, BOSS, "PJSIP/1004", 30.0),
        cmd.SupervisionChanged(BOSS, A1, C1, mode, 20),
    ]
    assert view(sc).supervisors == ((BOSS, mode),)  # the console shows who is on it from the start


@pytest.mark.parametrize("mode", [Mode.LISTEN, Mode.WHISPER])
def test_given_listen_or_whisper_when_the_supervisor_answers_then_a_snoop_on_the_agent_leg_in_their_bridge(
    mode: Mode,
) -> None:
    sc = connected()
    supervise(sc, mode)
    assert sv_answers(sc) == [
        cmd.ConnectSupervisor(leg=SV, call=C1, agent_leg=LEG, mode=mode, bridge=SV_BRIDGE, snoop=SNOOP)
    ]
    assert sv_answers(sc) == []  # ARI reports the answer twice (Dial and state change)


def test_given_barge_when_the_supervisor_answers_then_their_leg_joins_the_calls_bridge() -> None:
    sc = connected()
    supervise(sc, Mode.BARGE)
    assert sv_answers(sc) == [
        cmd.ConnectSupervisor(leg=SV, call=C1, agent_leg=LEG, mode=Mode.BARGE, bridge=BRIDGE, snoop=None)
    ]


def test_given_a_held_call_then_it_may_be_supervised_and_hold_does_not_end_it() -> None:
    sc = connected()
    sc.hold("a1", at=18)
    supervise(sc, Mode.LISTEN)
    sv_answers(sc)
    assert of_type(sc.resume("a1", at=25), cmd.DropSupervisor) == []
    assert view(sc).supervisors == ((BOSS, Mode.LISTEN),)


@pytest.mark.parametrize("mode", list(Mode))
def test_given_a_supervised_call_when_the_caller_hangs_up_then_the_supervisor_goes_too(mode: Mode) -> None:
    sc = connected()
    supervise(sc, mode)
    sv_answers(sc)
    out = sc.hang_up("c1", at=40)
    assert dropped(mode=mode) in out
    assert cmd.SupervisionChanged(BOSS, A1, C1, None, 40) in out
    assert sc.record_of("c1").outcome is Outcome.ANSWERED
    assert sv_leg_ends(sc, at=41) == []  # the PBX confirming our own hang-up


@pytest.mark.parametrize(
    "end",
    [
        lambda sc: sc.agent_hangs_up("a1", at=40),
        lambda sc: sc.leg_ended(LEG, at=40),
        lambda sc: sc.bridge_failed("c1", at=40),
        lambda sc: sc.transfer("a1", "queue", "support", at=40),
        lambda sc: sc.transfer("a1", "number", "+15550001111", at=40),
    ],
    ids=["agent-hangs-up-console", "agent-phone-hangs-up", "bridge-failed", "to-queue", "to-number"],
)
def test_given_a_supervised_call_when_the_agents_stretch_ends_then_the_supervisor_is_let_go(end: Any) -> None:
    sc = connected()
    supervise(sc, Mode.WHISPER)
    sv_answers(sc)
    out = end(sc)
    assert dropped() in out
    assert view(sc) is None or view(sc).supervisors == ()
    assert sv_answers(sc, at=41) == []  # nothing left to connect


def test_given_an_escalation_answered_then_the_supervisor_goes_with_the_agent() -> None:
    sc = connected(sales_line={"on_call": (OnCallStep("Dr. Smith", "PJSIP/smith", 20),)})
    supervise(sc, Mode.LISTEN)
    sv_answers(sc)
    out = sc.escalate("a1", at=25)
    assert of_type(out, cmd.DropSupervisor) == []  # the agent is still on the line
    out = sc.accept("sb-c1-2", at=30)
    assert dropped() in out and view(sc).supervisors == ()


def test_given_a_ringing_supervisor_phone_when_the_call_ends_then_the_leg_is_hung_up_unconnected() -> None:
    sc = connected()
    supervise(sc, Mode.LISTEN)
    out = sc.hang_up("c1", at=25)
    assert dropped() in out
    assert sv_answers(sc, at=26) == []


@pytest.mark.parametrize("how", ["console", "phone"])
def test_given_a_supervisor_when_they_stop_then_only_their_legs_go_and_the_call_goes_on(how: str) -> None:
    sc = connected()
    supervise(sc, Mode.BARGE)
    sv_answers(sc)
    out = stop(sc) if how == "console" else sv_leg_ends(sc)
    assert out == [dropped(mode=Mode.BARGE), cmd.SupervisionChanged(BOSS, A1, C1, None, 30)]
    assert view(sc).state is S.CONNECTED and view(sc).supervisors == ()
    assert sv_leg_ends(sc, at=31) == []  # the leg's end after a console stop is ours
    supervise(sc, Mode.LISTEN, at=32)  # and they may start again: a new leg
    assert view(sc).supervisors == ((BOSS, Mode.LISTEN),)
    assert sc.emitted[-2] == cmd.RingSupervisor(SupervisorLegId("sb-sv-c1-2"), C1, BOSS, "PJSIP/1004", 30.0)


def test_given_two_supervisors_then_each_has_their_own_leg_and_both_go_with_the_call() -> None:
    sc = connected()
    supervise(sc, Mode.LISTEN)
    sc.log_in("b1", at=20)  # not ready: their phone is free
    supervise(sc, Mode.BARGE, boss="b1", at=20)
    assert view(sc).supervisors == ((BOSS, Mode.LISTEN), (AgentId("b1"), Mode.BARGE))
    out = sc.hang_up("c1", at=40)
    assert {d.leg for d in of_type(out, cmd.DropSupervisor)} == {"sb-sv-c1-1", "sb-sv-c1-2"}


def test_given_a_supervisor_in_wrap_up_when_they_become_ready_then_their_supervision_ends() -> None:
    sc = connected(staff=("a1", "a2"), wrap_up_s=60)
    sc.arrive("c2", at=11)
    sc.answer("sb-c2-1", at=12)
    sc.agent_hangs_up("a2", at=13)
    assert sc.state("a2") == A.WRAP_UP
    supervise(sc, Mode.LISTEN, boss="a2")
    sv_answers(sc)
    out = sc.ready("a2", at=30)
    assert cmd.DropSupervisor(SV, C1, SNOOP, SV_BRIDGE) in out
    assert sc.state("a2") == A.READY and view(sc).supervisors == ()


# --- refusals -----------------------------------------------------------------------------------------
def test_given_unknown_agents_then_unknown_agent() -> None:
    sc = connected()
    refused(sc, UnknownAgent, lambda: supervise(sc, Mode.LISTEN, boss="ghost"))
    refused(sc, UnknownAgent, lambda: supervise(sc, Mode.LISTEN, agent="ghost"))
    refused(sc, UnknownAgent, lambda: stop(sc, boss="ghost"))


@pytest.mark.parametrize("state", [A.LOGGED_OUT, A.NOT_READY, A.READY, A.RINGING, A.WRAP_UP])
def test_given_an_agent_not_on_a_call_then_not_allowed(state: AgentState) -> None:
    sc = connected(wrap_up_s=60, staff=("a1", "a2"))
    if state is not A.LOGGED_OUT:
        sc.log_in("b1", at=16)
    if state in (A.READY, A.RINGING, A.WRAP_UP):
        sc.ready("b1", at=16)
    if state in (A.RINGING, A.WRAP_UP):
        sc.arrive("c2", at=17, did="+15550100003")
    if state is A.WRAP_UP:
        sc.answer("sb-c2-1", at=18)
        sc.hang_up("c2", at=19)
    assert sc.state("b1") == state
    refused(sc, IllegalTransition, lambda: supervise(sc, Mode.LISTEN, agent="b1"))


def test_given_a_callback_being_dialed_then_not_allowed() -> None:
    sc = Scenario(make_plan(STAFF, rules=(Rule(5, Action.CALLBACK),)))
    sc.arrive("c1", at=10)
    sc.tick(15)
    sc.press_callback("c1", at=16)
    sc.staff("a1", at=20)
    sc.answer("sb-sb-cb-c1-1", at=21)
    assert sc.router.call_state(CallId("sb-cb-c1")) is S.DIALING
    refused(sc, IllegalTransition, lambda: supervise(sc, Mode.LISTEN), "sb-cb-c1")


def test_given_an_escalation_ringing_then_not_allowed() -> None:
    sc = connected(sales_line={"on_call": (OnCallStep("Dr. Smith", "PJSIP/smith", 20),)})
    sc.escalate("a1", at=18)
    refused(sc, IllegalTransition, lambda: supervise(sc, Mode.LISTEN))


@pytest.mark.parametrize("state", [A.READY, A.RINGING, A.ON_CALL])
def test_given_a_supervisor_whose_phone_may_ring_for_calls_then_not_allowed(state: AgentState) -> None:
    sc = connected(staff=("a1", "a2"))
    if state is not A.READY:
        sc.arrive("c2", at=16)
    if state is A.ON_CALL:
        sc.answer("sb-c2-1", at=17)
    assert sc.state("a2") == state
    refused(sc, IllegalTransition, lambda: supervise(sc, Mode.LISTEN, boss="a2"))


def test_given_a_supervisor_already_supervising_then_not_allowed_even_for_another_mode() -> None:
    sc = connected()
    supervise(sc, Mode.LISTEN)
    for mode in Mode:
        refused(sc, IllegalTransition, lambda mode=mode: supervise(sc, mode, at=22))


def test_given_no_supervision_when_stopped_then_not_allowed() -> None:
    sc = connected()
    refused(sc, IllegalTransition, lambda: stop(sc))
    assert sv_leg_ends(sc, "sb-sv-nothing") == [] and sv_answers(sc, "sb-sv-nothing") == []


# --- moving a waiting call --------------------------------------------------------------------------
def waiting_two() -> Scenario:
    """c1 and c2 wait in sales (nobody is ready); b1 (support) is logged in, not ready."""
    sc = Scenario(make_plan(STAFF, max_wait_s=100))
    sc.arrive("c1", at=10)
    sc.arrive("c2", at=11)
    sc.log_in("b1", at=12)
    return sc


def test_given_a_waiting_call_when_moved_then_it_waits_there_and_an_agent_of_that_queue_takes_it() -> None:
    sc = waiting_two()
    assert move(sc, "c2", "support", at=20) == []
    assert sc.router.waiting(SUPPORT) == ["c2"] and sc.router.waiting(SALES) == ["c1"]
    sc.ready("b1", at=21)
    assert sc.agent_of("c2") == "b1"


def test_given_a_moved_call_then_it_keeps_its_place_by_arrival_there() -> None:
    sc = waiting_two()
    sc.arrive("c3", at=12, did="+15550100003")  # support
    move(sc, "c2", "support", at=20)
    assert sc.router.waiting(SUPPORT) == ["c2", "c3"]  # c2 called first


def test_given_a_moved_call_then_its_max_wait_counts_afresh_and_the_old_one_lapses() -> None:
    sc = waiting_two()
    move(sc, "c1", "support", at=50)
    assert records(sc.tick(110)) == []  # 100 s after arrival: the old limit lapsed
    assert view(sc).state is S.WAITING
    out = sc.tick(150)  # 100 s after the move
    assert sc.record_of("c1").outcome is Outcome.NO_AGENT and records(out)


def test_given_a_full_queue_then_a_moved_call_is_not_turned_away() -> None:
    sc = Scenario(make_plan(STAFF, max_length=1))
    sc.arrive("c1", at=10)
    sc.arrive("c2", at=11, did="+15550100003")
    move(sc, "c1", "support", at=20)
    assert sc.router.waiting(SUPPORT) == ["c1", "c2"]


def test_given_a_waiting_callback_when_moved_then_it_gets_no_max_wait() -> None:
    sc = Scenario(make_plan(STAFF, max_wait_s=100, rules=(Rule(5, Action.CALLBACK),)))
    sc.arrive("c1", at=10)
    sc.tick(15)
    sc.press_callback("c1", at=16)
    move(sc, "sb-cb-c1", "support", at=20)
    assert sc.tick(500) == [] and sc.router.waiting(SUPPORT) == ["sb-cb-c1"]


def test_given_a_call_identifying_when_moved_then_it_is_routed_in_the_new_queue() -> None:
    sc = Scenario(make_plan(STAFF, priorities=Priorities(tiers={"vip": 5})))
    sc.arrive("c1", at=10)
    assert sc.router.call_state(C1) is S.IDENTIFYING
    move(sc, "c1", "support", at=10.5)
    sc.log_in("b1", at=10.6)
    sc.ready("b1", at=10.7)
    sc.tick(12)  # the store never answered
    assert sc.agent_of("c1") == "b1"


def test_given_unknown_queue_or_a_call_not_waiting_then_refused() -> None:
    sc = waiting_two()
    refused(sc, UnknownQueue, lambda: move(sc, "c1", "nowhere", at=20), "c1", "c2")
    refused(sc, IllegalTransition, lambda: move(sc, "ghost", "support", at=20), "c1", "c2")
    sc.staff("a1", at=21)  # c1 rings a1
    refused(sc, IllegalTransition, lambda: move(sc, "c1", "support", at=22), "c1", "c2")
    refused(sc, IllegalTransition, lambda: to_front(sc, "c1", at=22), "c1", "c2")
    sc.answer(LEG, at=23)
    refused(sc, IllegalTransition, lambda: move(sc, "c1", "support", at=24), "c1", "c2")


# --- to the front -----------------------------------------------------------------------------------
def test_given_calls_waiting_when_the_last_is_put_first_then_the_next_agent_takes_it() -> None:
    sc = waiting_two()
    sc.arrive("c3", at=12)
    assert to_front(sc, "c3", at=20) == []  # nobody ready: filed again, nothing else
    assert sc.router.waiting(SALES) == ["c3", "c1", "c2"]
    assert view(sc, "c3").priority == 1
    sc.staff("a1", at=21)
    assert sc.agent_of("c3") == "a1"


def test_given_higher_priorities_waiting_then_it_goes_one_above_the_highest() -> None:
    sc = Scenario(make_plan(STAFF, priorities=Priorities(tiers={"vip": 7})))
    sc.arrive("c1", at=10)
    sc.arrive("c2", at=11)
    sc.identified("c1", tier="vip", at=12)
    sc.identified("c2", at=12)
    to_front(sc, "c2", at=20)
    assert view(sc, "c2").priority == 8 and sc.router.waiting(SALES) == ["c2", "c1"]


def test_given_a_call_already_first_or_alone_then_unchanged() -> None:
    sc = waiting_two()
    to_front(sc, "c2", at=20)
    assert to_front(sc, "c2", at=21) == [] and view(sc, "c2").priority == 1
    sc2 = Scenario(make_plan(STAFF))
    sc2.arrive("c1", at=10)
    to_front(sc2, "c1", at=20)
    assert view(sc2).priority == 0


def test_given_a_call_put_first_then_others_announced_positions_do_not_go_up() -> None:
    """c2 was told 2; c3 jumping ahead makes its real place 3, but the announcement stays at 2."""
    sc = Scenario(make_plan(STAFF, announce_every_s=30))
    sc.arrive("c1", at=10)
    sc.arrive("c2", at=11)
    sc.arrive("c3", at=12)
    sc.tick(41)
    assert [a.position for a in of_type(sc.emitted, cmd.AnnouncePosition) if a.call == "c2"] == [2]
    to_front(sc, "c3", at=50)
    sc.tick(71)
    assert [a.position for a in of_type(sc.emitted, cmd.AnnouncePosition) if a.call == "c2"] == [2, 2]
    assert sc.router.waiting(SALES) == ["c3", "c1", "c2"]


def test_given_a_router_whose_books_were_tampered_with_then_the_audit_sees_supervision_breakage() -> None:
    sc = connected()
    supervise(sc, Mode.LISTEN)
    assert sc.router.audit() == []
    sc.router.book.calls[C1].agent = AgentId("a2")
    sc.router.book.agents[BOSS].state = A.READY
    assert sc.router.audit() == [
        "boss supervises a1 on c1, which they are not on",
        "boss supervises while ready",
        "a1 is on a call that is not theirs",
    ]


# --- what a restart compares with the PBX ----------------------------------------------------------
@pytest.mark.parametrize("mode", list(Mode))
def test_given_a_supervised_call_then_the_channels_the_books_hold_are_the_supervisors_too(mode: Mode) -> None:
    sc = connected()
    supervise(sc, mode)
    sv_answers(sc)
    snoop = set() if mode is Mode.BARGE else {SNOOP}  # barge joins the call's bridge: no snoop
    assert views.channels(sc.router.book) == {C1, LEG, SV, *snoop}
    stop(sc)
    assert views.channels(sc.router.book) == {C1, LEG}
