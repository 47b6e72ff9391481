"""Reports from the store, on SQLite and PostgreSQL: the same hand-computed figures as the pure tests."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from crm_core.domain.errors import ValidationFailed
from crm_core.domain.figures import ServiceLevelFormula, ServiceTarget
from crm_core.domain.reports import Grouping
from crm_core.sql.store import SqlStore
from routing.ids import AgentId, CallId, LineId, QueueId
from routing.records import CallRecord, Outcome, Party

NEW_YORK = ZoneInfo("America/New_York")
TARGET = ServiceTarget(answer_within_s=20, short_abandon_s=5)
# 30 November 2026, 23:59:00 in New York: the calls straddle midnight in the line's zone.
LATE = datetime(2026, 12, 1, 4, 59, 0, tzinfo=UTC).timestamp()


def record(
    call: str,
    outcome: Outcome,
    wait: float,
    talk: float = 0.0,
    *,
    start: float = 0.0,
    agent: str | None = None,
    source: str = "web",
    part_of: str | None = None,
) -> CallRecord:
    arrived = LATE + start
    answered = arrived + wait if talk else None
    return CallRecord(
        call=CallId(call), did="+18005550103", source=source, line=LineId("acme"), line_name="Acme",
        queue=QueueId("sales"), caller_number="+14155550123", caller_name=None,
        agent=None if agent is None else AgentId(agent), arrived_at=arrived, answered_at=answered,
        ended_at=arrived + wait + talk, outcome=outcome, hung_up_by=Party.CALLER, offers=1,
        part_of=None if part_of is None else CallId(part_of),
    )  # fmt: skip


CALLS = [
    record("c1", Outcome.ANSWERED, 10, 60, agent="a1"),  # 23:59:00 on the 30th
    record("c2", Outcome.ABANDONED, 5.0, start=30, source="radio"),  # 23:59:30, abandoned at the threshold
    record("c3", Outcome.ABANDONED, 4.9, start=59, source="radio"),  # 23:59:59, a short abandon
    record("c4", Outcome.ANSWERED, 25, 30, start=60, agent="a1"),  # 00:00:00 on the 1st: the next day
    record("c4~1", Outcome.TRANSFERRED, 25, 10, start=60, agent="a2", part_of="c4"),
]


async def _load(store: SqlStore) -> None:
    for call in CALLS:
        await store.record(call, None)
    at = datetime.fromtimestamp
    await store.agent_states.change("a1", "ready", None, at(LATE - 60, UTC))
    await store.agent_states.change("a1", "on-call", None, at(LATE + 10, UTC))
    await store.agent_states.change("a1", "wrap-up", None, at(LATE + 70, UTC))  # c1 ended
    await store.agent_states.change("a1", "ready", None, at(LATE + 85, UTC))


async def test_given_calls_across_midnight_when_reported_by_day_then_each_day_has_its_own(
    store: SqlStore,
) -> None:
    await _load(store)

    report = await store.reports.calls(date(2026, 11, 30), date(2026, 12, 1), NEW_YORK, Grouping.DAY, TARGET)

    assert list(report.rows) == ["2026-11-30", "2026-12-01"]
    first, second = report.rows["2026-11-30"], report.rows["2026-12-01"]
    assert (first.entered, first.short_abandons, first.answered, first.abandoned) == (3, 1, 1, 1)
    assert first.service_level(ServiceLevelFormula.OFFERED) == 0.5
    assert first.average_handle_s == 60 + 15  # c1's talk and a1's 15 s of wrap-up after it
    assert (second.entered, second.answered, second.answered_within) == (1, 1, 0)
    assert second.average_handle_s == 30 + 10  # both agents' stretches of c4
    assert report.total.entered == 4 and report.zone == "America/New_York"


async def test_given_a_one_day_report_when_read_then_calls_of_the_next_day_are_not_in_it(
    store: SqlStore,
) -> None:
    await _load(store)

    by_source = await store.reports.calls(
        date(2026, 11, 30), date(2026, 11, 30), NEW_YORK, Grouping.SOURCE, TARGET
    )
    by_hour = await store.reports.calls(
        date(2026, 11, 30), date(2026, 12, 1), NEW_YORK, Grouping.HOUR, TARGET
    )

    assert {k: v.entered for k, v in by_source.rows.items()} == {"web": 1, "radio": 2}
    assert {k: v.entered for k, v in by_hour.rows.items()} == {"00": 1, "23": 3}


async def test_given_agent_states_when_reported_then_occupancy_and_handled_calls_come_from_the_store(
    store: SqlStore,
) -> None:
    await _load(store)

    report = await store.reports.agents(date(2026, 11, 30), date(2026, 12, 1), NEW_YORK)

    a1 = report.agents[AgentId("a1")]
    assert (a1.handled, a1.seconds_in["on-call"], a1.seconds_in["wrap-up"]) == (2, 60, 15)
    assert report.agents[AgentId("a2")].handled == 1


async def test_given_a_backwards_or_overlong_range_when_reported_then_it_is_refused(store: SqlStore) -> None:
    with pytest.raises(ValidationFailed):
        await store.reports.calls(date(2026, 12, 2), date(2026, 12, 1), NEW_YORK, Grouping.DAY, TARGET)
    with pytest.raises(ValidationFailed):
        await store.reports.agents(date(2025, 1, 1), date(2026, 12, 1), NEW_YORK)
