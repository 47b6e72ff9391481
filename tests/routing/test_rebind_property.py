"""Random plan edits over random books (Hypothesis): the rebound books keep the router's promises
(``audit.problems`` is empty, right away and after the first tick), every call that can still be served
is kept (a talking call always, with its agent), and the router goes on from them without an error."""

from __future__ import annotations

import contextlib
import dataclasses

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routing import audit
from routing import commands as cmd
from routing import events as ev
from routing.errors import RoutingError
from routing.ids import AgentId, CallId, LineId, OfferId, QueueId
from routing.plan import Action, Agent, Did, Line, Plan, Queue, Rule, Strategy
from routing.rebind import rebind
from routing.router import Router
from routing.states import QUEUED, TALKING, AgentState

QUEUES = [QueueId("sales"), QueueId("support"), QueueId("billing")]
LINES = [LineId("l-sales"), LineId("l-support")]
DIDS = {"+15550100001": LINES[0], "+15550100002": LINES[0], "+15550100003": LINES[1]}
AGENTS = [AgentId(f"a{i}") for i in range(1, 6)]
STRATEGIES = [Strategy.LONGEST_IDLE, Strategy.ROUND_ROBIN, Strategy.RING_ALL, Strategy.FEWEST_CALLS]


@st.composite
def plans(draw: st.DrawFn, agents: list[AgentId]) -> Plan:
    """A valid plan over some of ``QUEUES``, ``LINES`` and ``agents``: every reference resolves."""
    queue_ids = draw(st.lists(st.sampled_from(QUEUES), min_size=1, max_size=3, unique=True))
    queues = {q: _queue(draw, q, queue_ids) for q in queue_ids}
    line_ids = draw(st.lists(st.sampled_from(LINES), min_size=1, max_size=2, unique=True))
    lines = {li: Line(id=li, name=li, queue=draw(st.sampled_from(queue_ids))) for li in line_ids}
    dids = {n: Did(n, "ads", li) for n, li in DIDS.items() if li in lines and draw(st.booleans())}
    people = {}
    for a in agents:
        if draw(st.integers(0, 4)) == 0:
            continue  # this one is not in the plan
        mine = draw(st.lists(st.sampled_from(queue_ids), min_size=1, max_size=2, unique=True))
        skills = {"fr": draw(st.integers(0, 3))}
        people[a] = Agent(id=a, name=a, endpoint=f"PJSIP/{a}", queues=tuple(mine), skills=skills)
    return Plan(dids=dids, lines=lines, queues=queues, agents=people)


def _queue(draw: st.DrawFn, q: QueueId, others: list[QueueId]) -> Queue:
    rules: list[Rule] = []
    if draw(st.booleans()):
        rules.append(Rule(after_s=draw(st.sampled_from([5.0, 40.0])), action=Action.WIDEN, skills={"fr": 0}))
    if draw(st.booleans()):
        rules.append(Rule(after_s=60.0, action=Action.ADD_QUEUE, queue=draw(st.sampled_from(others))))
    return Queue(
        id=q,
        name=q,
        strategy=draw(st.sampled_from(STRATEGIES)),
        skills={"fr": 2} if draw(st.booleans()) else {},
        rules=tuple(rules),
        wrap_up_s=draw(st.sampled_from([0.0, 20.0])),
        ring_timeout_s=15.0,
        max_wait_s=900.0,
        announce_every_s=draw(st.sampled_from([0.0, 30.0])),
    )


class Floor:
    """Plays the PBX and the agents for a router: each step one event, refused ones ignored."""

    def __init__(self, plan: Plan) -> None:
        self.router = Router(plan)
        self.plan = plan
        self.now = 0.0
        self.calls = 0
        self.legs: list[OfferId] = []

    def feed(self, event: ev.Event) -> None:
        with contextlib.suppress(RoutingError):
            out = self.router.handle(event)
            self.legs += [c.offer for c in out if isinstance(c, cmd.OfferCall)]

    def step(self, draw: st.DrawFn) -> None:
        kind = draw(st.integers(0, 7))
        self.now += draw(st.sampled_from([0.5, 3.0, 25.0]))
        agent = draw(st.sampled_from(list(self.plan.agents) or AGENTS))
        legs = [o for o in self.legs if o in self.router.book.offers] or [OfferId("none")]
        leg = draw(st.sampled_from(legs))
        calls = list(self.router.book.calls) or [CallId("none")]
        if kind == 0:
            self.calls += 1
            did = draw(st.sampled_from(sorted(self.plan.dids) or ["+15550100001"]))
            self.feed(ev.CallArrived(CallId(f"c{self.calls}"), did, "+15557654321", None, self.now))
        elif kind == 1:
            self.feed(ev.AgentLoggedIn(agent, self.now))
            self.feed(ev.AgentBecameReady(agent, self.now))
        elif kind == 2:
            self.feed(ev.OfferRinging(leg, self.now))
        elif kind == 3:
            self.feed(ev.OfferAnswered(leg, self.now))
        elif kind == 4:
            self.feed(ev.CallerHungUp(draw(st.sampled_from(calls)), self.now))
        elif kind == 5:
            self.feed(ev.AgentPaused(agent, "break", self.now))
        elif kind == 6:
            self.feed(ev.HoldRequested(agent, self.now))
        else:
            self.feed(ev.Tick(self.now))


def _servable(call_queue: QueueId | None, line: LineId, did: str, new: Plan) -> bool:
    return call_queue in new.queues or line in new.lines or did in new.dids


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_given_random_books_when_the_plan_is_edited_then_the_promises_hold_and_servable_calls_stay(
    data: st.DataObject,
) -> None:
    old = data.draw(plans(AGENTS[:4]), label="old plan")
    floor = Floor(old)
    for _ in range(data.draw(st.integers(5, 40), label="events")):
        floor.step(data.draw)
    kept = {c: (x.state, x.agent, x.queue, x.line, x.did, x.seq) for c, x in floor.router.book.calls.items()}
    new = data.draw(plans(AGENTS), label="new plan")
    at = floor.now + 1.0

    r = rebind(floor.router.book, old, new, at)

    assert audit.problems(r.book, r.plan) == []
    ended = {x.record.call for x in r.ended}
    for call, (state, agent, queue, line, did, seq) in kept.items():
        if call in ended:
            assert state in QUEUED and not _servable(queue, line, did, new), call
            continue
        now = r.book.calls[call]
        assert now.seq == seq  # its place in line
        if state in TALKING:
            assert now.agent == agent and now.state is state
            assert agent in r.plan.agents and r.book.agents[agent].state is AgentState.ON_CALL
        if now.queue is not None:
            assert now.queue in r.plan.queues and now.line in r.plan.lines
    assert set(new.agents) <= set(r.book.agents) == set(r.plan.agents)
    assert all(r.book.agents[a].state is AgentState.LOGGED_OUT for a in new.agents if a not in old.agents)
    assert {q for q, _ in r.book.ready} == set(r.plan.queues) == set(r.book.queued)

    router = Router(r.plan)
    router.book = r.book
    router.handle(ev.Tick(at))  # the calls set to be routed at the first tick are
    assert audit.problems(router.book, router.plan) == []
    after = Floor(r.plan)
    after.router, after.now, after.calls = router, at, floor.calls + 100
    for _ in range(6):
        after.step(data.draw)  # the router goes on from the rebound books without an error
        assert audit.problems(router.book, router.plan) == []


def test_given_a_plan_then_plans_draws_valid_ones() -> None:
    """The strategy itself: every reference in a drawn plan resolves (else the property proves little)."""

    @given(plans(AGENTS))
    def check(plan: Plan) -> None:
        assert all(li.queue in plan.queues for li in plan.lines.values())
        assert all(d.line in plan.lines for d in plan.dids.values())
        assert all(set(a.queues) <= set(plan.queues) for a in plan.agents.values())
        assert all(r.queue in plan.queues for q in plan.queues.values() for r in q.rules if r.queue)

    check()
    assert dataclasses.is_dataclass(Plan)
