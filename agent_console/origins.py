"""Whose pages may send the console's browser requests: the ``Origin`` check, and ``Secure`` cookies.

The bootstrap hands in the allowed origins (``[http] public_url``, or a loopback listener's own:
``config/public_url.py``) and whether browsers reach the service over HTTPS (a TLS proxy in front).
Nothing a request says about itself is believed: not ``Host`` (a page on a rebinding DNS name sends its
own name there and in ``Origin`` alike), not ``X-Forwarded-Proto``/``-Host`` or ``Forwarded`` (a client
may send them past a proxy that does not strip them). Only with no origin handed in (a listener beyond
loopback and no ``public_url``; the tests' servers) is ``Origin`` compared with the request's ``Host``.

Two strengths of check: ``same_origin`` (the websocket, the API's cookie changes) needs an ``Origin``
that is allowed; ``not_cross_site`` (``POST /login``, ``/logout``) refuses a foreign ``Origin``, or with
none a foreign ``Referer``, and lets a request carrying neither through, as scripts and ``curl`` send
neither while every browser sends ``Origin`` on a POST.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp import hdrs, web

DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


@dataclass(frozen=True, slots=True)
class Site:
    origins: frozenset[str]  # as ``origin_of`` writes them; empty: the request's own Host
    secure_cookies: bool = False

    @classmethod
    def of(cls, origins: Iterable[str], secure_cookies: bool = False) -> Site:
        found = (origin_of(o) for o in origins)
        return cls(frozenset(o for o in found if o is not None), secure_cookies)


SITE = web.AppKey("site", Site)


def origin_of(url: str) -> str | None:
    """``url``'s origin as ``scheme://host:port``, the port always written; None when it has none."""
    try:
        parts = urlsplit(url.strip().lower())
        port = parts.port or DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        return None
    if not parts.scheme or not parts.hostname or port is None:
        return None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{parts.scheme}://{host}:{port}"


def same_origin(request: web.Request) -> bool:
    """The request's ``Origin`` is one this console's pages have."""
    origin = request.headers.get(hdrs.ORIGIN)
    return origin is not None and _allowed(request, origin)


def not_cross_site(request: web.Request) -> bool:
    """No page elsewhere sent this: its ``Origin`` (else its ``Referer``) is ours, or it has neither."""
    claimed = request.headers.get(hdrs.ORIGIN) or request.headers.get(hdrs.REFERER)
    return claimed is None or _allowed(request, claimed)


def secure(request: web.Request) -> bool:
    """Whether cookies set for ``request`` are ``Secure``: TLS here, or at the configured proxy."""
    return request.secure or request.config_dict[SITE].secure_cookies


def _allowed(request: web.Request, claimed: str) -> bool:
    origins = request.config_dict[SITE].origins
    found = origin_of(claimed)
    if origins:
        return found in origins
    return found is not None and found == origin_of(f"{request.scheme}://{request.host}")
