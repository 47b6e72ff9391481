"""Properties of on-call schedules over generated rotations and overrides (pure, no store)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from crm_core.domain import rotations
from crm_core.domain.coverage import Roster
from crm_core.domain.oncall import SHIFT_DAYS, Cadence, Override, Rotation, Schedule, Tier
from routing.ids import LineId

# Zones with summer time on either hemisphere, one changing at midnight, and one without.
ZONES = ["America/New_York", "Europe/London", "Australia/Sydney", "America/Santiago", "Asia/Tokyo"]
START = datetime(2026, 1, 1, tzinfo=UTC)
YEAR = timedelta(days=365)

zones = st.sampled_from(ZONES)
instants = st.integers(0, int(YEAR.total_seconds())).map(lambda s: START + timedelta(seconds=s))
rotations_ = st.builds(
    Rotation,
    tier=st.just(Tier.PRIMARY),
    cadence=st.sampled_from(Cadence),
    people=st.lists(st.integers(1, 9), min_size=1, max_size=5).map(tuple),
    starts_on=st.dates(date(2025, 12, 1), date(2026, 2, 1)),
    handoff=st.times(),
)


@st.composite
def disjoint_overrides(draw: st.DrawFn, tier: Tier = Tier.PRIMARY) -> tuple[Override, ...]:
    """Overrides of one tier that never share a moment: cut points in order, every other span taken."""
    cuts = sorted(set(draw(st.lists(instants, min_size=0, max_size=12))))
    pairs = list(zip(cuts[::2], cuts[1::2], strict=False))
    return tuple(
        Override(id=i, tier=tier, person=draw(st.integers(10, 19)), starts_at=a, ends_at=b)
        for i, (a, b) in enumerate(pairs)
    )


def schedule(zone: str, rotation: Rotation | None, overrides: tuple[Override, ...] = ()) -> Schedule:
    rots = {} if rotation is None else {rotation.tier: rotation}
    return Schedule(business=LineId("b"), timezone=zone, rotations=rots, overrides=overrides)


@settings(max_examples=200, deadline=None)
@given(zone=zones, rotation=rotations_, overrides=disjoint_overrides(), data=st.data())
def test_an_override_always_wins_in_its_window(
    zone: str, rotation: Rotation, overrides: tuple[Override, ...], data: st.DataObject
) -> None:
    roster = Roster.of(schedule(zone, rotation, overrides))
    for o in overrides:
        at = data.draw(st.integers(0, int((o.ends_at - o.starts_at).total_seconds()) - 1))
        assert roster.person_at(Tier.PRIMARY, o.starts_at + timedelta(seconds=at)) == o.person


@settings(max_examples=200, deadline=None)
@given(zone=zones, rotation=rotations_, days=st.integers(1, 400))
def test_a_rotation_without_overrides_has_no_gaps_from_its_first_hand_off(
    zone: str, rotation: Rotation, days: int
) -> None:
    roster = Roster.of(schedule(zone, rotation))
    first, _ = rotations.span(rotation, ZoneInfo(zone))
    assert roster.gaps(first, first + timedelta(days=days)) == []


@settings(max_examples=300, deadline=None)
@given(zone=zones, rotation=rotations_, at=instants)
def test_the_person_follows_the_count_of_local_days_across_summer_time(
    zone: str, rotation: Rotation, at: datetime
) -> None:
    """Whatever the offset did, the shift running is the one whose local hand-off came last."""
    tz = ZoneInfo(zone)
    k = rotations.shift_index(rotation, at, tz)
    started = rotations.handoff_at(rotation, rotations.shift_day(rotation, k), tz)
    ends = rotations.handoff_at(rotation, rotations.shift_day(rotation, k + 1), tz)
    assert started <= at < ends
    length = (rotations.shift_day(rotation, k + 1) - rotations.shift_day(rotation, k)).days
    assert length == SHIFT_DAYS[rotation.cadence]
    # a shift lasts its days give or take the summer-time changes in it (at most an hour or so each)
    assert abs((ends - started) - timedelta(days=length)) <= timedelta(hours=2)


@settings(max_examples=100, deadline=None)
@given(
    zone=st.sampled_from(["America/New_York", "Europe/London", "Australia/Sydney"]),
    rotation=rotations_.filter(lambda r: time(4) <= r.handoff <= time(22)),
    day=st.dates(date(2026, 2, 1), date(2026, 12, 31)),
)
def test_the_hand_off_reads_the_same_wall_clock_time_on_every_day(
    zone: str, rotation: Rotation, day: date
) -> None:
    """Away from the night hours the clocks change in, every hand-off is at the hand-off time, local."""
    tz = ZoneInfo(zone)
    at = rotations.handoff_at(rotation, day, tz)
    assert at.astimezone(tz).time() == rotation.handoff
    expected_shift = (day - rotation.starts_on).days // SHIFT_DAYS[rotation.cadence]
    assert rotations.shift_index(rotation, at, tz) == expected_shift
    assert rotations.shift_index(rotation, at - timedelta(microseconds=1), tz) == expected_shift - (
        (day - rotation.starts_on).days % SHIFT_DAYS[rotation.cadence] == 0
    )


@settings(max_examples=150, deadline=None)
@given(
    zone=zones,
    rotation=st.none() | rotations_,
    overrides=disjoint_overrides(),
    at=instants,
)
def test_nobody_is_on_call_exactly_inside_the_gaps(
    zone: str, rotation: Rotation | None, overrides: tuple[Override, ...], at: datetime
) -> None:
    roster = Roster.of(schedule(zone, rotation, overrides))
    gaps = roster.gaps(START, START + YEAR + timedelta(seconds=1))
    in_gap = any(g.starts_at <= at < g.ends_at for g in gaps)
    assert (roster.person_at(Tier.PRIMARY, at) is None) == in_gap


@settings(max_examples=100, deadline=None)
@given(zone=zones, rotation=rotations_, overrides=disjoint_overrides(), at=instants, seed=st.randoms())
def test_the_order_overrides_are_given_in_does_not_matter(
    zone: str, rotation: Rotation, overrides: tuple[Override, ...], at: datetime, seed: random.Random
) -> None:
    shuffled = list(overrides)
    seed.shuffle(shuffled)
    assert Roster.of(schedule(zone, rotation, overrides)).on_call(at) == Roster.of(
        schedule(zone, rotation, tuple(shuffled))
    ).on_call(at)
