"""Who is calling: every ``/api/v1`` request carries ``Authorization: Bearer <token>``.

``authenticate`` is the one check; it returns a ``Principal`` so that roles (console sessions, read-only
tokens) can be added here later without touching a handler.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from dataclasses import dataclass

from aiohttp import web

from agent_console.api.errors import ApiError


@dataclass(frozen=True, slots=True)
class Principal:
    name: str  # recorded as the author of case changes
    role: str = "api"


PRINCIPAL = web.RequestKey("principal", Principal)  # where handlers read who is calling


def authenticate(request: web.Request, tokens: Sequence[str]) -> Principal:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise ApiError(401, "unauthorized", "send Authorization: Bearer <token>")
    matched = None
    # Compare against every token, so timing does not tell how many or which ones exist.
    for index, expected in enumerate(tokens):
        if hmac.compare_digest(expected.encode(), token.encode()):
            matched = index
    if matched is None:
        raise ApiError(401, "unauthorized", "unknown API token")
    return Principal(f"api-token-{matched + 1}")


def principal(request: web.Request) -> Principal:
    return request[PRINCIPAL]
