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

from agent_console import protocol
from agent_console.access import CONSOLE_ACTIONS, authorize
from agent_console.api.context import ApiConfig
from agent_console.api.routes import PREFIX, create_api
from agent_console.errors import ConsoleError, Forbidden, NoAgent, NotLoggedIn, error_code
from agent_console.hub import Connection, ConsoleHub
from agent_console.login import Gate, UserCheck, same_origin
from agent_console.sessions import LoginThrottle, Sessions
from routing import commands as cmd
from routing import events as ev
from routing.errors import RoutingError
from routing.ids import AgentId
from routing.router import AgentView

log = structlog.get_logger("console")
STATIC = Path(__file__).parent / "static"

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
    ) -> None:
        self.ask = ask
        self.view = view
        self.clock = clock
        self.users = users
        self.health = health


def create_app(hub: ConsoleHub, backend: ConsoleBackend, api: ApiConfig | None = None) -> web.Application:
    """The console; with ``api``, the customer store's HTTP API under ``/api/v1`` too."""
    app = web.Application(client_max_size=64 * 1024)
    app[HUB] = hub
    gate = Gate(backend.users, Sessions(backend.clock), LoginThrottle(backend.clock))
    app[GATE] = gate
    session = _Sessions(hub, backend, gate)
    app.router.add_get("/", _index)
    app.router.add_post("/login", gate.login)
    app.router.add_post("/logout", gate.logout)
    app.router.add_get("/session", gate.whoami)
    app.router.add_get("/ws", session.handle)
    app.router.add_get("/healthz", functools.partial(_health, backend))
    app.router.add_static("/static/", STATIC)
    if api is not None:
        app.add_subapp(PREFIX, create_api(api, gate.user))
    return app


async def _index(_: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "index.html")


async def _health(backend: ConsoleBackend, _: web.Request) -> web.Response:
    return web.json_response(dict(backend.health()))


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
        conn.send(protocol.hello())
        try:
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    if not await self._on_text(request, conn, msg.data):
                        break
                elif msg.type is WSMsgType.BINARY:
                    conn.send(protocol.error("bad-message", "binary frames are not part of the protocol"))
        finally:
            self._hub.detach(conn)
            await conn.close()
            await ws.close()
        return ws

    async def _on_text(self, request: web.Request, conn: Connection, text: str) -> bool:
        """Handle one message; False when the session has ended and the socket must close."""
        user = await self._gate.user(request)  # again: a disabled user or ended session stops here
        if user is None:
            await conn.ws.send_json(protocol.error("not-logged-in", "the session has ended; log in again"))
            return False
        try:
            message = protocol.parse(text)
            if not authorize(str(user.role), CONSOLE_ACTIONS[protocol.kind(message)]):
                raise Forbidden(f"role {user.role} may not do that")
            if user.agent is None:
                raise NoAgent(f"user {user.username} acts as no agent")
            await self._dispatch(conn, AgentId(user.agent), message)
        except (ConsoleError, RoutingError) as exc:
            conn.send(protocol.error(error_code(exc), str(exc)))
        return True

    async def _dispatch(self, conn: Connection, agent: AgentId, message: protocol.ClientMessage) -> None:
        b = self._backend
        if isinstance(message, protocol.Login):
            await b.ask(ev.AgentLoggedIn(agent, b.clock()))
            self._hub.detach(conn)
            conn.send(protocol.state(b.view(agent)))
            self._hub.attach(agent, conn)
            log.info("console.login", agent=agent)
            return
        if conn.agent is None:
            raise NotLoggedIn("send login first")
        match message:
            case protocol.Ready():
                await b.ask(ev.AgentBecameReady(conn.agent, b.clock()))
            case protocol.Pause(reason):
                await b.ask(ev.AgentPaused(conn.agent, reason, b.clock()))
            case protocol.ExtendWrapUp(seconds):
                await b.ask(ev.WrapUpExtended(conn.agent, float(seconds), b.clock()))
            case protocol.Logout():
                await b.ask(ev.AgentLoggedOut(conn.agent, b.clock()))
            case protocol.Ack(offer):
                self._hub.ack(conn.agent, offer)
