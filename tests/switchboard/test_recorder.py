"""The call-log writer: a store that fails for a while loses no call, and the caller is still matched."""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from crm_core.domain.calls import CallToLog, LoggedCall, Practice
from crm_core.domain.escalations import Attempt
from crm_core.domain.overview import CustomerCard
from crm_core.sql.store import SqlStore
from routing import commands as cmd
from routing.ids import CallId
from routing.records import CallRecord, Outcome
from switchboard.callers import CallerCache
from switchboard.recorder import BATCH, AttemptRecorder, CallRecorder
from tests.support import radio_call

JANE = CustomerCard(id=7, name="Jane Doe", company=None, email=None)


class FlakyStore:
    """Fails the first ``failures`` lookups and writes, then works; records what was written."""

    def __init__(self, failures: int) -> None:
        self.lookup_failures = failures
        self.write_failures = failures
        self.written: list[tuple[CallRecord, int | None]] = []
        self.batches: list[int] = []  # calls a write

    async def find_by_number(self, e164: str) -> CustomerCard | None:
        raise NotImplementedError  # the cache asks for every owner of the number

    async def find_all_by_number(self, e164: str, limit: int = 1000) -> tuple[CustomerCard, ...]:
        if self.lookup_failures:
            self.lookup_failures -= 1
            raise ConnectionError("database restarting")
        return (JANE,) if e164 == "+14155550123" else ()

    async def record(
        self, record: CallRecord, customer_id: int | None, practice: Practice | None = None
    ) -> None:
        if self.write_failures:
            self.write_failures -= 1
            raise ConnectionError("database restarting")
        self.written.append((record, customer_id))

    async def record_many(self, calls: Sequence[CallToLog]) -> frozenset[str]:
        if self.write_failures:
            self.write_failures -= 1
            raise ConnectionError("database restarting")
        self.written.extend((c.record, c.customer_id) for c in calls)
        self.batches.append(len(calls))
        return frozenset()

    async def add_customer(self, *args: object, **kwargs: object) -> CustomerCard:
        raise NotImplementedError

    async def recent_calls(self, limit: int = 50, customer_id: int | None = None) -> list[LoggedCall]:
        raise NotImplementedError

    async def get_call(self, call_id: str) -> LoggedCall | None:
        raise NotImplementedError


def record(call: str) -> CallRecord:
    return radio_call(call)


async def test_given_a_failing_store_when_calls_are_logged_then_each_is_written_once_with_its_customer() -> (
    None
):
    store = FlakyStore(failures=2)
    callers = CallerCache(store)  # type: ignore[arg-type]
    recorder = CallRecorder(store, callers, retry_s=0.001)  # type: ignore[arg-type]
    callers.prefetch(CallId("c1"), "+14155550123")  # as at the call's arrival: this lookup fails
    runner = asyncio.create_task(recorder.run())
    recorder.notice(cmd.LogCall(record("c1")))
    recorder.notice(cmd.LogCall(record("c2")))
    await asyncio.wait_for(recorder.flush(), 5)
    runner.cancel()
    assert [(r.call, customer) for r, customer in store.written] == [("c1", 7), ("c2", 7)]
    assert callers.peek(CallId("c1")) == (False, None)  # forgotten once logged


async def test_given_a_customer_the_router_kept_for_the_call_then_it_is_logged_not_the_lookups() -> None:
    """After a restart or a failover this process's lookup knows nothing of the agent's pick; the router
    does (``CustomerNamed``), and the record it hands over names it."""
    store = FlakyStore(failures=0)
    callers = CallerCache(store)  # type: ignore[arg-type]
    recorder = CallRecorder(store, callers, retry_s=0.001)  # type: ignore[arg-type]
    runner = asyncio.create_task(recorder.run())
    recorder.notice(cmd.LogCall(record("c1"), customer="42"))  # the number is Jane's alone: 7 by lookup
    recorder.notice(cmd.LogCall(record("c2")))
    await asyncio.wait_for(recorder.flush(), 5)
    runner.cancel()
    assert [(r.call, customer) for r, customer in store.written] == [("c1", 42), ("c2", 7)]


@pytest.mark.parametrize("outcome", [Outcome.VOICEMAIL, Outcome.CALLBACK, Outcome.UNREACHED])
async def test_given_the_new_outcomes_when_logged_then_the_real_store_keeps_them(
    sqlite_store: SqlStore, outcome: Outcome
) -> None:
    store = sqlite_store
    jane = await store.add_customer("Jane Doe", [("+14155550123", "mobile")])
    recorder = CallRecorder(store, CallerCache(store))
    runner = asyncio.create_task(recorder.run())
    finished = replace(record("c1"), outcome=outcome, after_hours=True, callback_of=CallId("c0"))
    recorder.notice(cmd.LogCall(finished))
    await asyncio.wait_for(recorder.flush(), 5)
    runner.cancel()
    logged = await store.get_call("c1")
    assert logged is not None
    assert (logged.record.outcome, logged.customer_id) == (outcome, jane.id)


async def test_given_an_after_hours_voicemail_and_a_callback_when_logged_then_every_acd_field_is_stored(
    sqlite_store: SqlStore,
) -> None:
    store = sqlite_store
    recorder = CallRecorder(store, CallerCache(store))
    runner = asyncio.create_task(recorder.run())
    voicemail = replace(
        record("c1"),
        outcome=Outcome.VOICEMAIL,
        priority=10,
        after_hours=True,
        on_call="Dr. Jones (backup)",
        recording="vm-c1",
    )
    callback = replace(record("c2"), outcome=Outcome.UNREACHED, priority=5, callback_of=CallId("c1"))
    recorder.notice(cmd.LogCall(voicemail))
    recorder.notice(cmd.LogCall(callback))
    await asyncio.wait_for(recorder.flush(), 5)
    runner.cancel()
    stored = [await store.get_call("c1"), await store.get_call("c2")]
    assert [
        None
        if c is None
        else (
            c.record.priority,
            c.record.after_hours,
            c.record.on_call,
            c.record.recording,
            c.record.callback_of,
        )
        for c in stored
    ] == [(10, True, "Dr. Jones (backup)", "vm-c1", None), (5, False, None, None, "c1")]


async def test_given_a_record_still_failing_when_waiting_for_it_then_the_wait_ends_when_it_is_written() -> (
    None
):
    store = FlakyStore(failures=3)
    callers = CallerCache(store)  # type: ignore[arg-type]
    recorder = CallRecorder(store, callers, retry_s=0.05)  # type: ignore[arg-type]
    waiting = asyncio.create_task(recorder.written(CallId("c1"), 5))  # asked before the router logs it
    await asyncio.sleep(0)
    assert not recorder.seen(CallId("c1"))
    recorder.notice(cmd.LogCall(record("c1")))
    assert recorder.seen(CallId("c1"))
    runner = asyncio.create_task(recorder.run())
    assert await asyncio.wait_for(waiting, 5) is True
    assert [r.call for r, _ in store.written] == ["c1"]  # it waited for the write, through the failures
    assert await recorder.written(CallId("c1"), 0) is True  # once written, at once
    runner.cancel()


async def test_given_a_record_never_written_when_waiting_then_false_after_the_bound_and_no_waiter_kept() -> (
    None
):
    store = FlakyStore(failures=0)
    recorder = CallRecorder(store, CallerCache(store))  # type: ignore[arg-type]
    recorder.notice(cmd.LogCall(record("c1")))  # handed over, but nobody runs the writer
    assert await recorder.written(CallId("c1"), 0.05) is False
    assert await recorder.written(CallId("c9"), 0.05) is False
    assert recorder._waiters == {}


async def test_given_a_replay_when_its_calls_are_written_then_only_those_missing_from_the_log(
    sqlite_store: SqlStore,
) -> None:
    store = sqlite_store
    before = replace(record("c1"), ended_at=record("c1").ended_at + 7.0)  # as a stale row would differ
    await store.record(before, None)  # written before the crash
    recorder = CallRecorder(store, CallerCache(store))
    runner = asyncio.create_task(recorder.run())
    queued = await recorder.replayed([cmd.LogCall(record("c1")), cmd.LogCall(record("c2"))])
    await asyncio.wait_for(recorder.flush(), 5)
    runner.cancel()
    assert queued == 1
    first, second = await store.get_call("c1"), await store.get_call("c2")
    assert first is not None and first.record == before  # left as it was: not written again
    assert second is not None and second.record == record("c2")


async def test_given_a_classifier_when_calls_are_logged_then_the_practice_ones_are_stored_marked(
    sqlite_store: SqlStore,
) -> None:
    store = sqlite_store
    demo = {CallId("c2"): Practice.DEMO, CallId("c3"): Practice.TRAINING}
    recorder = CallRecorder(store, CallerCache(store), practice=lambda r: demo.get(r.call))
    runner = asyncio.create_task(recorder.run())
    for call in ("c1", "c2", "c3"):
        recorder.notice(cmd.LogCall(record(call)))
    await asyncio.wait_for(recorder.flush(), 5)
    runner.cancel()
    stored = [await store.get_call(call) for call in ("c1", "c2", "c3")]
    assert [None if c is None else c.practice for c in stored] == [None, Practice.DEMO, Practice.TRAINING]


async def test_given_calls_waiting_when_the_writer_comes_round_then_they_are_written_in_one_batch() -> None:
    store = FlakyStore(failures=1)
    recorder = CallRecorder(store, CallerCache(store), retry_s=0.001)  # type: ignore[arg-type]
    for n in range(5):
        recorder.notice(cmd.LogCall(record(f"c{n}")))  # all queued before the writer runs
    runner = asyncio.create_task(recorder.run())
    await asyncio.wait_for(recorder.flush(), 5)
    runner.cancel()
    assert store.batches == [5]  # the failed try wrote nothing; the retry wrote the five together
    assert [r.call for r, _ in store.written] == ["c0", "c1", "c2", "c3", "c4"]
    assert all(await asyncio.gather(*(recorder.written(CallId(f"c{n}"), 0) for n in range(5))))


async def test_given_more_calls_than_a_batch_when_written_then_in_batches_of_at_most_the_bound() -> None:
    store = FlakyStore(failures=0)
    recorder = CallRecorder(store, CallerCache(store))  # type: ignore[arg-type]
    for n in range(BATCH + 3):
        recorder.notice(cmd.LogCall(record(f"c{n}")))
    runner = asyncio.create_task(recorder.run())
    await asyncio.wait_for(recorder.flush(), 5)
    runner.cancel()
    assert store.batches == [BATCH, 3]


async def test_given_a_customer_deleted_since_the_pop_when_the_call_is_logged_then_it_is_kept_without_one(
    sqlite_store: SqlStore,
) -> None:
    store = sqlite_store
    jane = await store.add_customer("Jane Doe", [("+14155550123", "mobile")])
    callers = CallerCache(store)
    callers.prefetch(CallId("c1"), "+14155550123")  # matched at the call's arrival
    assert (await callers.customer(CallId("c1"), "+14155550123")) is not None
    await store.customers.delete(jane.id)  # erased while the call went on
    recorder = CallRecorder(store, callers, retry_s=0.001)
    runner = asyncio.create_task(recorder.run())
    recorder.notice(cmd.LogCall(record("c1")))
    recorder.notice(cmd.LogCall(record("c2")))  # a later call is not held up behind it
    await asyncio.wait_for(recorder.flush(), 5)
    runner.cancel()
    stored = [await store.get_call("c1"), await store.get_call("c2")]
    assert [None if c is None else c.customer_id for c in stored] == [None, None]


class FlakyAttempts:
    """An escalation-attempt store whose first ``failures`` writes fail."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.written: list[Attempt] = []

    async def record(self, attempt: Attempt) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("database restarting")
        self.written.append(attempt)

    async def of_calls(self, calls: Collection[str]) -> Mapping[str, tuple[Attempt, ...]]:
        raise NotImplementedError


async def test_given_a_store_failing_for_a_while_then_every_escalation_attempt_is_written_in_order() -> None:
    attempts = FlakyAttempts(failures=2)
    recorder = AttemptRecorder(attempts, retry_s=0.001)
    running = asyncio.create_task(recorder.run())
    made = [
        cmd.EscalationAttempt(call=CallId("c1"), person=person, number="+14155550100", round=1, step=n,
                              started_at=1_700_000_000.5 + n, ended_at=1_700_000_010.0 + n, result=result)
        for n, (person, result) in enumerate((("Dr. Lee", "busy"), ("Dr. Kim", "accepted")), 1)
    ]  # fmt: skip
    for command in made:
        recorder.notice(command)
    await asyncio.wait_for(recorder.flush(), 5)
    running.cancel()
    written = [(a.person, a.step, a.result) for a in attempts.written]
    assert written == [("Dr. Lee", 1, "busy"), ("Dr. Kim", 2, "accepted")]
    assert attempts.written[0].started_at == datetime(2023, 11, 14, 22, 13, 21, 500000, tzinfo=UTC)
