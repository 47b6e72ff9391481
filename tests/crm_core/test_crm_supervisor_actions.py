"""The supervisors' audit trail in the store: every order kept, newest first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from crm_core.domain.errors import ValidationFailed
from crm_core.domain.supervisor_actions import SupervisorAction
from crm_core.sql.store import SqlStore

T0 = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)


async def test_given_orders_when_read_back_then_newest_first_with_who_and_outcome(store: SqlStore) -> None:
    first = SupervisorAction(T0, "sue", "not-ready", "a2", "meeting", "done")
    refused = SupervisorAction(T0 + timedelta(seconds=5), "sue", "logged-out", "a1", None, "not-allowed-now")
    await store.supervisor_actions.record(first)
    await store.supervisor_actions.record(refused)

    assert await store.supervisor_actions.recent() == [refused, first]
    assert await store.supervisor_actions.recent(limit=1) == [refused]


async def test_given_a_bad_order_when_recorded_then_refused_and_nothing_kept(store: SqlStore) -> None:
    with pytest.raises(ValidationFailed):
        await store.supervisor_actions.record(SupervisorAction(T0, " ", "listen", "a1", None, "done"))
    with pytest.raises(ValidationFailed):
        await store.supervisor_actions.record(
            SupervisorAction(datetime(2026, 11, 30), "sue", "listen", "a1", None, "done")
        )

    assert await store.supervisor_actions.recent() == []
