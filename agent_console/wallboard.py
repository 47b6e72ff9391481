"""The supervisors' live wallboard: today's figures per queue, line, dialed number and agent.

It starts from the store (``load``: today's calls and agent state intervals, through the
same ``crm_core.domain.figures`` functions the reports use), then follows the bus (``notice``): each
logged call and each state change is counted in as it happens, so the figures never need a full recount, and a
supervisor who connects at noon sees exactly what one connected since the morning sees (a test holds the
two equal). Calls a ``counted`` test refuses (practice calls: demo, training) are left out of the
counts, as the reports leave them out. Live figures — calls waiting, how long the oldest has waited,
agents by state — are read from the router when the view is built. "Today" is the center's day
(``[routing].timezone``); at midnight the counts start again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from agent_console.router_reader import RouterReader
from crm_core.domain.agent_states import AgentInterval
from crm_core.domain.calls import LoggedCall, utc
from crm_core.domain.figures import (
    AgentFigures,
    CallFact,
    CallFigures,
    ServiceTarget,
    add_interval,
    count_call,
    day_of,
    day_window,
    handling,
    plain_call,
)
from routing import commands as cmd
from routing.ids import AgentId, QueueId
from routing.plan import Plan
from routing.records import CallRecord
from routing.states import AgentState
from routing.views import CallView

View = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Thresholds:
    longest_wait_s: float = 60.0  # a queue tile turns red when its oldest caller has waited longer


DEFAULT_TARGET = ServiceTarget()
DEFAULT_THRESHOLDS = Thresholds()


@dataclass(slots=True)
class _Running:
    state: str
    reason: str | None
    since: datetime


class Wallboard:
    def __init__(
        self,
        plan: Plan,
        router: RouterReader,
        zone: ZoneInfo,
        targets: Mapping[str, ServiceTarget] | None = None,
        default_target: ServiceTarget = DEFAULT_TARGET,
        thresholds: Thresholds = DEFAULT_THRESHOLDS,
        counted: Callable[[CallRecord], bool] = lambda _: True,
    ) -> None:
        self._plan = plan
        self._router = router
        self._zone = zone
        self._targets = dict(targets or {})
        self._default = default_target
        self._thresholds = thresholds
        self._counted_call = counted
        self.version = 0  # bumped on every change: the pusher sends only when it moved
        self._running: dict[AgentId, _Running] = {}
        self._last_end: dict[AgentId, tuple[datetime, str]] = {}  # agent -> (end of last call, whole call)
        self._start_day(date.today())

    def _start_day(self, day: date) -> None:
        """Counts start again; agents' running intervals carry on (clipped to the new day)."""
        self.day = day
        self._since, self._until = day_window(day, self._zone)
        self._queues: dict[str, CallFigures] = {}
        self._lines: dict[str, CallFigures] = {}
        self._sources: dict[str, CallFigures] = {}
        self._agents: dict[AgentId, AgentFigures] = {}
        self._counted: dict[str, list[CallFigures]] = {}  # whole call -> the tiles it was counted in
        self._pending_talk: dict[str, float] = {}  # whole call -> talk of stretches logged before it
        self._pending_wrap: dict[str, float] = {}  # whole call -> wrap-up after those stretches

    def target(self, queue: str | None) -> ServiceTarget:
        return self._targets.get(queue, self._default) if queue else self._default

    # --- from the store ---------------------------------------------------------------------------
    def load(self, calls: Iterable[CallFact], intervals: Iterable[AgentInterval], now: float) -> None:
        """Today's figures from what the store holds: calls that arrived today, intervals overlapping it.

        Uses the reports' own ``handling`` for talk and after-call work, then follows live from there.
        """
        self._start_day(day_of(utc(now), self._zone))
        self._running.clear()
        self._last_end.clear()
        calls, intervals = list(calls), list(intervals)
        h = handling(calls, intervals)
        for call in sorted(calls, key=lambda c: c.ended_at):
            self._agent_call(call)
            if call.part_of is None:
                self._count(call, h.talk_s.get(call.call, call.talk_s), h.wrap_up_s.get(call.call, 0.0))
        for interval in intervals:
            if interval.ended_at is None:
                self._running[interval.agent] = _Running(interval.state, interval.reason, interval.started_at)
            else:
                self._close(interval, attribute_wrap_up=False)  # handling() has counted it already
        self.version += 1

    # --- from the bus ----------------------------------------------------------------------------
    def notice(self, command: cmd.Command) -> None:
        match command:
            case cmd.LogCall(record) if not self._counted_call(record):
                return
            case cmd.LogCall(record):
                self._roll(record.ended_at)
                self._logged(plain_call(LoggedCall.from_record(record, None)))
            case cmd.WithdrawOffer(agent=agent, reason=reason):
                running = self._running.get(agent)
                if running is not None and running.state == AgentState.RINGING:
                    running.reason = reason  # why the ring stopped, as the store keeps it
            case cmd.AgentStateChanged(agent=agent, state=state, reason=reason, at=at):
                self._roll(at)
                self._changed(agent, str(state), reason, utc(at))
            case _:
                return
        self.version += 1

    def _roll(self, at: float) -> None:
        day = day_of(utc(at), self._zone)
        if day != self.day:
            self._start_day(day)
            self.version += 1  # midnight: the counts start again, and watchers must be told

    def _logged(self, call: CallFact) -> None:
        if call.arrived_at < self._since:
            return  # arrived before midnight: yesterday's figures
        self._agent_call(call)
        whole = call.part_of or call.call
        if call.part_of is not None:
            self._pending_talk[whole] = self._pending_talk.get(whole, 0.0) + call.talk_s
            return
        talk = call.talk_s + self._pending_talk.pop(whole, 0.0)
        self._count(call, talk, self._pending_wrap.pop(whole, 0.0))

    def _agent_call(self, call: CallFact) -> None:
        if call.agent is None or call.answered_at is None:
            return
        figures = self._agents.setdefault(call.agent, AgentFigures())
        figures.handled += 1
        figures.talk_s += call.talk_s
        # The wrap-up that starts the instant this ends is this call's after-call work.
        self._last_end[call.agent] = (call.ended_at, call.part_of or call.call)

    def _count(self, call: CallFact, talk_s: float, wrap_up_s: float) -> None:
        tiles = [groups.setdefault(key, CallFigures())
                 for groups, key in ((self._queues, call.queue), (self._lines, call.line),
                                     (self._sources, call.source)) if key is not None]  # fmt: skip
        target = self.target(call.queue)
        for figures in tiles:
            count_call(figures, call, target, talk_s, wrap_up_s)
        if call.callback_of is None:
            self._counted[call.call] = tiles

    def _changed(self, agent: AgentId, state: str, reason: str | None, at: datetime) -> None:
        running = self._running.pop(agent, None)
        if running is not None:
            self._close(AgentInterval(agent, running.state, running.reason, running.since, at))
        if state != AgentState.LOGGED_OUT:
            self._running[agent] = _Running(state, reason, at)

    def _close(self, interval: AgentInterval, attribute_wrap_up: bool = True) -> None:
        add_interval(
            self._agents.setdefault(interval.agent, AgentFigures()), interval, self._since, self._until
        )
        if interval.state != AgentState.WRAP_UP:
            return
        end, whole = self._last_end.pop(interval.agent, (None, ""))
        if end != interval.started_at or not attribute_wrap_up:
            return
        seconds = interval.seconds_within(self._since, self._until)
        tiles = self._counted.get(whole)
        if tiles is None:  # the caller is still with the next agent: counted when the call ends
            self._pending_wrap[whole] = self._pending_wrap.get(whole, 0.0) + seconds
        for figures in tiles or ():
            figures.wrap_up_s += seconds

    # --- the view --------------------------------------------------------------------------------
    def view(self, now: float) -> View:
        """Everything a supervisor's wallboard shows, as JSON-ready data."""
        self._roll(now)
        return {
            "day": self.day.isoformat(),
            "at": now,
            "targets": {
                "default": _target_view(self._default),
                **{q: _target_view(t) for q, t in self._targets.items()},
            },
            "queues": [self._queue_tile(q, now) for q in self._plan.queues],
            "lines": [self._tile(line, self._lines.get(line), self._default) for line in self._plan.lines],
            "sources": [self._tile(s, f, self._default) for s, f in sorted(self._sources.items())],
            "agents": [self._agent_row(a, now) for a in self._plan.agents],
        }

    def _queue_tile(self, queue: QueueId, now: float) -> View:
        target = self.target(queue)
        tile = self._tile(queue, self._queues.get(queue), target)
        waiting = [v for c in self._router.waiting(queue) if (v := self._router.call_view(c)) is not None]
        arrived = [v.arrived_at for v in waiting]
        by_state = dict.fromkeys((str(s) for s in AgentState), 0)
        for agent_id, agent in self._plan.agents.items():
            if queue in agent.queues:
                by_state[str(self._router.agent_view(agent_id).state)] += 1
        longest = max((now - a for a in arrived), default=0.0)
        tile.update(name=self._plan.queues[queue].name, waiting=len(arrived),
                    oldest_arrived_at=min(arrived, default=None), longest_wait_s=round(longest, 1),
                    agents=by_state, calls=[_waiting_call(v) for v in waiting])  # fmt: skip
        if longest > self._thresholds.longest_wait_s:
            tile["alerts"].append("longest-wait")
        return tile

    @staticmethod
    def _tile(key: str, f: CallFigures | None, target: ServiceTarget) -> View:
        f = f or CallFigures()
        level = f.service_level(target.formula)
        alerts = ["service-level"] if level is not None and level < target.goal else []
        return {"id": key, "entered": f.entered, "offered": f.offered, "answered": f.answered,
                "abandoned": f.abandoned, "short_abandons": f.short_abandons,
                "callbacks": f.callbacks_chosen, "voicemail": f.voicemail, "no_agent": f.no_agent,
                "service_level": _share(level), "asa_s": _seconds(f.average_speed_of_answer_s),
                "aht_s": _seconds(f.average_handle_s), "abandonment_rate": _share(f.abandonment_rate),
                "longest_wait_today_s": _seconds(f.longest_wait_s), "alerts": alerts}  # fmt: skip

    def _agent_row(self, agent: AgentId, now: float) -> View:
        f = _copy(self._agents.get(agent, AgentFigures()))
        running = self._running.get(agent)
        if running is not None:
            add_interval(f, AgentInterval(agent, running.state, running.reason, running.since, None),
                         self._since, min(self._until, utc(now)))  # fmt: skip
        live = self._router.agent_view(agent)
        return {"id": agent, "name": self._plan.agents[agent].name, "state": str(live.state),
                "reason": live.reason, "since": live.since, "handled": f.handled,
                "average_talk_s": _seconds(f.average_talk_s),
                "average_wrap_up_s": _seconds(f.average_wrap_up_s), "occupancy": _share(f.occupancy),
                "rings_unanswered": f.rings_unanswered,
                "seconds_in": {state: round(s, 1) for state, s in f.seconds_in.items()}}  # fmt: skip


# Rounded for the wire: a tenth of a second and a hundredth of a percent are all a wallboard shows, and
# full floats doubled the size of a view pushed every second to every supervisor.
def _waiting_call(v: CallView) -> View:
    """A waiting call a supervisor may move or put to the front (``caller`` is null when withheld)."""
    return {"call": v.call, "arrived_at": v.arrived_at, "caller": v.caller_number, "priority": v.priority}


def _seconds(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _share(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _copy(f: AgentFigures) -> AgentFigures:
    return AgentFigures(
        f.handled, f.talk_s, dict(f.seconds_in), dict(f.not_ready_by_reason), f.rings_unanswered
    )


def _target_view(t: ServiceTarget) -> View:
    return {"formula": str(t.formula), "answer_within_s": t.answer_within_s, "goal": t.goal,
            "short_abandon_s": t.short_abandon_s}  # fmt: skip
