"""The aiohttp application: the console page, its websocket, a health check and the customer API."""

from __future__ import annotations

import functools
import hmac
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path

import structlog
from aiohttp import WSMsgType, web

from agent_console import protocol
from agent_console.api.context import ApiConfig
from agent_console.api.routes import PREFIX, create_api
from agent_console.errors import ConsoleError, LoginFailed, NotLoggedIn, error_code
from agent_console.hub import Connection, ConsoleHub
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


class ConsoleBackend:
    """What the console needs from the rest of the system, handed in by the bootstrap."""

    def __init__(
        self,
        ask: Ask,
        view: Callable[[AgentId], AgentView],
        clock: Clock,
        pins: Mapping[AgentId, str],
        health: Callable[[], Mapping[str, object]],
    ) -> None:
        self.ask = ask
        self.view = view
        self.clock = clock
        self.pins = pins
        self.health = health

    def check_pin(self, agent: str, pin: str) -> AgentId:
        expected = self.pins.get(AgentId(agent))
        # Compare even for unknown agents, so timing does not reveal which agent ids exist.
        ok = hmac.compare_digest((expected or "\0").encode(), pin.encode())
        if expected is None or not ok:
            raise LoginFailed("unknown agent or wrong PIN")
        return AgentId(agent)


def create_app(hub: ConsoleHub, backend: ConsoleBackend, api: ApiConfig | None = None) -> web.Application:
    """The console; with ``api``, the customer store's HTTP API under ``/api/v1`` too."""
    app = web.Application(client_max_size=64 * 1024)
    app[HUB] = hub
    session = _Sessions(hub, backend)
    app.router.add_get("/", _index)
    app.router.add_get("/ws", session.handle)
    app.router.add_get("/healthz", functools.partial(_health, backend))
    app.router.add_static("/static/", STATIC)
    if api is not None:
        app.add_subapp(PREFIX, create_api(api))
    return app


async def _index(_: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "index.html")


async def _health(backend: ConsoleBackend, _: web.Request) -> web.Response:
    return web.json_response(dict(backend.health()))


class _Sessions:
    def __init__(self, hub: ConsoleHub, backend: ConsoleBackend) -> None:
        self._hub = hub
        self._backend = backend

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=20, max_msg_size=protocol.MAX_MESSAGE_BYTES * 4)
        await ws.prepare(request)
        conn = Connection(ws)
        conn.send(protocol.hello())
        try:
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    await self._on_text(conn, msg.data)
                elif msg.type is WSMsgType.BINARY:
                    conn.send(protocol.error("bad-message", "binary frames are not part of the protocol"))
        finally:
            self._hub.detach(conn)
            await conn.close()
        return ws

    async def _on_text(self, conn: Connection, text: str) -> None:
        try:
            await self._dispatch(conn, protocol.parse(text))
        except (ConsoleError, RoutingError) as exc:
            conn.send(protocol.error(error_code(exc), str(exc)))

    async def _dispatch(self, conn: Connection, message: protocol.ClientMessage) -> None:
        b = self._backend
        if isinstance(message, protocol.Login):
            agent = b.check_pin(message.agent, message.pin)
            await b.ask(ev.AgentLoggedIn(agent, b.clock()))
            self._hub.detach(conn)
            conn.send(protocol.state(b.view(agent)))
            self._hub.attach(agent, conn)
            log.info("console.login", agent=agent)
            return
        if conn.agent is None:
            raise NotLoggedIn("log in first")
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
