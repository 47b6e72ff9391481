"""The router's journal on a hand-written store: what is kept, in what order, and what a start-up gets
back from it (the same books; or, from a snapshot it cannot read, a clean start that says why)."""

from __future__ import annotations

import asyncio
import dataclasses
import typing

import pytest

from crm_core.domain.journal import JournalLine, Kept, Snapshot
from routing import book as books
from routing import commands as cmd
from routing import events as ev
from routing import views
from routing.ids import AgentId, CallId, LineId, OfferId, QueueId
from routing.plan import Agent, Did, Line, Plan, Queue
from routing.router import Router
from routing.states import AgentState
from switchboard.bus import LocalBus
from switchboard.event_codec import decode
from switchboard.journal import SNAPSHOT_CLASSES, Journal
from switchboard.runtime import RouterLoop

Q, A1, A2 = QueueId("q"), AgentId("a1"), AgentId("a2")
DID = "+18005550103"


def plan(*agents: AgentId) -> Plan:
    return Plan(
        dids={DID: Did(DID, "web", LineId("l"))},
        lines={LineId("l"): Line(id=LineId("l"), name="Line", queue=Q)},
        queues={Q: Queue(id=Q, name="Queue", ring_timeout_s=10, max_wait_s=600, wrap_up_s=5)},
        agents={a: Agent(id=a, name=a, endpoint=f"PJSIP/{a}", queues=(Q,)) for a in agents},
    )


class MemoryJournal:
    """The store's side, in memory; ``failures`` appends fail first, as a database that is restarting."""

    def __init__(self, failures: int = 0) -> None:
        self.lines: list[JournalLine] = []
        self.snapshot: Snapshot | None = None
        self.failures = failures
        self.batches = 0

    async def append(self, lines: list[JournalLine]) -> None:
        if self.failures:
            self.failures -= 1
            raise OSError("database restarting")
        self.batches += 1
        self.lines += lines

    async def save_snapshot(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.lines = [x for x in self.lines if x.seq > snapshot.seq]

    async def kept(self) -> Kept:
        return Kept(self.snapshot, tuple(self.lines))

    async def forget(self) -> None:
        self.snapshot, self.lines = None, []


def shift(at: float = 100.0) -> list[ev.Event]:
    """Two agents in, three callers: one answered and ended, one ringing a2, one waiting."""
    offer = OfferId("sb-c1-1")
    return [
        ev.AgentLoggedIn(A1, at), ev.AgentBecameReady(A1, at), ev.AgentLoggedIn(A2, at),
        ev.CallArrived(CallId("c1"), DID, "+14155550101", None, at + 1),
        ev.OfferRinging(offer, at + 1.1),
        ev.Tick(at + 1.5),  # nothing is due yet: this tick is not kept
        ev.OfferAnswered(offer, at + 2),
        ev.CallerHungUp(CallId("c1"), at + 30),
        ev.Tick(at + 40),  # a1's wrap-up ended at +35 (and the answered offer's deadline has lapsed)
        ev.AgentBecameReady(A2, at + 41),
        ev.CallArrived(CallId("c2"), DID, "+14155550102", None, at + 50),
        ev.CallArrived(CallId("c3"), DID, "+14155550103", None, at + 51),
        ev.OfferRinging(OfferId("sb-c2-1"), at + 50.1),
    ]  # fmt: skip


def state(router: Router) -> object:
    book = router.book
    return (
        {a: views.agent_view(book, a) for a in book.agents},
        {c: views.call_view(book, router.plan, c) for c in book.calls},
        views.waiting(book, Q),
        sorted(book.timers),
        (book.arrival_seq, book.offer_seq, book.ready_seq, book.draw_seq, book.timer_seq),
    )


async def run_shift(store: MemoryJournal, events: list[ev.Event], snapshot_every: int = 1000) -> Router:
    """``events`` through a RouterLoop that journals them, written out; the loop's router."""
    router = Router(plan(A1, A2))
    journal = Journal(store, lambda: 0.0, flush_s=0.001, retry_s=0.01, snapshot_every=snapshot_every)
    loop = RouterLoop(router, lambda: 0.0, LocalBus(), tick_s=3600, journal=journal)
    tasks = [asyncio.create_task(journal.run()), asyncio.create_task(loop.run())]
    for event in events:
        loop.submit(event)
    await loop.ask(ev.Tick(0.0))  # handled after all of them; it fires nothing, so it is not kept
    await asyncio.wait_for(journal.flush(), 5)
    for task in tasks:
        task.cancel()
    return router


async def test_given_a_shift_then_every_event_is_kept_in_order_but_the_tick_that_fired_nothing() -> None:
    store = MemoryJournal()
    await run_shift(store, shift())
    kept = [x.seq for x in store.lines]
    assert kept == list(range(1, len(shift())))  # one event fewer: the quiet tick
    assert '"k":"Tick","at":140' in store.lines[7].event and store.batches < len(shift())
    assert not any('"at":101.5' in x.event for x in store.lines)


async def test_given_a_kept_shift_when_restored_then_the_books_are_equal_and_ended_calls_come_back() -> None:
    store = MemoryJournal()
    before = await run_shift(store, shift())
    lines = list(store.lines)
    after = Router(plan(A1, A2))
    journal = Journal(store)
    restored = await journal.restore(after)
    assert state(after) == state(before)
    assert (restored.from_snapshot, restored.replayed, restored.refused) == (False, len(lines), None)
    assert restored.as_of == decode(lines[-1].event).at  # the books were current as of then
    assert [r.record.call for r in restored.records] == ["c1"]  # written again: the log keeps one row
    assert journal.seq == len(lines) and store.lines == lines


async def test_given_snapshots_then_a_restore_replays_only_the_lines_after_the_last() -> None:
    store = MemoryJournal()
    before = await run_shift(store, shift(), snapshot_every=5)
    assert store.snapshot is not None and store.snapshot.seq == 10
    assert [x.seq for x in store.lines] == [11, 12]
    after = Router(plan(A1, A2))
    restored = await Journal(store).restore(after)
    assert state(after) == state(before)
    assert (restored.from_snapshot, restored.replayed, restored.records) == (True, 2, ())
    assert restored.as_of == decode(store.lines[-1].event).at


@pytest.mark.parametrize("snapshot_every", [1000, 7], ids=["replayed", "from-a-snapshot"])
async def test_given_a_wrap_up_form_kept_when_restored_then_the_consoles_are_told_the_same_again(
    snapshot_every: int,
) -> None:
    """The shift until c2 comes: a1's wrap-up form for c1, from the journal or pickled in a snapshot
    (taken at the hang-up, the 7th line kept)."""
    store = MemoryJournal()
    before = await run_shift(store, shift()[:10], snapshot_every=snapshot_every)
    after = Router(plan(A1, A2))
    restored = await Journal(store).restore(after)
    assert restored.from_snapshot is (snapshot_every == 7)
    again = after.restated(200.0)
    assert again == before.restated(200.0)
    pop, logged = again
    assert isinstance(pop, cmd.PopScreen) and isinstance(logged, cmd.LogCall)
    assert (pop.agent, pop.call, logged.record.call) == (A1, "c1", "c1")


async def test_given_a_snapshot_of_another_plan_then_the_books_are_rebound_to_the_new_one() -> None:
    """An agent added to the config between the runs (routing/rebind.py has the other edits)."""
    store = MemoryJournal()
    before = await run_shift(store, shift(), snapshot_every=5)
    grown = Router(plan(A1, A2, AgentId("a3")))
    journal = Journal(store, lambda: 300.0)
    restored = await journal.restore(grown)
    assert (restored.refused, restored.from_snapshot, restored.replayed) == (None, True, 2)
    assert views.agent_view(grown.book, AgentId("a3")).state is AgentState.LOGGED_OUT
    assert {c: views.call_view(grown.book, grown.plan, c) for c in grown.book.calls} == {
        c: views.call_view(before.book, before.plan, c) for c in before.book.calls
    }
    assert grown.book.queued == before.book.queued == {Q: {"c2": None, "c3": None}}
    assert store.snapshot is not None and store.snapshot.seq == journal.seq == 12 and store.lines == []
    again = Router(plan(A1, A2, AgentId("a3")))  # the next start: the snapshot is of this plan now
    assert (await Journal(store).restore(again)).from_snapshot and state(again) == state(grown)


async def test_given_a_snapshot_of_another_format_then_nothing_is_restored() -> None:
    store = MemoryJournal()
    await run_shift(store, shift(), snapshot_every=5)
    assert store.snapshot is not None
    store.snapshot = dataclasses.replace(store.snapshot, format=99)
    restored = await Journal(store).restore(Router(plan(A1, A2)))
    assert restored.refused == "snapshot format 99, this release reads (1, 2)"


async def test_given_an_unreadable_line_then_the_start_is_clean_instead_of_half_replayed() -> None:
    store = MemoryJournal()
    await run_shift(store, shift())
    store.lines.insert(3, JournalLine(4, '{"k":"CallVanished"}'))
    router = Router(plan(A1, A2))
    restored = await Journal(store).restore(router)
    assert restored.refused is not None and "CallVanished" in restored.refused
    assert state(router) == state(Router(plan(A1, A2)))


async def test_given_a_store_that_fails_for_a_while_then_every_line_is_written_once_in_order() -> None:
    store = MemoryJournal(failures=2)
    await run_shift(store, shift())
    assert [x.seq for x in store.lines] == list(range(1, len(shift())))


def test_given_the_books_then_every_dataclass_they_hold_is_in_the_snapshot_layout() -> None:
    """A class the books hold whose fields change must change ``state_key``, or an old snapshot would be
    read into objects missing a field."""
    held: set[type] = set()

    def walk(hint: object) -> None:
        for inner in typing.get_args(hint):
            walk(inner)
        if dataclasses.is_dataclass(hint) and isinstance(hint, type) and hint not in held:
            held.add(hint)
            for field_type in typing.get_type_hints(hint).values():
                walk(field_type)

    for entry in (books.CallEntry, books.OfferEntry, books.AgentEntry, books.Supervision, books.Escalation):
        walk(entry)
    assert held <= set(SNAPSHOT_CLASSES), held - set(SNAPSHOT_CLASSES)


@pytest.mark.parametrize("snapshot_every", [1000, 3], ids=["replayed", "from-a-snapshot"])
async def test_given_an_agent_in_training_with_a_practice_caller_when_restored_then_both_are_kept(
    snapshot_every: int,
) -> None:
    """Training (issue 17) is the router's state like any: a2 in training, one practice caller waiting for
    a2 (paused); a1 ready. Restored, the practice caller still waits for a2 alone and a2 is still told."""
    practice = ev.TrainingCallArrived(call=CallId("p1"), did=DID, trainee=A2, caller_number=None,
                                      caller_name=None, at=103.0)  # fmt: skip
    events = [
        ev.AgentLoggedIn(A1, 100.0), ev.AgentBecameReady(A1, 100.0), ev.AgentLoggedIn(A2, 100.0),
        ev.TrainingStarted(A2, "boss", 2.0, 101.0), practice,
    ]  # fmt: skip
    store = MemoryJournal()
    before = await run_shift(store, events, snapshot_every=snapshot_every)
    after = Router(plan(A1, A2))
    restored = await Journal(store).restore(after)
    assert restored.from_snapshot is (snapshot_every == 3)
    assert state(after) == state(before) and after.trainees() == before.trainees() != []
    assert after.restated(200.0) == [cmd.TrainingChanged(A2, 2.0, "boss", 101.0)]
    offered = [c for c in after.handle(ev.AgentBecameReady(A2, 201.0)) if isinstance(c, cmd.OfferCall)]
    assert [(o.call, o.agent) for o in offered] == [("p1", A2)]
