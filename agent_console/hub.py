"""Who is connected, and what each agent's console must show.

Each websocket gets its own outbox and writer task, so messages reach a console in the order the
router produced them and one slow browser never holds up another. The pop an agent has not finished
with is kept, so a console that reconnects (or a second tab) gets it again.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable
from typing import Protocol

import structlog
from aiohttp import web

from agent_console import protocol
from crm_core.model import CustomerCard
from routing import commands as cmd
from routing.ids import AgentId, CallId

log = structlog.get_logger("console")


class CallerLookup(Protocol):
    async def customer(self, call: CallId, number: str | None) -> CustomerCard | None: ...

    def peek(self, call: CallId) -> tuple[bool, CustomerCard | None]:
        """(True, record) when the lookup for ``call`` has finished, else (False, None); never waits."""
        ...


class Connection:
    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws
        self.agent: AgentId | None = None
        self._outbox: asyncio.Queue[str] = asyncio.Queue()
        self._writer = asyncio.create_task(self._write())

    def send(self, message: protocol.Message) -> None:
        self._outbox.put_nowait(json.dumps(message))

    async def _write(self) -> None:
        while True:
            text = await self._outbox.get()
            try:
                await self.ws.send_str(text)
            except (ConnectionError, RuntimeError):
                return  # the socket closed; the reader side cleans up

    async def close(self) -> None:
        self._writer.cancel()
        await asyncio.gather(self._writer, return_exceptions=True)


class ConsoleHub:
    def __init__(self, lookup: CallerLookup) -> None:
        self._lookup = lookup
        self._by_agent: dict[AgentId, set[Connection]] = {}
        self._pending_pop: dict[AgentId, protocol.Message] = {}
        self._ringing: dict[AgentId, str] = {}  # the offer each agent's phone is ringing with now
        self.acked: dict[str, AgentId] = {}  # offers a console confirmed it displayed
        self._tasks: set[asyncio.Task[None]] = set()

    # --- connections ----------------------------------------------------------------------------
    def attach(self, agent: AgentId, conn: Connection) -> None:
        conn.agent = agent
        self._by_agent.setdefault(agent, set()).add(conn)
        pending = self._pending_pop.get(agent)
        if pending is not None:
            conn.send(pending)

    def detach(self, conn: Connection) -> None:
        if conn.agent is not None:
            self._by_agent.get(conn.agent, set()).discard(conn)

    def send(self, agent: AgentId, message: protocol.Message) -> None:
        for conn in self._by_agent.get(agent, ()):
            conn.send(message)

    # --- the router's notices -------------------------------------------------------------------
    def notice(self, command: cmd.Command) -> None:
        """The bus subscription for console-facing commands; PBX commands are not ours and are ignored."""
        match command:
            case cmd.PopScreen(agent, _, offer):
                self._ringing[agent] = offer
                self._pop(command)
            case cmd.WithdrawOffer(agent):
                self._forget(agent)
                self.send(agent, protocol.offer_withdrawn(command))
            case cmd.CallConnected(agent):
                self.send(agent, protocol.call_connected(command))
            case cmd.AgentStateChanged(agent):
                self.send(agent, protocol.state_changed(command))
            case cmd.LogCall(record) if record.agent is not None:
                self._forget(record.agent)
                self.send(record.agent, protocol.call_ended(command))

    def ack(self, agent: AgentId, offer: str) -> None:
        if self._ringing.get(agent) == offer:
            self.acked[offer] = agent

    def _forget(self, agent: AgentId) -> None:
        self._pending_pop.pop(agent, None)
        offer = self._ringing.pop(agent, None)
        if offer is not None:
            self.acked.pop(offer, None)

    def _pop(self, pop: cmd.PopScreen) -> None:
        """Send the pop the moment the phone rings; never hold it for the customer store.

        The caller's record is looked up from the call's arrival on, so it is normally there already.
        When it is not (a busy database), the pop goes out with ``customer_pending`` and the record
        follows in an ``offer-customer`` message.
        """
        known, customer = self._lookup.peek(pop.call)
        self._show(pop, protocol.offer(pop, customer, customer_pending=not known))
        if not known:
            task = asyncio.create_task(self._follow_up(pop))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _follow_up(self, pop: cmd.PopScreen) -> None:
        customer = await _safely(self._lookup.customer(pop.call, pop.caller_number))
        if self._ringing.get(pop.agent) != pop.offer:
            return  # withdrawn or over while we looked the caller up
        self._pending_pop[pop.agent] = protocol.offer(pop, customer)  # what a reconnecting console gets
        self.send(pop.agent, protocol.offer_customer(pop, customer))

    def _show(self, pop: cmd.PopScreen, message: protocol.Message) -> None:
        self._pending_pop[pop.agent] = message
        self.send(pop.agent, message)


async def _safely(lookup: Awaitable[CustomerCard | None]) -> CustomerCard | None:
    """A store outage must not stop the pop: the agent still sees the number, line and source."""
    try:
        return await lookup
    except Exception:
        log.exception("pop.lookup-failed")
        return None
