"""What the store keeps of the router so that a restart loses nothing: a journal of the events it
handled, in order, and the latest snapshot of its state.

The store keeps both as opaque text and bytes: what an event or a snapshot means is the service's
business (``switchboard/journal.py``), not the customer store's. A snapshot covers every event up to
and including its ``seq``; the journal's lines after it are what a restart replays.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class JournalLine:
    seq: int  # 1, 2, 3, ... in the order the router handled the events
    event: str  # the event as the service's codec wrote it


@dataclass(frozen=True, slots=True, kw_only=True)
class Snapshot:
    seq: int  # the last event it includes
    format: int  # the layout of ``data``; a release that cannot read it replays nothing from it
    plan_key: str  # which number plan the state was built for
    taken_at: float  # Unix seconds
    data: bytes


@dataclass(frozen=True, slots=True)
class Kept:
    """What a start-up finds: the snapshot (if any) and the journal lines after it, oldest first."""

    snapshot: Snapshot | None
    lines: tuple[JournalLine, ...]


class Fenced(Exception):
    """A journal write of a leadership older than the store's fence (several instances): a newer leader
    has started on this store, and what it read there is the history it goes on from."""

    def __init__(self, fence: int, raised: int) -> None:
        super().__init__(f"the store's fence is {raised}; this write carries {fence}")
        self.fence, self.raised = fence, raised
