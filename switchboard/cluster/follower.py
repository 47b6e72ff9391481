"""A follower: reads the leader's journal stream and hands each event to its own router, in order.

``step`` decides, from the follower's position (the last line it applied and the leadership it follows)
and the next entry, what to do with it; it is pure, so every case is a unit test. The follower applies
the line that comes next in the same leadership's history, passes over what it already has, and reloads
its router from the store when the entry says its history is not the leader's: a line missing (the stream
was trimmed past it, or Redis lost its data), a mark for a history starting elsewhere (the deposed leader,
whose last lines never reached the stream), a line of a leadership whose start it did not see.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import redis.asyncio as aioredis
import structlog

from switchboard.cluster.journal_stream import BadEntry, Entry, Line, Mark, line_id, parse, stream_key

log = structlog.get_logger("cluster.follower")

BLOCK_MS = 1000  # one read waits this long for the next line before asking again
BATCH = 1000
RELOAD_PAUSE_S = 0.2


class Step(enum.Enum):
    APPLY = "apply"
    SKIP = "skip"  # already applied (read again after a reload)
    ADOPT = "adopt"  # a leadership whose history goes on from ours
    RELOAD = "reload"


@dataclass(frozen=True, slots=True)
class Position:
    seq: int  # the last line applied
    token: int | None  # the leadership whose history that is; None: not known (just loaded from the store)


def step(at: Position, entry: Entry) -> Step:
    match entry:
        case Mark(seq=seq):
            return Step.ADOPT if seq == at.seq else Step.RELOAD
        case Line(seq=seq, token=token):
            if seq <= at.seq:
                return Step.SKIP
            if seq > at.seq + 1 or (at.token is not None and token != at.token):
                return Step.RELOAD
            return Step.APPLY


RawEntry = tuple[bytes | str, dict[bytes, bytes]]


def entries_of(found: object) -> list[RawEntry]:
    """XREAD's answer for one stream, as RESP2 (a list of [key, entries]) or RESP3 (a map) gives it."""
    if not found:
        return []
    streams = list(found.values()) if isinstance(found, dict) else [pair[1] for pair in found]  # type: ignore[attr-defined]
    return [(entry_id, fields) for entries in streams for entry_id, fields in entries]


class Follower:
    """``apply`` hands one line's event to the router; ``reload`` puts the router back to what the store
    keeps and says which line that is."""

    def __init__(
        self,
        redis: aioredis.Redis,
        prefix: str,
        apply: Callable[[Line], None],
        reload: Callable[[], Awaitable[int]],
        seq: int,
    ) -> None:
        self._redis = redis
        self._key = stream_key(prefix)
        self._apply = apply
        self._reload = reload
        self.at = Position(seq, None)
        self._after = line_id(seq)
        self.reloads = 0
        self._reloaded_to = -1
        self._generation = 0

    @property
    def generation(self) -> int:
        """Which following this is: ``stop`` ends it, and a later ``run`` must be given the new one."""
        return self._generation

    async def run(self, generation: int) -> None:
        """Follow until cancelled, or until ``stop`` ends ``generation``."""
        while generation == self._generation:
            await self.read(block_ms=BLOCK_MS, generation=generation)

    def stop(self) -> None:
        """Whatever a reader started before this still brings back is not applied: a read that outlives
        its task's cancellation (one stuck in the Redis client) must not touch the books after it."""
        self._generation += 1

    async def drain(self) -> None:
        """Apply everything the stream holds now: the leader is gone, nothing more is coming."""
        while await self.read(block_ms=None, generation=self._generation):
            pass

    async def read(self, block_ms: int | None, generation: int) -> int:
        """One read; how many entries it took."""
        found: object = await self._redis.xread({self._key: self._after}, count=BATCH, block=block_ms)
        if generation != self._generation:
            return 0
        taken = 0
        for entry_id, fields in entries_of(found):
            taken += 1
            if not await self._take(entry_id, fields):
                return taken  # reloaded: read on from the store's line
        return taken

    async def _take(self, entry_id: bytes | str, fields: dict[bytes, bytes]) -> bool:
        try:
            entry = parse(entry_id, fields)
        except BadEntry as exc:
            log.error("follower.bad-entry", error=str(exc))
            self._after = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
            return True
        match step(self.at, entry):
            case Step.APPLY:
                assert isinstance(entry, Line)
                self._apply(entry)
                self.at = Position(entry.seq, entry.token)
            case Step.ADOPT:
                self.at = Position(self.at.seq, entry.token)
            case Step.SKIP:
                pass
            case Step.RELOAD:
                log.warning("follower.reload", at=self.at.seq, token=self.at.token, entry=repr(entry)[:200])
                await self.reload()
                return False
        self._after = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
        return True

    async def reload(self) -> None:
        seq = await self._reload()
        if self.reloads and seq == self._reloaded_to:
            # The store has nothing newer than last time (its writer lags the stream): do not spin on it.
            await asyncio.sleep(RELOAD_PAUSE_S)
        self._reloaded_to = seq
        self.reloads += 1
        self.at = Position(seq, None)
        self._after = line_id(seq)
