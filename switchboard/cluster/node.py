"""A service as one instance of a cluster: what ``Member`` drives (its ``Node``), over ``Service``.

``join`` starts it. Whatever the role, the instance serves consoles, the API and the wallboard, and its
writers run (they are handed work only while it leads). A follower's router is fed the leader's journal
(``apply``) and its console orders go to the leader (``AskClient``); a leader runs the router's loop and
clock, the PBX adapter and the console orders of the followers (``AskServer``).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

import redis.asyncio as aioredis
import structlog
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from agent_console.app import GATE
from agent_console.devices import KnownDevices
from config.cluster import ClusterSettings
from routing import views
from switchboard.cluster.asks import AskClient, AskServer
from switchboard.cluster.delivery_feed import SharedDeliveryFeed
from switchboard.cluster.journal_stream import Line, StreamWriter, last_seq
from switchboard.cluster.lease import Lease
from switchboard.cluster.login_throttle import RedisLoginThrottle
from switchboard.cluster.member import STUCK_S, Member, until_ended
from switchboard.cluster.session_ends import SessionEnds
from switchboard.cluster.subscription import subscriber
from switchboard.event_codec import UnreadableEvent, decode

if TYPE_CHECKING:
    from switchboard.bootstrap import Service

log = structlog.get_logger("cluster.node")

READ_MARGIN_S = 5.0  # a blocking stream read's socket waits this much longer than the read itself
TERM_START_S = 10.0  # writing the new term's snapshot; longer, and the store is not fit to lead with
STAND_DOWN_FLUSH_S = 2.0  # our last lines, before the reload from the store; a store that slow is down
RESTATE_SLICE = 10  # restated commands handed to the hub at a time in a reload (see ``reload``)


def clients(settings: ClusterSettings) -> tuple[aioredis.Redis, aioredis.Redis]:
    """One client for the lease and appends, whose requests must fail fast (a renewal stuck for longer
    than the lease is worth nothing), and one for the blocking reads of the stream and the answers."""
    quick = settings.lease_ms / 2000
    # No retries inside redis-py: its default (10, with backoff up to 1 s) held one request for many
    # seconds while Redis was down, past any lease; every caller here has its own retry, by the lease.
    once = Retry(NoBackoff(), 0)
    commands = aioredis.Redis.from_url(settings.redis_url, socket_timeout=quick, socket_connect_timeout=quick,
                                       retry=once)  # fmt: skip
    reads = aioredis.Redis.from_url(settings.redis_url, socket_timeout=READ_MARGIN_S + 1,
                                    socket_connect_timeout=quick, retry=once)  # fmt: skip
    return commands, reads


async def join(service: Service, settings: ClusterSettings) -> ClusterNode:
    node = ClusterNode(service, settings)
    await node.start()
    return node


async def shared_key(redis: aioredis.Redis, prefix: str) -> bytes:
    """The cluster's key for signing device cookies: made by the first instance that asks, then read."""
    name = f"{prefix}:device-key"
    await redis.set(name, secrets.token_hex(32), nx=True)
    found = await redis.get(name)
    if found is None:  # deleted between the two requests
        return await shared_key(redis, prefix)
    return bytes.fromhex(found.decode() if isinstance(found, bytes) else str(found))


class ClusterNode:
    def __init__(self, service: Service, settings: ClusterSettings) -> None:
        if service.journal is None:
            raise ValueError("an instance of a cluster needs the journal: its followers replicate it")
        self._service = service
        self._journal = service.journal
        self._journal.anchors_new_stores = False  # the leader snapshots at the start of every term
        self._settings = settings
        self._redis, self._reads = clients(settings)
        self.asks = AskClient(self._reads, settings.key_prefix, settings.instance)
        self.member = Member(self, self._redis, self._reads, settings, seq=0)
        self._leading: list[asyncio.Task[None]] = []
        self._asks: AskServer | None = None  # while leading
        self._as_of: float | None = None  # the time of the last event the router has

    async def start(self) -> None:
        s = self._service
        standing = s.standing
        standing.lease = self.member.lease
        standing.remote_ask = self.asks.ask
        await self.member.follow_from_store()  # the store's state; the stream is read on from its line
        # A browser known to one instance (its sb_device cookie) is known to all (agent_console/devices.py).
        gate, prefix = s.web[GATE], self._settings.key_prefix
        gate.devices = KnownDevices(await shared_key(self._redis, prefix))
        gate.throttle = RedisLoginThrottle(self._redis, prefix, s.clock)  # guesses count on every instance
        ends = SessionEnds(self._redis, subscriber(self._settings.redis_url, 1.0), prefix, gate.sessions)
        gate.sessions.tell_others.append(ends.publish)  # a logout here drops the session everywhere at once
        s.run_beside(ends.run)
        # Each delivery's status to this agent's consoles on every instance, not only where it changed.
        feed = SharedDeliveryFeed(self._redis, subscriber(self._settings.redis_url, 1.0), prefix,
                                  self._settings.instance, s.hub, s.store.deliveries, s.clock)  # fmt: skip
        s.deliveries.watchers.replace(s.delivery_feed, feed.changed)
        s.run_beside(feed.run)
        await self.asks.start()
        # Today so far for the wallboard, as the store has it; the router's commands keep it up from here.
        await s.wallboard.load(s.store.reports, s.store.agent_states)
        s.run_beside(
            s.recorder.run, s.attempts.run, s.state_log.run, s.wallboard.run, self._journal.run, self._run
        )

    async def _run(self) -> None:
        try:
            await self.member.run()
        finally:
            await self.asks.close()
            await self._redis.aclose()
            await self._reads.aclose()

    # --- Node --------------------------------------------------------------------------------------
    def apply(self, line: Line) -> None:
        try:
            event = decode(line.event)
        except UnreadableEvent as exc:
            # A leader of another release: this router cannot follow it; it reloads at the next term.
            log.error("node.unreadable-line", seq=line.seq, error=str(exc))
            return
        self._journal.seq = line.seq
        self._as_of = event.at
        self._service.standing.term = line.token
        self._service.loop.follow(event)

    async def reload(self) -> int:
        s = self._service
        # The books are rebuilt off the loop and swapped in at once (``Journal.restore``): until then the
        # router, its readers and the consoles here have the books as they were.
        restored = await self._journal.restore(s.router)
        if restored.refused is not None:
            # As alone: a state this release cannot read back is not used; the router starts empty and
            # follows from the stream's end (else it would find every later line missing, and reload again).
            self._journal.seq = await last_seq(self._reads, self._settings.key_prefix)
        self._as_of = restored.as_of
        await s.renamed()  # the customers agents named for live calls
        # Consoles here see the state as it now is. A slice at a time, the loop let go between: with
        # thousands of pops and wrap-up forms the hub's messages, and the caller look-ups it starts for
        # each, held the loop for hundreds of ms in one go. No stream line is applied meanwhile (the
        # follower waits for the reload), so the router does not move under the slices.
        restated = s.router.restated(s.clock())
        for start in range(0, len(restated), RESTATE_SLICE):
            s.hub.restate(restated[start : start + RESTATE_SLICE])
            await asyncio.sleep(0)
        return self._journal.seq

    def may_lead(self) -> bool:
        return not self._service.standing.stopping

    async def stored_seq(self) -> int:
        return await self._service.store.journal.last_seq()

    def heard_of(self, token: int) -> None:
        self._service.standing.term = token

    async def raise_fence(self, token: int) -> None:
        s = self._service
        await s.store.journal.raise_fence(token, self._settings.instance, s.clock())
        s.standing.fence = token

    async def start_term(self, writer: StreamWriter) -> int:
        s = self._service
        seq = self._journal.seq
        self._journal.snapshot(s.router, s.clock())
        await asyncio.wait_for(self._journal.flush(), TERM_START_S)  # the lease is renewed meanwhile
        self._journal.taps.append(writer.tap)
        return seq

    async def lead(self, lease: Lease) -> None:
        s = self._service
        s.loop.drop_pending()  # queued by work of an earlier leadership of ours (a caller lookup): stale
        s.pbx = s.new_pbx()  # knows nothing yet: its reconcile tells it what Asterisk has
        s.pbx.adopt(views.channels(s.router.book), self._as_of)
        s.loop.may_route = lease.valid  # not one event more once the lease may be gone by our clock
        s.standing.leading = True
        s.train_again()  # practice callers for the trainees (issue 17): the old leader's stopped with it
        logged = tuple(s.recent_logs)
        s.recent_logs.clear()
        now = s.clock()
        asks = self._asks = AskServer(
            self._reads, self._settings.key_prefix, s.loop.ask, consumer=self._settings.instance
        )
        runs: dict[str, Coroutine[Any, Any, object]] = {
            "router": s.loop.run(s.pbx.connected), "pbx": s.pbx.run(), "asks": asks.run(),
            "call-log": s.recorder.replayed(logged),
            "state-log": s.state_log.start(now, s.agents_as_kept(now)),
        }  # fmt: skip
        self._leading = [asyncio.create_task(self._logged(run), name=name) for name, run in runs.items()]

    async def _leader_tasks_ended(self) -> None:
        """Wait for the cancelled leader's tasks; one that does not end is named every ``STUCK_S`` with
        where it waits (a member once sat 40 s in this wait under load, and the log said only that)."""
        # Closing the blocking reads' sockets ends a read stuck in one with an error (the client connects
        # again when next used).
        await until_ended(self._leading, STUCK_S, self._reads.connection_pool.disconnect)
        self._leading = []
        self._asks = None

    @staticmethod
    async def _logged(run: Coroutine[Any, Any, object]) -> None:
        try:
            await run
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("node.leader-task-failed")

    async def stand_down(self) -> None:
        s = self._service
        s.standing.leading = False
        s.retire_pbx()  # what its requests under way report now is not news for any leadership
        await s.training.stop()
        self._journal.taps.clear()
        if self._asks is not None:
            self._asks.stop()
        for task in self._leading:
            task.cancel()
        await self._leader_tasks_ended()
        dropped = s.loop.drop_pending()
        with contextlib.suppress(Exception):
            await s.ari.forget_connections()
        # Lines routed while we led and not yet written go to the store now (it keeps them unless a newer
        # leader has started there), before the member reloads our router from it.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._journal.flush(), STAND_DOWN_FLUSH_S)
        log.info("node.stood-down", dropped=dropped)
