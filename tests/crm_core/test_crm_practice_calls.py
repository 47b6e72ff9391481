"""Practice calls (demo, training) in the call log, on SQLite and PostgreSQL: marked, kept marked, and
left out of every report query (calls by day, hour, queue, line, source; agents; the wallboard's read)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime

import pytest

from crm_core.domain.calls import Practice
from crm_core.domain.reports import Grouping
from crm_core.sql.store import SqlStore
from routing.ids import AgentId, CallId, QueueId
from routing.records import Outcome
from tests.crm_core.test_crm_reports import LATE, NEW_YORK, TARGET, _load, record

FIRST, LAST = date(2026, 11, 30), date(2026, 12, 1)


async def _practice(store: SqlStore) -> None:
    """Practice calls on the same day, queue, line, sources and agents as the real ones, with a stretch
    of a transferred call and an agent's wrap-up right after one: every query would count them."""
    for n, practice in enumerate((Practice.DEMO, Practice.TRAINING)):
        start = 5 + n * 10
        whole = record(f"p{n}", Outcome.ANSWERED, 3, 40, start=start, agent="a1")
        await store.record(whole, None, practice)
        stretch = record(f"p{n}~1", Outcome.TRANSFERRED, 3, 12, start=start, agent="a2", part_of=f"p{n}")
        await store.record(stretch, None, practice)
        gone = record(f"p{n}-gone", Outcome.ABANDONED, 30, start=start, source="radio")
        await store.record(dataclasses.replace(gone, queue=QueueId("training")), None, practice)
    at = datetime.fromtimestamp
    await store.agent_states.change(
        "a2", "wrap-up", None, at(LATE + 5 + 3 + 40, UTC)
    )  # after p0, as a1 would
    await store.agent_states.change("a2", "ready", None, at(LATE + 5 + 3 + 40 + 20, UTC))


async def _reports(store: SqlStore) -> list[object]:
    """Every call report, the agents' calls handled and talk, and the calls the wallboard loads. (The
    agents' time in each state is the agents' time, practice or not: kept.)"""
    calls = [await store.reports.calls(FIRST, LAST, NEW_YORK, grouping, TARGET) for grouping in Grouping]
    agents = (await store.reports.agents(FIRST, LAST, NEW_YORK)).agents
    handled = {agent: (f.handled, f.talk_s) for agent, f in agents.items()}
    since, until = datetime(2026, 11, 30, tzinfo=UTC), datetime(2026, 12, 3, tzinfo=UTC)
    return [*calls, handled, await store.reports.calls_between(since, until)]


@pytest.mark.parametrize("practice", list(Practice))
async def test_given_a_practice_call_when_logged_then_it_is_marked_and_recording_it_again_keeps_the_mark(
    store: SqlStore, practice: Practice
) -> None:
    call = record("p", Outcome.ANSWERED, 3, 40, agent="a1")
    await store.record(call, None, practice)
    await store.record(call, None)  # the desk attaching a customer, a new leader's catch-up: no mark given

    logged = await store.get_call(CallId("p"))
    assert logged is not None and logged.practice is practice
    await store.record(record("r", Outcome.ANSWERED, 3, 40), None)
    real = await store.get_call(CallId("r"))
    assert real is not None and real.practice is None


async def test_given_real_and_practice_calls_when_reported_then_every_report_counts_the_real_ones_only(
    store: SqlStore,
) -> None:
    await _load(store)
    only_real = await _reports(store)

    await _practice(store)
    with_practice = await _reports(store)

    assert with_practice == only_real
    assert len(await store.recent_calls(50)) == 5 + 6  # the log itself keeps them all


async def test_given_only_practice_calls_when_reported_then_the_reports_are_empty(store: SqlStore) -> None:
    await _practice(store)

    by_queue = await store.reports.calls(FIRST, LAST, NEW_YORK, Grouping.QUEUE, TARGET)
    agents = await store.reports.agents(FIRST, LAST, NEW_YORK)

    assert by_queue.rows == {} and by_queue.total.entered == 0
    assert [(f.handled, f.talk_s) for f in agents.agents.values()] == [(0, 0.0)]  # a2: their states only
    assert AgentId("a1") not in agents.agents


async def test_given_a_trainees_practice_call_when_read_back_then_the_mark_is_its_practice(
    store: SqlStore,
) -> None:
    call = dataclasses.replace(record("t", Outcome.ANSWERED, 3, 40, agent="a1"), training=True)
    await store.record(
        call, None, Practice.TRAINING
    )  # the mark is the practice column's: no column of its own
    logged = await store.get_call(CallId("t"))
    assert logged is not None and logged.practice is Practice.TRAINING
    assert logged.record == dataclasses.replace(call, training=False)
