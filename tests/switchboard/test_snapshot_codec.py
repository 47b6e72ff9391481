"""Snapshots written by a release whose classes had other fields (switchboard/snapshot_codec.py).

An older release is simulated for real: the snapshot is written from objects of stand-in classes that
carry the old layout under the real classes' names (``routing.book:AgentEntry`` without ``form``, a
``Book`` without ``supervisions``, ...), exactly as that release's pickler would have met them."""

from __future__ import annotations

import asyncio
import dataclasses
import pickle
from dataclasses import dataclass
from typing import Any, NamedTuple

import pytest
from test_journal import A1, A2, MemoryJournal, plan, run_shift, shift, state

from crm_core.domain.journal import Snapshot
from routing import book as books
from routing import timers
from routing.ids import AgentId
from routing.router import Router
from routing.timers import TimerKind
from switchboard import snapshot_codec
from switchboard.journal import Journal, state_key
from switchboard.snapshot_codec import UnreadableSnapshot


def _named_as(cls: type, real: type) -> type:
    """``cls`` passes for ``real`` in a pickle: the same module and name, its own fields."""
    cls.__module__, cls.__qualname__, cls.__name__ = real.__module__, real.__qualname__, real.__name__
    return cls


def kept_shift() -> Router:
    return asyncio.run(run_shift(MemoryJournal(), shift()))


def with_old_agents(router: Router, old: type, **extra: Any) -> books.Book:
    """The router's books with every agent entry written through ``old`` (the fields it shares)."""
    book = router.book
    names = [f.name for f in dataclasses.fields(old) if f.name not in extra]
    book.agents = {
        a: old(**{k: getattr(e, k) for k in names if hasattr(e, k)}, **extra) for a, e in book.agents.items()
    }
    return book


def agent_entry_without(*dropped: str, added: dict[str, Any] | None = None) -> type:
    """An ``AgentEntry`` as a release before would have declared it: some fields missing, others new."""
    fields = [(f.name, f.type, f) for f in dataclasses.fields(books.AgentEntry) if f.name not in dropped]
    fields += [(name, type(value), dataclasses.field(default=value)) for name, value in (added or {}).items()]
    cls = dataclasses.make_dataclass("AgentEntry", fields, slots=True, kw_only=True)
    return _named_as(cls, books.AgentEntry)


def test_given_a_book_then_it_reads_back_as_it_was_with_its_plan() -> None:
    router = kept_shift()
    plan_back, book = snapshot_codec.loads(snapshot_codec.dumps(router.plan, router.book))
    again = Router(plan_back)
    again.book = book
    assert plan_back == router.plan and state(again) == state(router)
    assert again.restated(200.0) == router.restated(200.0)  # the wrap-up forms: frozen classes too


def test_given_a_release_without_a_field_that_has_a_default_now_then_it_takes_the_default() -> None:
    """The last release's ``AgentEntry`` had no ``form`` (added since, default None)."""
    router = kept_shift()
    before = state(router)
    book = with_old_agents(router, agent_entry_without("form"))
    _, loaded = snapshot_codec.loads(snapshot_codec.dumps(router.plan, book))
    assert all(type(e) is books.AgentEntry and e.form is None for e in loaded.agents.values())
    again = Router(router.plan)
    again.book = loaded
    assert state(again) == before


def test_given_a_release_with_a_field_removed_since_then_its_values_are_dropped() -> None:
    router = kept_shift()
    before = state(router)
    book = with_old_agents(router, agent_entry_without(added={"skill_level": 3}))
    _, loaded = snapshot_codec.loads(snapshot_codec.dumps(router.plan, book))
    assert not hasattr(loaded.agents[A1], "skill_level")
    again = Router(router.plan)
    again.book = loaded
    assert state(again) == before


def test_given_a_new_field_without_a_default_then_the_snapshot_is_refused_naming_it() -> None:
    router = kept_shift()
    book = with_old_agents(router, agent_entry_without("id"))
    with pytest.raises(UnreadableSnapshot, match=r"routing\.book:AgentEntry\.id is new in this release"):
        snapshot_codec.loads(snapshot_codec.dumps(router.plan, book))


def test_given_a_fields_type_changed_then_the_snapshot_is_refused_naming_it() -> None:
    @dataclass(slots=True, kw_only=True)
    class Escalation:
        agent: AgentId | None
        step: float = 0.0  # an int today
        attempts: tuple[tuple[str, str], ...] = ()
        at: float = 0.0

    old = _named_as(Escalation, books.Escalation)
    with pytest.raises(UnreadableSnapshot, match=r"Escalation\.step was float, is int"):
        snapshot_codec.loads(snapshot_codec.dumps(plan(A1), _book_holding(old(agent=None))))


def _book_holding(escalation: object) -> books.Book:
    router = kept_shift()
    call = next(iter(router.book.calls.values()))
    call.escalation = escalation  # type: ignore[assignment]
    return router.book


def test_given_a_book_without_a_slot_added_since_then_it_gets_a_fresh_books_value() -> None:
    router = kept_shift()
    before = state(router)
    slots = [s for s in books.Book.__slots__ if s != "supervisions"]
    methods = {"agent_live": books.Book.agent_live, "call_live": books.Book.call_live}
    old = _named_as(type("Book", (), {"__slots__": tuple(slots), **methods}), books.Book)
    book: Any = object.__new__(old)
    for slot in slots:
        setattr(book, slot, getattr(router.book, slot))
    for heap in book.ready.values():  # the heaps check liveness against their own Book, the old one
        heap._is_live = book.agent_live
    for heap in book.waiting.values():
        heap._is_live = book.call_live
    loaded_plan, loaded = snapshot_codec.loads(snapshot_codec.dumps(router.plan, book))
    assert type(loaded) is books.Book and loaded.supervisions == {}
    assert all(h._is_live.__self__ is loaded for h in loaded.ready.values())  # type: ignore[attr-defined]
    again = Router(loaded_plan)
    again.book = loaded
    assert state(again) == before


def test_given_named_tuples_then_fields_go_by_name_and_one_new_without_a_default_is_refused() -> None:
    class Timer(NamedTuple):
        at: float
        seq: int
        kind: TimerKind
        key: str
        token: int
        set_by: str = "offers"  # a field since removed

    router = kept_shift()
    before = state(router)
    old = _named_as(Timer, timers.Timer)
    router.book.timers = [old(*t) for t in router.book.timers]
    _, loaded = snapshot_codec.loads(snapshot_codec.dumps(router.plan, router.book))
    assert all(type(t) is timers.Timer for t in loaded.timers)
    again = Router(router.plan)
    again.book = loaded
    assert state(again) == before

    class Older(NamedTuple):
        at: float
        seq: int
        kind: TimerKind
        key: str

    older = _named_as(Older, timers.Timer)
    router.book.timers = [older(*t[:4]) for t in router.book.timers]
    with pytest.raises(UnreadableSnapshot, match=r"Timer\.token is new in this release and has no default"):
        snapshot_codec.loads(snapshot_codec.dumps(router.plan, router.book))


def test_given_bytes_that_are_no_snapshot_then_they_are_refused() -> None:
    with pytest.raises(UnreadableSnapshot):
        snapshot_codec.loads(b"not a pickle")
    with pytest.raises(UnreadableSnapshot, match="no plan and books"):
        snapshot_codec.loads(pickle.dumps((2, "plan", "book")))


async def test_given_an_older_releases_snapshot_in_the_store_then_the_journal_restores_it() -> None:
    store = MemoryJournal()
    before = await run_shift(store, shift(), snapshot_every=5)
    assert store.snapshot is not None
    _, book = snapshot_codec.loads(store.snapshot.data)
    written = Router(plan(A1, A2))
    written.book = book
    old_book = with_old_agents(written, agent_entry_without("form"))
    data = snapshot_codec.dumps(written.plan, old_book)
    store.snapshot = dataclasses.replace(store.snapshot, data=data)
    after = Router(plan(A1, A2))
    restored = await Journal(store).restore(after)
    assert restored.refused is None and state(after) == state(before)


async def test_given_a_format_1_snapshot_of_the_same_plan_then_it_is_read_else_refused() -> None:
    store = MemoryJournal()
    before = await run_shift(store, shift(), snapshot_every=5)
    assert store.snapshot is not None
    _, book = snapshot_codec.loads(store.snapshot.data)
    router = Router(plan(A1, A2))
    one = Snapshot(seq=store.snapshot.seq, format=1, plan_key=state_key(router), taken_at=1.0,
                   data=pickle.dumps(book))  # fmt: skip
    store.snapshot = one
    lines = list(store.lines)
    restored = await Journal(store).restore(router)
    assert restored.refused is None and state(router) == state(before)
    store.snapshot, store.lines = one, lines
    other = Router(plan(A1))
    refused = await Journal(store).restore(other)
    assert refused.refused is not None and "format-1 snapshot of another number plan" in refused.refused
