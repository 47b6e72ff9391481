"""The on-call store on SQLite and PostgreSQL: people, schedules, overrides, and the audit of each change."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import pytest

from crm_core.domain.coverage import Roster
from crm_core.domain.errors import InvalidPhoneNumber
from crm_core.domain.oncall import (
    BusinessNotFound,
    Cadence,
    Contact,
    ContactKind,
    InvalidSchedule,
    OverlappingOverrides,
    Override,
    OverrideNotFound,
    PatchMethod,
    Person,
    PersonNotFound,
    Rotation,
    Schedule,
    Tier,
)
from crm_core.sql.store import SqlStore
from routing.ids import LineId
from tests.crm_core.conftest import RowCounts

SMITH, HVAC = LineId("smith"), LineId("hvac")
FRIDAY_6PM = datetime(2026, 3, 6, 23, tzinfo=UTC)  # 18:00 in New York


async def two_people(store: SqlStore, business: LineId = SMITH) -> tuple[Person, Person]:
    jones = await store.oncall.add_person(
        business,
        "Dr. Jones",
        PatchMethod.WARM,
        [Contact(ContactKind.MOBILE, "(415) 555-0123"), Contact(ContactKind.EMAIL, "jones@example.org")],
        who="admin",
    )
    lee = await store.oncall.add_person(
        business, "Dr. Lee", PatchMethod.COLD, [Contact(ContactKind.PHONE, "+1 415 555 0100")], who="admin"
    )
    return jones, lee


async def scheduled(store: SqlStore) -> tuple[Person, Person]:
    jones, lee = await two_people(store)
    await store.oncall.set_timezone(SMITH, "America/New_York", who="admin")
    rotation = Rotation(
        tier=Tier.PRIMARY, cadence=Cadence.WEEKLY, people=(jones.id, lee.id), starts_on=date(2026, 3, 2)
    )
    await store.oncall.set_rotation(SMITH, rotation, who="admin")
    return jones, lee


def cover(person: Person, start: datetime, hours: float, tier: Tier = Tier.PRIMARY) -> Override:
    return Override(
        id=0,
        tier=tier,
        person=person.id,
        starts_at=start,
        ends_at=start + timedelta(hours=hours),
        reason="covers",
    )


async def test_given_people_added_then_they_read_back_with_numbers_in_e164(store: SqlStore) -> None:
    jones, lee = await two_people(store)
    assert jones.contacts == (
        Contact(ContactKind.MOBILE, "+14155550123"),
        Contact(ContactKind.EMAIL, "jones@example.org"),
    )
    assert await store.oncall.people(SMITH) == [jones, lee]
    assert await store.oncall.people(HVAC) == []
    assert await store.oncall.person(SMITH, lee.id) == lee


async def test_given_a_person_changed_then_the_new_values_replace_the_old_and_the_audit_says_who(
    store: SqlStore,
) -> None:
    jones, _ = await two_people(store)
    changed = Person(
        id=jones.id,
        business=SMITH,
        name="Dr. A. Jones",
        patch=PatchMethod.MESSAGE_ONLY,
        contacts=(Contact(ContactKind.EMAIL, "a.jones@example.org"),),
    )
    assert await store.oncall.change_person(changed, who="supervisor-sue") == changed
    assert await store.oncall.person(SMITH, jones.id) == changed
    newest = (await store.oncall.changes(SMITH))[0]
    assert (newest.who, newest.action, newest.target) == ("supervisor-sue", "person.changed", str(jones.id))
    assert json.loads(newest.detail)["patch"] == "message-only"


async def test_given_a_bad_number_or_another_business_s_person_then_refused_and_nothing_written(
    store: SqlStore, row_counts: RowCounts
) -> None:
    before = await row_counts()
    with pytest.raises(InvalidPhoneNumber):
        await store.oncall.add_person(
            SMITH, "X", PatchMethod.COLD, [Contact(ContactKind.PHONE, "12")], who="a"
        )
    assert await row_counts() == before
    jones, _ = await two_people(store, HVAC)
    with pytest.raises(PersonNotFound):
        await store.oncall.change_person(
            Person(id=jones.id, business=SMITH, name="Y", patch=PatchMethod.COLD), who="a"
        )
    await store.oncall.set_timezone(SMITH, "America/New_York", who="admin")
    rotation = Rotation(
        tier=Tier.PRIMARY, cadence=Cadence.DAILY, people=(jones.id,), starts_on=date(2026, 3, 2)
    )
    written = await row_counts()
    with pytest.raises(PersonNotFound):
        await store.oncall.set_rotation(SMITH, rotation, who="admin")
    assert await row_counts() == written


async def test_given_a_schedule_stored_then_it_reads_back_as_the_domain_schedule(store: SqlStore) -> None:
    jones, lee = await scheduled(store)
    backup = Rotation(
        tier=Tier.BACKUP,
        cadence=Cadence.DAILY,
        people=(lee.id, jones.id),
        starts_on=date(2026, 3, 1),
        handoff=time(7, 30),
        ends_on=date(2026, 6, 1),
    )
    await store.oncall.set_rotation(SMITH, backup, who="admin")
    night = await store.oncall.add_override(SMITH, cover(lee, FRIDAY_6PM, 14), who="admin")

    found = await store.oncall.schedule(SMITH)

    assert found == Schedule(
        business=SMITH,
        timezone="America/New_York",
        rotations={
            Tier.PRIMARY: Rotation(
                tier=Tier.PRIMARY,
                cadence=Cadence.WEEKLY,
                people=(jones.id, lee.id),
                starts_on=date(2026, 3, 2),
            ),
            Tier.BACKUP: backup,
        },
        overrides=(night,),
    )
    assert Roster.of(found).on_call(FRIDAY_6PM + timedelta(hours=1)) == {
        Tier.PRIMARY: lee.id,
        Tier.BACKUP: jones.id,  # day 5 of a daily rotation begun on Sunday: the second of two
    }
    assert await store.oncall.schedules() == {SMITH: found}


async def test_given_a_rotation_replaced_or_removed_then_only_the_newest_counts(
    store: SqlStore, row_counts: RowCounts
) -> None:
    _, lee = await scheduled(store)
    replacement = Rotation(
        tier=Tier.PRIMARY, cadence=Cadence.DAILY, people=(lee.id,), starts_on=date(2026, 4, 1)
    )
    assert (await store.oncall.set_rotation(SMITH, replacement, who="admin")).rotations == {
        Tier.PRIMARY: replacement
    }
    assert (await row_counts())["oncall_turns"] == 1
    assert (await store.oncall.remove_rotation(SMITH, Tier.PRIMARY, who="admin")).rotations == {}
    counts = await row_counts()
    assert (counts["oncall_rotations"], counts["oncall_turns"]) == (0, 0)


async def test_given_overlapping_overrides_then_the_second_is_refused_and_touching_ones_are_fine(
    store: SqlStore, row_counts: RowCounts
) -> None:
    jones, lee = await scheduled(store)
    first = await store.oncall.add_override(SMITH, cover(lee, FRIDAY_6PM, 14), who="admin")
    before = await row_counts()
    with pytest.raises(OverlappingOverrides) as raised:
        await store.oncall.add_override(SMITH, cover(jones, FRIDAY_6PM + timedelta(hours=13), 2), who="admin")
    assert raised.value.first.id == first.id
    assert await row_counts() == before
    await store.oncall.add_override(SMITH, cover(jones, FRIDAY_6PM + timedelta(hours=14), 2), who="admin")
    await store.oncall.add_override(SMITH, cover(jones, FRIDAY_6PM, 2, tier=Tier.BACKUP), who="admin")
    assert len((await store.oncall.schedule(SMITH)).overrides) == 3


async def test_given_an_override_changed_or_removed_then_stored_and_audited(store: SqlStore) -> None:
    jones, lee = await scheduled(store)
    first = await store.oncall.add_override(SMITH, cover(lee, FRIDAY_6PM, 14), who="admin")
    later = await store.oncall.add_override(
        SMITH, cover(jones, FRIDAY_6PM + timedelta(days=1), 4), who="admin"
    )
    moved = cover(jones, FRIDAY_6PM + timedelta(hours=20), 10)
    with pytest.raises(OverlappingOverrides):
        await store.oncall.change_override(SMITH, replace(moved, id=first.id), who="admin")
    shorter = replace(first, ends_at=first.ends_at - timedelta(hours=2))
    assert await store.oncall.change_override(SMITH, shorter, who="sue") == shorter
    await store.oncall.remove_override(SMITH, later.id, who="sue")
    assert (await store.oncall.schedule(SMITH)).overrides == (shorter,)
    with pytest.raises(OverrideNotFound):
        await store.oncall.remove_override(SMITH, later.id, who="sue")
    actions = [(c.who, c.action) for c in await store.oncall.changes(SMITH, limit=3)]
    assert actions == [
        ("sue", "override.removed"),
        ("sue", "override.changed"),
        ("admin", "override.created"),
    ]


async def test_given_no_schedule_or_a_bad_zone_then_clear_errors(store: SqlStore) -> None:
    jones, _ = await two_people(store)
    with pytest.raises(BusinessNotFound):
        await store.oncall.schedule(SMITH)
    with pytest.raises(BusinessNotFound):
        await store.oncall.add_override(SMITH, cover(jones, FRIDAY_6PM, 1), who="admin")
    with pytest.raises(InvalidSchedule):
        await store.oncall.set_timezone(SMITH, "Mars/Olympus", who="admin")
    moved = await store.oncall.set_timezone(SMITH, "Europe/London", who="admin")
    assert moved.timezone == "Europe/London"
    assert (
        await store.oncall.set_timezone(SMITH, "America/Chicago", who="admin")
    ).timezone == "America/Chicago"


async def test_given_an_instant_then_the_schedule_read_for_it_has_only_the_overrides_in_force(
    store: SqlStore,
) -> None:
    jones, lee = await scheduled(store)
    night = await store.oncall.add_override(SMITH, cover(lee, FRIDAY_6PM, 14), who="admin")
    await store.oncall.add_override(SMITH, cover(jones, FRIDAY_6PM + timedelta(days=7), 14), who="admin")
    at_night = await store.oncall.schedule(SMITH, at=FRIDAY_6PM + timedelta(hours=13, minutes=59))
    assert at_night.overrides == (night,)
    assert (await store.oncall.schedule(SMITH, at=night.ends_at)).overrides == ()
    whole = await store.oncall.schedule(SMITH)
    at = FRIDAY_6PM + timedelta(hours=3)
    assert Roster.of(await store.oncall.schedule(SMITH, at=at)).on_call(at) == Roster.of(whole).on_call(at)


async def test_given_two_overlapping_overrides_added_at_once_then_one_is_stored_and_the_other_refused(
    database_url: str, store: SqlStore
) -> None:
    """Two writers, each on its own store and connections: the check and the write of one must not
    interleave with the other's, or both pass the overlap check (they did on SQLite, where a SELECT
    takes no lock): the second waits for the first and is refused."""
    jones, lee = await scheduled(store)
    other = SqlStore.open(database_url, "US")
    try:
        results = await asyncio.gather(
            store.oncall.add_override(SMITH, cover(jones, FRIDAY_6PM, 10), who="a"),
            other.oncall.add_override(SMITH, cover(lee, FRIDAY_6PM + timedelta(hours=2), 10), who="b"),
            return_exceptions=True,
        )
    finally:
        await other.close()
    stored = (await store.oncall.schedule(SMITH)).overrides
    assert len(stored) == 1
    assert [type(r) for r in results if isinstance(r, BaseException)] == [OverlappingOverrides]
