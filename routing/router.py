"""The router: feed it events, it answers with commands. Pure, synchronous and deterministic.

This is only the front. ``handle`` sends each event to the module of its concern, and ``Tick`` sends
each timer that comes due; those modules are functions over the router's ``Book`` (its whole state) and
the ``Plan``. A missing handler is a type error: both dispatches end in ``assert_never``. The readers
(``agent_view``, ``call_view``, ...) are the functions of ``routing.views``; the policy, in the order a
call meets it, is told in the docstrings of ``queueing``, ``matching``, ``offers``, ``agents``,
``call_control`` and ``supervision``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import assert_never

from routing import (
    agents,
    audit,
    call_control,
    endings,
    escalation,
    offers,
    queueing,
    supervision,
    timers,
    training,
    views,
)
from routing import commands as cmd
from routing import events as ev
from routing.book import Book, CallEntry
from routing.ids import AgentId, CallId, QueueId
from routing.plan import Plan
from routing.states import AgentTrigger, CallState
from routing.timers import Timer, TimerKind

CallTimerHandler = Callable[[Book, Plan, CallEntry, float], list[cmd.Command]]


class Router:
    __slots__ = ("book", "plan")

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.book = Book(plan)

    def handle(self, event: ev.Event) -> list[cmd.Command]:
        book, plan = self.book, self.plan
        # The busiest events first: a match tries its cases in order.
        match event:
            case ev.CallArrived():
                return queueing.call_arrived(book, plan, event)
            case ev.OfferAnswered():
                return offers.answered(book, plan, event)
            case ev.CallerHungUp():
                return endings.caller_hung_up(book, plan, event)
            case ev.CallGone():
                return endings.call_gone(book, plan, event)
            case ev.Tick():
                return self._tick(event.at)
            case ev.OfferRinging():
                return offers.ringing(book, plan, event)
            case ev.OfferEnded():
                return offers.ended(book, plan, event)
            case ev.OfferFailed():
                return offers.failed(book, plan, event)
            case ev.OfferLost():
                return offers.lost(book, plan, event)
            case ev.CallerIdentified():
                return queueing.caller_identified(book, plan, event)
            case ev.AgentBecameReady():
                return agents.became_ready(book, plan, event)
            case ev.AgentPaused():
                return agents.paused(book, plan, event)
            case ev.AgentLoggedIn():
                return agents.logged_in(book, plan, event)
            case ev.AgentLoggedOut():
                return agents.logged_out(book, plan, event)
            case ev.WrapUpExtended():
                return agents.wrap_up_extended(book, plan, event)
            case ev.WrapUpSaved():
                return agents.wrap_up_saved(book, plan, event)
            case ev.BridgeFailed():
                return endings.bridge_failed(book, plan, event)
            case ev.CallbackRequested():
                return queueing.callback_requested(book, plan, event)
            case ev.CustomerAnswered():
                return offers.customer_answered(book, plan, event)
            case ev.AgentHungUp():
                return call_control.agent_hung_up(book, plan, event)
            case ev.HoldRequested():
                return call_control.hold_requested(book, plan, event)
            case ev.ResumeRequested():
                return call_control.resume_requested(book, plan, event)
            case ev.TransferRequested():
                return call_control.transfer_requested(book, plan, event)
            case ev.EscalationRequested():
                return escalation.requested(book, plan, event)
            case ev.LegKeyPressed():
                return escalation.key_pressed(book, plan, event)
            case ev.WarmPatchDecided():
                return escalation.warm_decided(book, plan, event)
            case ev.SupervisionRequested():
                return supervision.requested(book, plan, event)
            case ev.SupervisionEnded():
                return supervision.ended(book, plan, event)
            case ev.SupervisorAnswered():
                return supervision.supervisor_answered(book, plan, event)
            case ev.SupervisorLegEnded():
                return supervision.supervisor_leg_ended(book, plan, event)
            case ev.CallMoved():
                return queueing.call_moved(book, plan, event)
            case ev.CallPrioritised():
                return queueing.call_prioritised(book, plan, event)
            case ev.CustomerNamed():
                return call_control.customer_named(book, event)
            case ev.TrainingCallArrived():
                return training.call_arrived(book, plan, event)
            case ev.TrainingStarted():
                return training.started(book, plan, event)
            case ev.TrainingEnded():
                return training.ended(book, plan, event)
            case _:
                assert_never(event)

    def _tick(self, at: float) -> list[cmd.Command]:
        out: list[cmd.Command] = []
        for timer in timers.due(self.book, at):
            out += self._fire(timer, at)
        return out

    def _fire(self, timer: Timer, at: float) -> list[cmd.Command]:
        """What a timer that came due does, unless it has lapsed (``timers.CANCELLED_BY``)."""
        match timer.kind:
            case TimerKind.OFFER:
                offer = timers.live_offer(self.book, timer)
                return [] if offer is None else offers.deadline_passed(self.book, self.plan, offer, at)
            case TimerKind.WRAP_UP:
                return agents.time_up(self.book, self.plan, timer, AgentTrigger.WRAP_UP_DONE, at)
            case TimerKind.MAX_WAIT:
                return self._for_call(timer, at, queueing.max_wait_over)
            case TimerKind.RULE:
                return self._for_call(timer, at, queueing.rule_came_due)
            case TimerKind.ANNOUNCE:
                return self._for_call(timer, at, queueing.announce)
            case TimerKind.IDENTIFY:
                return self._for_call(timer, at, queueing.identify_timed_out)
            case TimerKind.STICKY:
                return self._for_call(timer, at, queueing.sticky_over)
            case TimerKind.PAUSE:
                return agents.time_up(self.book, self.plan, timer, AgentTrigger.PAUSE_OVER, at)
            case TimerKind.MESSAGE:
                return self._for_call(timer, at, queueing.message_over)
            case TimerKind.DIAL:
                return self._for_call(timer, at, offers.dial_over)
            case TimerKind.ACCEPT:
                offer = timers.live_offer(self.book, timer)
                return [] if offer is None else escalation.accept_over(self.book, self.plan, offer, at)
            case _:
                assert_never(timer.kind)

    def _for_call(self, timer: Timer, at: float, then: CallTimerHandler) -> list[cmd.Command]:
        call = timers.live_call(self.book, timer)
        if call is None:
            return []  # over, or set for a queue entry or a wait the call has since left
        return then(self.book, self.plan, call, at)

    # --- reading (routing.views) ------------------------------------------------------------------
    def agent_view(self, agent: AgentId) -> views.AgentView:
        return views.agent_view(self.book, agent)

    def call_state(self, call: CallId) -> CallState:
        return views.call_state(self.book, call)

    def waiting(self, queue: QueueId) -> list[CallId]:
        return views.waiting(self.book, queue)

    def call_view(self, call: CallId) -> views.CallView | None:
        return views.call_view(self.book, self.plan, call)

    def may_take(self, agent: AgentId, call: CallId) -> bool:
        return views.may_take(self.book, agent, call)

    def offered_agents(self, call: CallId) -> frozenset[AgentId] | None:
        return views.offered_agents(self.book, call)

    def restated(self, at: float) -> list[cmd.Restated]:
        """What the consoles must be told again after a restart (``offers.restated``), then the
        escalations under way (``escalation.restated``) and who is in training (``training.restated``)."""
        book = self.book
        return [*offers.restated(book, at), *escalation.restated(book), *training.restated(book)]

    def trainees(self) -> list[cmd.TrainingChanged]:
        """Who is in training, at what rate, since when and on whose word."""
        return training.restated(self.book)

    def audit(self) -> list[str]:
        return audit.problems(self.book, self.plan)

    @property
    def active_calls(self) -> int:
        return views.active_calls(self.book)
