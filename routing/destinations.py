"""Where a call to a number goes at a given moment, from the plan alone: its line, whether the line is
open and if not why (its weekly hours, a public holiday, a one-off closure), and what takes the call.

Pure: the time is passed in. It makes the choice ``queueing.call_arrived`` makes on arrival, read out
for people (``switchboard call`` says where its test call went). What only the router's state knows is
not here: a full queue passing the call on, the caller's place in line, who is ready.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from routing.hours import Hours, Span
from routing.ids import QueueId
from routing.plan import AfterHours, AfterHoursKind, Line, OnCallStep, Plan


class Closed(enum.StrEnum):
    """Why a line is closed, in the order ``Hours.is_open`` looks."""

    CLOSURE = "closure"  # a one-off closure ("training 14:00-16:00")
    HOLIDAY = "holiday"  # a public holiday: closed all day
    HOURS = "hours"  # outside the weekly timetable


class Target(enum.StrEnum):
    """What takes the call."""

    QUEUE = "queue"  # the line's queue, or after hours the answering service's
    ON_CALL = "on-call"  # after hours: the on-call chain, in turn; a message if nobody answers
    VOICEMAIL = "voicemail"
    HANG_UP = "hang-up"  # a closed message, then goodbye
    REJECTED = "rejected"  # the number is not in the plan: hung up, logged no-agent


@dataclass(frozen=True, slots=True)
class Closing:
    """A closed line: why, what it is called (the holiday's name, the closure's reason), and the line's
    own wall-clock time then with that weekday's open spans, for saying "Sun 03:00, closed all day"."""

    why: Closed
    name: str | None
    local: dt.datetime
    spans: tuple[Span, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Destination:
    did: str
    target: Target
    line: Line | None = None  # None: not in the plan
    source: str | None = None  # the number's ad source
    closing: Closing | None = None  # None: open (or not in the plan)
    queue: QueueId | None = None  # for target QUEUE
    chain: tuple[OnCallStep, ...] = ()  # for target ON_CALL

    @property
    def open(self) -> bool | None:
        """Whether the line is open; None for a number that is not in the plan."""
        return None if self.line is None else self.closing is None


def destination(plan: Plan, did: str, at: float) -> Destination:
    """Where a call to ``did`` (E.164) arriving at ``at`` (Unix seconds) goes."""
    found = plan.dids.get(did)
    if found is None:
        return Destination(did=did, target=Target.REJECTED)
    line = plan.lines[found.line]
    closed = None if line.hours is None else closing(line.hours, at)
    if closed is None:
        return Destination(did=did, target=Target.QUEUE, line=line, source=found.source, queue=line.queue)
    target, queue, chain = _after_hours(line.after_hours)
    return Destination(did=did, target=target, line=line, source=found.source, closing=closed,
                       queue=queue, chain=chain)  # fmt: skip


def closing(hours: Hours, at: float) -> Closing | None:
    """Why ``hours`` are closed at ``at``; None when open. Closed exactly when ``not hours.is_open(at)``."""
    local = dt.datetime.fromtimestamp(at, ZoneInfo(hours.timezone))
    spans = hours.weekly.get(local.weekday(), ())
    for closure in hours.closures:
        if closure.start <= at < closure.end:
            return Closing(Closed.CLOSURE, closure.reason, local, spans)
    holiday = hours.holiday(local.date())
    if holiday is not None:
        return Closing(Closed.HOLIDAY, holiday, local, spans)
    if any(span.covers(local.time().replace(tzinfo=None)) for span in spans):
        return None
    return Closing(Closed.HOURS, None, local, spans)


def _after_hours(policy: AfterHours) -> tuple[Target, QueueId | None, tuple[OnCallStep, ...]]:
    # As queueing._after_hours decides: a policy missing its queue or chain leaves a message.
    if policy.kind is AfterHoursKind.QUEUE and policy.queue is not None:
        return Target.QUEUE, policy.queue, ()
    if policy.kind is AfterHoursKind.ON_CALL and policy.chain:
        return Target.ON_CALL, None, policy.chain
    if policy.kind is AfterHoursKind.HANG_UP:
        return Target.HANG_UP, None, ()
    return Target.VOICEMAIL, None, ()
