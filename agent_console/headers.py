"""Security headers on every response of the console and its API, and no ``Server`` version banner.

The pages load their scripts and styles from ``/static`` only (no inline ``<script>``, ``style=`` or
``on*=`` handlers: the policy below forbids them, and tests/agent_console checks the HTML), talk to this
server only (``fetch`` and the websocket: ``connect-src 'self'``, which covers ``ws:``/``wss:`` to the same
host), and may not be framed (clickjacking). A hook on ``on_response_prepare`` runs for every response the
app makes, static files, refusals and the API's sub-app included.
"""

from __future__ import annotations

from aiohttp import hdrs, web

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
}


async def secure(_: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: aiohttp has set its defaults by now, so the ``Server`` it adds
    (``Python/3.x aiohttp/3.x``, a map of known flaws) can be taken off."""
    response.headers.update(SECURITY_HEADERS)
    response.headers.popall(hdrs.SERVER, None)
