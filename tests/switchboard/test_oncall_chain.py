"""Whom an escalation rings, from a business's on-call schedule in a real (SQLite) store: each tier in
order, the person on call now in it (an override first), on their first number; message-only people
are not rung; no schedule, no chain (the router then rings the line's own)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from crm_core.domain.oncall import (
    Cadence,
    Contact,
    ContactKind,
    Override,
    PatchMethod,
    Person,
    Rotation,
    Tier,
)
from crm_core.sql.store import SqlStore
from routing.ids import LineId
from routing.plan import OnCallStep
from switchboard.oncall_chain import OnCallChain
from tests.support import sqlite_store

SMITH = LineId("smith")
OUT = "Local/{number}@switchboard-outbound"
MONDAY_NOON = datetime(2026, 3, 2, 17, tzinfo=UTC)  # 12:00 in New York, after the 09:00 hand-off


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqlStore]:
    async with sqlite_store(tmp_path) as store:
        yield store


async def person(store: SqlStore, name: str, patch: PatchMethod, *contacts: Contact) -> Person:
    return await store.oncall.add_person(SMITH, name, patch, list(contacts), who="admin")


def phone(number: str) -> Contact:
    return Contact(ContactKind.PHONE, number)


async def rota(store: SqlStore, tier: Tier, *people: Person) -> None:
    rotation = Rotation(tier=tier, cadence=Cadence.WEEKLY, people=tuple(p.id for p in people),
                        starts_on=date(2026, 3, 2))  # fmt: skip
    await store.oncall.set_rotation(SMITH, rotation, who="admin")


async def test_given_three_tiers_then_each_on_call_person_in_tier_order_on_their_first_number_warm_or_not(
    store: SqlStore,
) -> None:
    await store.oncall.set_timezone(SMITH, "America/New_York", who="admin")
    lee = await person(store, "Dr. Lee", PatchMethod.COLD, phone("+1 415 555 0100"), phone("+14155550101"))
    park = await person(store, "Dr. Park", PatchMethod.WARM, Contact(ContactKind.MOBILE, "+14155550102"))
    kim = await person(store, "Ms. Kim", PatchMethod.COLD, Contact(ContactKind.EMAIL, "kim@example.org"),
                       phone("+14155550103"))  # fmt: skip
    await rota(store, Tier.MANAGER, kim)
    await rota(store, Tier.PRIMARY, lee, park)
    await rota(store, Tier.BACKUP, park)
    chain = await OnCallChain(store.oncall, OUT, ring_s=15)(SMITH, MONDAY_NOON.timestamp())
    assert chain == (
        OnCallStep("Dr. Lee", "Local/+14155550100@switchboard-outbound", 15, number="+14155550100"),
        OnCallStep(
            "Dr. Park", "Local/+14155550102@switchboard-outbound", 15, number="+14155550102", warm=True
        ),
        OnCallStep("Ms. Kim", "Local/+14155550103@switchboard-outbound", 15, number="+14155550103"),
    )
    # A week on, Dr. Park is primary and backup: rung once.
    later = await OnCallChain(store.oncall, OUT)((SMITH), (MONDAY_NOON + timedelta(days=7)).timestamp())
    assert [s.name for s in later] == ["Dr. Park", "Ms. Kim"] and later[0].ring_timeout_s == 20


async def test_given_a_message_only_primary_and_an_override_then_the_override_and_not_the_message_only(
    store: SqlStore,
) -> None:
    await store.oncall.set_timezone(SMITH, "America/New_York", who="admin")
    notes = await person(store, "Dr. Notes", PatchMethod.MESSAGE_ONLY, phone("+14155550110"))
    lee = await person(store, "Dr. Lee", PatchMethod.COLD, phone("+14155550100"))
    jones = await person(store, "Dr. Jones", PatchMethod.COLD, phone("+14155550120"))
    await rota(store, Tier.PRIMARY, notes)
    await rota(store, Tier.BACKUP, lee)
    chain = OnCallChain(store.oncall, OUT)
    assert [s.name for s in await chain(SMITH, MONDAY_NOON.timestamp())] == ["Dr. Lee"]
    cover = Override(id=0, tier=Tier.BACKUP, person=jones.id, starts_at=MONDAY_NOON,
                     ends_at=MONDAY_NOON + timedelta(hours=2), reason="Dr. Jones covers")  # fmt: skip
    await store.oncall.add_override(SMITH, cover, who="admin")
    assert [s.name for s in await chain(SMITH, MONDAY_NOON.timestamp() + 60)] == ["Dr. Jones"]


async def test_given_no_schedule_or_nobody_on_call_then_no_chain(store: SqlStore) -> None:
    chain = OnCallChain(store.oncall, OUT)
    assert await chain(LineId("nobody"), MONDAY_NOON.timestamp()) == ()
    await person(store, "Dr. Lee", PatchMethod.COLD, phone("+14155550100"))  # people, no rotation
    assert await chain(SMITH, MONDAY_NOON.timestamp()) == ()
