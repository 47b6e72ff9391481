"""A restart on an edited plan, through the journal (switchboard/journal.py): the first start on an empty
store anchors it with a snapshot of its plan, so that lines written before any periodic snapshot are
replayed under the plan they were handled under, and then rebound to the new one."""

from __future__ import annotations

import asyncio

from test_journal import A1, A2, DID, MemoryJournal, Q, plan

from routing import audit, views
from routing import commands as cmd
from routing import events as ev
from routing.ids import CallId, OfferId
from routing.records import Outcome
from routing.router import Router
from routing.states import AgentState, CallState
from switchboard.bus import LocalBus
from switchboard.journal import Journal
from switchboard.runtime import RouterLoop


async def first_run(store: MemoryJournal, events: list[ev.Event]) -> Router:
    """A service's first run on ``store``: restored (nothing kept), then ``events``, then killed."""
    router = Router(plan(A1, A2))
    journal = Journal(store, lambda: 0.0, flush_s=0.001, retry_s=0.01)
    restored = await journal.restore(router)
    assert (restored.replayed, restored.refused) == (0, None)
    assert store.snapshot is not None and store.snapshot.seq == 0  # the anchor: an empty store's plan
    loop = RouterLoop(router, lambda: 0.0, LocalBus(), tick_s=3600, journal=journal)
    tasks = [asyncio.create_task(journal.run()), asyncio.create_task(loop.run())]
    for event in events:
        loop.submit(event)
    await loop.ask(ev.Tick(0.0))
    await asyncio.wait_for(journal.flush(), 5)
    for task in tasks:
        task.cancel()
    return router


async def test_given_a_first_run_without_a_periodic_snapshot_when_an_agent_is_removed_then_rebound() -> None:
    """a1 talks to c1, a2's phone rings for c2; a2 is taken out of the config between the runs."""
    store = MemoryJournal()
    await first_run(store, [
        ev.AgentLoggedIn(A1, 100.0), ev.AgentBecameReady(A1, 100.0),
        ev.AgentLoggedIn(A2, 100.0), ev.AgentBecameReady(A2, 100.0),
        ev.CallArrived(CallId("c1"), DID, "+14155550101", None, 101.0),
        ev.OfferAnswered(OfferId("sb-c1-1"), 102.0),
        ev.CallArrived(CallId("c2"), DID, "+14155550102", None, 103.0),
        ev.OfferRinging(OfferId("sb-c2-1"), 103.1),
    ])  # fmt: skip
    assert len(store.lines) == 8
    smaller = Router(plan(A1))
    journal = Journal(store, lambda: 200.0)
    restored = await journal.restore(smaller)
    assert (restored.refused, restored.from_snapshot, restored.replayed) == (None, True, 8)
    assert A2 not in smaller.book.agents and set(smaller.plan.agents) == {A1}
    assert views.agent_view(smaller.book, A1).state is AgentState.ON_CALL
    assert smaller.call_state(CallId("c1")) is CallState.CONNECTED
    assert smaller.waiting(Q) == ["c2"]  # a2's phone no longer rings for it: it waits for a1
    assert OfferId("sb-c2-1") not in views.channels(smaller.book)  # its leg is hung up on reconcile
    assert audit.problems(smaller.book, smaller.plan) == []
    # Written at once: a second start reads the rebound books, of the new plan, and replays nothing.
    assert store.snapshot is not None and store.snapshot.seq == 8 and store.lines == []
    again = Router(plan(A1))
    restored = await Journal(store).restore(again)
    assert (restored.from_snapshot, restored.replayed) == (True, 0)
    out = again.handle(ev.CallerHungUp(CallId("c1"), 210.0))
    [logged] = [c for c in out if isinstance(c, cmd.LogCall)]
    assert logged.record.outcome is Outcome.ANSWERED and logged.record.answered_at == 102.0


async def test_given_a_store_other_processes_write_then_an_empty_one_is_not_anchored() -> None:
    store = MemoryJournal()
    journal = Journal(store)
    journal.anchors_new_stores = False
    await journal.restore(Router(plan(A1)))
    assert store.snapshot is None
