"""Rebinding's less common cases (routing/rebind.py): a time zone changed, a call ringing when its queue,
line and number all go, a plan left with no queue or no line under a talking call, a call held for an
agent moved to another queue, an after-hours caller whose queue goes."""

from __future__ import annotations

import dataclasses

import pytest
from routing_harness import SALES, SALES_DID, SALES_LINE, SALES_RADIO_DID, SUPPORT, Scenario, make_plan
from test_rebind import bound, edited, floor

from routing import views
from routing.ids import AgentId, CallId, QueueId
from routing.plan import Action, AfterHours, AfterHoursKind, Line, Rule, Strategy
from routing.rebind import PlanEditRefused, rebind
from routing.records import Outcome, Party
from routing.states import AgentState, CallState

A1, A3 = AgentId("a1"), AgentId("a3")
AT = 1000.0


def test_given_the_time_zone_changed_then_the_books_day_starts_afresh() -> None:
    s = floor()
    router = bound(s, edited(s.plan, timezone="Europe/London"))
    assert router.book.tz != s.router.book.tz or router.book.day != s.router.book.day


def test_given_a_ringing_call_whose_queue_line_and_number_go_then_it_is_ended_and_the_ring_stops() -> None:
    s = Scenario(make_plan({"a1": (SALES,), "s1": (SUPPORT,)}))
    s.staff("a1", at=1.0)
    s.arrive("c1", 2.0)  # rings a1
    assert s.state("a1") == "ringing"
    new = edited(
        s.plan, queues={SUPPORT: s.plan.queues[SUPPORT]},
        lines={k: v for k, v in s.plan.lines.items() if k != SALES_LINE},
        dids={k: v for k, v in s.plan.dids.items() if k not in (SALES_DID, SALES_RADIO_DID)},
        agents={k: (v if k != "a1" else type(v)(id=v.id, name=v.name, endpoint=v.endpoint, queues=()))
                for k, v in s.plan.agents.items()},
    )  # fmt: skip
    r = rebind(s.router.book, s.plan, new, AT)
    (ended,) = r.ended
    assert ended.record.call == CallId("c1")
    assert (ended.record.outcome, ended.record.hung_up_by) == (Outcome.NO_AGENT, Party.SYSTEM)
    assert views.agent_view(r.book, A1).state is AgentState.READY  # the ring stopped in the books


def test_given_a_talking_call_and_a_plan_left_with_no_queue_then_the_edit_is_refused() -> None:
    s = floor()
    agents = {k: type(v)(id=v.id, name=v.name, endpoint=v.endpoint, queues=())
              for k, v in s.plan.agents.items()}  # fmt: skip
    new = edited(s.plan, queues={}, lines={}, dids={}, agents=agents)
    with pytest.raises(PlanEditRefused, match="no queue"):
        rebind(s.router.book, s.plan, new, AT)


def test_given_a_talking_call_whose_line_and_number_go_and_no_line_is_left_then_the_edit_is_refused() -> None:
    s = floor()
    new = edited(s.plan, lines={}, dids={})
    with pytest.raises(PlanEditRefused, match="no line"):
        rebind(s.router.book, s.plan, new, AT)


def test_given_an_after_hours_caller_whose_queue_goes_then_it_moves_to_the_lines_after_hours_queue() -> None:
    s = floor()
    c2 = s.router.book.calls[CallId("c2")]
    c2.after_hours = True  # it came in after hours; its queue is removed, the line's night queue is new
    night = QueueId("night")
    line = s.plan.lines[SALES_LINE]
    policy = AfterHours(kind=AfterHoursKind.QUEUE, queue=night)
    lines = {**s.plan.lines, SALES_LINE: Line(id=line.id, name=line.name, queue=SUPPORT, after_hours=policy)}
    queues = {SUPPORT: s.plan.queues[SUPPORT], night: dataclasses.replace(s.plan.queues[SUPPORT], id=night)}
    agents = {k: type(v)(id=v.id, name=v.name, endpoint=v.endpoint, queues=(SUPPORT, night))
              for k, v in s.plan.agents.items()}  # fmt: skip
    router = bound(s, edited(s.plan, lines=lines, queues=queues, agents=agents))
    assert router.book.calls[CallId("c2")].queue == night
    assert router.book.calls[CallId("c3")].queue == SUPPORT  # in hours: the line's own queue


def _only_support(s: Scenario) -> dict[str, object]:
    """The sales queue, line and numbers gone; every agent in support."""
    agents = {k: type(v)(id=v.id, name=v.name, endpoint=v.endpoint, queues=(SUPPORT,))
              for k, v in s.plan.agents.items()}  # fmt: skip
    return {
        "queues": {SUPPORT: s.plan.queues[SUPPORT]},
        "lines": {k: v for k, v in s.plan.lines.items() if k != SALES_LINE},
        "dids": {k: v for k, v in s.plan.dids.items() if k not in (SALES_DID, SALES_RADIO_DID)},
        "agents": agents,
    }


def test_given_a_caller_leaving_a_message_when_its_queue_line_and_number_go_then_it_goes_on() -> None:
    s = Scenario(make_plan({"a1": (SALES,), "s1": (SUPPORT,)}, rules=(Rule(10, Action.VOICEMAIL),)))
    s.arrive("c1", 5.0)
    s.tick(15.0)  # nobody came: the caller is leaving a message, still counted in sales
    assert s.router.book.calls[CallId("c1")].state is CallState.MESSAGE
    router = bound(s, edited(s.plan, **_only_support(s)))
    call = router.book.calls[CallId("c1")]
    assert call.state is CallState.MESSAGE and call.queue is None  # no queue left to count it in


def test_given_a_call_held_for_an_agent_when_it_moves_to_another_queue_then_it_is_held_no_more() -> None:
    plan = make_plan({"a1": (SALES,), "a2": (SALES,)}, sticky_s=600.0, max_wait_s=5000.0)
    s = Scenario(plan)
    for agent in ("a1", "a2"):
        s.log_in(agent, at=1.0)
    s.arrive("c1", 2.0)
    s.identified("c1", last_agent="a1", at=2.1)
    assert s.router.book.calls[CallId("c1")].held_for == A1
    line = plan.lines[SALES_LINE]
    lines = {**plan.lines, SALES_LINE: Line(id=line.id, name=line.name, queue=SUPPORT)}
    agents = {k: type(v)(id=v.id, name=v.name, endpoint=v.endpoint, queues=(SUPPORT,))
              for k, v in plan.agents.items()}  # fmt: skip
    router = bound(s, edited(plan, lines=lines, queues={SUPPORT: plan.queues[SUPPORT]}, agents=agents))
    call = router.book.calls[CallId("c1")]
    assert (call.queue, call.held_for) == (SUPPORT, None)
    assert CallId("c1") not in router.book.held.get(A1, [])


def test_given_a_ring_all_call_when_one_of_its_ringing_agents_is_removed_then_the_others_still_ring() -> None:
    s = Scenario(make_plan({"a1": (SALES,), "a2": (SALES,)}, strategy=Strategy.RING_ALL))
    s.staff("a1", "a2", at=1.0)
    s.arrive("c1", 2.0)
    assert {s.state("a1"), s.state("a2")} == {"ringing"}
    router = bound(s, edited(s.plan, agents={AgentId("a2"): s.plan.agents[AgentId("a2")]}))
    call = router.book.calls[CallId("c1")]
    assert call.state is CallState.OFFERED and [router.book.offers[o].agent for o in call.offers] == ["a2"]


def test_given_a_ringing_call_whose_queue_changed_then_the_ring_stops_and_it_waits_in_line_again() -> None:
    s = Scenario(make_plan({"a1": (SALES,)}))
    s.staff("a1", at=1.0)
    s.arrive("c1", 2.0)
    assert s.state("a1") == "ringing"
    changed = dataclasses.replace(s.plan.queues[SALES], ring_timeout_s=99.0)
    router = bound(s, edited(s.plan, queues={**s.plan.queues, SALES: changed}))
    call = router.book.calls[CallId("c1")]
    assert call.state is not CallState.OFFERED and not call.offers
    assert views.agent_view(router.book, A1).state is AgentState.READY
