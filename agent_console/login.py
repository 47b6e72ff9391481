"""Signing in over HTTP: ``POST /login``, ``POST /logout``, ``GET /session``, and who a request is.

The cookie carries only the session id (``sessions``, which the store keeps across restarts); every HTTP
request looks the user up again, so a user disabled (or given another role) with ``switchboard users``
loses access on their next request without a restart. Websocket messages come far more often (every pop
is acknowledged), so they accept a lookup up to ``max_age_s`` old (the console uses 5 s); an open
socket that sends nothing is closed by ``sockets.OpenSockets`` (at logout at once, for a disabled user
within 5 s). A failed login never says whether the username exists.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Protocol

import structlog
from aiohttp import web

from agent_console.devices import DEVICE_COOKIE, DEVICE_MAX_AGE_S, DEVICE_PATH, KnownDevices, canonical
from agent_console.error_codes import refusal
from agent_console.errors import BadOrigin
from agent_console.login_throttle import LoginThrottle
from agent_console.origins import not_cross_site, secure
from agent_console.sessions import Sessions
from crm_core.domain.users import Standing, User

log = structlog.get_logger("console")
COOKIE = "sb_session"
MAX_FIELD = 1024


class UserCheck(Protocol):
    """The parts of ``SqlUsers`` sign-in needs."""

    async def check(self, username: str, password: str) -> User | None: ...

    async def get(self, username: str) -> User | None: ...

    async def standings(self, since: datetime | None = None) -> Sequence[Standing]: ...


class Gate:
    def __init__(
        self, users: UserCheck, sessions: Sessions, throttle: LoginThrottle, clock: Callable[[], float]
    ) -> None:
        self.users = users
        self.sessions = sessions
        self.throttle = throttle  # in memory; a cluster's instances share one in Redis (cluster/node.py)
        self.devices = KnownDevices()
        self._clock = clock
        self._looked_up: dict[str, tuple[float, User | None]] = {}  # username -> (when, what the store said)

    async def user(self, request: web.Request, max_age_s: float = 0.0) -> User | None:
        """The signed-in, enabled user of ``request``'s session cookie, or None; with ``max_age_s``, a
        lookup of the user that recent is trusted instead of asking the store again."""
        session = await self.sessions.get(request.cookies.get(COOKIE))
        if session is None:
            return None
        now = self._clock()
        when, user = self._looked_up.get(session.username, (float("-inf"), None))
        if now - when > max_age_s or max_age_s <= 0:
            try:
                user = await self.users.get(session.username)
            except Exception as exc:
                if max_age_s <= 0 or session.username not in self._looked_up:
                    raise
                # A websocket's re-check: a store that cannot answer for a moment (its connections all
                # taken) must not close the agent's console. The last answer stands; the next message
                # asks again, so a disabled user is still cut off once the store answers.
                log.warning("console.recheck-failed", user=session.username, error=repr(exc))
            else:
                self._looked_up[session.username] = (now, user)
        if user is None or user.disabled:
            await self.sessions.end(session.id)
            return None
        return user

    async def login(self, request: web.Request) -> web.Response:
        if not not_cross_site(request):  # a page elsewhere signing the browser in as someone (login CSRF)
            return _foreign()
        username, password = await _credentials(request)
        address = request.remote or "unknown"
        device = self.devices.device_of(request.cookies.get(DEVICE_COOKIE), username)
        attempt = await self.throttle.reserve(username, address, device)  # before the check: a burst counts
        if attempt is None:
            log.warning("console.login-throttled", typed=typed(username), address=address)
            return _refuse(429, "login-throttled", "too many failed logins; try again later")
        user = None
        try:
            user = await self.users.check(username, password)
        finally:
            await self.throttle.settle(attempt, succeeded=user is not None)
        if user is None:
            log.info("console.login-failed", typed=typed(username), address=address)
            return _refuse(401, "login-failed", "wrong username or password")
        session = await self.sessions.start(user.username)
        response = web.json_response(_who(user))
        tls = secure(request)
        response.set_cookie(COOKIE, session.id, httponly=True, samesite="Strict", secure=tls, path="/")
        device = self.devices.issue(user.username)  # this browser is known now (devices)
        response.set_cookie(DEVICE_COOKIE, device, max_age=DEVICE_MAX_AGE_S, httponly=True, samesite="Strict",
                            secure=tls, path=DEVICE_PATH)  # fmt: skip
        log.info("console.signed-in", username=user.username, role=str(user.role))
        return response

    async def logout(self, request: web.Request) -> web.Response:
        if not not_cross_site(request):
            return _foreign()
        await self.sessions.end(request.cookies.get(COOKIE))
        response = web.json_response({"logged_out": True})
        response.del_cookie(COOKIE, path="/")
        return response

    async def whoami(self, request: web.Request) -> web.Response:
        user = await self.user(request)
        if user is None:
            return _refuse(401, "not-logged-in", "log in first")
        return web.json_response(_who(user))


def _foreign() -> web.Response:
    return refusal(BadOrigin("the Origin (or Referer) must be this console's own (see [http] public_url)"))


def typed(username: str) -> str:
    """What the log says of a username typed at a refused sign-in: never the text (a password typed into
    the wrong field, escape sequences for the terminal reading the log), but its SHA-256's first 12 hex
    digits, so the failures of one name can be told apart and matched with ``typed("alice")``."""
    return hashlib.sha256(canonical(username).encode()).hexdigest()[:12]


def _who(user: User) -> dict[str, object]:
    return {"username": user.username, "name": user.name, "role": str(user.role), "agent": user.agent}


def _refuse(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": code, "message": message}, status=status)


async def _credentials(request: web.Request) -> tuple[str, str]:
    try:
        data = json.loads(await request.text())
    except ValueError:
        raise web.HTTPBadRequest(
            text=json.dumps({"error": "bad-json", "message": "a JSON object is expected"}),
            content_type="application/json",
        ) from None
    values = [data.get(k) if isinstance(data, dict) else None for k in ("username", "password")]
    if not all(isinstance(v, str) and 0 < len(v) <= MAX_FIELD for v in values):
        raise web.HTTPUnprocessableEntity(
            text=json.dumps({"error": "invalid-input", "message": "username and password are required"}),
            content_type="application/json",
        )
    return str(values[0]), str(values[1])


UserOf = Callable[[web.Request], Awaitable[User | None]]
