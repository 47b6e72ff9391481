"""On-call schedules, the pure part: rotations on the business's clock, tiers, overrides, overlaps, gaps."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from crm_core.domain import rotations
from crm_core.domain.coverage import Gap, Roster, on_call
from crm_core.domain.oncall import (
    Cadence,
    Contact,
    ContactKind,
    InvalidSchedule,
    OverlappingOverrides,
    Override,
    PatchMethod,
    Person,
    Rotation,
    Schedule,
    Tier,
)
from routing.ids import LineId

NY = ZoneInfo("America/New_York")
SMITH = LineId("smith")
ALICE, BOB, CAROL, DAVE, ERIN = 1, 2, 3, 4, 5


def local(y: int, m: int, d: int, hh: int = 0, mm: int = 0, fold: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=NY, fold=fold)


def weekly(*people: int, tier: Tier = Tier.PRIMARY, starts_on: date = date(2026, 3, 2)) -> Rotation:
    return Rotation(tier=tier, cadence=Cadence.WEEKLY, people=people, starts_on=starts_on, handoff=time(9))


def daily(*people: int, starts_on: date, handoff: time = time(9), tier: Tier = Tier.PRIMARY) -> Rotation:
    return Rotation(tier=tier, cadence=Cadence.DAILY, people=people, starts_on=starts_on, handoff=handoff)


def override(id: int, person: int, start: datetime, end: datetime, tier: Tier = Tier.PRIMARY) -> Override:
    return Override(id=id, tier=tier, person=person, starts_at=start, ends_at=end, reason="covers")


def schedule(*rots: Rotation, overrides: tuple[Override, ...] = ()) -> Schedule:
    return Schedule(
        business=SMITH, timezone="America/New_York", rotations={r.tier: r for r in rots}, overrides=overrides
    )


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (local(2026, 3, 2, 8, 59), {}),  # before the first hand-off: nobody
        (local(2026, 3, 2, 9), {Tier.PRIMARY: ALICE}),
        (local(2026, 3, 9, 8, 59), {Tier.PRIMARY: ALICE}),  # a week later, still before the hand-off
        (local(2026, 3, 9, 9), {Tier.PRIMARY: BOB}),  # the week crossing the spring change is 167 hours
        (local(2026, 3, 16, 9), {Tier.PRIMARY: CAROL}),
        (local(2026, 3, 23, 9), {Tier.PRIMARY: ALICE}),  # round again
    ],
)
def test_given_a_weekly_rotation_when_asked_at_a_time_then_the_week_s_person(
    at: datetime, expected: dict[Tier, int]
) -> None:
    assert on_call(schedule(weekly(ALICE, BOB, CAROL)), at) == expected


@pytest.mark.parametrize("day", [date(2026, 3, 7), date(2026, 3, 8), date(2026, 3, 9), date(2026, 11, 1)])
def test_given_a_daily_rotation_across_summer_time_then_the_hand_off_stays_at_nine_local(day: date) -> None:
    rotation = daily(ALICE, BOB, starts_on=date(2026, 1, 1))
    roster = Roster.of(schedule(rotation))
    before = roster.person_at(Tier.PRIMARY, datetime.combine(day, time(8, 59), NY))
    after = roster.person_at(Tier.PRIMARY, datetime.combine(day, time(9), NY))
    assert before != after
    assert after == (ALICE, BOB)[(day - date(2026, 1, 1)).days % 2]


def test_given_a_hand_off_in_the_skipped_spring_hour_then_it_happens_at_the_offset_before_the_jump() -> None:
    rotation = daily(ALICE, BOB, starts_on=date(2026, 3, 7), handoff=time(2, 30))
    at = rotations.handoff_at(rotation, date(2026, 3, 8), NY)
    assert at == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)  # 03:30 EDT
    assert rotations.on_duty(rotation, at - timedelta(seconds=1), NY) == ALICE
    assert rotations.on_duty(rotation, at, NY) == BOB


def test_given_a_hand_off_in_the_repeated_autumn_hour_then_the_first_reading_hands_off_for_good() -> None:
    rotation = daily(ALICE, BOB, starts_on=date(2026, 10, 31), handoff=time(1, 30))
    assert rotations.on_duty(rotation, local(2026, 11, 1, 1, 29), NY) == ALICE
    assert rotations.on_duty(rotation, local(2026, 11, 1, 1, 30), NY) == BOB
    assert rotations.on_duty(rotation, local(2026, 11, 1, 1, 10, fold=1), NY) == BOB  # the hour again
    assert rotations.on_duty(rotation, local(2026, 11, 2, 1, 30), NY) == ALICE


def test_given_an_override_then_it_wins_over_the_rotation_in_its_window_only() -> None:
    friday_night = override(
        7, DAVE, local(2026, 3, 6, 18), local(2026, 3, 7, 8)
    )  # Dr. Jones covers Friday night
    roster = Roster.of(schedule(weekly(ALICE, BOB), overrides=(friday_night,)))
    assert roster.on_call(local(2026, 3, 6, 17, 59)) == {Tier.PRIMARY: ALICE}
    assert roster.on_call(local(2026, 3, 6, 18)) == {Tier.PRIMARY: DAVE}
    assert roster.on_call(local(2026, 3, 7, 7, 59)) == {Tier.PRIMARY: DAVE}
    assert roster.on_call(local(2026, 3, 7, 8)) == {Tier.PRIMARY: ALICE}
    assert roster.override_at(Tier.PRIMARY, local(2026, 3, 6, 20)) == friday_night


def test_given_three_tiers_then_each_answers_in_escalation_order() -> None:
    manager = override(1, ERIN, local(2026, 3, 1), local(2026, 4, 1), tier=Tier.MANAGER)
    sched = schedule(weekly(CAROL, DAVE, tier=Tier.BACKUP), weekly(ALICE, BOB), overrides=(manager,))
    found = on_call(sched, local(2026, 3, 10, 12))
    assert list(found.items()) == [(Tier.PRIMARY, BOB), (Tier.BACKUP, DAVE), (Tier.MANAGER, ERIN)]
    assert sched.tiers() == (Tier.PRIMARY, Tier.BACKUP, Tier.MANAGER)
    assert sched.people() == {ALICE, BOB, CAROL, DAVE, ERIN}


def test_given_overlapping_overrides_in_one_tier_then_a_clear_error_naming_both() -> None:
    first = override(1, DAVE, local(2026, 3, 6, 18), local(2026, 3, 7, 8))
    second = override(2, ERIN, local(2026, 3, 7, 7), local(2026, 3, 7, 12))
    with pytest.raises(OverlappingOverrides) as raised:
        Roster.of(schedule(weekly(ALICE), overrides=(second, first)))
    assert (raised.value.first, raised.value.second) == (first, second)
    assert "primary overrides overlap: 1 (2026-03-06T18:00:00-05:00" in str(raised.value)


def test_given_touching_overrides_or_overlaps_in_different_tiers_then_no_error() -> None:
    a = override(1, DAVE, local(2026, 3, 6, 18), local(2026, 3, 7, 8))
    b = override(2, ERIN, local(2026, 3, 7, 8), local(2026, 3, 7, 12))
    c = override(3, ERIN, local(2026, 3, 6, 20), local(2026, 3, 7, 2), tier=Tier.BACKUP)
    roster = Roster.of(schedule(weekly(ALICE), overrides=(a, b, c)))
    assert roster.on_call(local(2026, 3, 7, 8)) == {Tier.PRIMARY: ERIN}


def test_given_cover_missing_saturday_night_then_the_gap_is_listed_in_the_business_s_words() -> None:
    evening = override(1, DAVE, local(2026, 12, 11, 18), local(2026, 12, 12, 2))
    morning = override(2, ERIN, local(2026, 12, 12, 6), local(2026, 12, 14, 9))
    roster = Roster.of(schedule(overrides=(evening, morning)))
    gaps = roster.gaps(local(2026, 12, 11, 18), local(2026, 12, 14, 9))
    assert gaps == [Gap(Tier.PRIMARY, local(2026, 12, 12, 2), local(2026, 12, 12, 6))]
    assert gaps[0].describe(NY) == "nobody on call (primary) Saturday 2026-12-12 02:00-06:00"


def test_given_a_rotation_starting_later_or_ending_then_the_gaps_before_and_after_it() -> None:
    rotation = replace(daily(ALICE, starts_on=date(2026, 3, 3), tier=Tier.BACKUP), ends_on=date(2026, 3, 5))
    roster = Roster.of(schedule(weekly(BOB, starts_on=date(2026, 2, 23)), rotation))
    gaps = roster.gaps(local(2026, 3, 2), local(2026, 3, 9))
    assert gaps == [
        Gap(Tier.BACKUP, local(2026, 3, 2), local(2026, 3, 3, 9)),
        Gap(Tier.BACKUP, local(2026, 3, 5, 9), local(2026, 3, 9)),
    ]
    assert (
        gaps[1].describe(NY) == "nobody on call (backup) Thursday 2026-03-05 09:00 to Monday 2026-03-09 00:00"
    )


def test_given_an_empty_schedule_then_the_primary_is_one_gap_and_nobody_is_on_call() -> None:
    roster = Roster.of(schedule())
    assert roster.on_call(local(2026, 3, 2)) == {}
    assert roster.gaps(local(2026, 3, 2), local(2026, 3, 3)) == [
        Gap(Tier.PRIMARY, local(2026, 3, 2), local(2026, 3, 3))
    ]


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: replace(weekly(1), people=()), "people"),
        (lambda: replace(weekly(1), ends_on=date(2026, 3, 2)), "ends_on"),
        (lambda: replace(weekly(1), handoff=time(9, tzinfo=UTC)), "handoff"),
        (lambda: override(1, 1, datetime(2026, 1, 1), datetime(2026, 1, 2)), "starts_at"),
        (lambda: override(1, 1, local(2026, 1, 2), local(2026, 1, 2)), "ends_at"),
        (lambda: Schedule(business=SMITH, timezone="Mars/Olympus"), "timezone"),
        (lambda: Schedule(business=SMITH, timezone="UTC", rotations={Tier.BACKUP: weekly(1)}), "rotations"),
    ],
)
def test_given_an_impossible_schedule_part_then_invalid_schedule_names_the_field(
    build: Callable[[], object], field: str
) -> None:
    with pytest.raises(InvalidSchedule) as raised:
        build()
    assert raised.value.field == field


def test_given_a_person_then_the_numbers_to_ring_are_the_phones_and_mobiles_in_order() -> None:
    person = Person(
        id=1,
        business=SMITH,
        name="Dr. Jones",
        patch=PatchMethod.WARM,
        contacts=(
            Contact(ContactKind.EMAIL, "jones@example.org"),
            Contact(ContactKind.MOBILE, "+14155550123"),
            Contact(ContactKind.PHONE, "+14155550100"),
        ),
    )
    assert person.numbers() == ("+14155550123", "+14155550100")
