"""Whom a rotation puts on call at an instant, on the business's wall clock.

Shift ``k`` (0 the first) starts on local day ``starts_on + k * shift length`` at the hand-off time and
ends where shift ``k + 1`` starts, so a shift is one or seven *local* days long: 23 or 25 hours across a
change of summer time, never a drift of the hand-off by an hour. Where the wall clock reads the hand-off
time twice (the autumn change), the first reading hands off; where it never reads it (the spring change
skips 02:00-03:00), the hand-off happens at the offset before the jump (02:30 hands off at 03:30).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from crm_core.domain.oncall import SHIFT_DAYS, Rotation


def handoff_at(rotation: Rotation, day: date, zone: ZoneInfo) -> datetime:
    """The instant (UTC) of the hand-off on local ``day``; fold 0 picks the rules of the docstring."""
    return datetime.combine(day, rotation.handoff, tzinfo=zone).astimezone(UTC)


def shift_day(rotation: Rotation, k: int) -> date:
    """The local day shift ``k`` starts on."""
    return rotation.starts_on + timedelta(days=k * SHIFT_DAYS[rotation.cadence])


def shift_index(rotation: Rotation, at: datetime, zone: ZoneInfo) -> int:
    """The shift running at ``at``; negative before the rotation starts."""
    days = (at.astimezone(zone).date() - rotation.starts_on).days
    k = days // SHIFT_DAYS[rotation.cadence]
    # The local date is a guess within a shift of the answer: before its day's hand-off the previous
    # shift still runs, and a zone whose clock changes at midnight can put the date a day off.
    while handoff_at(rotation, shift_day(rotation, k), zone) > at:
        k -= 1
    while handoff_at(rotation, shift_day(rotation, k + 1), zone) <= at:
        k += 1
    return k


def span(rotation: Rotation, zone: ZoneInfo) -> tuple[datetime, datetime | None]:
    """When the rotation covers its tier: from the first hand-off to the hand-off on ``ends_on``."""
    end = None if rotation.ends_on is None else handoff_at(rotation, rotation.ends_on, zone)
    return handoff_at(rotation, rotation.starts_on, zone), end


def on_duty(rotation: Rotation, at: datetime, zone: ZoneInfo) -> int | None:
    """The person the rotation has on call at ``at``; None outside its span."""
    start, end = span(rotation, zone)
    if at < start or (end is not None and at >= end):
        return None
    return rotation.people[shift_index(rotation, at, zone) % len(rotation.people)]
