"""Which deliveries a taken message becomes: the line's rules, who is on call now, what is left out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from agent_console.desk import Notified
from config.deliveries import DeliveryRules, Rule
from crm_core.domain.deliveries import Channel, DeliveryStatus
from crm_core.domain.oncall import (
    BusinessNotFound,
    Cadence,
    Contact,
    ContactKind,
    PatchMethod,
    Rotation,
    Tier,
)
from crm_core.sql.store import SqlStore
from routing.ids import LineId
from switchboard.deliveries import MessagePlanner
from tests.moving_clock import Clock
from tests.switchboard.delivery_rig import open_store

SMITH, HVAC, OTHER = LineId("smith"), LineId("hvac"), LineId("other")
HOOK = "https://office.example.com/hook"
RULES = {
    SMITH: DeliveryRules(
        urgent=Rule(on_call=("sms", "email"), email=("dr.smith@example.com",), webhook=True),
        routine=Rule(email=("frontdesk@example.com",)),
    ),
    HVAC: DeliveryRules(urgent=Rule(on_call=("sms",)), routine=Rule(on_call=("sms",))),
}


class RecordingNotifier:
    """The old path (a line's webhook told at once), recording what it was handed."""

    def __init__(self) -> None:
        self.told: list[LineId] = []

    def configured(self, line: LineId) -> bool:
        return line == OTHER

    async def notify(self, line: LineId, payload: dict[str, Any]) -> Notified:
        self.told.append(line)
        return Notified(True, 1, None)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqlStore]:
    opened = await open_store(f"sqlite+aiosqlite:///{tmp_path}/planner.db", Clock())
    yield opened
    await opened.close()


def payload(urgent: bool, case_id: int = 7) -> dict[str, Any]:
    return {"case_id": case_id, "urgent": urgent, "line_name": "Dr. Smith's office", "message": "hi"}


def planner(store: SqlStore, woken: list[int], fallback: RecordingNotifier | None = None) -> MessagePlanner:
    now = lambda: datetime(2026, 12, 7, 3, tzinfo=UTC)  # noqa: E731 (a Monday night in New York)
    return MessagePlanner(RULES, store.deliveries, store.oncall, {SMITH: HOOK}, now, lambda: woken.append(1),
                          fallback)  # fmt: skip


async def on_call_jones(
    store: SqlStore, business: LineId = SMITH, contacts: tuple[Contact, ...] = ()
) -> None:
    ways = contacts or (
        Contact(ContactKind.MOBILE, "415-555-0123"),
        Contact(ContactKind.EMAIL, "j@example.org"),
    )
    jones = await store.oncall.add_person(business, "Dr. Jones", PatchMethod.WARM, ways, who="admin")
    await store.oncall.set_timezone(business, "America/New_York", who="admin")
    rotation = Rotation(
        tier=Tier.PRIMARY, cadence=Cadence.WEEKLY, people=(jones.id,), starts_on=date(2026, 3, 2)
    )
    await store.oncall.set_rotation(business, rotation, who="admin")


async def test_given_an_urgent_message_then_the_person_on_call_by_sms_and_email_the_doctor_and_the_webhook(
    store: SqlStore,
) -> None:
    await on_call_jones(store)
    woken: list[int] = []
    queued, problems = await planner(store, woken).queue_message(SMITH, payload(urgent=True))
    assert problems == [] and woken == [1]
    assert sorted((d.channel.value, d.recipient) for d in queued) == [
        ("email", "dr.smith@example.com"), ("email", "j@example.org"), ("sms", "+14155550123"),
        ("webhook", HOOK),
    ]  # fmt: skip
    assert all(d.status is DeliveryStatus.QUEUED and d.message_id == 7 for d in queued)


async def test_given_a_routine_message_then_only_the_front_desk_by_email(store: SqlStore) -> None:
    queued, _ = await planner(store, []).queue_message(SMITH, payload(urgent=False))
    assert [(d.channel, d.recipient) for d in queued] == [(Channel.EMAIL, "frontdesk@example.com")]


async def test_given_nobody_on_call_then_the_others_are_queued_and_the_agent_is_told(store: SqlStore) -> None:
    notified = await planner(store, []).notify(SMITH, payload(urgent=True))
    assert notified.ok and notified.attempts == 0
    assert notified.error == "smith has no on-call schedule"
    assert len(await store.deliveries.of_message(7)) == 2  # the doctor's address and the webhook


async def test_given_the_person_on_call_has_no_mobile_then_nothing_queued_and_said_why(
    store: SqlStore,
) -> None:
    await on_call_jones(store, HVAC, (Contact(ContactKind.EMAIL, "j@example.org"),))
    notified = await planner(store, []).notify(HVAC, payload(urgent=True))
    assert not notified.ok and notified.error == "Dr. Jones, on call, has no mobile for sms"
    assert await store.deliveries.of_message(7) == []


async def test_given_a_line_without_rules_then_the_old_notifier_tells_it(store: SqlStore) -> None:
    fallback = RecordingNotifier()
    chosen = planner(store, [], fallback)
    assert chosen.configured(OTHER) and chosen.configured(SMITH) and not chosen.configured(LineId("x"))
    assert await chosen.notify(OTHER, payload(urgent=True)) == Notified(True, 1, None)
    assert fallback.told == [OTHER] and await store.deliveries.counts() == {}


async def test_given_an_unknown_business_then_refused_and_nothing_queued(store: SqlStore) -> None:
    with pytest.raises(BusinessNotFound):
        await planner(store, []).queue_message(LineId("nope"), payload(urgent=True))
    assert await store.deliveries.counts() == {}


async def test_given_a_message_taken_on_a_call_then_its_deliveries_are_found_by_that_call(
    store: SqlStore,
) -> None:
    queued, _ = await planner(store, []).queue_message(SMITH, payload(urgent=False) | {"call": "c9"})
    assert [d.id for d in await store.deliveries.of_calls(["c9"])] == [d.id for d in queued]
    assert await store.deliveries.of_calls(["c1"]) == []
