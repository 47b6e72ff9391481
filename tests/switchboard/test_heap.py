"""``heap.settle``: what exists once the service has started is frozen; what comes later is collected."""

from __future__ import annotations

import gc
import weakref

from switchboard import heap


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
