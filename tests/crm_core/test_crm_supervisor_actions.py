"""The supervisors' audit trail in the store: every order kept, newest first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from crm_core.domain.errors import ValidationFailed
from crm_core.domain.supervisor_actions import SupervisorAction
from crm_core.sql.store import SqlStore

T0 = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)


async def test_given_orders_when_read_back_then_newest_first_with_who_and_outcome(store: SqlStore) -> None:
    first = SupervisorAction(
        at=T0, who="sue", action="not-ready", target="a2", detail="meeting", outcome="done"
    )
    refused = SupervisorAction(
        at=T0 + timedelta(seconds=5),
        who="sue",
        action="logged-out",
        target="a1",
        detail=None,
        outcome="not-allowed-now",
    )
    await store.supervisor_actions.record(first)
    await store.supervisor_actions.record(refused)

    assert await store.supervisor_actions.recent() == [refused, first]
    assert await store.supervisor_actions.recent(limit=1) == [refused]


async def test_given_a_bad_order_when_recorded_then_refused_and_nothing_kept(store: SqlStore) -> None:
    with pytest.raises(ValidationFailed):
        await store.supervisor_actions.record(
            SupervisorAction(at=T0, who=" ", action="listen", target="a1", detail=None, outcome="done")
        )
    with pytest.raises(ValidationFailed):
        await store.supervisor_actions.record(
            SupervisorAction(
                at=datetime(2026, 11, 30),
                who="sue",
                action="listen",
                target="a1",
                detail=None,
                outcome="done",
            )
        )

    assert await store.supervisor_actions.recent() == []
