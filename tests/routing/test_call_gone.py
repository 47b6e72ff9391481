"""A caller's channel found gone on a reconnect (``CallGone``): the call ends as a hangup would, and its
record says nobody saw it; a call that died with the PBX was ended by the system, not by the caller."""

from __future__ import annotations

from routing_harness import Scenario, make_plan, of_type

from routing import commands as cmd
from routing import events as ev
from routing.ids import AgentId, CallId, OfferId
from routing.records import EndReason, Outcome, Party
from routing.states import AgentState

C1 = CallId("c1")


def gone(sc: Scenario, reason: EndReason, at: float) -> list[cmd.Command]:
    return sc.feed(ev.CallGone(C1, at, reason))


def test_given_a_call_talking_when_the_pbx_restarted_then_it_ends_by_the_system_and_says_why() -> None:
    sc = Scenario(make_plan(1))
    sc.staff("a1", at=1)
    sc.arrive("c1", at=10)
    sc.answer("sb-c1-1", at=15)
    out = gone(sc, EndReason.PBX_RESTART, at=40)
    assert cmd.EndCall(C1, (OfferId("sb-c1-1"),), "sb-bridge-c1") in out
    record = sc.record_of("c1")
    assert (record.outcome, record.hung_up_by, record.end_reason) == (
        Outcome.ANSWERED, Party.SYSTEM, EndReason.PBX_RESTART,
    )  # fmt: skip
    assert record.talk_s == 25
    assert sc.state("a1") == AgentState.READY  # freed as after any call (this plan has no wrap-up)


def test_given_a_caller_waiting_when_found_gone_after_our_restart_then_abandoned_and_unseen() -> None:
    sc = Scenario(make_plan(1))
    sc.arrive("c1", at=10)
    gone(sc, EndReason.UNSEEN, at=70)
    record = sc.record_of("c1")
    assert (record.outcome, record.hung_up_by, record.end_reason) == (
        Outcome.ABANDONED, Party.CALLER, EndReason.UNSEEN,
    )  # fmt: skip


def test_given_a_ringing_call_when_the_pbx_restarted_then_the_agent_is_told_and_freed() -> None:
    sc = Scenario(make_plan(1))
    sc.staff("a1", at=1)
    sc.arrive("c1", at=10)
    sc.ring("sb-c1-1", at=10.2)
    out = gone(sc, EndReason.PBX_RESTART, at=12)
    assert [w.reason for w in of_type(out, cmd.WithdrawOffer)] == ["caller-hung-up"]
    assert sc.record_of("c1").hung_up_by == Party.SYSTEM
    assert sc.router.book.agents[AgentId("a1")].misses == 0


def test_given_a_call_already_ended_then_gone_changes_nothing() -> None:
    sc = Scenario(make_plan(1))
    sc.arrive("c1", at=10)
    sc.hang_up("c1", at=11)
    assert gone(sc, EndReason.PBX_RESTART, at=12) == []


def test_given_a_caller_hanging_up_as_seen_then_the_record_has_no_end_reason() -> None:
    sc = Scenario(make_plan(1))
    sc.arrive("c1", at=10)
    sc.hang_up("c1", at=11)
    assert sc.record_of("c1").end_reason is None
