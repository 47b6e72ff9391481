"""Whether this instance may command and write now, and the journal's store behind that check.

``Standing`` is what the service asks before it carries out a command: alone, it always leads; in a
cluster, ``switchboard/cluster/node.py`` sets ``leading`` and the lease whose validity every ARI request
first checks. Journal writes carry the token of the last leadership this instance held, and the store
refuses them once a newer one has started there (``crm_core/sql/journal.py``). Kept free of Redis, so a
service that runs alone imports none of it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

import structlog

from crm_core.domain.journal import Fenced, JournalLine, Kept, Snapshot
from routing import events as ev

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
        self.fence: int | None = None  # the token of the last leadership we held: what our writes carry

    def leads_now(self) -> bool:
        """Leading, and by our own clock still allowed to: a leader whose lease ran out says so at once,
        before it has stood down."""
        return self.leading and (self.lease is None or self.lease.valid())

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


class FencedStore(Protocol):
    """The journal's store as several instances write it: ``crm_core.sql.journal.SqlJournal``."""

    async def append(self, lines: list[JournalLine], fence: int | None = None) -> None: ...
    async def save_snapshot(self, snapshot: Snapshot, fence: int | None = None) -> None: ...
    async def kept(self) -> Kept: ...
    async def forget(self, fence: int | None = None) -> None: ...


class FencedJournal:
    """The journal's store, written with the token of the last leadership this instance held; the store
    refuses the writes of a deposed leader once the new one has started there (``Fenced``), and keeps
    those that came before: lines routed while the lease was valid are history even when they reach
    the store a moment after it ran out. An instance that never led writes nothing."""

    def __init__(self, store: FencedStore, standing: Standing) -> None:
        self._store = store
        self._standing = standing

    async def append(self, lines: list[JournalLine]) -> None:
        first = lines[0].seq if lines else None
        await self._write(lambda fence: self._store.append(lines, fence), "lines", first=first)

    async def save_snapshot(self, snapshot: Snapshot) -> None:
        await self._write(
            lambda fence: self._store.save_snapshot(snapshot, fence), "snapshot", seq=snapshot.seq
        )

    async def kept(self) -> Kept:
        return await self._store.kept()

    async def forget(self) -> None:
        await self._write(self._store.forget, "forget")

    async def _write(
        self, write: Callable[[int | None], Awaitable[None]], what: str, **about: int | None
    ) -> None:
        """``write`` with the fence our writes carry; nothing from an instance that never led."""
        fence = self._standing.fence
        if self._standing.lease is not None and fence is None:
            log.warning("journal.not-written", what=what, why="never led", **about)  # the leader keeps it
            return
        try:
            await write(fence)
        except Fenced as exc:
            log.warning("journal.fenced", what=what, ours=exc.fence, store=exc.raised, **about)
