"""The leader's journal on a Redis Stream, for the followers to replicate its router from.

Entry ids are the journal's own numbers: line ``seq`` is ``<seq>-0``, so a follower asks for what comes
after the last line it applied, and ids never go back across leaders (a new leader goes on from the
number it replicated to). A leadership starts with a mark, ``<seq>-<token>`` (after line ``seq``, before
line ``seq + 1``): "the history of token T goes on from line seq", which is how a follower whose history is
not the new leader's (the deposed leader itself, or one that lagged when Redis lost its data) knows it must
reload from the store. Every append is one Lua script that first checks the lease is the writer's, so a
deposed leader's lines are refused, never interleaved (the fence).

Fields: ``t`` the token of the leadership that wrote it; lines ``e`` the event as the journal's codec
wrote it; marks ``m`` = ``1``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import redis.asyncio as aioredis
import structlog
from redis.exceptions import RedisError, ResponseError

from crm_core.domain.journal import JournalLine
from switchboard.cluster.lease import Lease

log = structlog.get_logger("cluster.stream")

RETRY_S = 0.05
MAX_LEN = 200_000  # lines kept (about: trimmed lazily); a follower further behind reloads from the store

# KEYS: the lease, the stream. ARGV: the lease's value as we hold it, the token, MAX_LEN, then id, text...
# A line whose id is already in the stream with this leadership's token and the same text is skipped: a
# batch sent again after its reply was lost (a timeout while Redis was slow). Refusing it made the leader
# stand down with nobody else leading. Any other id not above the stream's last is refused, as before.
_APPEND = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
for i = 4, #ARGV, 2 do
  local added = redis.pcall('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], ARGV[i], 't', ARGV[2], 'e', ARGV[i + 1])
  if type(added) == 'table' and added.err then
    local there = redis.call('XRANGE', KEYS[2], ARGV[i], ARGV[i])
    local fields = there[1] and there[1][2]
    if not (fields and fields[2] == ARGV[2] and fields[4] == ARGV[i + 1]) then return added end
  end
end
return 1
"""
_MARK = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], ARGV[4], 't', ARGV[2], 'm', '1')
return 1
"""


def stream_key(prefix: str) -> str:
    return f"{prefix}:journal"


@dataclass(frozen=True, slots=True)
class Line:
    seq: int
    token: int
    event: str


@dataclass(frozen=True, slots=True)
class Mark:
    """Leadership ``token`` goes on from line ``seq``."""

    seq: int
    token: int


Entry = Line | Mark


class BadEntry(ValueError):
    """An entry no leader of ours wrote (another program on the same keys, or a damaged stream)."""


def parse(entry_id: str | bytes, fields: dict[bytes, bytes] | dict[str, str]) -> Entry:
    text_id = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    values = {_text(k): _text(v) for k, v in fields.items()}
    seq, _, sub = text_id.partition("-")
    try:
        number, token, minor = int(seq), int(values["t"]), int(sub)
    except (KeyError, ValueError):
        raise BadEntry(f"journal stream entry {text_id}: {values!r}") from None
    if "e" in values and minor == 0:
        return Line(number, token, values["e"])
    if values.get("m") == "1" and minor == token:
        return Mark(number, token)
    raise BadEntry(f"journal stream entry {text_id}: {values!r}")


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


def line_id(seq: int) -> str:
    return f"{seq}-0"


async def last_seq(redis: aioredis.Redis, prefix: str) -> int:
    """The number of the last line the stream holds (0: none)."""
    found = await redis.xrevrange(stream_key(prefix), count=1)
    entry_id = found[0][0] if found else None
    return 0 if entry_id is None else int(_text(entry_id).partition("-")[0])


class StreamWriter:
    """Appends the leader's lines as the journal records them (``tap``), in order, each batch one script
    call. Started for a leadership, stopped with it; ``refused`` is called once if the fence says the
    lease is not ours any more, or Redis cannot be written (the leader must stop)."""

    def __init__(
        self, redis: aioredis.Redis, prefix: str, lease: Lease, refused: Callable[[str], None]
    ) -> None:
        if lease.token is None:
            raise ValueError("a stream writer is for a leadership: the lease must be held")
        self._redis = redis
        self._key = stream_key(prefix)
        self._lease = lease
        self._lease_key = lease.key
        self._lease_value = lease.value
        self._token = lease.token
        self._refused = refused
        self._pending: list[JournalLine] = []
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self.stopped = False

    async def mark(self, seq: int) -> bool:
        """Start the leadership's history after line ``seq``; False if the fence refused."""
        ok = await self._redis.eval(
            _MARK, 2, self._lease_key, self._key, self._lease_value, self._token, MAX_LEN,
            f"{seq}-{self._token}",
        )  # fmt: skip
        return bool(ok)

    def tap(self, line: JournalLine) -> None:
        """``Journal.taps``: called on the router's hot path, only queues."""
        if self.stopped:
            return
        self._pending.append(line)
        self._idle.clear()
        self._wake.set()

    async def run(self) -> None:
        while not self.stopped:
            await self._wake.wait()
            self._wake.clear()
            batch, self._pending = self._pending, []
            if batch:
                await self._append(batch)
            if not self._pending:
                self._idle.set()

    async def _append(self, batch: Sequence[JournalLine]) -> None:
        args: list[str | int] = [self._lease_value, self._token, MAX_LEN]
        for line in batch:
            args += [line_id(line.seq), line.event]
        while not self.stopped:
            if not self._lease.valid():  # Redis may still hold the lease for us: our clock says no
                self._stop("the lease has run out by our clock")
                return
            try:
                ok = await self._redis.eval(_APPEND, 2, self._lease_key, self._key, *args)
            except ResponseError as exc:  # an id not above the stream's last: another wrote after us
                self._stop(f"the stream refused line {batch[0].seq}: {exc}")
                return
            except (RedisError, OSError) as exc:
                # A blip: the same lines again, in order, for as long as the lease may still be ours.
                if not self._lease.valid():
                    self._stop(f"Redis: {exc}")
                    return
                log.warning("stream.append-failed", first=batch[0].seq, error=str(exc))
                await asyncio.sleep(RETRY_S)
                continue
            if not ok:
                self._stop("the lease is not ours any more")
            return

    def _stop(self, why: str) -> None:
        if not self.stopped:
            self.stopped = True
            self._pending = []
            self._idle.set()
            log.warning("stream.refused", why=why)
            self._refused(why)

    async def flush(self) -> None:
        await self._idle.wait()
