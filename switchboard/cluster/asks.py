"""A console's orders for the router, from any instance to the leader's router, over Redis.

On the leader a console's order (ready, pause, a transfer, a supervisor's action) is ``RouterLoop.ask``;
on a follower it is ``AskClient.ask``, which waits for the leader's router in the same way: it returns
when the order is done and raises the router's own refusal (``error_codec``) when refused.

    follower: AskClient.ask --XADD--> <prefix>:asks (stream, group "leaders") --XREADGROUP--> AskServer
              (the leader) --ask--> its RouterLoop; the outcome --PUBLISH--> <prefix>:answers:<instance>

Exactly once: the consumer group hands each entry to one reader only, whichever leader reads it, so an
old and a new leader never both apply one ask. An entry a reader took and never acknowledged (it died,
or was deposed, in between) is acknowledged later by a sweep without being applied: it may have been.

Never late: each ask carries its deadline, the moment by which a leader must have started it, on
Redis's clock (``redis_clock``: the instances' own clocks may disagree, and an entry that reaches Redis
late, from a stalled connection, is no fresher for it); one read later is answered ``expired`` and not
applied. The asker gives up ``MARGIN_MS`` after the deadline, so an agent told ``no-leader`` (try again)
never finds the order carried out later, as long as the leader's router answers within the margin.

Answers go by pub/sub on the asking instance's channel: one only it listens to, nothing left behind
when an instance dies. The stream is trimmed to about ``KEPT_ASKS`` entries by every ask.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import structlog
from redis import asyncio as aioredis
from redis.exceptions import RedisError, ResponseError

from agent_console.errors import NoLeader
from routing import events as ev
from routing.errors import RoutingError
from switchboard import event_codec
from switchboard.cluster import error_codec
from switchboard.cluster.redis_clock import RedisClock, time_ms

log = structlog.get_logger("cluster.asks")

GROUP = "leaders"
KEPT_ASKS = 10_000  # about 200 bytes each; far more than a leader can fall behind by within a timeout
BATCH = 100  # entries read at once by the leader, answered in one round trip
BLOCK_MS = 1000  # a read waits this long for an ask, then the loop looks at its sweep
SWEEP_S = 30.0  # how often the leader acknowledges abandoned entries (taken, never answered)
ABANDONED_S = 60.0  # taken this long ago and never acknowledged: its reader is gone
RETRY_S = 0.5  # after Redis failed the leader's read
# The leader starts an ask at least this long before its asker gives up (a quarter of the timeout when
# that is shorter): the time its router has to carry it out and answer.
MARGIN_MS = 500.0
CLOCK_EVERY_S = 30.0  # how often an asker measures Redis's clock again


class AskFailed(Exception):
    """The leader could not handle the ask (a fault of ours, not the router refusing the order): an
    event it cannot read (another release), or its router failed. The console answers internal-error."""


def stream_key(prefix: str) -> str:
    return f"{prefix}:asks"


def answers_channel(prefix: str, instance: str) -> str:
    return f"{prefix}:answers:{instance}"


def _text(value: object) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


class AskClient:
    """Sends a follower's asks to the leader; ``start()`` before the first, ``close()`` after the last."""

    def __init__(self, redis: aioredis.Redis, prefix: str, instance: str, timeout_s: float = 5.0) -> None:
        self._redis = redis
        self._stream = stream_key(prefix)
        self._instance = instance
        self._channel = answers_channel(prefix, instance)
        self._timeout_s = timeout_s
        # The leader must start an ask this long before the asker gives up, to answer in time.
        self._margin_ms = min(MARGIN_MS, timeout_s * 250.0)
        self._clock = RedisClock(redis)
        self._waiting: dict[str, asyncio.Future[Mapping[str, Any]]] = {}
        self._outbox: list[tuple[dict[str, str], asyncio.Future[None]]] = []
        self._pubsub: Any = None  # redis.asyncio.client.PubSub, untyped in redis-py
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Listens to this instance's answers; returns once Redis has the subscription, so no answer
        to a later ask can come before it, and once Redis's clock is known here."""
        async with asyncio.timeout(self._timeout_s):
            await self._clock.measure()
            self._pubsub = self._redis.pubsub(ignore_subscribe_messages=False)
            await self._pubsub.subscribe(self._channel)
            while (message := await self._pubsub.get_message(timeout=self._timeout_s)) is None:
                pass
        if message["type"] not in ("subscribe", b"subscribe"):
            raise AskFailed(f"subscribing to {self._channel} answered {message!r}")
        self._tasks = [asyncio.create_task(self._read_answers()), asyncio.create_task(self._keep_time())]

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._pubsub is not None:
            with contextlib.suppress(RedisError, OSError):
                await self._pubsub.unsubscribe()
            await self._pubsub.aclose()
        closing = NoLeader("this instance is closing: try again")
        waiting_ones: list[asyncio.Future[Any]] = [*self._waiting.values(), *(s for _, s in self._outbox)]
        for waiting in waiting_ones:
            if not waiting.done():  # an outbox whose flush never started is still waiting to be sent
                waiting.set_exception(closing)

    async def ask(self, event: ev.Event) -> None:
        """Hand ``event`` to the leader's router and wait for its outcome: returns once done; raises the
        router's refusal, ``NoLeader`` when no leader answered in time (or Redis cannot be reached), and
        ``AskFailed`` on a fault of the leader's."""
        if not self._tasks:
            raise RuntimeError("AskClient.ask before AskClient.start")
        ask_id = uuid.uuid4().hex
        answer: asyncio.Future[Mapping[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[ask_id] = answer
        # On Redis's clock, however late the entry reaches Redis: a stalled send is not a fresh ask.
        start_by = (
            self._clock.now_ms() + self._timeout_s * 1000.0 - self._margin_ms - self._clock.uncertainty_ms
        )
        fields = {
            "ask": ask_id,
            "from": self._instance,
            "deadline": f"{start_by:.0f}",
            "event": event_codec.encode(event),
        }
        try:
            async with asyncio.timeout(self._timeout_s):
                await self._send(fields)
                outcome = await answer
        except TimeoutError:
            raise NoLeader(f"no leading instance answered within {self._timeout_s:g} s: try again") from None
        except (RedisError, OSError) as exc:
            raise NoLeader(f"Redis cannot be reached ({exc}): try again") from exc
        finally:
            self._waiting.pop(ask_id, None)
        _raise_for(outcome)

    async def _send(self, fields: dict[str, str]) -> None:
        """Asks made while one XADD pipeline is under way go together in the next: a burst of orders (a
        shift signing in) costs a few round trips, not a connection each."""
        sent: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._outbox.append((fields, sent))
        if len(self._outbox) == 1:
            self._tasks.append(asyncio.create_task(self._flush()))
        await sent

    async def _flush(self) -> None:
        batch, self._outbox = self._outbox, []
        failed: BaseException | None = None
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for fields, _ in batch:
                    pipe.xadd(self._stream, fields, maxlen=KEPT_ASKS, approximate=True)  # type: ignore[arg-type]
                await pipe.execute()
        except (RedisError, OSError) as exc:
            failed = exc
        except asyncio.CancelledError:
            failed = NoLeader("this instance is closing: try again")
            raise
        finally:
            for _, sent in batch:
                if sent.done():  # its asker gave up meanwhile
                    continue
                if failed is None:
                    sent.set_result(None)
                else:
                    sent.set_exception(failed)
            self._tasks = [t for t in self._tasks if not t.done()]

    async def _read_answers(self) -> None:
        while True:
            try:
                async for message in self._pubsub.listen():
                    if message["type"] in ("message", b"message"):
                        self._settle(message["data"])
                # listen() ends once nothing is subscribed: subscribe again rather than spin.
                await self._pubsub.subscribe(self._channel)
            except (RedisError, OSError) as exc:
                # redis-py subscribes again when it reconnects; asks meanwhile time out as no-leader.
                log.warning("cluster.answers-lost", error=str(exc))
                await asyncio.sleep(RETRY_S)

    def _settle(self, data: object) -> None:
        try:
            outcome = json.loads(_text(data))
            waiting = self._waiting.get(str(outcome["ask"]))
        except (ValueError, KeyError, TypeError):
            log.warning("cluster.unreadable-answer", answer=_text(data)[:200])
            return
        if waiting is not None and not waiting.done():
            waiting.set_result(outcome)

    async def _keep_time(self) -> None:
        """Both clocks drift; the offset measured at start would drift from the truth with them."""
        while True:
            await asyncio.sleep(CLOCK_EVERY_S)
            with contextlib.suppress(RedisError, OSError):
                await self._clock.measure()


def _raise_for(outcome: Mapping[str, Any]) -> None:
    match outcome.get("outcome"):
        case "done":
            return
        case "refused":
            raise error_codec.decode(outcome.get("error"))
        case "expired":
            raise NoLeader("the leader got this order too late to carry it out; nothing was done: try again")
        case "no-leader":
            raise NoLeader(str(outcome.get("message", "the leader stopped leading before carrying it out")))
        case _:
            raise AskFailed(str(outcome.get("message", outcome)))


Ask = Callable[[ev.Event], Awaitable[object]]


class AskServer:
    """The leader's end: hands each ask to ``ask`` (its ``RouterLoop.ask``) and answers the asker.

    ``counts`` has how many asks ended each way ("done", "refused", "expired", "no-leader", "unreadable",
    "failed", "abandoned"), for /metrics and tests.
    """

    def __init__(
        self,
        redis: aioredis.Redis,
        prefix: str,
        ask: Ask,
        *,
        consumer: str | None = None,
        abandoned_after_s: float = ABANDONED_S,
    ) -> None:
        self._redis = redis
        self._prefix = prefix
        self._stream = stream_key(prefix)
        self._ask = ask
        # Any name will do for exactly-once (the group hands out each entry once); a name of the
        # instance's keeps the group's list of readers short across restarts.
        self._consumer = consumer or f"leader-{uuid.uuid4().hex[:12]}"
        self._abandoned_ms = round(abandoned_after_s * 1000)
        # Asks handled and not yet answered: (entry id, the asking instance or None, the answer).
        self._answers: list[tuple[str, str | None, dict[str, object]]] = []
        self.counts: Counter[str] = Counter()
        self.stopped = False

    def stop(self) -> None:
        """End the loop at its next turn, cancel or not: a leader standing down once waited 70 s for this
        loop, which had lost its cancel and gone back to reading (bench/README.md, cluster_consoles)."""
        self.stopped = True

    async def run(self) -> None:
        """Serve asks until stopped or cancelled; Redis failing is logged and retried, never the end of the
        loop."""
        swept = -math.inf
        try:
            while not self.stopped:
                try:
                    if time.monotonic() - swept > SWEEP_S:
                        await self._sweep()
                        swept = time.monotonic()
                    await self._serve_batch()
                except ResponseError as exc:
                    # NOGROUP: the stream is gone (a Redis restarted empty, a FLUSHALL), or went while the
                    # read waited (UNBLOCKED): make it again. Anything else: log it, and retry.
                    if not str(exc).startswith(("NOGROUP", "UNBLOCKED")):
                        log.warning("cluster.asks-refused", error=str(exc))
                        await asyncio.sleep(RETRY_S)
                    await self._create_group()
                except (RedisError, OSError) as exc:
                    log.warning("cluster.asks-unreadable", error=str(exc))
                    await asyncio.sleep(RETRY_S)
        finally:
            # Asks already carried out are answered even when the loop is being cancelled.
            with contextlib.suppress(RedisError, OSError):
                await asyncio.shield(self._send_answers())

    async def _create_group(self) -> None:
        # From the stream's start: an ask sent before any leader ever read is answered too (expired,
        # most likely), never silently skipped.
        with contextlib.suppress(ResponseError):  # BUSYGROUP: another leader made it first
            await self._redis.xgroup_create(self._stream, GROUP, id="0", mkstream=True)

    async def _serve_batch(self) -> None:
        """Answer the last batch and read the next, in one round trip: the answers go out at once, the
        read then waits for asks, and TIME runs once it returns (Redis's clock at the read)."""
        async with self._redis.pipeline(transaction=False) as pipe:
            self._queue_answers(pipe)
            pipe.xreadgroup(GROUP, self._consumer, {self._stream: ">"}, count=BATCH, block=BLOCK_MS)
            pipe.time()
            *_, read, clock = await pipe.execute()
        self._answers = []  # sent: an error above keeps them for the next try (answers repeat safely)
        read_at = time.monotonic()
        entries: list[tuple[object, Mapping[object, object]]] = [
            entry for _, stream_entries in read or () for entry in stream_entries
        ]
        for entry_id, raw in entries:
            now_ms = time_ms(clock) + (time.monotonic() - read_at) * 1000.0
            entry, fields = _text(entry_id), {_text(k): _text(v) for k, v in raw.items()}
            asker, answer = await self._handle(entry, fields, now_ms)
            self._answers.append((entry, asker, answer))

    async def _handle(
        self, entry: str, fields: Mapping[str, str], now_ms: float
    ) -> tuple[str | None, dict[str, object]]:
        """The asking instance (None when the entry does not say) and the answer to send it."""
        asker, ask_id = fields.get("from"), fields.get("ask")
        answer: dict[str, object] = {"ask": ask_id}
        try:
            missing = [name for name in ("deadline", "event") if name not in fields]
            if missing:
                raise ValueError(f"no field {', '.join(missing)}")
            deadline_ms = float(fields["deadline"])
            if not math.isfinite(deadline_ms):  # "nan" would never be past, nor "inf"
                raise ValueError(f"deadline {fields['deadline']!r} is not a moment")
            event = event_codec.decode(fields["event"])
        except ValueError as exc:  # UnreadableEvent is a ValueError
            log.warning("cluster.ask-unreadable", entry=entry, asker=asker, error=str(exc))
            return asker, self._outcome(answer, "unreadable", message=f"an unreadable ask: {exc}")
        if now_ms > deadline_ms:
            return asker, self._outcome(answer, "expired")
        try:
            await self._ask(event)
        except RoutingError as exc:
            return asker, self._outcome(answer, "refused", error=error_codec.encode(exc))
        except NoLeader as exc:  # we stopped leading with it queued: not done, and the asker may try again
            return asker, self._outcome(answer, "no-leader", message=str(exc))
        except Exception as exc:
            log.exception("cluster.ask-failed", entry=entry, asker=asker)
            return asker, self._outcome(answer, "failed", message=f"the leader's router failed: {exc!r}")
        return asker, self._outcome(answer, "done")

    def _outcome(self, answer: dict[str, object], outcome: str, **more: object) -> dict[str, object]:
        self.counts[outcome] += 1
        return answer | {"outcome": outcome} | more

    def _queue_answers(self, pipe: Any) -> None:
        for _, asker, answer in self._answers:
            if asker is not None:
                pipe.publish(answers_channel(self._prefix, asker), json.dumps(answer))
        if self._answers:
            pipe.xack(self._stream, GROUP, *(entry for entry, _, _ in self._answers))

    async def _send_answers(self) -> None:
        if self._answers:
            async with self._redis.pipeline(transaction=False) as pipe:
                self._queue_answers(pipe)
                await pipe.execute()
            self._answers = []

    async def _sweep(self) -> None:
        """Acknowledge, never apply, the entries a reader took long ago and never answered: it may have
        carried them out before it died, and their askers gave up long since."""
        await self._create_group()
        # With JUSTID redis-py gives the ids alone, without the cursor: each sweep starts from the
        # beginning again, and what the last one acknowledged has left the pending list.
        claimed: Any = await self._redis.xautoclaim(
            self._stream, GROUP, self._consumer, min_idle_time=self._abandoned_ms, count=1000, justid=True
        )
        if claimed:
            await self._redis.xack(self._stream, GROUP, *claimed)
            self.counts["abandoned"] += len(claimed)
            log.warning("cluster.asks-abandoned", count=len(claimed))
