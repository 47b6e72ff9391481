"""Rebinding the books to an edited plan (routing/rebind.py): what each kind of edit does to what is
under way, and that the router then goes on from the rebound books as from any others."""

from __future__ import annotations

import dataclasses

from routing_harness import (
    SALES,
    SALES_DID,
    SALES_LINE,
    SUPPORT,
    SUPPORT_DID,
    SUPPORT_LINE,
    Scenario,
    make_plan,
    of_type,
    records,
)

from routing import audit, views
from routing import commands as cmd
from routing import events as ev
from routing.hours import Hours
from routing.ids import AgentId, CallId, OfferId, QueueId
from routing.plan import Action, AfterHours, AfterHoursKind, Agent, Line, OnCallStep, Plan, Queue, Rule
from routing.rebind import AGENT_TIMERS, CALL_TIMERS, OFFER_TIMERS, rebind
from routing.records import Outcome, Party
from routing.router import Router
from routing.states import AgentState, CallState
from routing.timers import TimerKind

A1, A2, A3 = AgentId("a1"), AgentId("a2"), AgentId("a3")
BILLING = QueueId("billing")
AT = 1000.0


def floor(plan: Plan | None = None) -> Scenario:
    """a1 talking to c1 (sales), a2 in wrap-up after c0, c2 and c3 waiting in sales; support has s1 ready."""
    plan = plan or make_plan(
        {"a1": (SALES,), "a2": (SALES,), "s1": (SUPPORT,)}, wrap_up_s=5000.0, max_wait_s=5000.0
    )
    s = Scenario(plan)
    for agent in ("a1", "a2", "s1"):
        s.feed(ev.AgentLoggedIn(AgentId(agent), 1.0))
    s.feed(ev.AgentBecameReady(A2, 1.0))
    s.arrive("c0", 2.0)
    s.answer("sb-c0-1", 3.0)
    s.hang_up("c0", 10.0)  # a2 now in wrap-up until 5010
    s.feed(ev.AgentBecameReady(A1, 11.0))
    s.arrive("c1", 12.0)
    s.answer("sb-c1-1", 13.0)
    s.arrive("c2", 20.0)
    s.arrive("c3", 21.0)
    s.feed(ev.AgentBecameReady(AgentId("s1"), 22.0))
    return s


def bound(s: Scenario, new: Plan, at: float = AT) -> Router:
    """The scenario's router with its books rebound to ``new``, checked by the audit."""
    r = rebind(s.router.book, s.plan, new, at)
    router = Router(r.plan)
    router.book = r.book
    assert audit.problems(r.book, r.plan) == []
    return router


def edited(plan: Plan, **changes: object) -> Plan:
    return dataclasses.replace(plan, **changes)  # type: ignore[arg-type]


def test_given_timer_kinds_then_each_is_known_as_an_agents_an_offers_or_a_calls() -> None:
    assert set(TimerKind) == AGENT_TIMERS | OFFER_TIMERS | CALL_TIMERS
    assert not (AGENT_TIMERS & CALL_TIMERS or OFFER_TIMERS & CALL_TIMERS)


def test_given_an_agent_added_then_they_are_there_logged_out_and_nothing_else_moves() -> None:
    s = floor()
    spec = Agent(id=A3, name="A3", endpoint="PJSIP/1009", queues=(SALES,))
    new = edited(s.plan, agents={**s.plan.agents, A3: spec})
    before = {c: views.call_view(s.router.book, s.plan, c) for c in s.router.book.calls}
    router = bound(s, new)
    assert router.agent_view(A3).state is AgentState.LOGGED_OUT
    assert {c: views.call_view(router.book, new, c) for c in router.book.calls} == before
    assert router.waiting(SALES) == ["c2", "c3"]  # same order, same calls
    router.handle(ev.AgentLoggedIn(A3, AT))
    out = router.handle(ev.AgentBecameReady(A3, AT))
    assert [o.call for o in of_type(out, cmd.OfferCall)] == ["c2"]  # the new agent takes the first in line


def test_given_an_agent_removed_on_a_call_then_they_stay_until_it_ends_and_it_is_logged_as_usual() -> None:
    s = floor()
    new = edited(s.plan, agents={a: x for a, x in s.plan.agents.items() if a != A1})
    r = rebind(s.router.book, s.plan, new, AT)
    assert (r.leaving, r.dropped) == ((A1,), ())
    assert r.plan.agents[A1].queues == ()  # in no queue: never offered another call
    router = Router(r.plan)
    router.book = r.book
    out = router.handle(ev.CallerHungUp(CallId("c1"), AT + 5))
    [record] = records(out)
    assert (record.agent, record.answered_at, record.ended_at) == (A1, 13.0, AT + 5)
    assert router.agent_view(A1).state is AgentState.WRAP_UP
    # The next restart (same config) finds them idle: dropped then.
    again = rebind(router.book, r.plan, new, AT + 10)
    assert again.dropped == (A1,) and A1 not in again.book.agents


def test_given_an_agent_removed_in_wrap_up_then_they_are_dropped_with_their_timer() -> None:
    s = floor()
    new = edited(s.plan, agents={a: x for a, x in s.plan.agents.items() if a != A2})
    router = bound(s, new)
    assert A2 not in router.book.agents
    assert not any(t.key == A2 for t in router.book.timers)
    router.handle(ev.Tick(5010.0))  # a2's wrap-up deadline would have fired here
    assert router.handle(ev.WrapUpSaved(A2, CallId("c0"), AT)) == []  # a late form changes nothing


def test_given_a_removed_agents_phone_ringing_then_the_call_keeps_its_place_and_rings_another() -> None:
    plan = make_plan({"a1": (SALES,), "a2": (SALES,)})
    s = Scenario(plan)
    for agent in (A1, A2):
        s.feed(ev.AgentLoggedIn(agent, 1.0))
    s.feed(ev.AgentBecameReady(A1, 1.0))
    s.arrive("c1", 2.0)
    s.ring("sb-c1-1", 2.1)
    s.feed(ev.AgentBecameReady(A2, 3.0))
    new = edited(plan, agents={A2: plan.agents[A2]})
    router = bound(s, new)
    assert OfferId("sb-c1-1") not in router.book.offers  # its leg is no longer ours: hung up on reconcile
    assert router.call_state(CallId("c1")) is CallState.IDENTIFYING  # to be routed at the first tick
    out = router.handle(ev.Tick(AT))
    assert [(o.call, o.agent) for o in of_type(out, cmd.OfferCall)] == [("c1", A2)]


def test_given_a_queue_removed_then_its_callers_move_to_their_lines_queue_in_arrival_order() -> None:
    plan = make_plan({"a1": (SALES,), "s1": (SUPPORT,)})
    s = Scenario(plan)
    s.arrive("c1", 1.0, did=SUPPORT_DID)
    s.arrive("c2", 2.0, did=SALES_DID)
    s.arrive("c3", 3.0, did=SUPPORT_DID)
    lines = {
        SALES_LINE: plan.lines[SALES_LINE],
        SUPPORT_LINE: dataclasses.replace(plan.lines[SUPPORT_LINE], queue=SALES),
    }
    new = edited(plan, queues={SALES: plan.queues[SALES]}, lines=lines,
                 agents={A1: plan.agents[A1]})  # fmt: skip
    r = rebind(s.router.book, plan, new, AT)
    router = Router(r.plan)
    router.book = r.book
    assert audit.problems(r.book, r.plan) == []
    assert (sorted(r.moved), r.ended, r.dropped) == (["c1", "c3"], (), (AgentId("s1"),))
    assert router.waiting(SALES) == ["c1", "c2", "c3"]  # by arrival: c1 keeps its place ahead of c2
    assert router.book.calls[CallId("c1")].arrived_at == 1.0
    router.handle(ev.AgentLoggedIn(A1, AT))
    out = router.handle(ev.AgentBecameReady(A1, AT))
    assert [o.call for o in of_type(out, cmd.OfferCall)] == ["c1"]


def test_given_a_number_removed_with_its_line_and_queue_then_its_callers_end_logged_by_the_system() -> None:
    plan = make_plan({"a1": (SALES,)})
    s = Scenario(plan)
    s.arrive("c1", 1.0, did=SUPPORT_DID)
    new = edited(plan, queues={SALES: plan.queues[SALES]}, lines={SALES_LINE: plan.lines[SALES_LINE]},
                 dids={d: x for d, x in plan.dids.items() if d != SUPPORT_DID})  # fmt: skip
    r = rebind(s.router.book, plan, new, AT)
    [logged] = r.ended
    assert (logged.record.call, logged.record.outcome, logged.record.hung_up_by) == (
        "c1", Outcome.NO_AGENT, Party.SYSTEM,
    )  # fmt: skip
    assert (logged.record.arrived_at, logged.record.ended_at, logged.record.queue) == (1.0, AT, SUPPORT)
    router = Router(r.plan)
    router.book = r.book
    # The PBX adapter finds its channel still in the app: the router has it hung up, logged once.
    out = router.handle(ev.CallArrived(CallId("c1"), SUPPORT_DID, None, None, AT + 1))
    assert of_type(out, cmd.EndCall) and not records(out)


def test_given_a_queues_rules_changed_then_the_waiting_call_starts_them_over_and_the_due_ones_fire() -> None:
    plan = make_plan({"a1": (SALES,)}, max_wait_s=5000.0)
    s = Scenario(plan)
    s.arrive("c1", 1.0)  # waits: nobody is ready
    rule = Rule(after_s=30.0, action=Action.ADD_QUEUE, queue=SUPPORT)
    queues = {**plan.queues, SALES: dataclasses.replace(plan.queues[SALES], rules=(rule,))}
    new = edited(plan, queues=queues, agents={**plan.agents, A3: Agent(id=A3, name="A3",
                 endpoint="PJSIP/1003", queues=(SUPPORT,))})  # fmt: skip
    router = bound(s, new)
    assert router.waiting(SALES) == ["c1"]
    router.handle(ev.Tick(AT))  # entered at 1.0: its 30 s rule is long due
    assert router.book.calls[CallId("c1")].extra == (SUPPORT,)
    router.handle(ev.AgentLoggedIn(A3, AT))
    out = router.handle(ev.AgentBecameReady(A3, AT))
    assert [(o.call, o.agent) for o in of_type(out, cmd.OfferCall)] == [("c1", A3)]


def test_given_a_ready_agent_given_a_queue_then_its_waiting_caller_is_offered_at_the_first_tick() -> None:
    s = floor()
    agents = {
        **s.plan.agents,
        AgentId("s1"): dataclasses.replace(s.plan.agents[AgentId("s1")], queues=(SUPPORT, SALES)),
    }
    router = bound(s, edited(s.plan, agents=agents))
    out = router.handle(ev.Tick(AT))
    assert [(o.call, o.agent) for o in of_type(out, cmd.OfferCall)] == [("c2", "s1")]
    assert router.waiting(SALES) == ["c3"]


def test_given_the_same_plan_then_the_books_hold_the_same_and_nothing_is_moved() -> None:
    s = floor()
    r = rebind(s.router.book, s.plan, s.plan, AT)
    assert (r.moved, r.ended, r.dropped, r.leaving) == ((), (), (), ())
    router = Router(r.plan)
    router.book = r.book
    before = {c: views.call_view(s.router.book, s.plan, c) for c in s.router.book.calls}
    assert {c: views.call_view(r.book, r.plan, c) for c in r.book.calls} == before
    assert router.waiting(SALES) == s.router.waiting(SALES)


def test_given_an_escalation_ringing_when_the_chain_changes_then_it_rings_the_chain_it_began_with() -> None:
    chain = (OnCallStep("Dr A", "PJSIP/9001"), OnCallStep("Dr B", "PJSIP/9002"))
    plan = make_plan({"a1": (SALES,)}, sales_line={"on_call": chain})
    s = Scenario(plan)
    s.feed(ev.AgentLoggedIn(A1, 1.0))
    s.feed(ev.AgentBecameReady(A1, 1.0))
    s.arrive("c1", 2.0)
    s.answer("sb-c1-1", 3.0)
    s.feed(ev.EscalationRequested(A1, 4.0))
    shorter = {**plan.lines, SALES_LINE: dataclasses.replace(plan.lines[SALES_LINE], on_call=chain[:1])}
    router = bound(s, edited(plan, lines=shorter))
    out = router.handle(ev.OfferEnded(OfferId("sb-c1-2"), AT))  # Dr A does not answer: Dr B is rung
    assert [o.endpoint for o in of_type(out, cmd.OfferCall)] == ["PJSIP/9002"]


def test_given_an_after_hours_chain_ringing_when_the_chain_changes_then_it_rings_the_one_it_began_with() -> (
    None
):
    chain = (OnCallStep("Dr A", "PJSIP/9001"), OnCallStep("Dr B", "PJSIP/9002"))
    closed = {
        "hours": Hours(timezone="UTC", weekly={}),
        "after_hours": AfterHours(AfterHoursKind.ON_CALL, None, chain),
    }
    plan = make_plan({"a1": (SALES,)}, sales_line=closed)
    s = Scenario(plan)
    s.arrive("c1", 2.0)
    line = plan.lines[SALES_LINE]
    shorter = dataclasses.replace(line, after_hours=AfterHours(AfterHoursKind.ON_CALL, None, chain[:1]))
    router = bound(s, edited(plan, lines={**plan.lines, SALES_LINE: shorter}))
    out = router.handle(ev.OfferEnded(OfferId("sb-c1-1"), AT))  # Dr A does not answer: Dr B is rung
    assert [o.endpoint for o in of_type(out, cmd.OfferCall)] == ["PJSIP/9002"]


def test_given_a_talking_calls_queue_and_line_removed_then_it_stays_up_counted_in_its_numbers_queue() -> None:
    plan = make_plan({"a1": (SALES, SUPPORT)})
    s = Scenario(plan)
    s.feed(ev.AgentLoggedIn(A1, 1.0))
    s.feed(ev.AgentBecameReady(A1, 1.0))
    s.arrive("c1", 2.0, did=SUPPORT_DID)
    s.answer("sb-c1-1", 3.0)
    new_line = Line(id=SUPPORT_LINE, name="Support", queue=SALES)
    new = edited(plan, queues={SALES: plan.queues[SALES]}, lines={**plan.lines, SUPPORT_LINE: new_line},
                 agents={A1: dataclasses.replace(plan.agents[A1], queues=(SALES,))})  # fmt: skip
    router = bound(s, new)
    assert router.book.calls[CallId("c1")].queue == SALES
    [record] = records(router.handle(ev.CallerHungUp(CallId("c1"), AT)))
    assert (record.outcome, record.answered_at, record.queue) == (Outcome.ANSWERED, 3.0, SALES)


def test_given_a_queue_added_then_it_has_its_line_and_heaps_and_takes_calls() -> None:
    s = floor()
    billing = Queue(id=BILLING, name="Billing")
    spec = Agent(id=A3, name="A3", endpoint="PJSIP/1009", queues=(BILLING,))
    new = edited(s.plan, queues={**s.plan.queues, BILLING: billing}, agents={**s.plan.agents, A3: spec})
    router = bound(s, new)
    router.handle(ev.AgentLoggedIn(A3, AT))
    router.handle(ev.AgentBecameReady(A3, AT))
    assert router.waiting(BILLING) == [] and router.agent_view(A3).state is AgentState.READY
    out = router.handle(ev.CallMoved(CallId("c2"), BILLING, AT + 1))
    assert [(o.call, o.agent) for o in of_type(out, cmd.OfferCall)] == [("c2", A3)]


def test_given_a_talking_calls_queue_stops_announcing_then_its_old_announcement_timer_lapses() -> None:
    """Its timer of the old queue would re-arm itself every 0 s, for ever, at the first tick."""
    plan = make_plan({"a1": (SALES,)}, announce_every_s=30.0, max_wait_s=5000.0)
    s = Scenario(plan)
    s.arrive("c1", 1.0)  # waits: its announcement timer is set
    s.feed(ev.AgentLoggedIn(A1, 2.0))
    s.feed(ev.AgentBecameReady(A1, 2.0))
    s.answer("sb-c1-1", 3.0)
    quiet = {**plan.queues, SALES: dataclasses.replace(plan.queues[SALES], announce_every_s=0.0)}
    router = bound(s, edited(plan, queues=quiet))
    assert router.handle(ev.Tick(AT)) == []
    assert router.call_state(CallId("c1")) is CallState.CONNECTED


def test_given_a_talking_calls_number_line_and_queue_all_removed_then_it_counts_in_its_agents_queue() -> None:
    plan = make_plan({"a1": (SALES, SUPPORT)})
    s = Scenario(plan)
    s.feed(ev.AgentLoggedIn(A1, 1.0))
    s.feed(ev.AgentBecameReady(A1, 1.0))
    s.arrive("c1", 2.0, did=SUPPORT_DID)
    s.answer("sb-c1-1", 3.0)
    new = edited(plan, queues={SALES: plan.queues[SALES]}, lines={SALES_LINE: plan.lines[SALES_LINE]},
                 dids={d: x for d, x in plan.dids.items() if d != SUPPORT_DID},
                 agents={A1: dataclasses.replace(plan.agents[A1], queues=(SALES,))})  # fmt: skip
    router = bound(s, new)
    call = router.book.calls[CallId("c1")]
    assert (call.queue, call.line, call.state) == (SALES, SALES_LINE, CallState.CONNECTED)
    [record] = records(router.handle(ev.CallerHungUp(CallId("c1"), AT)))
    assert (record.agent, record.queue, record.did) == (A1, SALES, SUPPORT_DID)


def test_given_a_call_held_for_a_removed_agent_then_anyone_may_take_it_at_once() -> None:
    plan = make_plan({"a1": (SALES,), "a2": (SALES,)}, sticky_s=600.0, max_wait_s=5000.0)
    s = Scenario(plan)
    for agent in (A1, A2):
        s.feed(ev.AgentLoggedIn(agent, 1.0))
    s.arrive("c1", 2.0)  # its queue asks the store who served the caller last
    s.feed(ev.CallerIdentified(CallId("c1"), None, A1, 1.5, 2.1))
    assert s.router.book.calls[CallId("c1")].held_for == A1  # a1 is not ready: held for them
    s.feed(ev.AgentBecameReady(A2, 3.0))  # a2 may not take it while it is held for a1
    router = bound(s, edited(plan, agents={A2: plan.agents[A2]}))
    assert router.book.calls[CallId("c1")].held_for is None
    out = router.handle(ev.Tick(AT))
    assert [(o.call, o.agent) for o in of_type(out, cmd.OfferCall)] == [("c1", A2)]
