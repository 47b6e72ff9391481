"""CallLog on SqlStore, against SQLite and PostgreSQL: recording calls, reading them back."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from crm_core.domain.calls import CallToLog, LoggedCall, Practice
from crm_core.domain.errors import CustomerNotFound
from crm_core.sql.engine import open_engine
from crm_core.sql.store import SqlStore
from routing.ids import CallId
from routing.records import CallRecord, EndReason, Outcome, Party
from tests.crm_core.conftest import EMPTY

RowCounts = Callable[[], Awaitable[dict[str, int]]]


def _call(base: CallRecord, n: int, **changes: object) -> CallRecord:
    """``base`` as the n-th call of the day: its own id, arriving n minutes later."""
    shifted = replace(
        base,
        call=CallId(f"call-{n}"),
        arrived_at=base.arrived_at + 60 * n,
        answered_at=None if base.answered_at is None else base.answered_at + 60 * n,
        ended_at=base.ended_at + 60 * n,
    )
    return replace(shifted, **changes)  # type: ignore[arg-type]


async def test_given_answered_call_when_recorded_then_read_back_with_every_field(
    store: SqlStore, answered_call: CallRecord
) -> None:
    ann = await store.add_customer("Ann", [("+14155550123", "mobile")])

    await store.record(answered_call, ann.id)
    logged = await store.get_call(answered_call.call)

    assert logged == LoggedCall.from_record(answered_call, ann.id)
    assert logged is not None
    assert logged.arrived_at == datetime(2023, 11, 14, 22, 13, 20, 250_000, tzinfo=UTC)
    assert logged.answered_at == datetime(2023, 11, 14, 22, 13, 32, 500_000, tzinfo=UTC)
    assert logged.ended_at == datetime(2023, 11, 14, 22, 15, 0, 750_000, tzinfo=UTC)
    assert logged.arrived_at.utcoffset() is not None
    assert (logged.wait_s, logged.talk_s) == (answered_call.wait_s, answered_call.talk_s) == (12.25, 88.25)


async def test_given_call_with_every_optional_field_empty_when_recorded_then_read_back_as_none(
    store: SqlStore, answered_call: CallRecord
) -> None:
    bare = replace(
        answered_call,
        source=None,
        line=None,
        line_name=None,
        queue=None,
        caller_number=None,
        caller_name=None,
        agent=None,
        answered_at=None,
        outcome=Outcome.NO_AGENT,
        hung_up_by=Party.SYSTEM,
        offers=0,
    )

    await store.record(bare, None)

    assert await store.get_call(bare.call) == LoggedCall.from_record(bare, None)


@pytest.mark.parametrize(
    "changes",
    [
        {"priority": 10},
        {"after_hours": True},
        {"after_hours": True, "on_call": "Dr. Jones (backup)"},
        {"outcome": Outcome.VOICEMAIL, "recording": "vm-1700000000.42"},
        {"outcome": Outcome.CALLBACK},
        {"outcome": Outcome.UNREACHED, "callback_of": CallId("1699999000.1")},
        {"call": CallId("1.5~1"), "outcome": Outcome.TRANSFERRED, "part_of": CallId("1.5")},
        {"hung_up_by": Party.SYSTEM, "end_reason": EndReason.PBX_RESTART},
        {"outcome": Outcome.ABANDONED, "end_reason": EndReason.UNSEEN},
    ],
)
async def test_given_call_with_an_acd_field_when_recorded_then_read_back_with_it(
    store: SqlStore, answered_call: CallRecord, changes: dict[str, object]
) -> None:
    call = replace(answered_call, **changes)  # type: ignore[arg-type]

    await store.record(call, None)
    logged = await store.get_call(call.call)

    assert logged == LoggedCall.from_record(call, None)
    assert logged is not None
    for name, value in changes.items():
        assert getattr(logged.record, name) == value


async def test_given_acd_fields_when_recorded_again_without_them_then_they_are_replaced(
    store: SqlStore, answered_call: CallRecord
) -> None:
    await store.record(replace(answered_call, priority=5, after_hours=True, on_call="Dr. Smith"), None)

    await store.record(answered_call, None)

    assert await store.get_call(answered_call.call) == LoggedCall.from_record(answered_call, None)


async def test_given_sub_second_durations_when_recorded_then_floats_kept_exactly(
    store: SqlStore, answered_call: CallRecord
) -> None:
    odd = replace(answered_call, arrived_at=1_700_000_000.1, answered_at=1_700_000_000.3)

    await store.record(odd, None)
    logged = await store.get_call(odd.call)

    assert logged is not None
    assert (logged.wait_s, logged.talk_s) == (odd.wait_s, odd.talk_s)


async def test_given_empty_log_when_unknown_call_asked_for_then_none(store: SqlStore) -> None:
    assert await store.get_call("no-such-call") is None
    assert await store.recent_calls() == []


async def test_given_recorded_call_when_recorded_again_then_one_row_with_the_new_values(
    store: SqlStore, answered_call: CallRecord, row_counts: RowCounts
) -> None:
    ann = await store.add_customer("Ann", [("+14155550123", "mobile")])
    await store.record(answered_call, None)
    corrected = replace(answered_call, ended_at=answered_call.ended_at + 30, hung_up_by=Party.AGENT)

    await store.record(corrected, ann.id)

    assert await store.get_call(answered_call.call) == LoggedCall.from_record(corrected, ann.id)
    assert (await row_counts())["calls"] == 1


async def test_given_same_call_recorded_twice_when_listing_then_listed_once(
    store: SqlStore, answered_call: CallRecord
) -> None:
    await store.record(answered_call, None)
    await store.record(answered_call, None)

    assert await store.recent_calls() == [LoggedCall.from_record(answered_call, None)]


async def test_given_calls_recorded_out_of_order_when_listing_then_newest_arrival_first(
    store: SqlStore, answered_call: CallRecord
) -> None:
    for n in (2, 0, 3, 1):
        await store.record(_call(answered_call, n), None)

    listed = await store.recent_calls()

    assert [call.record.call for call in listed] == ["call-3", "call-2", "call-1", "call-0"]


async def test_given_more_calls_than_limit_when_listing_then_only_the_newest(
    store: SqlStore, answered_call: CallRecord
) -> None:
    for n in range(5):
        await store.record(_call(answered_call, n), None)

    assert [call.record.call for call in await store.recent_calls(limit=2)] == ["call-4", "call-3"]
    assert await store.recent_calls(limit=0) == []


async def test_given_negative_limit_when_listing_then_value_error(store: SqlStore) -> None:
    with pytest.raises(ValueError, match="limit"):
        await store.recent_calls(limit=-1)


async def test_given_calls_of_several_customers_when_filtering_then_only_that_customers_newest_first(
    store: SqlStore, answered_call: CallRecord
) -> None:
    ann = await store.add_customer("Ann", [("+14155550123", "mobile")])
    bo = await store.add_customer("Bo", [("+14155550124", "mobile")])
    owners = [ann.id, bo.id, None, ann.id, bo.id, ann.id]
    for n, owner in enumerate(owners):
        await store.record(_call(answered_call, n), owner)

    anns = await store.recent_calls(customer_id=ann.id)

    assert [call.record.call for call in anns] == ["call-5", "call-3", "call-0"]
    assert {call.customer_id for call in anns} == {ann.id}
    assert [call.record.call for call in await store.recent_calls(limit=1, customer_id=bo.id)] == ["call-4"]


async def test_given_unknown_customer_when_recording_then_customer_not_found_and_nothing_written(
    store: SqlStore, answered_call: CallRecord, row_counts: RowCounts
) -> None:
    with pytest.raises(CustomerNotFound) as raised:
        await store.record(answered_call, 404)

    assert raised.value.id == 404
    assert (await row_counts())["calls"] == 0


async def test_given_customer_with_calls_when_customer_row_deleted_then_calls_kept_and_phones_gone(
    store: SqlStore, answered_call: CallRecord, database_url: str, row_counts: RowCounts
) -> None:
    ann = await store.add_customer("Ann", [("+14155550123", "mobile"), ("+14155550124", "home")])
    await store.record(answered_call, ann.id)

    # There is no delete in the ports yet; this proves the foreign-key rules (and SQLite's pragma) hold.
    engine = open_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("DELETE FROM customers WHERE id = :id"), {"id": ann.id})
    finally:
        await engine.dispose()

    logged = await store.get_call(answered_call.call)
    assert logged is not None
    assert logged.customer_id is None
    assert await row_counts() == {**EMPTY, "calls": 1}


async def test_given_calls_recorded_when_asked_which_are_logged_then_exactly_those(
    store: SqlStore, answered_call: CallRecord
) -> None:
    for n in (1, 2, 600):  # 600: past the first chunk of the question
        await store.record(_call(answered_call, n), None)
    asked = {f"call-{n}" for n in range(1, 700)} | {"never"}
    assert await store.logged(asked) == {"call-1", "call-2", "call-600"}
    assert await store.logged(set()) == set()


async def test_given_a_batch_when_recorded_many_then_each_call_reads_back_as_recorded_alone(
    store: SqlStore, answered_call: CallRecord
) -> None:
    ann = await store.add_customer("Ann", [("+14155550123", "mobile")])
    calls = [_call(answered_call, n) for n in range(3)]
    await store.record(replace(calls[0], agent=None), None)  # an earlier write of the first: replaced

    gone = await store.record_many(
        [
            CallToLog(calls[0], ann.id),
            CallToLog(calls[1], None, Practice.TRAINING),
            CallToLog(calls[2], ann.id + 1000),  # a customer erased since the caller was matched
        ]
    )

    assert gone == {"call-2"}
    logged = [await store.get_call(c.call) for c in calls]
    assert logged == [
        LoggedCall.from_record(calls[0], ann.id),
        replace(LoggedCall.from_record(calls[1], None), practice=Practice.TRAINING),
        LoggedCall.from_record(calls[2], None),
    ]


async def test_given_a_practice_mark_when_a_batch_writes_the_call_again_then_the_mark_is_kept(
    store: SqlStore, answered_call: CallRecord
) -> None:
    await store.record_many([CallToLog(answered_call, None, Practice.DEMO)])
    await store.record_many([CallToLog(replace(answered_call, agent=None), None)])  # no mark: keeps it
    logged = await store.get_call(answered_call.call)
    assert logged is not None and (logged.practice, logged.record.agent) == (Practice.DEMO, None)
