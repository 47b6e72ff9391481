"""Whether this instance may command and write now, and the journal's store behind that check.

``Standing`` is what the service asks before it carries out a command: alone, it always leads; in a
cluster, ``switchboard/cluster/node.py`` sets ``leading`` and the lease whose validity every ARI request
and every journal write checks first. Kept free of Redis, so a service that runs alone imports none of it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

import structlog

from crm_core.domain.journal import JournalLine, Kept, Snapshot
from routing import events as ev
from switchboard.journal import JournalStore

log = structlog.get_logger("cluster.fenced")


class LeaseView(Protocol):
    token: int | None
    instance: str

    def valid(self) -> bool: ...
    def check(self) -> None: ...


class Standing:
    def __init__(self, *, leading: bool) -> None:
        self.leading = leading
        self.lease: LeaseView | None = None  # in a cluster: ours, held or not
        self.term: int | None = None  # the latest leadership this instance knows of
        self.remote_ask: Callable[[ev.Event], Awaitable[None]] | None = None  # a follower's way to the leader
        self.ari_requests = 0  # sent to Asterisk by this process: /metrics
        self.stopping = False  # the service is on its way out: it takes no lease any more

    def leads_now(self) -> bool:
        """Leading, and by our own clock still allowed to: a leader whose lease ran out says so at once,
        before it has stood down."""
        return self.leading and (self.lease is None or self.lease.valid())

    def may_write(self) -> bool:
        return self.lease is None or self.lease.valid()

    def may_command(self) -> None:
        """``AriClient.gate``: raises ``NotLeading`` unless the lease is ours and valid by our clock."""
        if self.lease is not None:
            self.lease.check()
        self.ari_requests += 1

    def health(self) -> dict[str, object]:
        if self.lease is None:
            return {}
        return {
            "role": "leader" if self.leads_now() else "follower",
            "instance": self.lease.instance,
            "term": self.term,
        }


class FencedJournal:
    """The journal's store, written only while ``standing`` says we may; a deposed leader's writes are
    dropped (the new leader's term start has replaced them in the store)."""

    def __init__(self, store: JournalStore, standing: Standing) -> None:
        self._store = store
        self._standing = standing

    async def append(self, lines: list[JournalLine]) -> None:
        if self._standing.may_write():
            await self._store.append(lines)
        else:
            log.warning("journal.not-written", first=lines[0].seq if lines else None, count=len(lines))

    async def save_snapshot(self, snapshot: Snapshot) -> None:
        if self._standing.may_write():
            await self._store.save_snapshot(snapshot)
        else:
            log.warning("journal.snapshot-not-written", seq=snapshot.seq)

    async def kept(self) -> Kept:
        return await self._store.kept()

    async def forget(self) -> None:
        if self._standing.may_write():
            await self._store.forget()
