"""Who is calling: a request to ``/api/v1`` carries ``Authorization: Bearer <token>`` or the console's
session cookie (``POST /login``), and what it may do is ``agent_console.access``'s table.

``authenticate`` is the one check and returns a ``Principal``; ``guarded`` wraps each route's handler
with its action from ``access.API_ACTIONS``, so a handler never runs for a role that may not call it.
A cookie-authenticated change (anything but GET/HEAD) must come from the console's own origin.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from aiohttp import web

from agent_console.access import API_TOKEN, authorize
from agent_console.api.errors import Unauthorized
from agent_console.errors import BadOrigin, Forbidden
from agent_console.login import UserOf
from agent_console.origins import same_origin


@dataclass(frozen=True, slots=True)
class Principal:
    name: str  # recorded as the author of case changes
    role: str = API_TOKEN
    agent: str | None = None  # the agent id a signed-in user acts as: whose calls are theirs


PRINCIPAL = web.RequestKey("principal", Principal)  # where handlers read who is calling
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def authenticate(request: web.Request, tokens: Sequence[str], user_of: UserOf | None) -> Principal:
    if "Authorization" not in request.headers and user_of is not None:
        user = await user_of(request)
        if user is not None:
            if request.method not in SAFE_METHODS and not same_origin(request):
                raise BadOrigin("a change by session must come from the console")
            return Principal(user.username, str(user.role), user.agent)
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("send Authorization: Bearer <token>, or log in (POST /login)")
    matched = None
    # Compare against every token, so timing does not tell how many or which ones exist.
    for index, expected in enumerate(tokens):
        if hmac.compare_digest(expected.encode(), token.encode()):
            matched = index
    if matched is None:
        raise Unauthorized("unknown API token")
    return Principal(f"api-token-{matched + 1}")


def guarded(action: str, handler: Handler) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        who = request[PRINCIPAL]
        if not authorize(who.role, action):
            raise Forbidden(f"role {who.role} may not {action}")
        return await handler(request)

    return handle


def principal(request: web.Request) -> Principal:
    return request[PRINCIPAL]
