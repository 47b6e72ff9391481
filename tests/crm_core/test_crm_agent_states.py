"""Agent state intervals in the store: each change ends the running interval and starts the next."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from crm_core.domain.agent_states import StateChange
from crm_core.domain.errors import ValidationFailed
from crm_core.sql.store import SqlStore

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


async def test_given_state_changes_when_read_back_then_each_is_an_interval_with_its_reason(
    store: SqlStore,
) -> None:
    states = store.agent_states
    await states.change("a1", "not-ready", "logged-in", at(0))
    await states.change("a1", "ready", None, at(10))
    await states.change("a1", "ringing", None, at(25))
    await states.change("a1", "on-call", None, at(30))
    await states.change("a1", "wrap-up", None, at(90))
    await states.change("a1", "not-ready", "lunch", at(120))
    await states.change("a1", "not-ready", "training", at(150))  # a new reason is a new interval

    found = await states.between(at(0), at(1000))

    assert [(i.state, i.reason, i.started_at, i.ended_at) for i in found] == [
        ("not-ready", "logged-in", at(0), at(10)),
        ("ready", None, at(10), at(25)),
        ("ringing", None, at(25), at(30)),
        ("on-call", None, at(30), at(90)),
        ("wrap-up", None, at(90), at(120)),
        ("not-ready", "lunch", at(120), at(150)),
        ("not-ready", "training", at(150), None),
    ]
    assert found[-1].seconds_within(at(0), at(200)) == 50.0


async def test_given_logout_when_read_back_then_the_last_interval_ends_and_no_logged_out_row_exists(
    store: SqlStore,
) -> None:
    await store.agent_states.change("a1", "ready", None, at(0))
    await store.agent_states.change("a1", "logged-out", None, at(60))

    found = await store.agent_states.between(at(0), at(1000))

    assert [(i.state, i.started_at, i.ended_at) for i in found] == [("ready", at(0), at(60))]


async def test_given_several_agents_when_filtered_then_only_theirs_overlapping_the_window_come_back(
    store: SqlStore,
) -> None:
    await store.agent_states.change("a1", "ready", None, at(0))
    await store.agent_states.change("a2", "ready", None, at(5))
    await store.agent_states.change("a1", "on-call", None, at(100))
    await store.agent_states.change("a1", "wrap-up", None, at(200))

    window = await store.agent_states.between(at(150), at(160), agents=["a1"])
    everyone = await store.agent_states.between(at(150), at(160))

    assert [(i.agent, i.state) for i in window] == [("a1", "on-call")]
    assert sorted((i.agent, i.state) for i in everyone) == [("a1", "on-call"), ("a2", "ready")]
    # An interval that ended exactly when the window opens is not in it.
    assert await store.agent_states.between(at(200), at(210), agents=["a1"]) == [
        i for i in await store.agent_states.between(at(0), at(1000), agents=["a1"]) if i.state == "wrap-up"
    ]


async def test_given_intervals_left_running_by_a_stopped_process_when_it_restarts_then_they_end(
    store: SqlStore,
) -> None:
    await store.agent_states.change("a1", "on-call", None, at(0))
    await store.agent_states.change("a2", "ready", None, at(0))

    assert await store.agent_states.close_all(at(300)) == 2
    assert all(i.ended_at == at(300) for i in await store.agent_states.between(at(0), at(1000)))
    assert await store.agent_states.close_all(at(400)) == 0


async def test_given_a_naive_timestamp_when_changing_state_then_it_is_refused(store: SqlStore) -> None:
    with pytest.raises(ValidationFailed):
        await store.agent_states.change("a1", "ready", None, datetime(2026, 11, 30, 9, 0))


async def test_given_a_ring_that_stopped_unanswered_when_stored_then_it_keeps_why(store: SqlStore) -> None:
    await store.agent_states.change("a1", "ringing", None, at(0))
    await store.agent_states.change("a1", "ready", None, at(15), ring_ended="ring-timeout")
    await store.agent_states.change("a1", "ringing", None, at(20))
    await store.agent_states.change("a1", "on-call", None, at(22))  # answered: no reason
    await store.agent_states.change("a1", "wrap-up", None, at(80), ring_ended="caller-hung-up")  # not ringing

    found = await store.agent_states.between(at(0), at(100))

    assert [(i.state, i.reason) for i in found] == [
        ("ringing", "ring-timeout"),
        ("ready", None),
        ("ringing", None),
        ("on-call", None),
        ("wrap-up", None),
    ]


async def test_given_a_batch_of_changes_when_written_at_once_then_the_same_intervals_as_one_by_one(
    store: SqlStore,
) -> None:
    changes = [
        StateChange("a1", "ready", None, at(0)),
        StateChange("a2", "ready", None, at(1)),
        StateChange("a1", "ringing", None, at(10)),
        StateChange("a1", "ready", None, at(25), ring_ended="ring-timeout"),
        StateChange("a2", "not-ready", "lunch", at(30)),
        StateChange("a1", "logged-out", None, at(40)),
        StateChange("a2", "ready", None, at(50)),
    ]
    await store.agent_states.change("a2", "not-ready", "logged-in", at(-5))  # running before the batch

    await store.agent_states.change_many(changes)

    found = await store.agent_states.between(at(-10), at(100))
    assert sorted((i.agent, i.started_at, i.state, i.reason, i.ended_at) for i in found) == [
        ("a1", at(0), "ready", None, at(10)),
        ("a1", at(10), "ringing", "ring-timeout", at(25)),
        ("a1", at(25), "ready", None, at(40)),
        ("a2", at(-5), "not-ready", "logged-in", at(1)),
        ("a2", at(1), "ready", None, at(30)),
        ("a2", at(30), "not-ready", "lunch", at(50)),
        ("a2", at(50), "ready", None, None),
    ]


async def test_given_a_batch_with_a_naive_time_when_written_then_nothing_is(store: SqlStore) -> None:
    with pytest.raises(ValidationFailed):
        await store.agent_states.change_many(
            [
                StateChange("a1", "ready", None, at(0)),
                StateChange("a1", "on-call", None, datetime(2026, 11, 30)),
            ]
        )

    assert await store.agent_states.between(at(-10), at(100)) == []
