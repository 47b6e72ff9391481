"""Hypothesis invariants of the full ACD over random event sequences.

The plan exercises everything at once: skills with a widening rule, penalties, agents in two queues,
ring-all on one queue (its strategy drawn per run), caller tiers and sticky agents, a callback offer,
an added queue, a voicemail rule, a full queue moving calls on, wrap-up, a ring-no-answer policy with a
timed pause, and a closed line with an on-call chain. Whatever the order of events:

- an agent never rings for two calls, and a call rings two agents only in a ring-all queue;
- nothing waits while a ready agent may take it (checked by brute force in ``Router.audit``);
- an offer goes to a call first in line among those of at least its priority that the agent may take;
- every call ends exactly once with one outcome, and illegal events change nothing;
- the announced position never goes up;
- an agent's wrap-up form is for a call they answered, and goes when the next call pops or it is saved;
- call control (console hang-up, hold, resume, transfers, escalation) keeps all of the above, an agent's
  stretch of a transferred call is logged once under its own id, and an escalation rings one person;
- supervisors (``boss``, in no queue, or any agent whose phone is free) listen, whisper and barge: a
  supervisor has one leg at a time, every leg rung is dropped exactly once, and never later than the
  agent's stretch it follows (the same batch of commands that ends the stretch drops it); moving a call
  and putting it first keep FIFO within a priority for everyone else.

Announced positions: the check is per queue entry. A call that enters a queue afresh (a transfer, a
supervisor's move) has its announcements start again in that queue, as docs/acd.md says, so the machine
forgets what it was told before. Putting a call first does not make anyone else's announced position go
up: the router clamps each to the last one announced (their real place may be one further back).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from routing import commands as cmd
from routing import events as ev
from routing.errors import RoutingError
from routing.hours import Hours, Span
from routing.ids import AgentId, CallId, LineId, OfferId, QueueId
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
from routing.router import Router
from routing.states import AgentState, CallState

SALES, SUPPORT = QueueId("sales"), QueueId("support")
DIDS = {"+15550100001": LineId("sales"), "+15550100002": LineId("support"), "+15550100003": LineId("night")}
AGENTS = [AgentId(a) for a in ("a1", "a2", "a3", "a4")]
BOSS = AgentId("boss")  # a supervisor's phone: an agent id in no queue
QUEUES = ["sales", "support", "nowhere"]
REASONS = ("break", "lunch")
ESCALATION = (OnCallStep("Dr. B", "PJSIP/b", 10), OnCallStep("Dr. C", "PJSIP/c", 10))
TARGETS = ["sales", "support", "nowhere", *AGENTS, "ghost", "+15550001111"]


def make_plan(sales_strategy: Strategy) -> Plan:
    sales = Queue(
        id=SALES, name="Sales", strategy=sales_strategy, skills={"spanish": 2},
        rules=(Rule(20, Action.WIDEN, skills={"spanish": 0}), Rule(90, Action.VOICEMAIL)),
        max_length=3, when_full=Action.MOVE, full_queue=SUPPORT, wrap_up_s=5,
        no_answer=NoAnswerPolicy(misses=2, pause_s=30), announce_every_s=15, ring_timeout_s=10,
    )  # fmt: skip
    support = Queue(
        id=SUPPORT, name="Support", priorities=Priorities(tiers={"vip": 5}, callback=3), sticky_s=8,
        rules=(Rule(15, Action.CALLBACK), Rule(25, Action.ADD_QUEUE, SALES)),
        max_length=3, when_full=Action.VOICEMAIL, announce_every_s=15, ring_timeout_s=10,
    )  # fmt: skip
    night = AfterHours(AfterHoursKind.ON_CALL, None, (OnCallStep("Dr. A", "PJSIP/a", 10),))
    lines = [
        Line(id=LineId("sales"), name="Sales", queue=SALES, on_call=ESCALATION),
        Line(id=LineId("support"), name="Support", queue=SUPPORT),
        Line(
            id=LineId("night"),
            name="Night",
            queue=SUPPORT,
            hours=Hours(timezone="UTC", weekly={0: (_span(),)}),
            after_hours=night,
        ),
    ]
    agents = [
        Agent(id=AGENTS[0], name="A1", endpoint="PJSIP/1", queues=(SALES,), skills={"spanish": 3}),
        Agent(
            id=AGENTS[1],
            name="A2",
            endpoint="PJSIP/2",
            queues=(SALES, SUPPORT),
            penalties={SALES: 1, SUPPORT: 0},
            skills={"spanish": 1},
        ),
        Agent(id=AGENTS[2], name="A3", endpoint="PJSIP/3", queues=(SUPPORT,)),
        Agent(id=AGENTS[3], name="A4", endpoint="PJSIP/4", queues=(SALES, SUPPORT), skills={"spanish": 2}),
        Agent(id=BOSS, name="Boss", endpoint="PJSIP/9", queues=()),
    ]
    return Plan(
        dids={n: Did(n, "ad", line) for n, line in DIDS.items()},
        lines={li.id: li for li in lines},
        queues={SALES: sales, SUPPORT: support},
        agents={a.id: a for a in agents},
        pause_reasons=REASONS,
    )


def _span() -> Span:
    return Span(dt.time(0), dt.time(0, 0, 1))  # open one second a week: closed in practice


class AcdMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0
        self.calls = 0
        self.logged: Counter[CallId] = Counter()
        self.seen: set[CallId] = set()
        self.live: dict[OfferId, cmd.OfferCall] = {}
        self.answered: set[OfferId] = set()
        self.announced: dict[CallId, int] = {}
        self.router = Router(make_plan(Strategy.LONGEST_IDLE))
        self.ring_all = False
        self.transferred: set[CallId] = set()
        self.sv_legs: dict[str, cmd.RingSupervisor] = {}  # supervisor legs rung and not yet dropped
        self.sv_dropped: set[str] = set()
        self.refused = False  # whether the router refused the last event fed

    @initialize(
        strategy=st.sampled_from(list(Strategy)), staff=st.lists(st.sampled_from(AGENTS), unique=True)
    )
    def open_the_center(self, strategy: Strategy, staff: list[AgentId]) -> None:
        self.router = Router(make_plan(strategy))
        self.ring_all = strategy is Strategy.RING_ALL
        for agent in staff:
            self._feed(ev.AgentLoggedIn(agent, self.now))
            self._feed(ev.AgentBecameReady(agent, self.now))

    # --- feeding and following ----------------------------------------------------------------------
    def _feed(self, event: ev.Event) -> list[cmd.Command]:
        before = self._line_up()
        self.refused = False
        try:
            out = self.router.handle(event)
        except RoutingError:
            assert self._line_up() == before, "a refused event changed the router"
            self.refused = True
            return []
        self._follow(out, before)
        return out

    def _line_up(self) -> dict[CallId, Any]:
        views = {c: self.router.call_view(c) for c in self.seen}
        return {c: v for c, v in views.items() if v is not None}

    def _follow(self, out: list[cmd.Command], before: dict[CallId, Any]) -> None:
        self._follow_supervisors(out)
        for command in out:
            if isinstance(command, cmd.OfferCall):
                self._offered(command, before)
                self.live[command.offer] = command
            elif isinstance(command, cmd.CancelOffer):
                assert command.offer in self.live and command.offer not in self.answered
                del self.live[command.offer]
            elif isinstance(command, cmd.DialNumber):
                self.live[command.offer] = cmd.OfferCall(
                    offer=command.offer,
                    call=command.call,
                    agent=None,
                    endpoint=command.number,
                    timeout_s=command.timeout_s,
                    caller_number=None,
                )
            elif isinstance(command, cmd.DropLeg):
                assert command.leg in self.answered, "an agent let go of a leg that never answered"
                self.live.pop(command.leg, None)  # gone already if the agent's phone hung up
            elif isinstance(command, cmd.BridgeCall | cmd.DialCustomer):
                self.answered.add(command.offer)  # a callback's agent answered before the customer
            elif isinstance(command, cmd.EndCall):
                for offer in [o for o, c in self.live.items() if c.call == command.call]:
                    del self.live[offer]  # the agent is free from here on, before the call is logged
            elif isinstance(command, cmd.LogCall):
                call = command.record.call
                self.logged[call] += 1
                assert self.logged[call] == 1, f"{call} logged twice"
                if command.record.part_of is not None:  # an agent's stretch: the call itself goes on
                    assert self.router.call_view(command.record.part_of) is not None
                    assert command.record.agent is not None
                for offer in [o for o, c in self.live.items() if c.call == call]:
                    del self.live[offer]
            elif isinstance(command, cmd.AnnouncePosition):
                last = self.announced.get(command.call)
                assert last is None or command.position <= last, "the announced position went up"
                self.announced[command.call] = command.position
            elif isinstance(
                command,
                cmd.IdentifyCaller
                | cmd.OfferCallbackChoice
                | cmd.TakeMessage
                | cmd.HoldCall
                | cmd.ResumeCall,
            ):
                assert command.call in self.seen
        for view in self._line_up().values():
            self.seen.add(view.call)

    def _follow_supervisors(self, out: list[cmd.Command]) -> None:
        for command in out:
            if isinstance(command, cmd.RingSupervisor):
                assert command.supervisor not in [r.supervisor for r in self.sv_legs.values()], "two legs"
                assert command.leg not in self.sv_dropped and command.leg not in self.sv_legs
                self.sv_legs[command.leg] = command
            elif isinstance(command, cmd.ConnectSupervisor):
                assert command.leg in self.sv_legs, "a supervisor connected after being dropped"
                assert command.agent_leg in self.answered
            elif isinstance(command, cmd.DropSupervisor):
                assert self.sv_legs.pop(command.leg, None) is not None, "a supervisor leg dropped twice"
                self.sv_dropped.add(command.leg)
        # A stretch that ends (the agent's leg let go, or the call logged) takes its supervisors along.
        ended = {c.call for c in out if isinstance(c, cmd.DropLeg)}
        ended |= {c.record.call for c in out if isinstance(c, cmd.LogCall) and c.record.part_of is None}
        assert not [r for r in self.sv_legs.values() if r.call in ended], "a supervisor outlived the stretch"
        for ring in self.sv_legs.values():
            view = self.router.call_view(ring.call)
            assert view is not None and ring.supervisor in dict(view.supervisors)

    def _offered(self, offer: cmd.OfferCall, before: dict[CallId, Any]) -> None:
        ringing = [o for o in self.live.values() if o.agent is not None and o.agent == offer.agent]
        assert offer.agent is None or not [o for o in ringing if o.offer not in self.answered], "two offers"
        if offer.agent is None or offer.call not in before:
            return  # an on-call leg, or a call that arrived with this very event
        mine = before[offer.call]
        if mine.state in (CallState.CONNECTED, CallState.HELD):
            return  # a transfer to this very agent skips the line, by design
        for other in before.values():
            if other.call == offer.call or other.state is not CallState.WAITING or other.held_for is not None:
                continue
            if other.queue != mine.queue or mine.held_for == offer.agent:
                continue
            ahead = (other.priority, -other.seq) > (mine.priority, -mine.seq)
            still = self.router.call_view(other.call)
            if still is None or (still.step, still.extra_queues) != (other.step, other.extra_queues):
                continue  # a rule widened it within this event: it may not have been takeable yet
            if ahead and still.state is CallState.WAITING:
                assert not self.router.may_take(offer.agent, other.call), "FIFO within a priority broken"

    # --- the world ----------------------------------------------------------------------------------
    @rule(did=st.sampled_from(list(DIDS)), number=st.sampled_from(["+15557654321", None]))
    def call_arrives(self, did: str, number: str | None) -> None:
        self.calls += 1
        call = CallId(f"c{self.calls}")
        self.seen.add(call)
        out = self._feed(ev.CallArrived(call, did, number, None, self.now))
        assert out and out[0] == cmd.AnswerCall(call)

    @precondition(lambda self: self._active())
    @rule(data=st.data())
    def caller_hangs_up(self, data: st.DataObject) -> None:
        self._feed(ev.CallerHungUp(data.draw(st.sampled_from(self._active())), self.now))

    @precondition(lambda self: self._active())
    @rule(data=st.data(), tier=st.sampled_from(["vip", None]), last=st.sampled_from([*AGENTS, None]))
    def store_answers(self, data: st.DataObject, tier: str | None, last: AgentId | None) -> None:
        call = data.draw(st.sampled_from(self._active()))
        self._feed(ev.CallerIdentified(call, tier, last, None, self.now))

    @precondition(lambda self: self._active())
    @rule(data=st.data())
    def caller_presses_one(self, data: st.DataObject) -> None:
        self._feed(ev.CallbackRequested(data.draw(st.sampled_from(self._active())), self.now))

    @precondition(lambda self: self.live)
    @rule(data=st.data(), report=st.sampled_from(["ringing", "answered", "answered", "ended", "failed"]))
    def pbx_reports_on_a_leg(self, data: st.DataObject, report: str) -> None:
        offer = data.draw(st.sampled_from(sorted(self.live)))
        events: dict[str, ev.Event] = {
            "ringing": ev.OfferRinging(offer, self.now),
            "answered": ev.OfferAnswered(offer, self.now),
            "ended": ev.OfferEnded(offer, self.now),
            "failed": ev.OfferFailed(offer, "busy", self.now),
        }
        self._feed(events[report])

    @precondition(lambda self: self._dialing())
    @rule(data=st.data())
    def customer_picks_up(self, data: st.DataObject) -> None:
        self._feed(ev.CustomerAnswered(data.draw(st.sampled_from(self._dialing())), self.now))

    @rule(agent=st.sampled_from(AGENTS), act=st.sampled_from(["in", "ready", "pause", "out", "extend"]))
    def agent_acts(self, agent: AgentId, act: str) -> None:
        events: dict[str, ev.Event] = {
            "in": ev.AgentLoggedIn(agent, self.now),
            "ready": ev.AgentBecameReady(agent, self.now),
            "pause": ev.AgentPaused(agent, REASONS[self.calls % 2], self.now),
            "out": ev.AgentLoggedOut(agent, self.now),
            "extend": ev.WrapUpExtended(agent, 10, self.now),
        }
        self._feed(events[act])

    @rule(agent=st.sampled_from(AGENTS), own=st.booleans())
    def agent_saves_a_wrap_up(self, agent: AgentId, own: bool) -> None:
        """The form's own call, or an older one (a late wrap-up): the audit checks what forms are left."""
        form = self.router.book.agents[agent].form
        call = form.record.call if own and form is not None else CallId("c-older")
        assert self._feed(ev.WrapUpSaved(agent, call, self.now)) == [] and not self.refused
        if own:
            assert self.router.book.agents[agent].form is None

    @rule(agent=st.sampled_from(AGENTS), act=st.sampled_from(["hang-up", "hold", "resume", "escalate"]))
    def agent_controls_the_call(self, agent: AgentId, act: str) -> None:
        events: dict[str, ev.Event] = {
            "hang-up": ev.AgentHungUp(agent, self.now),
            "hold": ev.HoldRequested(agent, self.now),
            "resume": ev.ResumeRequested(agent, self.now),
            "escalate": ev.EscalationRequested(agent, self.now),
        }
        self._feed(events[act])

    @rule(
        agent=st.sampled_from(AGENTS),
        kind=st.sampled_from(list(ev.TransferKind)),
        to=st.sampled_from(TARGETS),
    )
    def agent_transfers(self, agent: AgentId, kind: ev.TransferKind, to: str) -> None:
        out = self._feed(ev.TransferRequested(agent, kind, to, self.now))
        moved = {r.part_of for r in _records(out) if r.part_of is not None}
        self.transferred |= moved
        for call in moved:
            self.announced.pop(call, None)  # waiting afresh (a queue entry of its own)

    @rule(
        data=st.data(),
        boss=st.sampled_from([BOSS, BOSS, *AGENTS]),
        mode=st.sampled_from(list(ev.SupervisionMode)),
    )
    def supervisor_asks(self, data: st.DataObject, boss: AgentId, mode: ev.SupervisionMode) -> None:
        talking = [a for a in AGENTS if self.router.agent_view(a).state is AgentState.ON_CALL]
        agent = data.draw(st.sampled_from([*talking, *talking, *AGENTS, AgentId("ghost")]))
        self._feed(ev.SupervisionRequested(boss, agent, mode, self.now))

    @rule(boss=st.sampled_from([BOSS, *AGENTS]))
    def supervisor_stops(self, boss: AgentId) -> None:
        self._feed(ev.SupervisionEnded(boss, self.now))

    @precondition(lambda self: self.sv_legs or self.sv_dropped)
    @rule(data=st.data(), report=st.sampled_from(["answered", "answered", "ended"]))
    def pbx_reports_on_a_supervisor_leg(self, data: st.DataObject, report: str) -> None:
        leg = data.draw(st.sampled_from(sorted([*self.sv_legs, *self.sv_dropped])))
        event = ev.SupervisorAnswered if report == "answered" else ev.SupervisorLegEnded
        self._feed(event(leg, self.now))  # type: ignore[arg-type]

    @precondition(lambda self: self._line_up())
    @rule(data=st.data(), queue=st.sampled_from(QUEUES), act=st.sampled_from(["move", "front"]))
    def supervisor_reorders(self, data: st.DataObject, queue: str, act: str) -> None:
        call = data.draw(st.sampled_from(sorted(self._line_up())))
        event = ev.CallMoved(call, queue, self.now) if act == "move" else ev.CallPrioritised(call, self.now)
        self._feed(event)
        if act == "move" and not self.refused:
            self.announced.pop(call, None)  # a new entry in that queue: announcements start again

    @rule(step=st.sampled_from([0.0, 0.5, 3.0, 8.0, 16.0, 40.0]))
    def time_passes(self, step: float) -> None:
        self.now += step
        self._feed(ev.Tick(self.now))

    def _active(self) -> list[CallId]:
        """Calls with someone on the line: callers, and callbacks once the customer is being dialed."""
        on_line = (CallState.DIALING, CallState.CONNECTED, CallState.HELD, CallState.ESCALATING)
        views = self._line_up().items()
        return sorted(c for c, v in views if not v.callback or v.state in on_line or c in self.transferred)

    def _dialing(self) -> list[CallId]:
        return sorted(c for c, v in self._line_up().items() if v.state is CallState.DIALING)

    # --- what must always hold ----------------------------------------------------------------------
    @invariant()
    def the_router_keeps_its_promises(self) -> None:
        assert self.router.audit() == []
        for view in self._line_up().values():
            assert self.logged[view.call] == 0, "a call logged while still in progress"
            ringing = [o for o in view.offers if o not in self.answered]  # an escalation's agent answered
            if len(ringing) > 1:
                assert self.ring_all and view.queue == SALES

    def teardown(self) -> None:
        """Every caller hangs up and the day runs out: every call is then logged exactly once, except
        callbacks still waiting for an agent (they have no caller on the line to hang up)."""
        for call in self._active():
            self._feed(ev.CallerHungUp(call, self.now))
        for view in self._line_up().values():
            assert view.callback and view.state in (CallState.WAITING, CallState.OFFERED)
        assert self.sv_legs == {}, "a supervisor leg left behind"
        assert all(self.logged[c] == 1 for c in self.seen if self.router.call_view(c) is None)


def _records(out: list[cmd.Command]) -> list[Any]:
    return [c.record for c in out if isinstance(c, cmd.LogCall)]


AcdMachine.TestCase.settings = settings(
    max_examples=300,
    stateful_step_count=60,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
TestAcdInvariants = AcdMachine.TestCase
