"""The service's heap once it has started: what exists then lives as long as the process.

Python's cyclic collector walks every tracked object on each full collection; a service with a plan,
restored books and thousands of sockets spent 0.5-1 s per full collection (bench/service_ceiling.py,
where those pauses set the decision p99 well below the saturation rate). Moving what start-up made into
the permanent generation (``gc.freeze``) takes it out of those walks; objects made later are collected as
before, and a frozen object whose references all go is still freed by its reference count (only a frozen
cycle that becomes garbage stays: at most what start-up made, once).

What start-up made is not all that lives long: the consoles that connect after it (1,667 of them on a
member of a 5,000-agent cluster) made every full collection walk them again, 150-250 ms each on a quiet
machine and over a second under load, every 2 to 4 s (bench/README.md, ``cluster_consoles.py``): past the
lease, so the leader lost it. ``HeapWatch`` freezes again right after a full collection (nothing
unreachable is left then) once the heap has doubled since the last freeze; so what can stay frozen as
garbage (a console's cycles once it has gone) is bounded by twice the largest heap the service has had,
however many consoles come and go. The heap is told by ``sys.getallocatedblocks`` (constant time):
counting the generations' objects took 40-50 ms each with 2,000 consoles, on top of the pause.
"""

from __future__ import annotations

import gc
import sys
import time
from collections.abc import Callable

# Allocations between two collections of the youngest generation (CPython's default is 700). The objects
# of a call live for its seconds; at 700 the young collections came so often that many were caught alive
# and promoted, and the old generation then filled up fast enough for a full collection every 2-3 s at
# 500 calls/s (9 in a 20 s step, 3.9 s of CPU). At 10,000 the same step had none, and the service's CPU a
# call went from 2.36 to 2.12 ms (bench/service_ceiling.py, PostgreSQL, bench/README.md).
YOUNG = 10_000


def settle() -> int:
    """Collect once, then freeze what is left, and collect the young less often; how many objects are
    frozen."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG, *gc.get_threshold()[1:])
    return gc.get_freeze_count()


class HeapWatch:
    """A ``gc.callbacks`` entry for the oldest generation's collections: one that held the loop
    ``slow_s`` or more is said (``heap.gc-pause``); after any, what survived is frozen if the heap has at
    least doubled since the last freeze (``heap.frozen``). Install it right after ``settle``."""

    def __init__(self, slow_s: float, say: Callable[..., object]) -> None:
        self._slow_s = slow_s
        self._say = say
        self._started = 0.0
        self._blocks_frozen = sys.getallocatedblocks()  # the heap at the last freeze (``settle``'s)
        self.pauses = 0
        self.freezes = 0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        if info["generation"] != 2:
            return
        took = time.perf_counter() - self._started
        blocks = sys.getallocatedblocks()
        if took >= self._slow_s:
            self.pauses += 1
            self._say("heap.gc-pause", ms=round(took * 1000, 1), collected=info["collected"], blocks=blocks)
        if blocks >= 2 * self._blocks_frozen:
            gc.freeze()
            self.freezes += 1
            self._blocks_frozen = blocks
            self._say("heap.frozen", blocks=blocks)

    def install(self) -> None:
        gc.callbacks.append(self)

    def remove(self) -> None:
        if self in gc.callbacks:
            gc.callbacks.remove(self)
