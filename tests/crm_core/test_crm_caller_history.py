"""CallerHistory on SqlStore, against SQLite and PostgreSQL: the caller's latest answered call."""

from __future__ import annotations

from dataclasses import replace

from crm_core.sql.store import SqlStore
from routing.ids import AgentId, CallId
from routing.records import CallRecord, Outcome


def _call(base: CallRecord, n: int, **changes: object) -> CallRecord:
    """``base`` as the n-th call: its own id, n minutes later."""
    shifted = replace(
        base,
        call=CallId(f"call-{n}"),
        arrived_at=base.arrived_at + 60 * n,
        answered_at=None if base.answered_at is None else base.answered_at + 60 * n,
        ended_at=base.ended_at + 60 * n,
    )
    return replace(shifted, **changes)  # type: ignore[arg-type]


async def test_given_answered_and_unanswered_calls_when_asked_then_the_latest_answered_one(
    store: SqlStore, answered_call: CallRecord
) -> None:
    number = answered_call.caller_number
    await store.record(_call(answered_call, 1, agent=AgentId("a1")), None)
    await store.record(_call(answered_call, 2, agent=AgentId("a2")), None)
    await store.record(_call(answered_call, 3, agent=None, answered_at=None, outcome=Outcome.ABANDONED), None)
    await store.record(_call(answered_call, 4, caller_number="+14155550999", agent=AgentId("other")), None)
    last = await store.last_answered_call(number)
    assert last is not None
    assert (last.record.call, last.record.agent) == ("call-2", "a2")


async def test_given_a_customer_calling_from_another_number_when_asked_by_customer_then_found(
    store: SqlStore, answered_call: CallRecord
) -> None:
    ann = await store.add_customer("Ann", [("+14155550123", "mobile"), ("+14155550124", "office")])
    await store.record(_call(answered_call, 1, caller_number="+14155550124", agent=AgentId("a9")), ann.id)
    assert await store.last_answered_call("+14155550123") is None
    last = await store.last_answered_call("+14155550123", ann.id)
    assert last is not None and last.record.agent == "a9"


async def test_given_nothing_to_match_when_asked_then_none(
    store: SqlStore, answered_call: CallRecord
) -> None:
    await store.record(answered_call, None)
    assert await store.last_answered_call(None) is None
    assert await store.last_answered_call("+19995550000") is None
