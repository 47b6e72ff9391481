"""Who is on call, and where nobody is: a schedule's rotations and overrides read together.

``Roster.of(schedule)`` checks the schedule once (two overrides of one tier sharing a moment raise
``OverlappingOverrides``: which of them would win is nobody's guess) and sorts each tier's overrides, so
``roster.on_call(at)`` is a binary search and a rotation's arithmetic per tier. An override wins over
the rotation for its whole window. ``gaps`` lists the stretches of a window in which a tier the
schedule staffs (and always the primary) has nobody: a warning for the supervisor, not an error, since
a business may mean it ("no cover on Sunday mornings").
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from zoneinfo import ZoneInfo

from crm_core.domain import rotations
from crm_core.domain.oncall import OverlappingOverrides, Override, Schedule, Tier


@dataclass(frozen=True, slots=True)
class Gap:
    tier: Tier
    starts_at: datetime
    ends_at: datetime

    def describe(self, zone: ZoneInfo) -> str:
        """``nobody on call (primary) Saturday 2026-12-12 02:00-06:00``, on the business's clock."""
        start, end = self.starts_at.astimezone(zone), self.ends_at.astimezone(zone)
        until = f"-{end:%H:%M}" if end.date() == start.date() else f" to {end:%A %Y-%m-%d %H:%M}"
        return f"nobody on call ({self.tier}) {start:%A %Y-%m-%d %H:%M}{until}"


@dataclass(frozen=True, slots=True)
class _Tier:
    starts: tuple[datetime, ...]  # the overrides' starts, sorted, for bisect
    overrides: tuple[Override, ...]


class Roster:
    """A checked schedule, ready to answer "who is on call at T" many times."""

    def __init__(self, schedule: Schedule, tiers: Mapping[Tier, _Tier]) -> None:
        self.schedule = schedule
        self.zone = schedule.zone
        self._tiers = tiers
        self._order = schedule.tiers()

    @classmethod
    def of(cls, schedule: Schedule) -> Roster:
        by_tier: dict[Tier, list[Override]] = {}
        for override in schedule.overrides:
            by_tier.setdefault(override.tier, []).append(override)
        tiers: dict[Tier, _Tier] = {}
        for tier, overrides in by_tier.items():
            ordered = check_overrides(tier, overrides)
            tiers[tier] = _Tier(tuple(o.starts_at for o in ordered), ordered)
        return cls(schedule, tiers)

    def override_at(self, tier: Tier, at: datetime) -> Override | None:
        found = self._tiers.get(tier)
        if found is None:
            return None
        i = bisect_right(found.starts, at) - 1
        return found.overrides[i] if i >= 0 and found.overrides[i].covers(at) else None

    def person_at(self, tier: Tier, at: datetime) -> int | None:
        override = self.override_at(tier, at)
        if override is not None:
            return override.person
        rotation = self.schedule.rotations.get(tier)
        return None if rotation is None else rotations.on_duty(rotation, at, self.zone)

    def on_call(self, at: datetime) -> dict[Tier, int]:
        """Per staffed tier, in escalation order, who is on call at ``at``; a tier with nobody is absent."""
        found = {tier: self.person_at(tier, at) for tier in self._order}
        return {tier: person for tier, person in found.items() if person is not None}

    def gaps(self, start: datetime, end: datetime) -> list[Gap]:
        """Every stretch of [start, end) in which a staffed tier, or the primary, has nobody."""
        out: list[Gap] = []
        for tier in Tier:
            if tier is Tier.PRIMARY or tier in self._order:
                out += [Gap(tier, a, b) for a, b in _uncovered(self._covered(tier), start, end)]
        return out

    def _covered(self, tier: Tier) -> list[tuple[datetime, datetime | None]]:
        spans: list[tuple[datetime, datetime | None]] = []
        rotation = self.schedule.rotations.get(tier)
        if rotation is not None:
            spans.append(rotations.span(rotation, self.zone))
        found = self._tiers.get(tier)
        spans += [] if found is None else [(o.starts_at, o.ends_at) for o in found.overrides]
        return spans


def on_call(schedule: Schedule, at: datetime) -> dict[Tier, int]:
    """Per tier, who is on call at ``at`` (``Roster`` for many questions of one schedule)."""
    return Roster.of(schedule).on_call(at)


def check_overrides(tier: Tier, overrides: Iterable[Override]) -> tuple[Override, ...]:
    """``overrides`` (all of one tier) sorted by start; ``OverlappingOverrides`` if two share a moment.

    Sorted by start, any overlap shows between neighbours: if one overlaps a later one, it overlaps
    every override starting in between too.
    """
    ordered = tuple(sorted(overrides, key=lambda o: (o.starts_at, o.id)))
    for first, second in pairwise(ordered):
        if second.starts_at < first.ends_at:
            raise OverlappingOverrides(tier, first, second)
    return ordered


def _uncovered(
    spans: Sequence[tuple[datetime, datetime | None]], start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """[start, end) less the union of ``spans`` (an end of None runs forever)."""
    out: list[tuple[datetime, datetime]] = []
    cursor = start
    for a, b in sorted(spans, key=lambda s: s[0]):
        if cursor >= end:
            break
        if a > cursor:
            out.append((cursor, min(a, end)))
        if b is None:
            return out
        cursor = max(cursor, b)
    if cursor < end:
        out.append((cursor, end))
    return out
