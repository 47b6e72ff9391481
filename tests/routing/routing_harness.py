"""A small plan and a driver that feeds the router event sequences; shared by the routing tests.

A plain module rather than conftest fixtures, so tests can import its helpers by name. It has a
distinctive name because ``tests/routing`` is deliberately not a package (``routing`` would shadow
the real package under pytest's default import mode).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from routing import commands as cmd
from routing import events as ev
from routing.ids import AgentId, CallId, LineId, OfferId, QueueId
from routing.plan import Agent, Did, Line, OnCallStep, Plan, Queue
from routing.records import CallRecord
from routing.router import Router

SALES, SUPPORT = QueueId("sales"), QueueId("support")
SALES_LINE, SUPPORT_LINE = LineId("acme-sales"), LineId("acme-support")
SALES_DID = "+15550100001"
SALES_RADIO_DID = "+15550100002"
SUPPORT_DID = "+15550100003"
UNKNOWN_DID = "+15550199999"
CALLER = "+15557654321"
CALLER_NAME = "Ada Caller"

RING_TIMEOUT_S = 15.0
OFFER_GRACE_S = 5.0
MAX_WAIT_S = 300.0

C = TypeVar("C")


def make_plan(
    agents: int | Mapping[str, tuple[QueueId, ...]] = 2,
    *,
    ring_timeout_s: float = RING_TIMEOUT_S,
    max_wait_s: float = MAX_WAIT_S,
    offer_grace_s: float = OFFER_GRACE_S,
    sales_line: Mapping[str, Any] | None = None,
    **queue_options: Any,
) -> Plan:
    """Two lines (sales with two numbers, support with one), one queue each, and some agents.

    ``agents`` is either a count of sales agents named ``a1``, ``a2``, ... or a mapping of agent id to
    queues; in a mapping, the order of the keys is the order of the extensions.
    """
    if isinstance(agents, int):
        agents = {f"a{i}": (SALES,) for i in range(1, agents + 1)}
    dids = [
        Did(SALES_DID, "google-ads", SALES_LINE),
        Did(SALES_RADIO_DID, "radio", SALES_LINE),
        Did(SUPPORT_DID, "website", SUPPORT_LINE),
    ]
    lines = [
        Line(id=SALES_LINE, name="Acme sales", queue=SALES, **(sales_line or {})),
        Line(id=SUPPORT_LINE, name="Acme support", queue=SUPPORT),
    ]
    # No position announcements unless a test asks: they would interleave with every other command.
    options = {"announce_every_s": 0.0, **queue_options}
    queues = [
        Queue(id=q, name=q.title(), ring_timeout_s=ring_timeout_s, max_wait_s=max_wait_s, **options)
        for q in (SALES, SUPPORT)
    ]
    plan_agents = [
        Agent(id=AgentId(a), name=a.upper(), endpoint=f"PJSIP/{1001 + i}", queues=qs)
        for i, (a, qs) in enumerate(agents.items())
    ]
    return Plan(
        dids={d.number: d for d in dids},
        lines={li.id: li for li in lines},
        queues={q.id: q for q in queues},
        agents={a.id: a for a in plan_agents},
        offer_grace_s=offer_grace_s,
    )


def of_type(commands: Iterable[object], kind: type[C]) -> list[C]:
    return [c for c in commands if isinstance(c, kind)]


def records(commands: Iterable[object]) -> list[CallRecord]:
    return [c.record for c in of_type(commands, cmd.LogCall)]


def attempts(commands: Iterable[object]) -> list[tuple[str, str, int, int, float, float, str]]:
    """The escalation attempts among ``commands``, as the store keeps them."""
    return [
        (a.person, a.number, a.round, a.step, a.started_at, a.ended_at, a.result)
        for a in of_type(commands, cmd.EscalationAttempt)
    ]


def snapshot(router: Router, plan: Plan, calls: Iterable[str] = ()) -> dict[str, Any]:
    """Everything the router lets a reader see, to compare before and after an event."""
    return {
        "agents": [router.agent_view(a) for a in plan.agents],
        "waiting": {q: router.waiting(q) for q in plan.queues},
        "calls": {c: router.call_state(CallId(c)) for c in calls},
        "active": router.active_calls,
    }


class Scenario:
    """A router and every command it has emitted; each method feeds one event.

    ``at`` defaults to the time of the previous event, so tests only write the times they care about.
    """

    def __init__(self, plan: Plan | None = None, **plan_options: Any) -> None:
        self.plan = plan if plan is not None else make_plan(**plan_options)
        self.router = Router(self.plan)
        self.emitted: list[cmd.Command] = []
        self.now = 0.0

    # --- feeding ---------------------------------------------------------------------------------
    def feed(self, event: ev.Event) -> list[cmd.Command]:
        out = self.router.handle(event)
        self.emitted += out
        return out

    def _at(self, at: float | None) -> float:
        if at is not None:
            self.now = at
        return self.now

    def arrive(
        self, call: str, at: float | None = None, *, did: str = SALES_DID, number: str | None = CALLER
    ) -> list[cmd.Command]:
        return self.feed(ev.CallArrived(CallId(call), did, number, CALLER_NAME, self._at(at)))

    def hang_up(self, call: str, at: float | None = None) -> list[cmd.Command]:
        return self.feed(ev.CallerHungUp(CallId(call), self._at(at)))

    def bridge_failed(self, call: str, at: float | None = None) -> list[cmd.Command]:
        return self.feed(ev.BridgeFailed(CallId(call), "bridge gone", self._at(at)))

    def ring(self, offer: str, at: float | None = None) -> list[cmd.Command]:
        return self.feed(ev.OfferRinging(OfferId(offer), self._at(at)))

    def answer(self, offer: str, at: float | None = None) -> list[cmd.Command]:
        return self.feed(ev.OfferAnswered(OfferId(offer), self._at(at)))

    def leg_ended(self, offer: str, at: float | None = None) -> list[cmd.Command]:
        """The agent's leg is gone: rang out before an answer, or the agent hung up after one."""
        return self.feed(ev.OfferEnded(OfferId(offer), self._at(at)))

    def leg_failed(self, offer: str, at: float | None = None) -> list[cmd.Command]:
        return self.feed(ev.OfferFailed(OfferId(offer), "endpoint offline", self._at(at)))

    def log_in(self, agent: str, at: float | None = None) -> list[cmd.Command]:
        return self.feed(ev.AgentLoggedIn(AgentId(agent), self._at(at)))

    def ready(self, agent: str, at: float | None = None) -> list[cmd.Command]:
        return self.feed(ev.AgentBecameReady(AgentId(agent), self._at(at)))

    def pause(self, agent: str, reason: str = "break", at: float | None = None) -> list[cmd.Command]:
        return self.feed(ev.AgentPaused(AgentId(agent), reason, self._at(at)))

    def log_out(self, agent: str, at: float | None = None) -> list[cmd.Command]:
        return self.feed(ev.AgentLoggedOut(AgentId(agent), self._at(at)))

    def identified(
        self,
        call: str,
        tier: str | None = None,
        last_agent: str | None = None,
        last_call_at: float | None = None,
        at: float | None = None,
    ) -> list[cmd.Command]:
        agent = None if last_agent is None else AgentId(last_agent)
        return self.feed(ev.CallerIdentified(CallId(call), tier, agent, last_call_at, self._at(at)))

    def press_callback(self, call: str, at: float | None = None) -> list[cmd.Command]:
        return self.feed(ev.CallbackRequested(CallId(call), self._at(at)))

    def customer_answers(self, call: str, at: float | None = None) -> list[cmd.Command]:
        return self.feed(ev.CustomerAnswered(CallId(call), self._at(at)))

    def extend(self, agent: str, by_s: float, at: float | None = None) -> list[cmd.Command]:
        return self.feed(ev.WrapUpExtended(AgentId(agent), by_s, self._at(at)))

    def wrapped_up(self, agent: str, call: str, at: float | None = None) -> list[cmd.Command]:
        return self.feed(ev.WrapUpSaved(AgentId(agent), CallId(call), self._at(at)))

    # --- the agent's console, during a call -----------------------------------------------------------
    def agent_hangs_up(self, agent: str, at: float | None = None) -> list[cmd.Command]:
        return self.feed(ev.AgentHungUp(AgentId(agent), self._at(at)))

    def hold(self, agent: str, at: float | None = None) -> list[cmd.Command]:
        return self.feed(ev.HoldRequested(AgentId(agent), self._at(at)))

    def resume(self, agent: str, at: float | None = None) -> list[cmd.Command]:
        return self.feed(ev.ResumeRequested(AgentId(agent), self._at(at)))

    def transfer(self, agent: str, kind: str, target: str, at: float | None = None) -> list[cmd.Command]:
        return self.feed(ev.TransferRequested(AgentId(agent), ev.TransferKind(kind), target, self._at(at)))

    def escalate(
        self, agent: str, at: float | None = None, chain: tuple[OnCallStep, ...] = ()
    ) -> list[cmd.Command]:
        return self.feed(ev.EscalationRequested(AgentId(agent), self._at(at), chain))

    def connect_caller(self, agent: str, at: float | None = None) -> list[cmd.Command]:
        """A warm patch: the agent, having announced the caller, connects them to the on-call person."""
        return self.feed(ev.WarmPatchDecided(AgentId(agent), self._at(at), connect=True))

    def back_to_caller(self, agent: str, at: float | None = None) -> list[cmd.Command]:
        """A warm patch: the agent takes the caller back instead; the on-call person is hung up."""
        return self.feed(ev.WarmPatchDecided(AgentId(agent), self._at(at), connect=False))

    def press(self, offer: str, digit: str, at: float | None = None) -> list[cmd.Command]:
        return self.feed(ev.LegKeyPressed(OfferId(offer), digit, self._at(at)))

    def accept(self, offer: str, at: float | None = None) -> list[cmd.Command]:
        """An on-call person picks up and presses 1 at once."""
        return self.answer(offer, at) + self.press(offer, "1", at)

    def tick(self, at: float) -> list[cmd.Command]:
        return self.feed(ev.Tick(self._at(at)))

    def staff(self, *agents: str, at: float | None = None) -> None:
        """Log in and ready each agent in turn, so the first named is the longest idle."""
        for agent in agents:
            self.log_in(agent, at)
            self.ready(agent)

    # --- reading ---------------------------------------------------------------------------------
    def offer_of(self, call: str) -> cmd.OfferCall:
        """The latest offer made for ``call``."""
        return [o for o in of_type(self.emitted, cmd.OfferCall) if o.call == call][-1]

    def agent_of(self, call: str) -> str:
        return str(self.offer_of(call).agent)

    def state(self, agent: str) -> str:
        return self.router.agent_view(AgentId(agent)).state

    def record_of(self, call: str) -> CallRecord:
        (record,) = [r for r in records(self.emitted) if r.call == call]
        return record

    def snapshot(self, *calls: str) -> dict[str, Any]:
        return snapshot(self.router, self.plan, calls)
