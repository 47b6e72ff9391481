"""A console that joins gets at once the current status of the deliveries it shows (issue 15).

Live, each change of a delivery reaches the consoles of the agent who took the message as it happens
(``forms.DeliveryFeed``; in a cluster switchboard/cluster/delivery_feed.py). A tab that was away (a
network blip, a reload, its instance killed and the tab on another now) missed the changes meanwhile,
and saw them only at the next one. Now, when a tab joins, the hub names the calls its console shows
(``ConsoleHub.shown_calls``) and this reads their deliveries from the store (shared by the instances) and
sends them to that tab alone, as the ``delivery`` messages it would have had.

What a console shows of deliveries (static/answering.js): on the call on screen, those of the last message
the agent took on it. So per call, the deliveries of its newest message (the highest case id) taken by
this agent; other agents' messages on the same call (a transfer) are theirs.

The store never holds the join, nor anything else on the loop: the tab has its snapshot first and the
statuses follow from a task. Tabs joining together are read together, one query at a time (a cluster's
consoles all joining another instance after a kill cost a few queries, not one each, and leave the
store's connections to the pops). A change told live while the read is under way is at least as new
as what the read finds: that delivery is not sent again from the read. A read that fails is logged (once
a minute at most) and its tabs get nothing more: their statuses come at their next change, as before.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import structlog

from agent_console.forms import Message, delivery, detail_of
from agent_console.hub import ConsoleHub
from agent_console.log_throttle import LogThrottle
from crm_core.domain.deliveries import Delivery
from routing.ids import AgentId, CallId

log = structlog.get_logger("console")
BATCH = 500  # calls read in one query at most


class CallDeliveries(Protocol):
    """``crm_core.sql.deliveries.SqlDeliveries``."""

    async def of_calls(self, calls: Sequence[str]) -> list[Delivery]: ...


class Tab(Protocol):
    """``agent_console.hub.Connection``."""

    agent: AgentId | None

    def send(self, message: Message) -> None: ...


def shown(found: Iterable[Delivery], agent: AgentId, calls: Iterable[CallId]) -> list[Delivery]:
    """Of ``found``, what ``agent``'s console shows on ``calls``: per call, the deliveries of the newest
    message the agent took on it; in delivery order."""
    wanted = set(calls)
    newest: dict[str, int] = {}  # call -> its newest message's case id
    mine = [d for d in found if d.content.get("taken_by") == agent and d.content.get("call") in wanted]
    for d in mine:
        call = str(d.content["call"])
        newest[call] = max(newest.get(call, d.message_id), d.message_id)
    return sorted((d for d in mine if newest[str(d.content["call"])] == d.message_id), key=lambda d: d.id)


@dataclass(slots=True, eq=False)
class _Ask:
    tab: Tab
    agent: AgentId
    calls: tuple[CallId, ...]
    heard: set[int] = field(default_factory=set)  # deliveries told live to the agent meanwhile


class DeliveryCatchUp:
    """``joined`` and ``sent`` are the hub's observers; ``settled`` waits for the reads under way."""

    def __init__(self, store: CallDeliveries, clock: Callable[[], float], batch: int = BATCH) -> None:
        self._store = store
        self._clock = clock
        self._batch = batch
        self._waiting: deque[_Ask] = deque()
        self._open: dict[AgentId, list[_Ask]] = {}  # waiting or being read, by agent
        self._reader: asyncio.Task[None] | None = None
        self._throttle = LogThrottle()

    def attach(self, hub: ConsoleHub) -> None:
        hub.join_observers.append(self.joined)
        hub.send_observers.append(self.sent)

    def joined(self, tab: Tab, agent: AgentId, calls: list[CallId]) -> None:
        if not calls:
            return  # nothing on screen: nothing to read
        ask = _Ask(tab, agent, tuple(calls))
        self._waiting.append(ask)
        self._open.setdefault(agent, []).append(ask)
        if self._reader is None or self._reader.done():
            self._reader = asyncio.get_running_loop().create_task(self._read_all())

    def sent(self, agent: AgentId, message: Message) -> None:
        if message.get("type") != "delivery" or agent not in self._open:
            return
        for ask in self._open[agent]:
            ask.heard.add(int(str(message["delivery"])))

    async def settled(self) -> None:
        """Every read asked for so far done (tests; a stop need not wait: nothing is written)."""
        while self._reader is not None and not self._reader.done():
            await asyncio.gather(self._reader, return_exceptions=True)

    async def _read_all(self) -> None:
        while self._waiting:
            asks, calls = self._next()
            found: list[Delivery] | None = None
            try:
                found = await self._store.of_calls(calls)
            except Exception as exc:  # the store away: these tabs' statuses come at their next change
                self._failed(exc, len(asks))
            for ask in asks:
                self._close(ask)
                if found is not None and ask.tab.agent == ask.agent:  # not gone, nor another agent's now
                    for d in shown(found, ask.agent, ask.calls):
                        if d.id not in ask.heard:
                            ask.tab.send(delivery(d, detail_of(d)))

    def _next(self) -> tuple[list[_Ask], list[str]]:
        """The asks waiting longest whose calls fit one read (one at least), and those calls."""
        asks: list[_Ask] = []
        calls: dict[str, None] = {}
        while self._waiting and (not asks or len(calls) + len(self._waiting[0].calls) <= self._batch):
            ask = self._waiting.popleft()
            asks.append(ask)
            calls.update(dict.fromkeys(ask.calls))
        return asks, list(calls)

    def _close(self, ask: _Ask) -> None:
        left = [a for a in self._open[ask.agent] if a is not ask]
        if left:
            self._open[ask.agent] = left
        else:
            del self._open[ask.agent]

    def _failed(self, exc: Exception, tabs: int) -> None:
        held_back = self._throttle.admit("read-failed", self._clock())
        if held_back is not None:
            log.warning("console.deliveries-read-failed", reason=f"{type(exc).__name__}: {exc}"[:200],
                        tabs=tabs, held_back=held_back)  # fmt: skip
