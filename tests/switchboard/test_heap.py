"""``heap.settle``: what exists once the service has started is frozen; what comes later is collected."""

from __future__ import annotations

import gc
import sys
import weakref
from collections.abc import Iterator

import pytest

from switchboard import heap


@pytest.fixture(autouse=True)
def thresholds_kept() -> Iterator[None]:
    """``settle`` changes the collector's thresholds: the test process gets its own back."""
    before = gc.get_threshold()
    yield
    gc.set_threshold(*before)


class Cycle:
    def __init__(self) -> None:
        self.me = self


def test_given_the_heap_settled_then_what_existed_is_frozen_and_later_cycles_are_still_collected() -> None:
    before = Cycle()
    kept = weakref.ref(before)
    try:
        frozen = heap.settle()
        assert frozen == gc.get_freeze_count() > 0
        del before
        gc.collect()
        assert kept() is not None  # frozen: a full collection no longer walks it (nor frees its cycle)
        later = Cycle()
        gone = weakref.ref(later)
        del later
        gc.collect()
        assert gone() is None
    finally:
        gc.unfreeze()  # the test process goes on as it was
        gc.collect()
    assert kept() is None


class Said:
    def __init__(self) -> None:
        self.lines: list[tuple[str, dict[str, object]]] = []

    def __call__(self, what: str, **fields: object) -> None:
        self.lines.append((what, fields))

    def names(self) -> list[str]:
        return [name for name, _ in self.lines]


def test_given_slow_full_collections_then_said_and_the_heap_frozen_only_once_it_has_doubled() -> None:
    said = Said()
    heap.settle()
    watch = heap.HeapWatch(0.0, said)  # every full collection counts as slow
    watch.install()
    try:
        frozen = gc.get_freeze_count()
        gc.collect()  # the heap as it was at the settle: said, not frozen again
        assert said.names() == ["heap.gc-pause"] and gc.get_freeze_count() == frozen
        gc.disable()  # no automatic collection while it grows: the one below is the one looked at
        grown = [[n, str(n)] for n in range(sys.getallocatedblocks())]  # more new blocks than there were
        gc.enable()
        gc.collect()
        assert said.names()[1:] == ["heap.gc-pause", "heap.frozen"] and watch.freezes == 1
        assert gc.get_freeze_count() >= frozen + len(grown)  # what lives on is out of later walks
        gc.collect()
        assert said.names()[3:] == ["heap.gc-pause"] and watch.freezes == 1  # not doubled again
        del grown
    finally:
        gc.enable()
        watch.remove()
        gc.unfreeze()
        gc.collect()
    assert watch not in gc.callbacks


def test_given_a_quick_full_collection_or_a_young_one_then_nothing_is_said_or_frozen() -> None:
    said = Said()
    watch = heap.HeapWatch(60.0, said)
    watch.install()
    try:
        gc.collect()
        gc.collect(generation=0)
    finally:
        watch.remove()
    assert said.lines == [] and watch.pauses == watch.freezes == 0
    slow_young = heap.HeapWatch(0.0, said)
    slow_young.install()
    try:
        gc.collect(generation=1)
    finally:
        slow_young.remove()
    assert said.lines == [] and gc.get_freeze_count() == 0


def test_given_the_heap_settled_then_the_young_generation_is_collected_less_often() -> None:
    before = gc.get_threshold()
    try:
        heap.settle()
        assert gc.get_threshold() == (heap.YOUNG, *before[1:]) and before[0] < heap.YOUNG
    finally:
        gc.unfreeze()
        gc.collect()
