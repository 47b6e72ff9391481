"""The call log is written behind the router's journal: a call's row is stored only once the journal holds
the event that ended the call, so a crash between the two writes never leaves a call logged (a callback
the caller chose, say) that the restarted router does not know has ended."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

from routing import commands as cmd
from routing import events as ev
from routing.ids import CallId
from routing.router import Router
from switchboard.bootstrap import Service
from switchboard.callers import CallerCache
from switchboard.journal import Journal
from switchboard.recorder import CallRecorder
from tests.support import radio_call
from tests.switchboard.gated_journal import GatedJournalStore, gated_service, settle
from tests.switchboard.test_journal import A1, plan


class CallLogStore:
    """The call log's side of the store, in memory."""

    def __init__(self) -> None:
        self.rows: list[str] = []

    async def record_many(self, calls: Sequence[object]) -> frozenset[str]:
        self.rows += [c.record.call for c in calls]  # type: ignore[attr-defined]
        return frozenset()

    async def find_all_by_number(self, e164: str, limit: int = 1000) -> tuple[object, ...]:
        return ()


async def test_given_lines_not_yet_in_the_store_then_kept_through_waits_for_their_write() -> None:
    store = GatedJournalStore()
    journal, router = Journal(store, lambda: 0.0, flush_s=0.001), Router(plan(A1))
    writer = asyncio.create_task(journal.run())
    try:
        await journal.kept_through(journal.mark())  # nothing recorded yet: nothing to wait for
        journal.record(ev.AgentLoggedIn(A1, 1.0), router)
        mark = journal.mark()
        journal.record(ev.AgentBecameReady(A1, 2.0), router)  # a later line: the mark does not wait for it
        kept = asyncio.create_task(journal.kept_through(mark))
        await settle()
        assert not kept.done() and store.lines == []
        store.gate.set()
        await asyncio.wait_for(kept, 5)
        assert [line.seq for line in store.lines][:1] == [1]
    finally:
        writer.cancel()


async def test_given_a_follower_whose_lines_come_from_the_leader_then_nothing_is_waited_for() -> None:
    journal = Journal(GatedJournalStore(), lambda: 0.0)
    journal.seq = 41  # as ``ClusterNode.apply`` sets it: the leader keeps those lines
    await asyncio.wait_for(journal.kept_through(journal.mark()), 1)


async def test_given_a_waiter_cancelled_then_the_others_are_still_told() -> None:
    store = GatedJournalStore()
    journal, router = Journal(store, lambda: 0.0, flush_s=0.001), Router(plan(A1))
    writer = asyncio.create_task(journal.run())
    try:
        journal.record(ev.AgentLoggedIn(A1, 1.0), router)
        gone = asyncio.create_task(journal.kept_through(journal.mark()))
        kept = asyncio.create_task(journal.kept_through(journal.mark()))
        await settle()
        gone.cancel()
        store.gate.set()
        await asyncio.wait_for(kept, 5)
        assert gone.cancelled()
    finally:
        writer.cancel()


async def test_given_a_call_ended_when_its_line_is_not_yet_kept_then_its_row_waits_for_it() -> None:
    store, log = GatedJournalStore(), CallLogStore()
    journal, router = Journal(store, lambda: 0.0, flush_s=0.001), Router(plan(A1))
    recorder = CallRecorder(log, CallerCache(log), behind=journal)  # type: ignore[arg-type]
    tasks = [asyncio.create_task(journal.run()), asyncio.create_task(recorder.run())]
    try:
        journal.record(ev.CallerHungUp(CallId("c1"), 5.0), router)  # the event that ended the call ...
        recorder.notice(cmd.LogCall(radio_call("c1")))  # ... and the row it made, handed over as it is
        await settle()
        assert log.rows == [] and recorder.seen(CallId("c1"))  # handed over, not written
        store.gate.set()
        assert await recorder.written(CallId("c1"), 5)
        assert log.rows == ["c1"] and len(store.lines) == 1
    finally:
        for task in tasks:
            task.cancel()


async def test_given_the_service_then_a_call_is_logged_only_once_its_end_is_in_the_journal(
    tmp_path: Path,
) -> None:
    def running(s: Service) -> tuple[Callable[[], Coroutine[Any, Any, None]], ...]:
        assert s.journal is not None
        return s.journal.run, s.recorder.run, s.loop.run

    async with gated_service(tmp_path, running) as (service, store, gated):
        call = CallId("c-unknown-number")  # a number not in the plan: rejected and logged at once
        service.loop.submit(ev.CallArrived(call, "+19995550100", "+14155550123", None, 1.0))
        await settle()
        assert await store.logged({call}) == set()
        gated.gate.set()
        assert await service.recorder.written(call, 5)
        assert await store.logged({call}) == {call}
        assert any('"CallArrived"' in line.event for line in gated.lines)
