"""The router's journal and snapshots: how a restart, or a crash, gives the router back its state.

The router is deterministic and gets time inside its events, so the events it handled, replayed in
order into the state they started from, rebuild that state exactly (``../shared/STYLE.md``, "Durable
by replay"). ``RouterLoop`` hands every event to ``record`` before the router handles it; a writer task
appends them to the store in batches (one transaction every ``FLUSH_S``), so no event waits for a
commit and the hot path pays only for encoding a line. A ``Tick`` that fires no timer changes nothing
and is not kept. Every ``SNAPSHOT_EVERY`` events (or ``SNAPSHOT_S``) the loop takes a snapshot of the
``Book``; the store keeps it in place of the previous one and drops the lines it covers, so a start-up
replays at most that much.

What a crash can lose is the last batch not yet written (at most ``FLUSH_S`` of events): those are
events about the PBX's channels or consoles' orders, and the PBX is the truth about channels: after
the replay the PBX adapter compares what the books say is up with what Asterisk has (``views.channels``
and ``AriPbx.adopt``), and the consoles' agents see their state again when they reconnect. The call log
is written behind the journal (``mark`` and ``kept_through``): a row is stored only once the line of the
event that ended its call is, so a crash never leaves a call logged (a callback promised, say) that the
restarted router does not know has ended.

A snapshot holds the ``Book`` and the plan it was built for (``switchboard/snapshot_codec.py``: every
object of the routing core kept by field name, so a release that added a field with a default, or
removed one, reads its predecessor's snapshots). A start-up loads it, replays the lines after it under
that plan (the plan the router had when it handled them), and, if the config's plan differs (an agent or
a queue added or removed, a line or number moved), rebinds the books to the new one
(``routing.rebind``): the live calls go on, the waiting callers keep their place. After a rebind it
writes a snapshot at once, before any new line, so that the lines that follow are never replayed under
the old plan; so does the first start on an empty store (``anchors_new_stores``). Lines with no snapshot
before them (a store of the release before) are replayed under the config's plan, as that release did.
Format-1 snapshots (the ``Book`` pickled alone, by the release before) are read when they are of the
same plan and layout (``state_key``); the next snapshot is written in format 2.

What is not restored, with the reason logged and returned (the start-up then is what it was before the
journal: the PBX adapter finds the callers in the app again): a snapshot whose layout changed in a way
the codec cannot bridge (a new field without a default, a field's type changed, a class gone), a
format-1 snapshot of another plan or layout, an edit the rebind refuses (an on-call chain ringing that
the edit changed), a journal line this release cannot read.
The snapshot comes from the service's own store, the same trust as the password hashes kept there.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import hashlib
import pickle
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import structlog

from crm_core.domain.journal import JournalLine, Kept, Snapshot
from routing import book as books
from routing import commands as cmd
from routing import events as ev
from routing import timers
from routing.errors import RoutingError
from routing.plan import OnCallStep, Plan
from routing.rebind import PlanEditRefused, Rebound, rebind
from routing.records import CallRecord
from routing.router import Router
from switchboard import snapshot_codec
from switchboard.event_codec import UnreadableEvent, decode, encode
from switchboard.retry import until_done
from switchboard.snapshot_codec import UnreadableSnapshot

log = structlog.get_logger("journal")

SNAPSHOT_FORMAT = snapshot_codec.FORMAT  # 2: the plan and the books, kept by name; 1: the Book pickled
READS = (1, SNAPSHOT_FORMAT)
FLUSH_S = 0.02
SNAPSHOT_EVERY = 20_000
SNAPSHOT_S = 60.0
RETRY_S = 0.5
Clock = Callable[[], float]


class WriteAhead(Protocol):
    """The journal as what must not get ahead of it waits for it: the call log's writer, a callback's
    confirmation (``Journal``)."""

    def mark(self) -> int: ...
    async def kept_through(self, mark: int) -> None: ...


class JournalStore(Protocol):
    """The store's side: ``crm_core.sql.journal.SqlJournal``."""

    async def append(self, lines: list[JournalLine]) -> None: ...
    async def save_snapshot(self, snapshot: Snapshot) -> None: ...
    async def kept(self) -> Kept: ...
    async def forget(self) -> None: ...


# Every dataclass whose objects the books hold, down to the records and pops kept for wrap-up forms (a
# test walks the books' field types to hold this list complete).
SNAPSHOT_CLASSES: tuple[type, ...] = (
    books.CallEntry, books.OfferEntry, books.AgentEntry, books.Supervision, books.Escalation, books.Training,
    books.WrapUpForm, cmd.PopScreen, CallRecord, OnCallStep,
)  # fmt: skip


def state_key(router: Router) -> str:
    """Which plan and which layout of the books a snapshot is for; a snapshot of another is not read."""
    layout = [(c.__name__, [f.name for f in dataclasses.fields(c)]) for c in SNAPSHOT_CLASSES]
    text = repr((router.plan, layout, books.Book.__slots__, timers.Timer._fields))
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Restored:
    """What a start-up got back: how many events were replayed on top of which snapshot, and the calls
    the replay saw end (their records are written again: the call log keeps one row per call)."""

    from_snapshot: bool
    replayed: int
    records: tuple[cmd.LogCall, ...]
    refused: str | None = None  # why the kept state was not used
    as_of: float | None = None  # the time of the last event the state includes (None: nothing kept)


class Journal:
    def __init__(
        self,
        store: JournalStore,
        clock: Clock = time.time,
        *,
        flush_s: float = FLUSH_S,
        snapshot_every: int = SNAPSHOT_EVERY,
        snapshot_s: float = SNAPSHOT_S,
        retry_s: float = RETRY_S,
    ) -> None:
        self._store = store
        self._clock = clock
        self._flush_s = flush_s
        self.snapshot_every = snapshot_every  # the benches set it lower, to see snapshots in a short run
        self._snapshot_s = snapshot_s
        self._retry_s = retry_s
        self.seq = 0
        self._pending: list[JournalLine | Snapshot] = []
        # Lines recorded, and lines handed to the store (written, or refused by its fence), since the
        # start: counts, not line numbers, which a follower sets and a refused restore puts back to 0.
        self._recorded = 0
        self._handed = 0
        self._kept_waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._since_snapshot = 0
        self._snapshot_at = clock()
        # Also handed every line as it is recorded: the stream that standbys replicate the router from
        # (switchboard/cluster/replication.py). Called on the hot path: they must only queue the line.
        self.taps: list[Callable[[JournalLine], None]] = []
        # A store with nothing kept gets a snapshot of the (empty) books at the start, so that its first
        # lines are known to be of this plan. Off where another process writes the store (a cluster's
        # follower: its leader snapshots at the start of every term).
        self.anchors_new_stores = True

    # --- start-up -------------------------------------------------------------------------------
    async def restore(self, router: Router) -> Restored:
        """Put the kept state into ``router`` in place of what it holds: the snapshot, then the lines after
        it, under the plan they were for; then, if the router's plan is another, the books rebound to it.

        The books are rebuilt in a thread, in a router of their own that nothing else holds, and swapped
        into ``router`` in one step on the loop: with 5,000 agents the decoding and a new ``Book`` alone
        held a follower's loop for hundreds of ms (bench/follower_reload.py), its lease renewals with it,
        and whoever reads ``router`` meanwhile sees the books it had, never half-built ones. Cancelled
        meanwhile (a member standing down), the thread finishes for nothing and ``router`` is untouched."""
        kept = await self._store.kept()
        built = await asyncio.to_thread(_rebuilt, kept, router.plan, self._clock)
        if built.refused is not None:
            return await self._refuse(router, built.refused, built.router.book)
        router.book, router.plan = built.router.book, built.router.plan
        if built.seq is not None:
            self.seq = built.seq
        snapshot = kept.snapshot
        if built.rebound or (self.anchors_new_stores and snapshot is None and not kept.lines):
            await self._anchor(router)
        log.info("journal.restored", snapshot=snapshot is not None, replayed=len(kept.lines), seq=self.seq)
        return Restored(snapshot is not None, len(kept.lines), built.records, as_of=built.as_of)

    async def _anchor(self, router: Router) -> None:
        """A snapshot of the books just rebound, written before any new line: the lines that follow are
        of the new plan, and a later start must not replay them under the old one."""
        now = self._clock()
        save = functools.partial(self._store.save_snapshot, self._snapshot_of(router, now))
        await until_done(save, self._retry_s, log, "journal.snapshot-failed", seq=self.seq)
        self._since_snapshot, self._snapshot_at = 0, now

    async def _refuse(self, router: Router, why: str, empty: books.Book) -> Restored:
        log.warning("journal.not-restored", reason=why)
        router.book = empty
        await self._store.forget()
        self.seq = 0
        return Restored(False, 0, (), refused=why)

    # --- while running --------------------------------------------------------------------------
    def record(self, event: ev.Event, router: Router) -> None:
        """Keep ``event``, which ``router`` is about to handle; called on the hot path, never waits."""
        if isinstance(event, ev.Tick) and not timers.any_due(router.book, event.at):
            return
        self.seq += 1
        self._since_snapshot += 1
        line = JournalLine(self.seq, encode(event))
        for tap in self.taps:
            tap(line)
        self._recorded += 1
        self._push(line)

    def mark(self) -> int:
        """Where the journal stands now: ``kept_through(mark)`` returns once every line recorded so far
        (the event the router is handling among them) is in the store."""
        return self._recorded

    async def kept_through(self, mark: int) -> None:
        """Wait until the lines recorded up to ``mark`` are in the store (or refused by its fence: then
        they are another leader's to keep). Lines never recorded here (a follower's) wait for nothing."""
        if self._handed >= mark:
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._kept_waiters.append((mark, waiter))
        await waiter

    def snapshot_due(self, now: float) -> bool:
        return self._since_snapshot >= self.snapshot_every or (
            self._since_snapshot > 0 and now - self._snapshot_at >= self._snapshot_s
        )

    def snapshot(self, router: Router, now: float) -> None:
        """Keep the books as they are after every event recorded so far."""
        self._push(self._snapshot_of(router, now))
        self._since_snapshot = 0
        self._snapshot_at = now

    def _snapshot_of(self, router: Router, now: float) -> Snapshot:
        data = snapshot_codec.dumps(router.plan, router.book)
        return Snapshot(
            seq=self.seq, format=SNAPSHOT_FORMAT, plan_key=state_key(router), taken_at=now, data=data
        )

    def _push(self, item: JournalLine | Snapshot) -> None:
        self._pending.append(item)
        self._idle.clear()
        self._wake.set()

    async def run(self) -> None:
        """Write what was recorded, in order, a batch at a time; a failed write is retried."""
        while True:
            await self._wake.wait()
            await asyncio.sleep(self._flush_s)  # let a batch gather: one transaction for all of it
            self._wake.clear()
            batch, self._pending = self._pending, []
            await self._write(batch)
            if not self._pending:
                self._idle.set()

    async def _write(self, batch: list[JournalLine | Snapshot]) -> None:
        lines: list[JournalLine] = []
        for item in batch:
            if isinstance(item, JournalLine):
                lines.append(item)
                continue
            await self._append(lines)
            lines = []
            await until_done(functools.partial(self._store.save_snapshot, item), self._retry_s, log,
                             "journal.snapshot-failed", seq=item.seq)  # fmt: skip
        await self._append(lines)

    async def _append(self, lines: list[JournalLine]) -> None:
        if lines:
            await until_done(functools.partial(self._store.append, lines), self._retry_s, log,
                             "journal.append-failed", first=lines[0].seq, count=len(lines))  # fmt: skip
            self._handed += len(lines)
            self._tell_kept()

    def _tell_kept(self) -> None:
        waiting, self._kept_waiters = self._kept_waiters, []
        for mark, waiter in waiting:
            if waiter.done():  # its waiter was cancelled
                continue
            if mark <= self._handed:
                waiter.set_result(None)
            else:
                self._kept_waiters.append((mark, waiter))

    async def flush(self) -> None:
        """Wait until everything recorded so far is in the store."""
        await self._idle.wait()


# --- rebuilding, off the loop ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class _Rebuilt:
    """The kept state in a router of its own (``restore`` swaps its plan and books in); refused: an empty
    one, and why. ``seq`` is the last line it includes, None if the store kept nothing to say it."""

    router: Router
    seq: int | None = None
    records: tuple[cmd.LogCall, ...] = ()
    as_of: float | None = None
    rebound: bool = False  # the books were rebound to another plan: anchor them before any new line
    refused: str | None = None


def _rebuilt(kept: Kept, plan: Plan, clock: Clock) -> _Rebuilt:
    """``restore``'s work, run in a thread: it touches nothing but what it builds (``plan`` is frozen)."""
    router = Router(plan)
    snapshot = kept.snapshot
    try:
        kept_plan, book = _start(snapshot, router)
    except UnreadableSnapshot as exc:
        return _Rebuilt(router=router, refused=str(exc))
    seq = None if snapshot is None else snapshot.seq
    then = Router(kept_plan) if kept_plan != plan else router
    then.book = book
    records: list[cmd.LogCall] = []
    as_of = None if snapshot is None else snapshot.taken_at
    try:
        for line in kept.lines:
            event = decode(line.event)
            records += _replay(then, event)
            seq, as_of = line.seq, event.at
    except UnreadableEvent as exc:
        return _Rebuilt(router=Router(plan), refused=str(exc))
    if then is not router:
        try:
            records += _rebind(router, then, clock())
        except PlanEditRefused as exc:
            return _Rebuilt(router=Router(plan), refused=str(exc))
    return _Rebuilt(router=router, seq=seq, records=tuple(records), as_of=as_of, rebound=then is not router)


def _start(snapshot: Snapshot | None, router: Router) -> tuple[Plan, books.Book]:
    """The plan and books the kept lines start from; ``UnreadableSnapshot`` if the snapshot is not
    one this release reads. Lines with no snapshot before them come from a release that did not
    anchor them (see the docstring): taken to be of the router's plan, as that release did."""
    if snapshot is None:
        return router.plan, router.book
    if snapshot.format == SNAPSHOT_FORMAT:
        return snapshot_codec.loads(snapshot.data)
    if snapshot.format not in READS:
        raise UnreadableSnapshot(f"snapshot format {snapshot.format}, this release reads {READS}")
    if snapshot.plan_key != state_key(router):
        raise UnreadableSnapshot(
            "a format-1 snapshot of another number plan or layout of the books: format 1 does not say"
            " which plan it was for"
        )
    book = pickle.loads(snapshot.data)  # our own store's (see the docstring)
    return router.plan, book


def _rebind(router: Router, then: Router, at: float) -> list[cmd.LogCall]:
    """The books replayed under the kept plan, bound to the router's (``routing.rebind``)."""
    rebound: Rebound = rebind(then.book, then.plan, router.plan, at)
    router.book, router.plan = rebound.book, rebound.plan
    log.warning(
        "journal.plan-edited", moved=list(rebound.moved), dropped=list(rebound.dropped),
        leaving=list(rebound.leaving), ended=[x.record.call for x in rebound.ended],
    )  # fmt: skip
    return list(rebound.ended)


def _replay(router: Router, event: ev.Event) -> list[cmd.LogCall]:
    try:
        commands = router.handle(event)
    except RoutingError:
        return []  # refused then too: it changed nothing then and changes nothing now
    except Exception:
        log.exception("journal.replay-failed", what=repr(event))  # as the loop did the first time
        return []
    return [c for c in commands if isinstance(c, cmd.LogCall)]
