"""The aiohttp application: the console page, sign-in, its websocket, a health check and the customer API.

The websocket needs a session (``POST /login``) and a same-origin ``Origin``; who may send which message
is ``access``'s table.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path

import structlog
from aiohttp import WSMsgType, web

from agent_console import contract, messages, protocol
from agent_console.access import CONSOLE_ACTIONS, authorize
from agent_console.api.context import ApiConfig
from agent_console.api.routes import PREFIX, create_api
from agent_console.desk import Desk
from agent_console.errors import (
    BadNumber,
    ConsoleError,
    Forbidden,
    NoAgent,
    NotLoggedIn,
    NoWallboard,
    StoreUnavailable,
    error_code,
)
from agent_console.hub import Connection, ConsoleHub
from agent_console.login import Gate, UserCheck, same_origin
from agent_console.sessions import LoginThrottle, Sessions
from agent_console.wallboard_feed import AuditTrail, Supervision, WallboardFeed
from crm_core.phones import normalise
from routing import commands as cmd
from routing import events as ev
from routing.errors import RoutingError
from routing.ids import AgentId
from routing.views import AgentView

log = structlog.get_logger("console")
STATIC = Path(__file__).parent / "static"
WS_RECHECK_S = 5.0  # how old a lookup of the user a websocket message may trust (see login.Gate.user)
METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"  # Prometheus' text format

Ask = Callable[[ev.Event], Awaitable[list[cmd.Command]]]
Clock = Callable[[], float]

HUB = web.AppKey("hub", ConsoleHub)
GATE = web.AppKey("gate", Gate)


class ConsoleBackend:
    """What the console needs from the rest of the system, handed in by the bootstrap.

    ``users`` is the store's user directory (``SqlStore.users``); ``clock`` also times sessions and the
    login throttle, so tests drive both.
    """

    def __init__(
        self,
        ask: Ask,
        view: Callable[[AgentId], AgentView],
        clock: Clock,
        users: UserCheck,
        health: Callable[[], Mapping[str, object]],
        desk: Desk | None = None,
        feed: WallboardFeed | None = None,
        audit_trail: AuditTrail | None = None,
    ) -> None:
        self.ask = ask
        self.view = view
        self.clock = clock
        self.users = users
        self.health = health
        self.desk = desk  # wrap-up, take-message, attach-customer; None: refused as store-unavailable
        self.feed = feed  # the supervisors' wallboard; None: watch-wallboard refused as no-wallboard
        self.supervision = Supervision(ask, clock, audit_trail)  # supervisors' orders, and their audit


def create_app(
    hub: ConsoleHub,
    backend: ConsoleBackend,
    api: ApiConfig | None = None,
    metrics: Callable[[], bytes] | None = None,
) -> web.Application:
    """The console; with ``api``, the customer store's HTTP API under ``/api/v1`` too; with ``metrics``,
    Prometheus figures at ``/metrics`` (no login, like ``/healthz``: counts and times, no customer data)."""
    app = web.Application(client_max_size=64 * 1024)
    app[HUB] = hub
    gate = Gate(backend.users, Sessions(backend.clock), LoginThrottle(backend.clock), backend.clock)
    app[GATE] = gate
    session = _Sessions(hub, backend, gate)
    app.router.add_get("/", _index)
    app.router.add_get("/wallboard", _wallboard)
    app.router.add_get("/reports", _reports)  # the page loads for anyone; its data calls need a role
    app.router.add_post("/login", gate.login)
    app.router.add_post("/logout", gate.logout)
    app.router.add_get("/session", gate.whoami)
    app.router.add_get("/ws", session.handle)
    app.router.add_get("/healthz", functools.partial(_health, backend))
    app.router.add_get("/protocol/schemas.json", _schemas)
    app.router.add_static("/static/", STATIC)
    if metrics is not None:
        app.router.add_get("/metrics", functools.partial(_metrics, metrics))
    if api is not None:
        app.add_subapp(PREFIX, create_api(api, gate.user))
    return app


async def _index(_: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "index.html")


async def _wallboard(_: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "wallboard.html")


async def _reports(_: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "reports.html")


async def _schemas(_: web.Request) -> web.Response:
    """The protocol's JSON Schemas; no login needed, they hold no data."""
    return web.json_response(contract.bundle())


async def _metrics(render: Callable[[], bytes], _: web.Request) -> web.Response:
    return web.Response(body=render(), headers={"Content-Type": METRICS_CONTENT_TYPE})


async def _health(backend: ConsoleBackend, _: web.Request) -> web.Response:
    return web.json_response(dict(backend.health()))


def _phone_of(who: str, agent: str | None) -> AgentId:
    if agent is None:
        raise NoAgent(
            f"user {who} acts as no agent: your phone is the endpoint of the agent id your user acts as:"
            f" switchboard users add NAME --role supervisor --agent ID"
        )
    return AgentId(agent)


def _refuse(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": code, "message": message}, status=status)


class _Sessions:
    def __init__(self, hub: ConsoleHub, backend: ConsoleBackend, gate: Gate) -> None:
        self._hub = hub
        self._backend = backend
        self._gate = gate

    async def handle(self, request: web.Request) -> web.StreamResponse:
        # Cross-site websocket hijacking: a page elsewhere could open our socket with the agent's cookie.
        if not same_origin(request):
            return _refuse(403, "bad-origin", "the Origin header must name this server")
        user = await self._gate.user(request)
        if user is None:
            return _refuse(401, "not-logged-in", "log in first (POST /login)")
        ws = web.WebSocketResponse(heartbeat=20, max_msg_size=protocol.MAX_MESSAGE_BYTES * 4)
        await ws.prepare(request)
        conn = Connection(ws)
        conn.send(messages.hello())
        try:
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    if not await self._on_text(request, conn, msg.data):
                        break
                elif msg.type is WSMsgType.BINARY:
                    conn.send(messages.error("bad-message", "binary frames are not part of the protocol"))
        finally:
            self._hub.detach(conn)
            if self._backend.feed is not None:
                self._backend.feed.unwatch(conn)
            await conn.close()
            await ws.close()
        return ws

    async def _on_text(self, request: web.Request, conn: Connection, text: str) -> bool:
        """Handle one message; False when the session has ended and the socket must close."""
        # Again: an ended session stops here at once, a disabled user within WS_RECHECK_S.
        user = await self._gate.user(request, max_age_s=WS_RECHECK_S)
        if user is None:
            await conn.ws.send_json(messages.error("not-logged-in", "the session has ended; log in again"))
            return False
        try:
            message = protocol.parse(text)
            if not authorize(str(user.role), CONSOLE_ACTIONS[protocol.kind(message)]):
                raise Forbidden(f"role {user.role} may not do that")
            if protocol.kind(message) in protocol.SUPERVISOR_KINDS:
                await self._supervise(conn, user.username, user.agent, message)
                return True
            if user.agent is None:
                raise NoAgent(f"user {user.username} acts as no agent")
            await self._dispatch(conn, AgentId(user.agent), str(user.role), message)
        except (ConsoleError, RoutingError) as exc:
            conn.send(messages.error(error_code(exc), str(exc)))
        except Exception:
            # A bug must not end the agent's session (or the call): say so, keep the socket open.
            log.exception("console.message-failed", user=user.username)
            conn.send(messages.error("internal-error", "the server could not handle that message"))
        return True

    async def _supervise(
        self, conn: Connection, who: str, own: str | None, message: protocol.ClientMessage
    ) -> None:
        """The floor's messages: about the wallboard, another agent or a waiting call, so no login of
        one's own; ``supervise`` and ``stop-supervising`` use the phone of the agent id ``own``."""
        s = self._backend.supervision
        match message:
            case protocol.SetAgentState(agent, state, reason):
                await s.set_state(who, agent, state, reason)
            case protocol.Supervise(agent, mode):
                supervisor = _phone_of(who, own)
                self._hub.supervise_from(conn, supervisor)  # before asking: the notice comes meanwhile
                await s.supervise(who, supervisor, agent, mode)
            case protocol.StopSupervising():
                supervisor = _phone_of(who, own)
                self._hub.supervise_from(conn, supervisor)  # another tab of his may stop it
                await s.stop_supervising(who, supervisor)
            case protocol.MoveCall(call, queue):
                await s.move_call(who, call, queue)
            case protocol.CallToFront(call):
                await s.call_to_front(who, call)
            case _:
                self._wallboard(conn, message)

    def _wallboard(self, conn: Connection, message: protocol.ClientMessage) -> None:
        feed = self._backend.feed
        match message:
            case protocol.WatchWallboard():
                if feed is None:
                    raise NoWallboard("this service runs no wallboard")
                feed.watch(conn)
            case protocol.UnwatchWallboard():
                if feed is not None:
                    feed.unwatch(conn)

    async def _dispatch(
        self, conn: Connection, agent: AgentId, role: str, message: protocol.ClientMessage
    ) -> None:
        b = self._backend
        if isinstance(message, protocol.Login):
            await b.ask(ev.AgentLoggedIn(agent, b.clock()))
            self._hub.join(conn, b.view(agent), role)
            log.info("console.login", agent=agent)
            return
        if conn.agent is None:
            raise NotLoggedIn("send login first")
        agent = conn.agent
        match message:
            case protocol.Ready():
                await b.ask(ev.AgentBecameReady(agent, b.clock()))
            case protocol.Pause(reason):
                await b.ask(ev.AgentPaused(agent, reason, b.clock()))
            case protocol.ExtendWrapUp(seconds):
                await b.ask(ev.WrapUpExtended(agent, float(seconds), b.clock()))
            case protocol.Logout():
                await b.ask(ev.AgentLoggedOut(agent, b.clock()))
            case protocol.Ack(offer):
                self._hub.ack(agent, offer)
            case _:
                await self._call_control(agent, message)

    async def _call_control(self, agent: AgentId, message: protocol.ClientMessage) -> None:
        b = self._backend
        match message:
            case protocol.HangUp():
                await b.ask(ev.AgentHungUp(agent, b.clock()))
            case protocol.Hold():
                await b.ask(ev.HoldRequested(agent, b.clock()))
            case protocol.Resume():
                await b.ask(ev.ResumeRequested(agent, b.clock()))
            case protocol.Transfer(to, target):
                kind = ev.TransferKind(to)
                if kind is ev.TransferKind.NUMBER:
                    number = normalise(target, self._hub.floor.region)
                    if number is None:
                        raise BadNumber(f"{target!r} is not a phone number")
                    target = number
                await b.ask(ev.TransferRequested(agent, kind, target, b.clock()))
            case protocol.Escalate():
                await b.ask(ev.EscalationRequested(agent, b.clock()))
            case _:
                await self._desk_work(agent, message)

    async def _desk_work(self, agent: AgentId, message: protocol.ClientMessage) -> None:
        desk = self._backend.desk
        if desk is None:
            raise StoreUnavailable("this console has no customer store")
        match message:
            case protocol.WrapUp():
                await desk.wrap_up(self._hub, agent, message)
            case protocol.TakeMessage():
                await desk.take_message(self._hub, agent, message)
            case protocol.AttachCustomer():
                await desk.attach_customer(self._hub, agent, message)
