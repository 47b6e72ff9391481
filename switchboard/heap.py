"""The service's heap once it has started: what exists then lives as long as the process.

Python's cyclic collector walks every tracked object on each full collection; a service with a plan,
restored books and thousands of sockets spent 0.5-1 s per full collection (bench/service_ceiling.py,
where those pauses set the decision p99 well below the saturation rate). Moving what start-up made into
the permanent generation (``gc.freeze``) takes it out of those walks; objects made later are collected as
before, and a frozen object whose references all go is still freed by its reference count (only a frozen
cycle that becomes garbage stays: at most what start-up made, once).
"""

from __future__ import annotations

import gc


def settle() -> int:
    """Collect once, then freeze what is left; how many objects are frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
