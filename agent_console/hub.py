"""Who is connected, and what each agent's console must show.

Each websocket gets its own outbox and writer task, so messages reach a console in the order the
router produced them and one slow browser never holds up another. Every tab of one agent gets the same
messages. The hub keeps what an agent's console shows — the call (its pop, when it connected, whether
it is held, how an escalation goes) and the call waiting for its wrap-up — from the router's notices
alone, so a console that (re)connects gets all of it in one ``snapshot``. After a restart the router
tells those notices again (``restate``), so a console that comes back gets the same snapshot.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

import orjson
import structlog
from aiohttp import WSMsgType, web

from agent_console import messages
from agent_console.messages import Floor, Message
from crm_core.domain.overview import Caller, CustomerOverview
from routing import commands as cmd
from routing.ids import AgentId, CallId
from routing.records import CallRecord
from routing.states import AgentState
from routing.views import AgentView

log = structlog.get_logger("console")
REMEMBER = 2000  # recent calls kept for their agent's wrap-up, message and attachment
# A connection's outbox holds at most this many messages / characters (why these: ``Connection``).
MAX_BACKLOG = 1000
MAX_BACKLOG_CHARS = 4 * 1024 * 1024
TOO_SLOW = 4408  # the close code of a console that could not keep up (docs/console-protocol.md)
CLOSE_WAIT_S = 5.0  # how long a closing peer may take to take the last message and the close frame

# The router's commands an agent's console shows.
ConsoleCommand = (
    cmd.PopScreen
    | cmd.WithdrawOffer
    | cmd.CallConnected
    | cmd.AgentStateChanged
    | cmd.CallHeld
    | cmd.EscalationUpdate
    | cmd.SupervisionChanged
    | cmd.TrainingChanged
    | cmd.LogCall
)


class CallerLookup(Protocol):
    async def caller(self, call: CallId, number: str | None) -> Caller: ...

    def peek_caller(self, call: CallId) -> tuple[bool, Caller | None]:
        """(True, caller) when the lookup for ``call`` has finished, else (False, None); never waits."""
        ...


class Connection:
    """One websocket: its outbox, written in order by its own task, and bounded.

    A browser that stops reading (a frozen tab, a hostile client) leaves its messages in the outbox;
    unbounded, 200,000 of them took 93 MB. Past ``MAX_BACKLOG`` messages or ``MAX_BACKLOG_CHARS``
    characters waiting, the connection is closed with ``TOO_SLOW`` and its outbox dropped: the page
    reconnects and its ``snapshot`` shows what it missed. A console that keeps up never comes near:
    an agent's tab gets a handful of messages per call (pop, connected, held, state, ended) and the
    replies to what it sends (``rate`` holds that to a few per second); a supervisor's gets the
    same for its own agent id, the ``supervision`` messages of the calls it listens to, and at most one
    wallboard push at a time (the feed skips a watcher that has not taken the last one). Even a pop
    burst for a supervisor with 200 agents (every one of them ringing at once, and he on the wallboard)
    is far under 1000 messages, and 200 pops of a few KB each far under 4 M characters.
    """

    def __init__(self, ws: web.WebSocketResponse, transport: asyncio.Transport | None = None) -> None:
        """``transport``: the request's, dropped at once when the peer does not even take the close."""
        self.ws = ws
        self.agent: AgentId | None = None
        self.role = "agent"
        self.dropped = False  # closed by the server, or closing: nothing more is queued
        self._transport = transport
        self._outbox: asyncio.Queue[str | bytes] = asyncio.Queue()
        self._chars = 0  # characters waiting in the outbox
        self._writing = False
        self._writer = asyncio.create_task(self._write())
        self._ending: asyncio.Task[None] | None = None

    def send(self, message: Message) -> None:
        # orjson: a snapshot of a 5,000-agent floor took 1.7 ms with the json module, 0.1 ms this way,
        # and a failover reconnects a third of the consoles at once (bench/README.md, cluster_consoles).
        self.send_text(orjson.dumps(message, option=orjson.OPT_NON_STR_KEYS))

    def send_text(self, text: str | bytes) -> None:
        """``text`` queued (bytes: UTF-8 JSON, sent as a text frame as it is); also a message serialised
        once for many connections (the wallboard feed)."""
        if self.dropped:
            return
        if self._outbox.qsize() >= MAX_BACKLOG or self._chars + len(text) > MAX_BACKLOG_CHARS:
            self._overflow()
            return
        self._chars += len(text)
        self._outbox.put_nowait(text)

    @property
    def backlog(self) -> int:
        """Messages not yet written to the socket (the one being written included): a slow reader's pile."""
        return self._outbox.qsize() + self._writing

    async def _write(self) -> None:
        while True:
            text = await self._outbox.get()
            self._chars -= len(text)
            self._writing = True
            try:
                if isinstance(text, bytes):
                    await self.ws.send_frame(text, WSMsgType.TEXT)
                else:
                    await self.ws.send_str(text)
            except (ConnectionError, RuntimeError):
                return  # the socket closed; the reader side cleans up
            finally:
                self._writing = False

    async def close(self) -> None:
        """Stop writing (what is queued is not sent)."""
        self._writer.cancel()
        await asyncio.gather(self._writer, return_exceptions=True)

    async def end(self, code: int, reason: str, last: Message | None = None) -> None:
        """Close from the server's side: nothing more queued or written, ``last`` sent, then the close
        frame with ``code`` and ``reason``. A peer that takes neither within ``CLOSE_WAIT_S`` (it reads
        nothing) is cut off: its buffered output is dropped with the transport."""
        self.dropped = True
        await self.close()
        self._drop_outbox()
        try:
            async with asyncio.timeout(CLOSE_WAIT_S):
                if last is not None:
                    await self.ws.send_json(last)
                await self.ws.close(code=code, message=reason.encode())
        except (TimeoutError, ConnectionError, RuntimeError):
            if self._transport is not None:
                self._transport.abort()

    async def ended(self) -> None:
        """Wait for a close ``send_text`` started (the outbox overflowed), if any."""
        if self._ending is not None:
            await asyncio.gather(self._ending, return_exceptions=True)

    def _overflow(self) -> None:
        log.warning("console.too-slow", agent=self.agent, backlog=self._outbox.qsize(), chars=self._chars)
        self.dropped = True
        self._drop_outbox()  # the memory goes now, not when the close is done
        self._ending = asyncio.create_task(self.end(TOO_SLOW, "too-slow"))

    def _drop_outbox(self) -> None:
        while not self._outbox.empty():
            self._outbox.get_nowait()
        self._chars = 0


@dataclass(slots=True)
class Seen:
    """A call an agent had: its pop, and once over, its record (``call`` may be a segment id)."""

    agent: AgentId
    pop: cmd.PopScreen
    offer: Message  # the offer message as the console shows it now
    record: CallRecord | None = None


@dataclass(slots=True)
class _Live:
    seen: Seen
    connected_at: float | None = None
    held: bool = False
    escalation: Message | None = None


@dataclass(slots=True)
class _Desk:
    live: _Live | None = None
    wrap_up: Seen | None = None  # the last call over, until wrapped up or the next pop
    # The call on the agent's screen: the page keeps the last call, over and wrapped up, until the next ring
    # (static/console.js), and with it its message's deliveries; a withdrawn ring leaves none.
    last: CallId | None = None
    tabs: set[Connection] = field(default_factory=set)


class ConsoleHub:
    def __init__(self, lookup: CallerLookup, floor: Floor | None = None) -> None:
        self._lookup = lookup
        self.floor = Floor() if floor is None else floor
        self._desks: dict[AgentId, _Desk] = {}
        self._seen: OrderedDict[CallId, Seen] = OrderedDict()
        self._ringing: dict[AgentId, str] = {}  # the offer each agent's phone is ringing with now
        self.acked: dict[str, AgentId] = {}  # offers a console confirmed it displayed
        self.ack_observers: list[Callable[[str], None]] = []  # told of each offer's first ack
        self._tasks: set[asyncio.Task[None]] = set()
        self._following_up: set[tuple[AgentId, CallId]] = set()  # pops whose caller is being looked up
        # Supervisors' connections by the agent id whose phone they supervise on (``supervise``): they
        # get ``supervision`` messages without logging that agent in.
        self._supervising: dict[AgentId, set[Connection]] = {}
        self._training: dict[AgentId, Message] = {}  # agents in training: told to every tab that joins
        # Told of each tab that joins with the calls its console shows (the deliveries' catch-up), and of
        # each message sent to an agent's tabs.
        self.join_observers: list[Callable[[Connection, AgentId, list[CallId]], None]] = []
        self.send_observers: list[Callable[[AgentId, Message], None]] = []

    # --- connections ----------------------------------------------------------------------------
    def join(self, conn: Connection, view: AgentView, role: str) -> None:
        """A tab logged in: it gets the snapshot, then the same stream as the agent's other tabs."""
        self.detach(conn)
        conn.role = role
        conn.send(self.snapshot(view, role))
        if view.agent in self._training:
            conn.send(self._training[view.agent])
        conn.agent = view.agent
        desk = self._desk(view.agent)
        desk.tabs.add(conn)
        for shown in (None if desk.live is None else desk.live.seen, desk.wrap_up):
            if shown is not None and shown.offer.get("customer_pending"):
                self._start_follow_up(shown)  # popped while no tab of it was here: its record now
        for observer in self.join_observers:
            observer(conn, view.agent, self.shown_calls(view.agent))

    def present(self, agent: AgentId) -> bool:
        """Whether a tab of ``agent``'s console is connected here."""
        desk = self._desks.get(agent)
        return desk is not None and bool(desk.tabs)

    def detach(self, conn: Connection) -> None:
        if conn.agent is not None:
            self._desk(conn.agent).tabs.discard(conn)
        for conns in self._supervising.values():
            conns.discard(conn)

    def supervise_from(self, conn: Connection, supervisor: AgentId) -> None:
        """``conn`` hears about the supervisions of ``supervisor`` (the agent id its user acts as)."""
        self._supervising.setdefault(supervisor, set()).add(conn)

    def send(self, agent: AgentId, message: Message) -> None:
        for conn in self._desk(agent).tabs:
            conn.send(message)
        for observer in self.send_observers:
            observer(agent, message)

    def shown_calls(self, agent: AgentId) -> list[CallId]:
        """The calls an agent's console shows (its live call, its wrap-up, the last call it had)."""
        desk = self._desk(agent)
        live = None if desk.live is None else desk.live.seen.pop.call
        wrap_up = None if desk.wrap_up is None else desk.wrap_up.pop.call
        return [call for call in dict.fromkeys((live, wrap_up, desk.last)) if call is not None]

    def snapshot(self, view: AgentView, role: str) -> Message:
        desk = self._desk(view.agent)
        call = None
        if desk.live is not None:
            live = desk.live
            call = {"offer": live.seen.offer, "connected_at": live.connected_at, "held": live.held,
                    "escalation": live.escalation}  # fmt: skip
        wrap_up = None
        if desk.wrap_up is not None and desk.wrap_up.record is not None:
            until = view.until if view.state is AgentState.WRAP_UP else None
            wrap_up = {"call": desk.wrap_up.record.call, "until": until, "offer": desk.wrap_up.offer}
        return messages.snapshot(view, role, self.floor, call, wrap_up)

    # --- what the desk asks about calls ---------------------------------------------------------
    def seen(self, call: CallId) -> Seen | None:
        """A live or recent call by its id, or by its logged (segment) id."""
        return self._seen.get(call)

    async def customer_id(self, seen: Seen) -> int | None:
        """The caller's customer id as the pop shows it, waiting for the store if the pop is still pending."""
        known = seen.offer.get("customer")
        if isinstance(known, dict):
            return int(known["id"])
        if not seen.offer.get("customer_pending"):
            return None
        found = await self._lookup.caller(seen.pop.call, seen.pop.caller_number)
        return None if found.customer is None else found.customer.customer.id

    def wrapped_up(self, agent: AgentId, call: CallId) -> None:
        desk = self._desk(agent)
        if desk.wrap_up is not None and desk.wrap_up.record is not None and desk.wrap_up.record.call == call:
            desk.wrap_up = None

    def attach_customer(self, seen: Seen, customer: CustomerOverview) -> None:
        """The agent said who the caller is: every tab gets the record, and reconnecting ones too. The
        customers sharing the caller's number stay on offer, so the agent may pick another."""
        chosen = messages.customer_360(customer, self.floor.region)
        seen.offer = {**seen.offer, "customer_pending": False, "customer": chosen}
        self.send(seen.agent, messages.offer_customer(seen.pop, seen.offer))

    # --- the router's notices -------------------------------------------------------------------
    def notice(self, command: ConsoleCommand) -> None:
        """The bus hands it what the agents' consoles show (the wiring's command table)."""
        match command:
            case cmd.PopScreen(agent=agent, offer=offer):
                self._ringing[agent] = offer
                self._pop(command)
            case cmd.WithdrawOffer(agent, call):
                self._forget(agent)
                desk = self._desk(agent)
                desk.live = None
                if desk.last == call:
                    desk.last = None
                self.send(agent, messages.offer_withdrawn(command))
            case cmd.CallConnected(agent, call, at):
                live = self._live(agent, call)
                if live is not None:
                    live.connected_at = at
                self.send(agent, messages.call_connected(command))
            case cmd.AgentStateChanged(agent):
                self.send(agent, messages.state_changed(command))
            case cmd.CallHeld(agent, call, held):
                live = self._live(agent, call)
                if live is not None:
                    live.held = held
                self.send(agent, messages.call_held(command))
            case cmd.EscalationUpdate(agent=agent, call=call):
                message = messages.escalation(command)
                live = self._live(agent, call)
                if live is not None:
                    live.escalation = message
                self.send(agent, message)
            case cmd.SupervisionChanged(supervisor):
                message = supervision(command)
                for conn in self._desk(supervisor).tabs | self._supervising.get(supervisor, set()):
                    conn.send(message)
            case cmd.TrainingChanged(agent, per_minute):
                message = training(command)
                if per_minute is None:
                    self._training.pop(agent, None)
                else:
                    self._training[agent] = message
                self.send(agent, message)
            case cmd.LogCall(record) if record.agent is not None:
                self._ended(record.agent, record)
                self.send(record.agent, messages.call_ended(command))

    def restate(self, commands: Iterable[cmd.Restated]) -> None:
        """After a restart: what the consoles showed of live calls and of the calls their wrap-up forms
        are for (a pop, then its ``LogCall``), for the consoles that come back (``Router.restated``).
        A restated pop is not a new ring, so its acknowledgement is not a pop latency."""
        for command in commands:
            if isinstance(command, cmd.PopScreen):
                self._pop(command)
            else:
                self.notice(command)

    def ack(self, agent: AgentId, offer: str) -> None:
        if self._ringing.get(agent) == offer and offer not in self.acked:
            self.acked[offer] = agent
            for observer in self.ack_observers:
                observer(offer)  # the pop latency metric

    def _desk(self, agent: AgentId) -> _Desk:
        return self._desks.setdefault(agent, _Desk())

    def _live(self, agent: AgentId, call: CallId) -> _Live | None:
        live = self._desk(agent).live
        return live if live is not None and live.seen.pop.call == call else None

    def _ended(self, agent: AgentId, record: CallRecord) -> None:
        self._forget(agent)
        desk = self._desk(agent)
        caller_call = record.part_of or record.call
        live = self._live(agent, caller_call)
        if live is not None:
            desk.live = None
        before = live.seen if live is not None else self._seen.get(caller_call)
        if before is None or before.agent != agent:
            return  # a call this hub never popped (e.g. before a restart): nothing to show or wrap
        seen = before if record.call == caller_call else Seen(agent, before.pop, before.offer)
        seen.record = record
        self._remember(record.call, seen)
        if record.answered_at is not None:
            desk.wrap_up = seen  # an offer that only rang leaves nothing to wrap up

    def _remember(self, call: CallId, seen: Seen) -> None:
        self._seen[call] = seen
        self._seen.move_to_end(call)
        while len(self._seen) > REMEMBER:
            self._seen.popitem(last=False)

    def _forget(self, agent: AgentId) -> None:
        offer = self._ringing.pop(agent, None)
        if offer is not None:
            self.acked.pop(offer, None)

    def _pop(self, pop: cmd.PopScreen) -> None:
        """Send the pop the moment the phone rings; never hold it for the customer store.

        The caller's record is looked up from the call's arrival on, so it is normally there already.
        When it is not (a busy database), the pop goes out with ``customer_pending`` and the record
        follows in an ``offer-customer`` message.
        """
        known, caller = self._lookup.peek_caller(pop.call)
        seen = Seen(pop.agent, pop, messages.offer(pop, caller, self.floor, pending=not known))
        self._remember(pop.call, seen)
        desk = self._desk(pop.agent)
        desk.live, desk.wrap_up, desk.last = _Live(seen), None, pop.call
        self.send(pop.agent, seen.offer)
        if not known and desk.tabs:  # else when a tab joins: no store read for a pop nobody here shows
            self._start_follow_up(seen)

    def _start_follow_up(self, seen: Seen) -> None:
        key = (seen.agent, seen.pop.call)  # ring-all pops one call on several agents' consoles
        if key in self._following_up:
            return
        self._following_up.add(key)
        task = asyncio.create_task(self._follow_up(seen))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(lambda _: self._following_up.discard(key))

    async def _follow_up(self, seen: Seen) -> None:
        pop = seen.pop
        caller = await _safely(self._lookup.caller(pop.call, pop.caller_number))
        desk = self._desk(pop.agent)
        live = None if desk.live is None else desk.live.seen
        # Not one an agent named the customer of meanwhile (``attach_customer``): the lookup is older news.
        shown = [
            s
            for s in (live, desk.wrap_up)
            if s is not None and s.pop is pop and s.offer.get("customer_pending")
        ]
        if not shown:
            return  # withdrawn, the next call popped, or the customer named, while we looked the caller up
        for s in shown:  # the call, or the wrap-up form once it is over (a stretch's form is a copy)
            s.offer = messages.offer(pop, caller, self.floor)  # what a reconnecting console gets
        self.send(pop.agent, messages.offer_customer(pop, shown[0].offer))


def supervision(change: cmd.SupervisionChanged) -> Message:
    """The ``supervision`` server message (built here: only the hub sends it)."""
    mode = None if change.mode is None else str(change.mode)
    return {"type": "supervision", "supervisor": change.supervisor, "agent": change.agent,
            "call": change.call, "mode": mode, "at": change.at}  # fmt: skip


def training(change: cmd.TrainingChanged) -> Message:
    """The ``training`` server message: the agent is offered practice callers only (``per_minute`` of
    them), or, with ``per_minute`` null, real callers again."""
    return {"type": "training", "agent": change.agent, "per_minute": change.per_minute, "by": change.by,
            "at": change.at}  # fmt: skip


async def _safely(lookup: Awaitable[Caller]) -> Caller | None:
    """A store outage must not stop the pop: the agent still sees the number, line and source."""
    try:
        return await lookup
    except Exception:
        log.exception("pop.lookup-failed")
        return None
