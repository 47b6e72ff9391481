"""One instance's part in the cluster: follow the leader, take the lease when it is free, lead, stand down.

    follower ──lease free, taken──▶ drain the stream ──▶ start the term ──▶ leader
        ▲                                                                    │
        └───────── reload from the store ◀── stand down ◀── lease lost ──────┘
                                                            (not renewed in time, taken by
                                                             another, or the stream refused a line)

Starting a term: the new leader first raises the store's fence to its token: from then on the store
refuses every write of an older leadership, and what the last leader wrote before is there to read. Its
router then holds every line any leader put on the stream (it drained it after taking the lease, and no
older leader can append any more), or the store's history when that is longer (the last leader's lines
that never reached the stream). It keeps that state in the store as a snapshot, then marks the stream:
the followers' reading goes on from there. Only then does it connect to Asterisk, which tells it what
happened while nobody led (``AriPbx`` reconciles).

Standing down: the instance stops commanding at once (its ARI requests are refused by ``Lease.check``
from the moment its own clock says the lease may be gone), stops its leader's work, and reloads its
router from the store, because its last events may never have reached the stream.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Collection
from typing import Any, Protocol

import redis.asyncio as aioredis
import structlog
from redis.exceptions import RedisError

from config.cluster import ClusterSettings
from switchboard.cluster.follower import Follower
from switchboard.cluster.journal_stream import Line, StreamWriter
from switchboard.cluster.lease import Lease

log = structlog.get_logger("cluster.member")

WATCH_S = 0.05
STOP_FOLLOWING_S = 0.1  # a follower task this slow to end is logged, and its blocking read cut off
FOLLOWER_GONE_S = 10.0  # then waited for this much longer: past a stream read's socket timeout (node.py)
STUCK_S = (
    10.0  # a member this long in one step of taking or giving up the lead is logged, with where it waits
)
ASKING = "asking for the lease"  # a follower's step; each ask starts it again
LEADING = "leading"  # the one step a member may stay in for good


class Node(Protocol):
    """What a member drives in its service (``switchboard.bootstrap.Service``)."""

    def apply(self, line: Line) -> None:
        """Hand a line of the leader's journal to this instance's router."""

    async def reload(self) -> int:
        """Put the router back to what the store keeps; the last line that includes."""

    async def raise_fence(self, token: int) -> None:
        """Make the store refuse every write of an older leadership from now on (``Fenced``)."""

    async def start_term(self, writer: StreamWriter) -> int:
        """Keep the router's state as the new term's start in the store, tap the journal into
        ``writer``; the last line the state includes."""

    async def lead(self, lease: Lease) -> None:
        """Start commanding the PBX and doing the leader's work."""

    async def stand_down(self) -> None:
        """Stop all of it; return once nothing more is sent."""

    async def stored_seq(self) -> int:
        """The last line the store holds (in a snapshot or as a line)."""

    def may_lead(self) -> bool:
        """False once the service is stopping: it must not take the lease on its way out."""

    def heard_of(self, token: int) -> None:
        """The lease is held with ``token`` (by us or another): the latest leadership we know of."""


class Member:
    def __init__(
        self, node: Node, redis: aioredis.Redis, reads: aioredis.Redis, settings: ClusterSettings, seq: int
    ) -> None:
        self._node = node
        self._redis = redis
        self._reads = reads
        self._settings = settings
        self.lease = Lease(redis, settings.key_prefix, settings.instance, settings.lease_ms)
        self.follower = Follower(reads, settings.key_prefix, node.apply, node.reload, seq)
        self.role = "follower"
        self.terms_led = 0
        self._reachable = True
        self.step = ASKING
        self._step_since = 0.0  # the loop's clock when ``step`` began

    @property
    def poll_s(self) -> float:
        """How often a follower asks for the lease: a tenth of it, so a takeover waits little past expiry."""
        return self._settings.lease_ms / 10_000

    async def run(self) -> None:
        running = asyncio.current_task()
        assert running is not None
        watch = asyncio.create_task(self._watch_steps(running))
        try:
            while True:
                following = asyncio.create_task(self._follow())
                try:
                    await self._until_leader()
                except Exception:  # Redis failing as the lease is asked for: not leading after all
                    log.exception("member.takeover-failed")
                    self._at("giving the lease back")
                    await self._stop_following(following)
                    await self._give_back()
                    await asyncio.sleep(self.poll_s)
                    continue
                except BaseException:
                    await self._stop_following(following)
                    raise
                await self._lead(following)
                await self._reload_after_leading()
        finally:
            watch.cancel()
            with contextlib.suppress(RedisError, OSError):
                await self.lease.release()  # a clean stop: a standby takes over at once

    def _at(self, step: str) -> None:
        self.step = step
        self._step_since = asyncio.get_running_loop().time()

    async def _watch_steps(self, running: asyncio.Task[None]) -> None:
        """Taking or giving up the lead takes seconds at most; a member that stays in one of its steps
        is logged every ``STUCK_S`` with the chain of awaits it waits in. A three-instance cluster of
        5,000 agents under load once sat with nobody leading for 40 s, the lease free, each member idle
        after its last stand-down, and no log line said where each waited (bench/README.md,
        ``cluster_consoles.py``)."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(STUCK_S / 2)
            held = loop.time() - self._step_since
            if self.step != LEADING and held >= STUCK_S:
                log.warning("member.stuck", step=self.step, for_s=round(held, 1), where=where(running))

    async def _until_leader(self) -> None:
        self.role = "follower"
        while True:
            self._at(ASKING)
            await asyncio.sleep(self.poll_s)
            if await self._acquired():
                return

    async def _stop_following(self, following: asyncio.Task[None]) -> bool:
        """Whether the follower task has ended. A leader must not start before it has: one still inside
        a reload (the store read under way) put the books back to the store's under a new leader, whose
        journal then numbered lines it had written already (CI, Redis frozen). Not waited for without
        end either: a read stuck in the Redis client once held a new leader for a minute."""
        self.follower.stop()
        following.cancel()
        done, _ = await asyncio.wait({following}, timeout=STOP_FOLLOWING_S)
        if done:
            return True
        # A cancel lost inside the Redis client leaves the task in its blocking read for up to a second
        # (``BLOCK_MS``): a takeover measured 2.1 s, not 1. Closing the reads' sockets ends that read with
        # an error; the client connects again when next used. (A reload's store read is waited for.)
        log.warning("member.follower-slow-to-stop", where=where(following))
        with contextlib.suppress(RedisError, OSError):
            await self._reads.connection_pool.disconnect()
        done, _ = await asyncio.wait({following}, timeout=FOLLOWER_GONE_S)
        return bool(done)

    async def _acquired(self) -> bool:
        if not self._node.may_lead():
            return False
        try:
            token = await self.lease.acquire()
            if not self._reachable:
                log.info("member.redis-reachable")
                self._reachable = True
            if token is None:
                holder = await self.lease.holder()
                if holder is not None:
                    self._node.heard_of(holder.token)
                return False
        except (RedisError, OSError) as exc:
            if self._reachable:  # once per outage, not ten times a second
                log.warning("member.redis-unreachable", error=str(exc))
            self._reachable = False
            return False
        self._node.heard_of(token)
        return True

    async def _follow(self) -> None:
        # Ends when the follower is stopped, not only when cancelled: a cancellation can be lost inside
        # the Redis client (a read's own timeout turns it into a TimeoutError), and a loop that started
        # the next read then held a new leader for 10 s after Redis came back (the Redis-killed test).
        generation = self.follower.generation
        while generation == self.follower.generation:
            try:
                await self.follower.run(generation)
            except (RedisError, OSError) as exc:
                log.warning("member.follow-failed", error=str(exc))
                await asyncio.sleep(self.poll_s)
            except Exception:  # the store failing in a reload: keep following once it is back
                log.exception("member.follow-failed")
                await asyncio.sleep(self.poll_s)

    async def follow_from_store(self) -> None:
        """Start from what the store keeps (at start-up)."""
        await self.follower.reload()

    async def _give_back(self) -> None:
        with contextlib.suppress(RedisError, OSError):
            await self.lease.release()
        self.lease.lost("given back")

    async def _reload_after_leading(self) -> None:
        """Our last events may never have reached the stream: the store's history is the cluster's."""
        self._at("reloading after leading")
        while True:
            try:
                await self.follower.reload()
            except Exception:
                log.exception("member.reload-failed")
                await asyncio.sleep(self.poll_s)
                continue
            log.info("member.stood-down", instance=self._settings.instance, seq=self.follower.at.seq)
            return

    async def _lead(self, following: asyncio.Task[None]) -> None:
        lost = asyncio.Event()
        # Renewed from the moment it is ours: stopping the follower, catching up and starting the term
        # may take a while (the follower's wait alone used to outlast a 1 s lease after Redis came back).
        keep = [asyncio.create_task(self._renew(lost)), asyncio.create_task(self._watch(lost))]
        writer = StreamWriter(self._redis, self._settings.key_prefix, self.lease, lambda _: lost.set())
        try:
            self._at("stopping the follower")
            if not await self._stop_following(following):
                log.warning("member.term-not-started", why="the follower task did not end")
                return
            assert self.lease.token is not None  # taken: ours
            self._at("raising the fence")
            await self._node.raise_fence(self.lease.token)  # the last leader's lines land before, or never
            self._at("catching up")
            await self._catch_up()
            self._at("starting the term")
            seq = await self._node.start_term(writer)
            if lost.is_set() or not await writer.mark(seq):
                log.warning("member.term-not-started", seq=seq)
                return
            await self._node.lead(self.lease)
            self.role = "leader"
            self._at(LEADING)
            self.terms_led += 1
            log.info("member.leading", instance=self.lease.instance, token=self.lease.token, seq=seq)
            keep.append(asyncio.create_task(writer.run()))
            await lost.wait()
        except Exception:  # Redis or the store failing as the term starts
            log.exception("member.lead-failed")
        finally:
            self._at("standing down")
            # The leader's tasks also end by themselves once ``lost`` is set and the writer stopped: a
            # cancel can be lost (asyncio.wait_for before 3.12 swallows one that meets its inner call's
            # end; redis-py's read timeout turns one into its TimeoutError). A renewal loop that lost its
            # cancel went on renewing the lease of a member standing down, and nobody led for a minute
            # (bench/cluster_consoles.py, 5,000 consoles: member.stuck at this gather).
            lost.set()
            writer.stopped = True
            for task in keep:
                task.cancel()
            await asyncio.gather(*keep, return_exceptions=True)
            self.role = "follower"
            await self._node.stand_down()  # nothing more is sent: then a standby may take over at once
            await self._give_back()

    async def _catch_up(self) -> None:
        """Everything any leader did before us: nobody else may append to the stream now, so what it
        holds is all it will hold. The store may hold more: lines the last leader wrote there while its
        lease was valid but that never reached the stream (Redis lost them, or the leader's appends
        failed); those are history too (Asterisk may have been told to do them), so then we start from
        the store, and read the stream on from there."""
        await self.follower.drain()
        stored = await self._node.stored_seq()
        if stored > self.follower.at.seq:
            log.info("member.store-ahead", replica=self.follower.at.seq, store=stored)
            await self.follower.reload()
            await self.follower.drain()

    async def _renew(self, lost: asyncio.Event) -> None:
        every = self.lease.renew_every_s
        while not lost.is_set():
            await asyncio.sleep(every)
            if lost.is_set():
                return  # standing down: the lease is not to be kept, even if a cancel went astray
            try:
                if not await asyncio.wait_for(self.lease.renew(), timeout=every * 2):
                    lost.set()
                    return
            except (RedisError, OSError, TimeoutError) as exc:
                log.warning("member.renew-failed", error=str(exc))  # the watch decides when it is too late

    async def _watch(self, lost: asyncio.Event) -> None:
        """Wake when the lease would end by our clock; renewals will usually have moved that on."""
        while not lost.is_set():
            left = self.lease.remaining_s()
            if left <= 0:
                lost.set()
                return
            await asyncio.sleep(min(left, WATCH_S) + 0.001)


async def until_ended(
    tasks: Collection[asyncio.Task[Any]], stuck_s: float, unblock: Callable[[], Awaitable[None]]
) -> None:
    """Wait for ``tasks``, cancelled already; one that has not ended within ``stuck_s`` is named with
    where it waits (``node.leader-task-stuck``) and ``unblock`` is called, again every ``stuck_s`` until
    all have ended. Seen: a deposed leader's asks' read waiting on its Redis socket 70 s after its cancel
    (the client lost it); closing that socket (``unblock``) ends the read with an error."""
    pending = set(tasks)
    while pending:
        _, pending = await asyncio.wait(pending, timeout=stuck_s)
        for task in pending:
            log.warning("node.leader-task-stuck", task=task.get_name(), where=where(task))
        if pending:
            with contextlib.suppress(RedisError, OSError):
                await unblock()


def where(task: asyncio.Task[Any]) -> str:
    """The chain of awaits a task is suspended in, outermost first: what a follower that will not stop
    waits on (``Task.get_stack`` shows only the outermost frame of a suspended coroutine)."""
    places: list[str] = []
    awaited: object = task.get_coro()
    while awaited is not None and len(places) < 40:
        frame = getattr(awaited, "cr_frame", None) or getattr(awaited, "gi_frame", None)
        if frame is None:
            places.append(type(awaited).__name__)
            break
        places.append(f"{frame.f_code.co_qualname}:{frame.f_lineno}")
        awaited = getattr(awaited, "cr_await", None) or getattr(awaited, "gi_yieldfrom", None)
    return " -> ".join(places)
