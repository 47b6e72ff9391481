"""What each console message does: one handler per ``protocol`` dataclass, found by the message's type.

``handle`` is the way in: it checks the sender's role against the message's ``access`` action, then runs
the handler ``@handles`` registered for its type (the messages that are one router event for the
sender's agent, and the desk's ``take-message`` and ``attach-customer``, are registered from short
tables; ``wrap-up`` is the desk's work, then a router event saying the form is done). A ``Turn`` is one
message's sender and what the console reaches; each handler asks it for what it needs, in this order:
``desk_agent()`` (the sender's own agent id, logged in on this connection with ``login``), ``desk()``
(the customer store). The floor's messages (action ``console.supervise``) ask for neither: they are
about the wallboard, another agent or a waiting call, so a supervisor sends them without logging in as
an agent; ``supervise`` and ``stop-supervising`` ask only for ``phone()``, the agent id whose phone the
supervisor listens on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar
from weakref import WeakKeyDictionary

import structlog

from agent_console import protocol as p
from agent_console.access import authorize
from agent_console.desk import Desk
from agent_console.errors import BadNumber, Forbidden, NoAgent, NotLoggedIn, NoWallboard, StoreUnavailable
from agent_console.hub import Connection, ConsoleHub
from agent_console.log_throttle import LogThrottle
from agent_console.router_reader import RouterReader
from agent_console.wallboard_feed import Supervision, WallboardFeed
from crm_core.domain.phones import normalise
from crm_core.domain.users import User
from routing import commands as cmd
from routing import events as ev
from routing.ids import AgentId, CallId, LineId
from routing.plan import OnCallStep

# Whom an escalation of a call on a line rings now (``switchboard.oncall_chain.OnCallChain``).
OnCallChain = Callable[[LineId, float], Awaitable[tuple[OnCallStep, ...]]]

log = structlog.get_logger("console")
M = TypeVar("M", bound=p.ClientMessage)
# One throttle per console (hub): each console keeps its own clock, and a test process runs many.
_LOGIN_LINES: WeakKeyDictionary[ConsoleHub, LogThrottle] = WeakKeyDictionary()


class Backend(Protocol):
    """What the handlers use of ``app.ConsoleBackend``."""

    @property
    def ask(self) -> Callable[[ev.Event], Awaitable[list[cmd.Command]]]: ...
    @property
    def router(self) -> RouterReader: ...
    @property
    def clock(self) -> Callable[[], float]: ...
    @property
    def desk(self) -> Desk | None: ...
    @property
    def feed(self) -> WallboardFeed | None: ...
    @property
    def supervision(self) -> Supervision: ...
    @property
    def on_call(self) -> OnCallChain | None: ...


@dataclass(frozen=True, slots=True)
class Turn:
    conn: Connection
    user: User
    hub: ConsoleHub
    backend: Backend

    def now(self) -> float:
        return self.backend.clock()

    async def ask(self, event: ev.Event) -> None:
        """Hand ``event`` to the router; a refusal raises its ``RoutingError``."""
        await self.backend.ask(event)

    def own_agent(self) -> AgentId:
        if self.user.agent is None:
            raise NoAgent(f"user {self.user.username} acts as no agent")
        return AgentId(self.user.agent)

    def desk_agent(self) -> AgentId:
        """The agent this connection logged in as: the sender's own (``login`` first)."""
        self.own_agent()
        if self.conn.agent is None:
            raise NotLoggedIn("send login first")
        return self.conn.agent

    def desk(self) -> Desk:
        if self.backend.desk is None:
            raise StoreUnavailable("this console has no customer store")
        return self.backend.desk

    def phone(self) -> AgentId:
        """The agent id whose phone a supervisor uses (the one the user acts as)."""
        if self.user.agent is None:
            raise NoAgent(
                f"user {self.user.username} acts as no agent: your phone is the endpoint of the agent id"
                f" your user acts as: switchboard users add NAME --role supervisor --agent ID"
            )
        return AgentId(self.user.agent)


Handler = Callable[[Turn, M], Awaitable[None]]
HANDLERS: dict[type[p.ClientMessage], Handler[Any]] = {}


def handles(kind: type[M]) -> Callable[[Handler[M]], Handler[M]]:
    def register(handler: Handler[M]) -> Handler[M]:
        if kind in HANDLERS:
            raise TypeError(f"{kind.__name__} has a handler already")
        HANDLERS[kind] = handler
        return handler

    return register


async def handle(turn: Turn, message: p.ClientMessage) -> None:
    if not authorize(str(turn.user.role), p.action(message)):
        raise Forbidden(f"role {turn.user.role} may not do that")
    await HANDLERS[type(message)](turn, message)


# --- one router event for the sender's own agent (console.acd, console.call) ---------------------
def _one_event(kind: type[M], event: Callable[[AgentId, float], ev.Event]) -> None:
    """``kind`` is just ``event`` for the sender's own agent, at the message's time."""

    async def handler(t: Turn, _: M) -> None:
        agent = t.desk_agent()
        await t.ask(event(agent, t.now()))

    handles(kind)(handler)


_one_event(p.Ready, ev.AgentBecameReady)
_one_event(p.Logout, ev.AgentLoggedOut)
_one_event(p.HangUp, ev.AgentHungUp)
_one_event(p.Hold, ev.HoldRequested)
_one_event(p.Resume, ev.ResumeRequested)


@handles(p.Escalate)
async def escalate(t: Turn, _: p.Escalate) -> None:
    """The chain from the business's on-call schedule goes in the event (``switchboard/oncall_chain.py``);
    none resolved: the router rings the line's own chain."""
    agent = t.desk_agent()
    at = t.now()
    await t.ask(ev.EscalationRequested(agent, at, await _on_call_chain(t, agent, at)))


@handles(p.ConnectCaller)
async def connect_caller(t: Turn, _: p.ConnectCaller) -> None:
    await t.ask(ev.WarmPatchDecided(t.desk_agent(), t.now(), connect=True))


@handles(p.BackToCaller)
async def back_to_caller(t: Turn, _: p.BackToCaller) -> None:
    await t.ask(ev.WarmPatchDecided(t.desk_agent(), t.now(), connect=False))


async def _on_call_chain(t: Turn, agent: AgentId, at: float) -> tuple[OnCallStep, ...]:
    resolve, call = t.backend.on_call, t.backend.router.agent_view(agent).call
    view = None if call is None else t.backend.router.call_view(call)
    if resolve is None or view is None or view.line is None:
        return ()  # not on a call: the router refuses the escalation as it would anyway
    return await resolve(view.line, at)


# --- the agent's own state (console.acd) --------------------------------------------------------
@handles(p.Login)
async def login(t: Turn, _: p.Login) -> None:
    agent = t.own_agent()
    await t.ask(ev.AgentLoggedIn(agent, t.now()))
    t.hub.join(t.conn, t.backend.router.agent_view(agent), str(t.user.role))
    held_back = _LOGIN_LINES.setdefault(t.hub, LogThrottle()).admit(agent, t.now())
    if held_back is not None:  # a client sending login in a loop must not fill the disk with this line
        log.info("console.login", agent=agent, held_back=held_back)


@handles(p.Pause)
async def pause(t: Turn, m: p.Pause) -> None:
    agent = t.desk_agent()
    await t.ask(ev.AgentPaused(agent, m.reason, t.now()))


@handles(p.ExtendWrapUp)
async def extend_wrap_up(t: Turn, m: p.ExtendWrapUp) -> None:
    agent = t.desk_agent()
    await t.ask(ev.WrapUpExtended(agent, float(m.seconds), t.now()))


@handles(p.Ack)
async def ack(t: Turn, m: p.Ack) -> None:
    t.hub.ack(t.desk_agent(), m.offer)


# --- call control (console.call) ----------------------------------------------------------------
@handles(p.Transfer)
async def transfer(t: Turn, m: p.Transfer) -> None:
    agent = t.desk_agent()
    kind, target = ev.TransferKind(m.to), m.target
    if kind is ev.TransferKind.NUMBER:
        number = normalise(target, t.hub.floor.region)
        if number is None:
            raise BadNumber(f"{target!r} is not a phone number")
        target = number
    await t.ask(ev.TransferRequested(agent, kind, target, t.now()))


# --- after-call work (console.desk) -------------------------------------------------------------
def _desk_work(kind: type[M], work: Callable[[Desk, ConsoleHub, AgentId, str, M], Awaitable[None]]) -> None:
    """``kind`` is the desk's ``work`` for the sender's own agent (the desk checks the call was theirs)."""

    async def handler(t: Turn, m: M) -> None:
        agent = t.desk_agent()
        await work(t.desk(), t.hub, agent, str(t.user.role), m)

    handles(kind)(handler)


_desk_work(p.TakeMessage, Desk.take_message)
_desk_work(p.MessageForm, Desk.message_form)


def _naming(kind: type[p.AttachCustomer | p.PickCustomer]) -> None:
    """The desk shows and keeps the customer; for a live call the router is told too, and journals it, so
    a restart (or another instance taking over) keeps the agent's choice and the record names it."""

    async def handler(t: Turn, m: p.AttachCustomer | p.PickCustomer) -> None:
        agent, desk = t.desk_agent(), t.desk()
        if isinstance(m, p.PickCustomer):
            live = await desk.pick_customer(t.hub, agent, str(t.user.role), m)
        else:
            live = await desk.attach_customer(t.hub, agent, str(t.user.role), m)
        if live is not None:
            await t.ask(ev.CustomerNamed(live, agent, str(m.customer_id), t.now()))

    handles(kind)(handler)


_naming(p.AttachCustomer)
_naming(p.PickCustomer)


@handles(p.WrapUp)
async def wrap_up(t: Turn, m: p.WrapUp) -> None:
    """The desk saves it; then the router's books drop the form, so a console that comes back after a
    restart is not given it again (``Router.restated``)."""
    agent = t.desk_agent()
    await t.desk().wrap_up(t.hub, agent, str(t.user.role), m)
    await t.ask(ev.WrapUpSaved(agent, CallId(m.call), t.now()))


# --- the floor (console.supervise): no login of one's own ---------------------------------------
@handles(p.WatchWallboard)
async def watch_wallboard(t: Turn, _: p.WatchWallboard) -> None:
    if t.backend.feed is None:
        raise NoWallboard("this service runs no wallboard")
    t.backend.feed.watch(t.conn)


@handles(p.UnwatchWallboard)
async def unwatch_wallboard(t: Turn, _: p.UnwatchWallboard) -> None:
    if t.backend.feed is not None:
        t.backend.feed.unwatch(t.conn)


@handles(p.SetAgentState)
async def set_agent_state(t: Turn, m: p.SetAgentState) -> None:
    await t.backend.supervision.set_state(t.user.username, m.agent, m.state, m.reason)


@handles(p.Supervise)
async def supervise(t: Turn, m: p.Supervise) -> None:
    supervisor = t.phone()
    t.hub.supervise_from(t.conn, supervisor)  # before asking: the notice comes meanwhile
    await t.backend.supervision.supervise(t.user.username, supervisor, m.agent, m.mode)


@handles(p.StopSupervising)
async def stop_supervising(t: Turn, _: p.StopSupervising) -> None:
    supervisor = t.phone()
    t.hub.supervise_from(t.conn, supervisor)  # another tab of his may stop it
    await t.backend.supervision.stop_supervising(t.user.username, supervisor)


@handles(p.MoveCall)
async def move_call(t: Turn, m: p.MoveCall) -> None:
    await t.backend.supervision.move_call(t.user.username, m.call, m.queue)


@handles(p.CallToFront)
async def call_to_front(t: Turn, m: p.CallToFront) -> None:
    await t.backend.supervision.call_to_front(t.user.username, m.call)
