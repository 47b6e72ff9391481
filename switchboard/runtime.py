"""The one asyncio task that owns the router.

Every event — from the PBX, from consoles, from the clock — goes through one ``asyncio.Queue`` and is
handled in order, so the router needs no locks. Commands are published on the bus, whose consumers
(PBX, consoles, call log) start their work and return at once; the router never waits on I/O.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field

import structlog

from agent_console.errors import NoLeader
from routing import commands as cmd
from routing import events as ev
from routing.errors import RoutingError
from routing.router import Router
from switchboard.bus import EventBus
from switchboard.journal import Journal

log = structlog.get_logger("runtime")

Clock = Callable[[], float]
# Deadlines wait this long at most for the PBX's first reconcile (an Asterisk that cannot be reached must
# not keep wrap-ups and callbacks from ever ending).
READY_WAIT_S = 5.0


@dataclass(slots=True)
class _Item:
    event: ev.Event
    reply: asyncio.Future[list[cmd.Command]] | None = field(default=None)


class RouterLoop:
    def __init__(
        self,
        router: Router,
        clock: Clock,
        bus: EventBus,
        tick_s: float = 0.25,
        journal: Journal | None = None,
    ) -> None:
        self.router = router
        self.clock = clock
        self._bus = bus
        self._tick_s = tick_s
        self._journal = journal  # keeps every event before the router handles it (switchboard/journal.py)
        self._inbox: asyncio.Queue[_Item] = asyncio.Queue()
        self.observers: list[Callable[[ev.Event], None]] = []
        # Several instances: whether this one may still route (its lease is valid by its own clock). An
        # event it may not route is dropped, not journaled: the next leader learns from Asterisk.
        self.may_route: Callable[[], bool] | None = None

    def submit(self, event: ev.Event) -> None:
        """Fire and forget: the PBX's events."""
        self._inbox.put_nowait(_Item(event))

    async def ask(self, event: ev.Event) -> list[cmd.Command]:
        """Submit and wait for the router's answer; a refused event raises its ``RoutingError``."""
        reply: asyncio.Future[list[cmd.Command]] = asyncio.get_running_loop().create_future()
        self._inbox.put_nowait(_Item(event, reply))
        return await reply

    def follow(self, event: ev.Event) -> None:
        """A follower's router (switchboard/cluster/): handle ``event`` as the leader's router did, and
        publish what it says; not journaled (the leader keeps the journal) and not queued (nothing else
        feeds a follower's router, and the stream's order is the leader's)."""
        self._route(_Item(event))

    def drop_pending(self) -> int:
        """Forget the events not handled yet: a leader that lost its lease must not handle them (the
        next leader gets what the PBX did from Asterisk itself). A console waiting for an answer is told
        there is no leader (``no-leader``: try again)."""
        dropped = 0
        while not self._inbox.empty():
            item = self._inbox.get_nowait()
            if item.reply is not None and not item.reply.done():
                item.reply.set_exception(NoLeader("this instance stopped leading before handling it"))
            dropped += 1
        return dropped

    async def run(self, pbx_ready: asyncio.Event | None = None) -> None:
        """Handle events until cancelled. With ``pbx_ready``, the clock's ticks wait (``READY_WAIT_S`` at
        most) until it is set: after a restart the books' deadlines may have passed while we were down,
        and what the PBX did meanwhile (a phone answered) must reach the router before a deadline does
        (a ring deadline would count a miss against an agent who picked up)."""
        ticker = asyncio.create_task(self._tick(pbx_ready))
        try:
            while True:
                self._handle(await self._inbox.get())
        finally:
            ticker.cancel()

    def _handle(self, item: _Item) -> None:
        if self.may_route is not None and not self.may_route():
            if item.reply is not None and not item.reply.done():
                item.reply.set_exception(NoLeader("this instance stopped leading before handling it"))
            return
        journal = self._journal
        if journal is not None:
            journal.record(item.event, self.router)
        try:
            self._route(item)
        finally:
            if journal is not None and journal.snapshot_due(now := self.clock()):
                journal.snapshot(self.router, now)

    def _route(self, item: _Item) -> None:
        for observe in self.observers:
            observe(item.event)
        try:
            commands = self.router.handle(item.event)
        except RoutingError as exc:
            if item.reply is not None:
                item.reply.set_exception(exc)
            else:
                log.warning("router.refused", what=repr(item.event), error=str(exc))
            return
        except Exception as exc:
            # A router bug (or an event it cannot handle yet) must not end the loop every call needs.
            log.exception("router.failed", what=repr(item.event))
            if item.reply is not None:
                item.reply.set_exception(exc)
            return
        for command in commands:
            self._bus.publish(command)
        if item.reply is not None and not item.reply.done():
            item.reply.set_result(commands)

    async def _tick(self, pbx_ready: asyncio.Event | None) -> None:
        if pbx_ready is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(pbx_ready.wait(), READY_WAIT_S)
        while True:
            await asyncio.sleep(self._tick_s)
            self._inbox.put_nowait(_Item(ev.Tick(self.clock())))
