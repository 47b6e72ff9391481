"""Three ``switchboard serve`` instances for ``bench/cluster_run.py``, built from the cluster tests' harness
(tests/integration/cluster/): a private ``redis-server``, a fresh PostgreSQL database (migrated once by
``switchboard migrate``, dropped afterwards), the members' configs and processes, and the agents'
consoles, which here also note when each pop was read and on which instance, and a reader of the leader's
journal stream that notes when each line could be read there.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import redis.asyncio as aioredis
from _cluster_figures import Leadership, Pop
from pop_latency import (
    ARI_URL,
    AUTH,
    DIDS,
    RING_TIMEOUT_S,
    Load,
    Observer,
    Options,
    Seen,
    asterisk,
    hang_up_leftovers,
    place_calls,
    seed_customers,
    settle,
)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the cluster tests' harness

from switchboard.cluster.follower import entries_of  # noqa: E402
from switchboard.cluster.journal_stream import stream_key  # noqa: E402
from tests.integration.cluster.cluster_calls import call_log as call_log  # noqa: E402  (cluster_run's)
from tests.integration.cluster.cluster_harness import LEASE_MS, Cluster, Member  # noqa: E402
from tests.integration.cluster.cluster_harness import Health as Health  # noqa: E402  (cluster_run's)
from tests.integration.cluster.cluster_seats import Seat  # noqa: E402
from tests.integration.cluster.private_redis import PrivateRedis  # noqa: E402
from tests.integration.conftest import phone  # noqa: E402
from tests.integration.restart.harness import DID  # noqa: E402
from tests.support import postgres_database  # noqa: E402

# The harness' config has one line on one DID; pop_latency's callers dial four, as in the other benches.
MORE_DIDS = "".join(f'd{n[-3:]} = "{n}"\n' for n in DIDS if n != DID)
BENCH_LINE = f'\n[lines.bench]\nname = "Bench line"\nqueue = "q"\n\n[lines.bench.dids]\n{MORE_DIDS}'
NAMES = ("a", "b", "c")
SETUP_TRIES = 5
MOVE_TRIES = 10
SAMPLE_S = 0.05  # how often the leadership timeline asks every member
UP_TIMEOUT_S = 120.0  # three processes start at once on a machine other engineers load too


class NoAri(Exception):
    """The sandbox's ARI does not answer."""


@dataclass
class Sandbox:
    """The Asterisk sandbox as a run uses it: an ARI client, the bench's own observer app, a work dir."""

    ari: aiohttp.ClientSession
    observer: Observer
    version: str
    workdir: Path
    left: int = 0  # the run's channels still up at its end, hung up then


@asynccontextmanager
async def sandbox(tag: str, prefix: str, keep: bool) -> AsyncIterator[Sandbox]:
    """ARI and an observer on a quiet Asterisk for a run whose channels are named ``tag...``, and a fresh
    work dir (``prefix...``, removed after unless ``keep``); afterwards the run's leftover channels are
    hung up (``Sandbox.left``). Raises ``NoAri`` when the sandbox does not answer."""
    connector = aiohttp.TCPConnector(limit=16)  # Asterisk's HTTP server takes 100 sessions in all
    async with aiohttp.ClientSession(
        headers=AUTH, connector=connector, timeout=aiohttp.ClientTimeout(30)
    ) as ari:
        try:
            async with ari.get(f"{ARI_URL}/ari/asterisk/info") as resp:
                version = str((await resp.json())["system"]["version"])
        except aiohttp.ClientError as exc:
            raise NoAri(f"no ARI at {ARI_URL} ({exc}); scripts/asterisk-sandbox up") from exc
        observer = Observer(ari, keep_raw=False)
        await observer.start()
        await settle()
        box = Sandbox(ari, observer, version, Path(tempfile.mkdtemp(prefix=prefix)))
        try:
            yield box
        finally:
            box.left = await hang_up_leftovers(ari, tag)
            await observer.stop()
            if not keep:
                shutil.rmtree(box.workdir, ignore_errors=True)


async def call_in(
    ari: aiohttp.ClientSession, seen: Seen, cluster: Cluster, calls: int, rate: float, tag: str,
    pids: dict[str, int],
) -> Load:  # fmt: skip
    """``calls`` of ``pop_latency``'s G.711 callers at ``rate`` calls/s into the cluster's app, until every
    one has hung up (at most a minute past the ring timeout); the CPU of Asterisk and ``pids`` meanwhile."""
    opts = Options(calls, rate, 0, 0, ("switchboard",), False, None, ())
    return await place_calls(ari, seen, opts, tag, "switchboard-inbound", {"_SB_APP": cluster.app},
                             drain_s=RING_TIMEOUT_S + 60, pids={**asterisk(), **pids})  # fmt: skip


@dataclass
class PopSeat(Seat):
    """A console that also notes each ``offer`` it reads: when (before parsing) and on which instance."""

    pops: list[Pop] = field(default_factory=list)

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        try:
            async for msg in ws:
                now = time.time()
                if msg.type is aiohttp.WSMsgType.TEXT:
                    message = json.loads(msg.data)
                    if message["type"] == "offer" and self.member is not None:
                        call, offer = str(message["call"]), str(message["offer"])
                        self.pops.append(Pop(call, now, self.member.name, offer))
                    elif message["type"] == "snapshot":
                        # Its directory lists every agent: kept by 5,000 consoles, 9 GB in this process,
                        # whose collections then held the very loop that times the pops.
                        message = {k: v for k, v in message.items() if k not in ("agents", "queues")}
                    self.seen.append(message)
                    self._news.set()
        finally:
            self.closed.set()
            self._news.set()


Users = Callable[[Cluster], Awaitable[None]]


async def users_by_cli(cluster: Cluster) -> None:
    """A user per agent, as an administrator adds them (``switchboard users add``: one argon2 hash each)."""
    cluster.members[0].add_agent_users(*cluster.agents)


@asynccontextmanager
async def cluster_up(
    workdir: Path,
    agents: Sequence[str],
    http: aiohttp.ClientSession,
    phones: Mapping[str, str] | None = None,
    users: Users = users_by_cli,
    lease_ms: int = LEASE_MS,
) -> AsyncIterator[Cluster]:
    """The three members running on one store and one Redis, one of them leading; all gone afterwards.
    Each agent's phone is ``phones[agent]`` (by default the sandbox phone of the agent's number)."""
    redis = PrivateRedis(workdir)
    redis.start()
    try:
        async with postgres_database("sb_bench_cluster") as url:
            endpoints = {a: phone(a) for a in agents} if phones is None else dict(phones)
            cluster = Cluster(workdir, redis, url, endpoints, lease_ms)
            for name in NAMES:
                member = cluster.add(name)
                member.extra += BENCH_LINE
                member.start_timeout_s = UP_TIMEOUT_S
                member.write_config()
            try:
                cluster.members[0].cli("migrate")
                await users(cluster)
                await seed_customers(url, [])  # half the callers are customers: pops carry a card
                await cluster.start(*cluster.members)
                await cluster.leader(http, timeout=UP_TIMEOUT_S)
                yield cluster
            finally:
                cluster.stop()
    finally:
        redis.stop()


async def seat_all(
    http: aiohttp.ClientSession, agents: Sequence[str], members: Sequence[Member], refusals: list[str]
) -> list[PopSeat]:
    """One ready console per agent, dealt over ``members`` in turn, signed in where it connects: one
    sign-in at a time on each member (argon2 takes a core for a moment; the machine is shared).

    Setup only, before any call: a console refused while leadership moves (``no-leader``,
    ``routing-refused``) says ready again a second later, as the agent would, at most ``SETUP_TRIES``
    times; each refusal is kept in ``refusals`` and printed with the figures."""
    seats = [PopSeat(agent, http) for agent in agents]

    async def sit(member: Member, mine: Sequence[PopSeat]) -> None:
        for seat in mine:
            await seat.sign_in(member)
            await sit_down(seat, member, refusals)

    await asyncio.gather(*(sit(m, seats[n :: len(members)]) for n, m in enumerate(members)))
    return seats


async def sit_down(seat: PopSeat, member: Member, refusals: list[str], ready: bool = True) -> None:
    """Open ``seat``'s console on ``member`` (its session cookie already kept) and join the ACD, ready or
    not. Setup only: refused while leadership moves (``no-leader``, ``routing-refused``), it tries again a
    second later, as the agent would, at most ``SETUP_TRIES`` times; each refusal is kept in ``refusals``."""
    for attempt in range(SETUP_TRIES):
        try:
            await seat.connect(member, ready=ready)
            return
        except AssertionError as refused:
            refusals.append(str(refused))
            if attempt == SETUP_TRIES - 1:
                raise
            await asyncio.sleep(1.0)


async def move(seats: Sequence[PopSeat], members: Sequence[Member], refusals: list[str]) -> float:
    """Reconnect ``seats`` (whose instance died) over ``members`` in turn with their session cookies, as
    the console's page does, again a second later while refused (``no-leader`` until a survivor leads),
    up to ``MOVE_TRIES`` times; each refusal is kept in ``refusals``. The seconds until all were in."""
    started = time.monotonic()

    async def one(seat: PopSeat, member: Member) -> None:
        for _ in range(MOVE_TRIES):
            try:
                await seat.connect(member)
                return
            except AssertionError as refused:
                refusals.append(str(refused))
                await asyncio.sleep(1.0)

    await asyncio.gather(*(one(s, members[n % len(members)]) for n, s in enumerate(seats)))
    return time.monotonic() - started


@dataclass
class Takeover:
    """When a survivor first said it leads, and when it also held the ARI websocket (``time.time()``)."""

    leader: str | None = None
    term: int | None = None
    said_leader_at: float | None = None
    connected_at: float | None = None
    samples: list[dict[str, Health | None]] = field(default_factory=list)


async def watch_takeover(
    http: aiohttp.ClientSession, survivors: Sequence[Member], limit_s: float
) -> Takeover:
    """Ask every survivor's health at once, again and again, until one leads with ARI connected."""
    seen = Takeover()
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        answers = await asyncio.gather(*(m.health(http) for m in survivors))
        now = time.time()
        seen.samples.append({m.name: h for m, h in zip(survivors, answers, strict=True)})
        for member, health in zip(survivors, answers, strict=True):
            if health is None or health.get("role") != "leader":
                continue
            if seen.said_leader_at is None:
                seen.leader, seen.said_leader_at = member.name, now
                seen.term = None if health.get("term") is None else int(health["term"])
            if health.get("ari_connected"):
                seen.connected_at = now
                return seen
        await asyncio.sleep(0.01)
    return seen


class StreamTap:
    """The leader's journal stream read as a follower reads it (a blocking ``XREAD`` from the start, on a
    client of its own): each line's event text and when it was read (``time.time()``), until stopped."""

    def __init__(self, cluster: Cluster) -> None:
        self.read: list[tuple[float, str]] = []
        self._redis = aioredis.Redis.from_url(cluster.redis.url)
        self._key = stream_key(cluster.prefix)
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        after = "0-0"
        # Until stopped, not only until cancelled: redis-py can lose a cancel that meets its blocking read,
        # and a run at 00:50 UTC 2026-12-08 then sat in ``stop`` for minutes after its last call.
        while not self._stopping:
            found = await self._redis.xread({self._key: after}, count=1000, block=1000)
            now = time.time()
            for entry_id, fields in entries_of(found):
                after = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
                if b"e" in fields:
                    self.read.append((now, fields[b"e"].decode()))

    async def stop(self) -> None:
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._redis.aclose()


def full_logs(member: Member) -> str:
    """Every ``switchboard serve`` log of the member, whole (``Member.log`` keeps only their tails)."""
    return "\n".join(p.read_text(errors="replace") for p in sorted(member.workdir.glob("serve-*.log")))


async def sample_leaders(http: aiohttp.ClientSession, members: Sequence[Member], who: Leadership) -> None:
    """Until cancelled: every member's health asked at once, every ``SAMPLE_S``; who said they led."""
    while True:
        answers = await asyncio.gather(*(m.health(http) for m in members))
        leading = [m.name for m, h in zip(members, answers, strict=True) if h and h.get("role") == "leader"]
        who.note(time.time(), leading)
        await asyncio.sleep(SAMPLE_S)
