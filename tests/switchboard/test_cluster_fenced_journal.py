"""The journal's store as an instance writes it: alone, unfenced; in a cluster, with the token of the last
leadership it held, nothing if it never led, and a write the store refuses (``Fenced``) is dropped."""

from __future__ import annotations

from crm_core.domain.journal import Fenced, JournalLine, Kept, Snapshot
from switchboard.cluster.fenced import FencedJournal, Standing


class Store:
    """Keeps each write with the fence it carried; refuses those older than ``raised``."""

    def __init__(self, raised: int | None = None) -> None:
        self.raised = raised
        self.writes: list[tuple[str, int | None]] = []

    def _check(self, fence: int | None) -> None:
        if fence is not None and self.raised is not None and fence != self.raised:
            raise Fenced(fence, self.raised)

    async def append(self, lines: list[JournalLine], fence: int | None = None) -> None:
        self._check(fence)
        self.writes.append((f"lines {lines[0].seq}", fence))

    async def save_snapshot(self, snapshot: Snapshot, fence: int | None = None) -> None:
        self._check(fence)
        self.writes.append((f"snapshot {snapshot.seq}", fence))

    async def kept(self) -> Kept:
        return Kept(None, ())

    async def forget(self, fence: int | None = None) -> None:
        self._check(fence)
        self.writes.append(("forget", fence))


class Lease:
    token: int | None = 7
    instance = "a"

    def valid(self) -> bool:
        return True

    def check(self) -> None:
        return None


SNAPSHOT = Snapshot(seq=2, format=2, plan_key="p", taken_at=1.0, data=b"")


async def test_given_the_only_instance_then_every_write_goes_unfenced() -> None:
    store = Store(raised=9)
    journal = FencedJournal(store, Standing(leading=True))
    await journal.append([JournalLine(1, "e")])
    await journal.save_snapshot(SNAPSHOT)
    await journal.forget()
    assert store.writes == [("lines 1", None), ("snapshot 2", None), ("forget", None)]


async def test_given_a_member_that_never_led_then_it_writes_nothing() -> None:
    store = Store()
    standing = Standing(leading=False)
    standing.lease = Lease()
    journal = FencedJournal(store, standing)
    await journal.append([JournalLine(1, "e")])
    await journal.forget()
    assert store.writes == []


async def test_given_a_leadership_then_its_writes_carry_its_token_until_a_newer_one_fences_them_off() -> None:
    store = Store(raised=7)
    standing = Standing(leading=True)
    standing.lease, standing.fence = Lease(), 7
    journal = FencedJournal(store, standing)
    await journal.append([JournalLine(1, "e")])
    store.raised = 8  # a newer leader started on the store
    await journal.append([JournalLine(2, "late")])  # refused by the store: dropped, not raised
    await journal.save_snapshot(SNAPSHOT)
    assert store.writes == [("lines 1", 7)]
