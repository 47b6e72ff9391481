"""Supervisors on agents' calls: listen, whisper or barge, on the supervisor's own phone.

A supervision lasts as long as that agent has the caller (``SUPERVISION_TRANSITIONS`` in
``routing.states``): the supervisor's phone rings, hears the call once answered, and is let go when the
supervisor stops, hangs up, becomes ready for calls, or the agent's stretch of the call ends. See
docs/acd.md section 8.
"""

from __future__ import annotations

from routing import commands as cmd
from routing import events as ev
from routing import offers
from routing.book import Book, Supervision
from routing.errors import IllegalTransition
from routing.events import SupervisionMode
from routing.ids import CallId, SupervisorLegId, bridge_id, snoop_id, supervision_bridge_id, supervisor_leg_id
from routing.plan import Plan
from routing.states import PHONE_BUSY, SUPERVISABLE, AgentState, SupervisionState, SupervisionTrigger


def requested(book: Book, plan: Plan, e: ev.SupervisionRequested) -> list[cmd.Command]:
    """Ring the supervisor's phone; once it answers (``SupervisorAnswered``) it hears the call.

    Refused (not allowed now) while the supervisor already supervises or their phone may be rung
    for a call (ready, ringing, on a call), and unless the agent is on a connected or held call.
    """
    boss, agent = book.agent(e.supervisor), book.agent(e.agent)
    if boss.id in book.supervisions:
        raise IllegalTransition(boss.id, "supervising", "supervise")
    if boss.state in PHONE_BUSY:
        raise IllegalTransition(boss.id, boss.state, "supervise")
    call = book.calls.get(agent.call) if agent.state is AgentState.ON_CALL and agent.call else None
    if call is None or call.state not in SUPERVISABLE:
        raise IllegalTransition(agent.id, agent.state if call is None else call.state, "supervise")
    call.supervised += 1
    leg = supervisor_leg_id(call.id, call.supervised)
    book.supervisions[boss.id] = Supervision(
        supervisor=boss.id, agent=agent.id, call=call.id, mode=e.mode, leg=leg
    )
    endpoint = plan.agents[boss.id].endpoint
    return [
        cmd.RingSupervisor(leg, call.id, boss.id, endpoint, offers.DIAL_TIMEOUT_S),
        cmd.SupervisionChanged(boss.id, agent.id, call.id, e.mode, e.at),
    ]


def ended(book: Book, plan: Plan, e: ev.SupervisionEnded) -> list[cmd.Command]:
    boss = book.agent(e.supervisor)
    if boss.id not in book.supervisions:
        raise IllegalTransition(boss.id, boss.state, "stop-supervising")
    return stop(book, book.supervisions[boss.id], e.at)


def supervisor_answered(book: Book, plan: Plan, e: ev.SupervisorAnswered) -> list[cmd.Command]:
    s = _of_leg(book, e.leg)
    if s is None or s.state is not SupervisionState.RINGING:
        return []  # already let go (its leg is being hung up), or the answer reported twice
    s.fire(SupervisionTrigger.ANSWER)
    agent_leg = book.calls[s.call].offer
    assert agent_leg is not None  # a supervision ends with the agent's stretch
    if s.mode is SupervisionMode.BARGE:
        return [
            cmd.ConnectSupervisor(
                leg=s.leg, call=s.call, agent_leg=agent_leg, mode=s.mode, bridge=bridge_id(s.call), snoop=None
            )
        ]
    bridge = supervision_bridge_id(s.leg)
    return [
        cmd.ConnectSupervisor(
            leg=s.leg, call=s.call, agent_leg=agent_leg, mode=s.mode, bridge=bridge, snoop=snoop_id(s.leg)
        )
    ]


def supervisor_leg_ended(book: Book, plan: Plan, e: ev.SupervisorLegEnded) -> list[cmd.Command]:
    s = _of_leg(book, e.leg)
    return [] if s is None else stop(book, s, e.at)


def stop_all_of(book: Book, call: CallId, at: float) -> list[cmd.Command]:
    """The agent's stretch of ``call`` is over: every supervisor on it is let go."""
    if not book.supervisions:
        return []  # the common case, on every call's end
    out: list[cmd.Command] = []
    for s in [s for s in book.supervisions.values() if s.call == call]:
        out += stop(book, s, at)
    return out


def stop(book: Book, s: Supervision, at: float) -> list[cmd.Command]:
    s.fire(SupervisionTrigger.END)
    del book.supervisions[s.supervisor]
    barge = s.mode is SupervisionMode.BARGE
    snoop, bridge = (None, None) if barge else (snoop_id(s.leg), supervision_bridge_id(s.leg))
    return [
        cmd.DropSupervisor(s.leg, s.call, snoop, bridge),
        cmd.SupervisionChanged(s.supervisor, s.agent, s.call, None, at),
    ]


def _of_leg(book: Book, leg: SupervisorLegId) -> Supervision | None:
    return next((s for s in book.supervisions.values() if s.leg == leg), None)
