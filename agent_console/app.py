"""The aiohttp application: the console page, sign-in, its websocket, a health check and the customer API.

The websocket needs a session (``POST /login``) and a same-origin ``Origin``; each message is parsed by
``protocol``, carried out by ``dispatch`` (which checks ``access``'s table first), and a refusal goes back
with its code from ``error_codes``.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from pathlib import Path

import structlog
from aiohttp import WSMsgType, web

from agent_console import contract, dispatch, headers, messages, protocol
from agent_console.api.context import ApiConfig
from agent_console.api.routes import PREFIX, create_api
from agent_console.api.training import TrainingDesk
from agent_console.desk import Desk
from agent_console.error_codes import INTERNAL, error_code, refusal
from agent_console.errors import BadMessage, BadOrigin, ConsoleError, NotLoggedIn, RateLimited
from agent_console.hub import Connection, ConsoleHub
from agent_console.login import COOKIE, Gate, UserCheck
from agent_console.login_throttle import MemoryLoginThrottle
from agent_console.origins import SITE, Site, same_origin
from agent_console.rate import BURST, PER_S, RATE_LIMITED, MessageRate, Verdict
from agent_console.router_reader import RouterReader
from agent_console.sessions import Sessions
from agent_console.slow_clients import SLOW_CLIENTS, Pace
from agent_console.sockets import OpenSockets
from agent_console.wallboard_feed import AuditTrail, Supervision, WallboardFeed
from crm_core.domain.errors import CrmError
from crm_core.domain.ports import SessionStore
from routing import commands as cmd
from routing import events as ev
from routing.errors import RoutingError

log = structlog.get_logger("console")
STATIC = Path(__file__).parent / "static"
# How old a lookup of the user a websocket message may trust (see login.Gate.user), and how often the
# open sockets' users are read again (sockets.OpenSockets.sweep): a user disabled by ``switchboard users``
# in another process has their sockets closed within this (plus one query).
WS_RECHECK_S = 5.0
# How long a websocket message trusts the last lookup of its user. The sweep above closes the sockets of
# a user disabled or given another role within WS_RECHECK_S; this is its backstop. At 5 s it was a store
# query for nearly every message (about one a call at 500 calls/s with 2,000 agents, bench/README.md).
WS_USER_TRUSTED_S = 60.0
METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"  # Prometheus' text format
PAGES = {"/": "index.html", "/wallboard": "wallboard.html", "/reports": "reports.html"}  # under STATIC

Ask = Callable[[ev.Event], Awaitable[list[cmd.Command]]]
Clock = Callable[[], float]

HUB = web.AppKey("hub", ConsoleHub)
GATE = web.AppKey("gate", Gate)
SOCKETS = web.AppKey("sockets", OpenSockets)


class ConsoleBackend:
    """What the console needs from the rest of the system, handed in by the bootstrap.

    ``users`` is the store's user directory (``SqlStore.users``), ``sessions`` where sign-ins are kept
    (``SqlStore.sessions``, so they outlive the process); ``clock`` also times sessions and the login
    throttle, so tests drive both. ``sweep_s``: how often the open sockets' users are read again.
    ``origins``: what a browser's ``Origin`` may name (none: the request's own ``Host``);
    ``secure_cookies``: browsers come over HTTPS (``origins.Site``). ``pace``: how slowly a client may
    send a request (``slow_clients``).
    """

    def __init__(
        self,
        ask: Ask,
        router: RouterReader,
        clock: Clock,
        users: UserCheck,
        health: Callable[[], Mapping[str, object]],
        desk: Desk | None = None,
        feed: WallboardFeed | None = None,
        audit_trail: AuditTrail | None = None,
        *,
        sessions: SessionStore,
        sweep_s: float = WS_RECHECK_S,
        origins: Sequence[str] = (),
        secure_cookies: bool = False,
        pace: Pace = SLOW_CLIENTS,
        on_call: dispatch.OnCallChain | None = None,
    ) -> None:
        self.ask = ask
        self.on_call = on_call  # an escalation's chain from the schedule; None: the line's from the config
        self.router = router  # what the console reads of the live state: each agent's view
        self.clock = clock
        self.users = users
        self.sessions = sessions
        self.sweep_s = sweep_s
        self.site = Site.of(origins, secure_cookies)
        self.pace = pace
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
    pace = backend.pace  # slow clients: a head and a body must arrive in time
    app = web.Application(client_max_size=64 * 1024, handler_args=pace.handler_args(),
                          middlewares=[pace.middleware()])  # fmt: skip
    app.on_response_prepare.append(headers.secure)  # every response, the API's included
    app[HUB] = hub
    app[SITE] = backend.site
    sessions = Sessions(backend.sessions, backend.clock)
    gate = Gate(backend.users, sessions, MemoryLoginThrottle(backend.clock), backend.clock)
    app[GATE] = gate
    sockets = OpenSockets(backend.users, sessions.end)
    sessions.on_end.append(sockets.ended)  # a logout closes that session's sockets at once
    app[SOCKETS] = sockets
    app.cleanup_ctx.append(functools.partial(_sweeping, sockets, sessions, backend.sweep_s))
    session = _Sessions(hub, backend, gate, sockets)
    for path, page in PAGES.items():  # a page loads for anyone; its websocket and data calls need a role
        app.router.add_get(path, functools.partial(_page, page))
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
        trainer = TrainingDesk(backend.supervision, backend.router)  # training mode's orders (issue 17)
        app.add_subapp(PREFIX, create_api(api, gate.user, trainer))
    return app


async def _sweeping(
    sockets: OpenSockets, sessions: Sessions, every_s: float, _: web.Application
) -> AsyncIterator[None]:
    """Every ``every_s``: users disabled elsewhere (``sockets``), sessions ended elsewhere (``sessions``)."""
    tasks = [asyncio.create_task(sockets.run(every_s)), asyncio.create_task(_dropping(sessions, every_s))]
    yield
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, sockets.close(), return_exceptions=True)


async def _dropping(sessions: Sessions, every_s: float) -> None:
    while True:
        await asyncio.sleep(every_s)
        try:
            await sessions.drop_ended()
        except Exception:
            log.exception("console.session-check-failed")  # the store down: try again next time


async def _page(name: str, _: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / name)


async def _schemas(_: web.Request) -> web.Response:
    """The protocol's JSON Schemas; no login needed, they hold no data."""
    return web.json_response(contract.bundle())


async def _metrics(render: Callable[[], bytes], _: web.Request) -> web.Response:
    return web.Response(body=render(), headers={"Content-Type": METRICS_CONTENT_TYPE})


async def _health(backend: ConsoleBackend, _: web.Request) -> web.Response:
    return web.json_response(dict(backend.health()))


class _Sessions:
    def __init__(self, hub: ConsoleHub, backend: ConsoleBackend, gate: Gate, sockets: OpenSockets) -> None:
        self._hub = hub
        self._backend = backend
        self._gate = gate
        self._sockets = sockets

    async def handle(self, request: web.Request) -> web.StreamResponse:
        # Cross-site websocket hijacking: a page elsewhere could open our socket with the agent's cookie.
        if not same_origin(request):
            return refusal(BadOrigin("the Origin header must name this server"))
        user = await self._gate.user(request)
        if user is None:
            return refusal(NotLoggedIn("log in first (POST /login)"))
        ws = web.WebSocketResponse(heartbeat=20, max_msg_size=protocol.MAX_MESSAGE_BYTES * 4)
        await ws.prepare(request)
        conn = Connection(ws, request.transport)
        self._sockets.add(conn, request.cookies[COOKIE], user)
        conn.send(messages.hello())
        rate = MessageRate(time.monotonic)
        try:
            async for msg in ws:
                if msg.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                    continue
                verdict = await _rated(rate, conn)
                if verdict is Verdict.CLOSE:
                    break
                if verdict is not Verdict.HANDLE:
                    continue
                if msg.type is WSMsgType.BINARY:
                    conn.send(_error(BadMessage("binary frames are not part of the protocol")))
                elif not await self._on_text(request, conn, msg.data):
                    break
        finally:
            self._sockets.remove(conn)
            self._hub.detach(conn)
            if self._backend.feed is not None:
                self._backend.feed.unwatch(conn)
            await conn.ended()
            await conn.close()
            await ws.close()
        return ws

    async def _on_text(self, request: web.Request, conn: Connection, text: str) -> bool:
        """Handle one message; False when the session has ended and the socket must close."""
        # Again: an ended session stops here at once; a disabled user is closed by the sweep within
        # WS_RECHECK_S, and here within WS_USER_TRUSTED_S should the sweep not run (its store failing).
        user = await self._gate.user(request, max_age_s=WS_USER_TRUSTED_S)
        if user is None:
            await self._sockets.shut(conn)  # told not-logged-in, closed with SESSION_ENDED
            return False
        try:
            turn = dispatch.Turn(conn, user, self._hub, self._backend)
            await dispatch.handle(turn, protocol.parse(text))
        except (ConsoleError, RoutingError, CrmError) as exc:
            conn.send(_error(exc))
        except Exception:
            # A bug must not end the agent's session (or the call): say so, keep the socket open.
            log.exception("console.message-failed", user=user.username)
            conn.send(messages.error(INTERNAL.code, "the server could not handle that message"))
        return True


async def _rated(rate: MessageRate, conn: Connection) -> Verdict:
    """The rate's verdict on the message just come, carried out but for handling it."""
    verdict = rate.take()
    if verdict is Verdict.REFUSE:
        conn.send(_error(RateLimited(f"more than {BURST} messages at once, or {PER_S:g} a second")))
    elif verdict is Verdict.CLOSE:
        log.warning("console.rate-limited", agent=conn.agent)
        closing = RateLimited(f"still more than {PER_S:g} messages a second: closing")
        await conn.end(RATE_LIMITED, "rate-limited", _error(closing))
    return verdict


def _error(refused: ConsoleError | RoutingError | CrmError) -> messages.Message:
    return messages.error(error_code(refused), str(refused))
