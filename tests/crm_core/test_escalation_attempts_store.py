"""The escalation attempts kept by the store (since 0015), on SQLite and PostgreSQL: each call's in the
order they were made, timestamps as aware UTC, and the count per result the call log shows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from crm_core.domain.escalations import Attempt, counts
from crm_core.sql.store import SqlStore

AT = datetime(2026, 3, 6, 23, 0, 0, 123456, tzinfo=UTC)


def attempt(call: str, n: int, result: str, person: str = "Dr. Lee") -> Attempt:
    start = AT + timedelta(seconds=20 * n)
    return Attempt(call=call, person=person, number="+14155550100", round=1 + n // 2, step=1 + n % 2,
                   started_at=start, ended_at=start + timedelta(seconds=12.5), result=result)  # fmt: skip


async def test_given_attempts_of_two_calls_then_each_calls_come_back_in_order(store: SqlStore) -> None:
    made = [attempt("c1", 0, "no-answer"), attempt("c2", 0, "busy"), attempt("c1", 1, "declined", "Dr. Kim"),
            attempt("c1", 2, "voicemail-or-no-key"), attempt("c1", 3, "accepted", "Dr. Kim")]  # fmt: skip
    for a in made:
        await store.escalations.record(a)
    found = await store.escalations.of_calls(["c1", "c2", "c3"])
    assert found == {"c1": tuple(a for a in made if a.call == "c1"), "c2": (made[1],)}
    assert found["c1"][0].started_at == AT and found["c1"][0].started_at.tzinfo is not None
    assert counts(found["c1"]) == {"no-answer": 1, "declined": 1, "voicemail-or-no-key": 1, "accepted": 1}
    assert await store.escalations.of_calls([]) == {}
