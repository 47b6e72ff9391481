"""The figures supervisors are judged by, computed from the call log and the agent state intervals.

Pure and deterministic: the wallboard (for today) and the reports (for any range) both call these on what
the store holds, so a figure never depends on a process having seen the events live, and a restart or a
supervisor connecting at noon changes nothing. docs/figures.md states every formula; the names below are
the ones reports print beside each figure.

What counts as what (one whole call = a log record with ``part_of`` None; the stretches of a call an
agent handed on are records of their own and count only for that agent):

- **entered**: whole inbound calls that reached a queue (``queue`` set; callbacks we placed are not
  inbound and are counted apart as ``callbacks_placed``).
- **short abandon**: abandoned after waiting *less than* ``short_abandon_s``; removed from every other
  count. A call abandoned at exactly the threshold is an abandon.
- **answered**: an agent or on-call person took it (``answered_at`` set); **within target** when its wait
  (arrival to answer, ring time included) is *at most* ``answer_within_s``.
- **abandoned**: the caller hung up while waiting or ringing (not short); **within target** likewise.
- Calls that left the queue otherwise (the caller chose a callback, went to voicemail, reached the
  maximum wait) are neither answered nor abandoned: they are counted apart and sit outside the service
  level formulas, which is how ICMI defines them; the report shows them beside it.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple, Protocol, TypeVar
from zoneinfo import ZoneInfo

from crm_core.domain.agent_states import AgentInterval, is_missed_ring
from crm_core.domain.calls import LoggedCall
from routing.ids import AgentId
from routing.records import Outcome

K = TypeVar("K", bound=Hashable)


class CallFact(Protocol):
    """What the figures read of a call-log record: ``PlainCall`` is one (``plain_call`` makes one of a
    ``LoggedCall``), and so is the ``CallRow`` the reports read."""

    @property
    def call(self) -> str: ...
    @property
    def queue(self) -> str | None: ...
    @property
    def line(self) -> str | None: ...
    @property
    def source(self) -> str | None: ...
    @property
    def agent(self) -> AgentId | None: ...
    @property
    def arrived_at(self) -> datetime: ...
    @property
    def answered_at(self) -> datetime | None: ...
    @property
    def ended_at(self) -> datetime: ...
    @property
    def outcome(self) -> str: ...
    @property
    def wait_s(self) -> float: ...
    @property
    def talk_s(self) -> float: ...
    @property
    def part_of(self) -> str | None: ...
    @property
    def callback_of(self) -> str | None: ...


class PlainCall(NamedTuple):
    """A call-log record as the reports read it: only what the figures need, cheap to build."""

    call: str
    queue: str | None
    line: str | None
    source: str | None
    agent: AgentId | None
    arrived_at: datetime
    answered_at: datetime | None
    ended_at: datetime
    outcome: str
    wait_s: float
    talk_s: float
    part_of: str | None
    callback_of: str | None


def plain_call(call: LoggedCall) -> PlainCall:
    """What the figures read of a logged call: the logged times and durations, the rest from its record."""
    r = call.record
    return PlainCall(
        call=r.call,
        queue=r.queue,
        line=r.line,
        source=r.source,
        agent=r.agent,
        arrived_at=call.arrived_at,
        answered_at=call.answered_at,
        ended_at=call.ended_at,
        outcome=r.outcome,
        wait_s=call.wait_s,
        talk_s=call.talk_s,
        part_of=r.part_of,
        callback_of=r.callback_of,
    )


class ServiceLevelFormula(enum.StrEnum):
    """The four service-level formulas in common use (ICMI); each report says which it used."""

    ANSWERED = "answered"  # answered within T / answered
    OFFERED = "offered"  # answered within T / (answered + abandoned)
    LATE_ABANDONS = "late-abandons"  # answered within T / (answered + abandoned after T)
    WITHIN_BOTH = "within-both"  # (answered within T + abandoned within T) / (answered + abandoned)


@dataclass(frozen=True, slots=True)
class ServiceTarget:
    answer_within_s: float = 20.0
    goal: float = 0.80  # the share of calls the center promises to answer within answer_within_s
    formula: ServiceLevelFormula = ServiceLevelFormula.OFFERED
    short_abandon_s: float = 5.0


@dataclass(slots=True, kw_only=True)
class CallFigures:
    """Counts and times of a group of whole inbound calls (a queue, a line, a dialed number, a day...)."""

    entered: int = 0
    short_abandons: int = 0
    answered: int = 0
    answered_within: int = 0
    abandoned: int = 0
    abandoned_within: int = 0
    callbacks_chosen: int = 0
    voicemail: int = 0
    no_agent: int = 0
    callbacks_placed: int = 0
    wait_answered_s: float = 0.0  # sum of the waits of answered calls, for the average speed of answer
    longest_wait_s: float = 0.0  # of any counted call, answered or not
    talk_s: float = 0.0  # of answered calls, every agent's stretch included
    wrap_up_s: float = 0.0  # after-call work that followed those calls

    @property
    def offered(self) -> int:
        """Calls that entered, less the short abandons."""
        return self.entered - self.short_abandons

    def service_level(self, formula: ServiceLevelFormula) -> float | None:
        """The share in [0, 1], or None when no call is in the formula's denominator."""
        numerator, denominator = {
            ServiceLevelFormula.ANSWERED: (self.answered_within, self.answered),
            ServiceLevelFormula.OFFERED: (self.answered_within, self.answered + self.abandoned),
            ServiceLevelFormula.LATE_ABANDONS: (
                self.answered_within,
                self.answered + self.abandoned - self.abandoned_within,
            ),
            ServiceLevelFormula.WITHIN_BOTH: (
                self.answered_within + self.abandoned_within,
                self.answered + self.abandoned,
            ),
        }[formula]
        return None if denominator == 0 else numerator / denominator

    @property
    def average_speed_of_answer_s(self) -> float | None:
        return None if self.answered == 0 else self.wait_answered_s / self.answered

    @property
    def average_handle_s(self) -> float | None:
        """(talk + after-call work) / answered. Hold time is inside talk time: the call log keeps no
        separate hold figure yet."""
        return None if self.answered == 0 else (self.talk_s + self.wrap_up_s) / self.answered

    @property
    def abandonment_rate(self) -> float | None:
        """Abandoned / offered; callers who chose a callback are not abandons."""
        return None if self.offered == 0 else self.abandoned / self.offered


def call_figures(
    calls: Iterable[CallFact],
    target: ServiceTarget,
    talk_of: Mapping[str, float] | None = None,
    wrap_up_of: Mapping[str, float] | None = None,
) -> CallFigures:
    """Figures of ``calls`` (any records; only whole inbound calls are counted as calls).

    ``talk_of`` / ``wrap_up_of``: call id -> seconds over all of that call's stretches (``handling``);
    without them a call's own record's talk time is used and no after-call work is counted.
    """
    figures = CallFigures()
    for call in calls:
        _count(figures, call, target, talk_of, wrap_up_of)
    return figures


def _count(
    f: CallFigures,
    call: CallFact,
    target: ServiceTarget,
    talk_of: Mapping[str, float] | None,
    wrap_up_of: Mapping[str, float] | None,
) -> None:
    talk = call.talk_s if talk_of is None else talk_of.get(call.call, call.talk_s)
    count_call(f, call, target, talk, 0.0 if wrap_up_of is None else wrap_up_of.get(call.call, 0.0))


def count_call(
    f: CallFigures, call: CallFact, target: ServiceTarget, talk_s: float, wrap_up_s: float
) -> bool:
    """Count one record into ``f``; ``talk_s``/``wrap_up_s`` are the whole call's (every stretch).
    False for records that are not counted as calls of their own (an agent's stretch)."""
    if call.part_of is not None:
        return False  # an agent's stretch: the whole call is counted under its own id
    if call.callback_of is not None:
        f.callbacks_placed += 1
        return True
    f.entered += 1
    wait = call.wait_s
    if call.outcome == Outcome.ABANDONED and wait < target.short_abandon_s:
        f.short_abandons += 1
        return True
    f.longest_wait_s = max(f.longest_wait_s, wait)
    within = wait <= target.answer_within_s
    if call.answered_at is not None:
        f.answered += 1
        f.answered_within += within
        f.wait_answered_s += wait
        f.talk_s += talk_s
        f.wrap_up_s += wrap_up_s
    elif call.outcome == Outcome.ABANDONED:
        f.abandoned += 1
        f.abandoned_within += within
    elif call.outcome == Outcome.CALLBACK:
        f.callbacks_chosen += 1
    elif call.outcome == Outcome.VOICEMAIL:
        f.voicemail += 1
    else:
        f.no_agent += 1
    return True


def add_figures(into: CallFigures, other: CallFigures) -> None:
    """``other``'s calls counted into ``into`` as well (a day's from its quarter hours, a total)."""
    for name in ("entered", "short_abandons", "answered", "answered_within", "abandoned", "abandoned_within",
                 "callbacks_chosen", "voicemail", "no_agent", "callbacks_placed", "wait_answered_s", "talk_s",
                 "wrap_up_s"):  # fmt: skip
        setattr(into, name, getattr(into, name) + getattr(other, name))
    into.longest_wait_s = max(into.longest_wait_s, other.longest_wait_s)


def grouped(
    calls: Iterable[CallFact],
    key: Callable[[CallFact], K | None],
    target: ServiceTarget,
    talk_of: Mapping[str, float] | None = None,
    wrap_up_of: Mapping[str, float] | None = None,
) -> dict[K, CallFigures]:
    """``call_figures`` per ``key(call)``; calls whose key is None are left out."""
    groups: dict[K, CallFigures] = {}
    for call in calls:
        k = key(call)
        if k is not None:
            _count(groups.setdefault(k, CallFigures()), call, target, talk_of, wrap_up_of)
    return groups


@dataclass(frozen=True, slots=True)
class Handling:
    """Per whole call: talk and after-call work summed over every agent who handled a stretch of it."""

    talk_s: dict[str, float]
    wrap_up_s: dict[str, float]


def handling(calls: Iterable[CallFact], intervals: Iterable[AgentInterval]) -> Handling:
    """Talk and after-call work per whole call id.

    A wrap-up interval belongs to the call (or stretch) whose agent it is and that ended the moment it
    began: the router stamps the call's end and the agent's wrap-up with the same instant.
    """
    ends: dict[tuple[AgentId, datetime], str] = {}
    talk: dict[str, float] = {}
    for call in calls:
        whole = call.part_of or call.call
        talk[whole] = talk.get(whole, 0.0) + call.talk_s
        if call.agent is not None and call.answered_at is not None:
            ends[(call.agent, call.ended_at)] = whole
    wrap_up: dict[str, float] = {}
    for interval in intervals:
        if interval.state != "wrap-up" or interval.ended_at is None:
            continue  # a wrap-up still running is not after-call work done yet
        whole_call = ends.get((interval.agent, interval.started_at))
        if whole_call is not None:
            seconds = (interval.ended_at - interval.started_at).total_seconds()
            wrap_up[whole_call] = wrap_up.get(whole_call, 0.0) + seconds
    return Handling(talk, wrap_up)


@dataclass(slots=True)
class AgentFigures:
    handled: int = 0  # calls and stretches of calls the agent answered
    talk_s: float = 0.0
    seconds_in: dict[str, float] = field(default_factory=dict)  # state -> seconds in the window
    not_ready_by_reason: dict[str, float] = field(default_factory=dict)
    rings_unanswered: int = 0  # rings the agent let go: no answer, ring timeout, declined, phone failed

    @property
    def logged_in_s(self) -> float:
        return sum(self.seconds_in.values())

    @property
    def wrap_up_s(self) -> float:
        return self.seconds_in.get("wrap-up", 0.0)

    @property
    def average_talk_s(self) -> float | None:
        return None if self.handled == 0 else self.talk_s / self.handled

    @property
    def average_wrap_up_s(self) -> float | None:
        return None if self.handled == 0 else self.wrap_up_s / self.handled

    @property
    def occupancy(self) -> float | None:
        """(time on calls + after-call work) / (time logged in and not on a break). Ringing counts as
        available: the agent was waiting for a call, not working one."""
        busy = self.seconds_in.get("on-call", 0.0) + self.wrap_up_s
        available = self.logged_in_s - self.seconds_in.get("not-ready", 0.0)
        return None if available <= 0 else busy / available


def agent_figures(
    calls: Iterable[CallFact], intervals: Iterable[AgentInterval], since: datetime, until: datetime
) -> dict[AgentId, AgentFigures]:
    """Per agent over [since, until): ``calls`` are the records of calls that arrived in the window (each
    agent's stretches included), ``intervals`` the state intervals overlapping it, oldest first."""
    figures: dict[AgentId, AgentFigures] = {}
    for call in calls:
        if call.agent is not None and call.answered_at is not None:
            f = figures.setdefault(call.agent, AgentFigures())
            f.handled += 1
            f.talk_s += call.talk_s
    for interval in intervals:
        add_interval(figures.setdefault(interval.agent, AgentFigures()), interval, since, until)
    return figures


def add_interval(f: AgentFigures, interval: AgentInterval, since: datetime, until: datetime) -> None:
    """Count the part of ``interval`` inside [since, until) into ``f``."""
    seconds = interval.seconds_within(since, until)
    f.seconds_in[interval.state] = f.seconds_in.get(interval.state, 0.0) + seconds
    if interval.state == "not-ready":
        reason = interval.reason or "unknown"
        f.not_ready_by_reason[reason] = f.not_ready_by_reason.get(reason, 0.0) + seconds
    if is_missed_ring(interval) and interval.ended_at is not None and since <= interval.ended_at < until:
        f.rings_unanswered += 1


def day_window(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) of ``day`` in ``zone`` as aware datetimes: 23 or 25 hours on the days clocks change."""
    start = datetime.combine(day, time(), zone)
    end = datetime.combine(day + timedelta(days=1), time(), zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def day_of(at: datetime, zone: ZoneInfo) -> date:
    """The day ``at`` falls on in ``zone``: a call belongs to the day it arrived in its line's zone."""
    return at.astimezone(zone).date()


def hour_of(at: datetime, zone: ZoneInfo) -> int:
    return at.astimezone(zone).hour
