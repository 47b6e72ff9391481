"""``[http] public_url``: the address browsers use to reach the console, as a reverse proxy publishes it.

Two things follow from it. The session and device cookies get ``Secure`` when it is ``https://`` (behind
a TLS proxy the service itself speaks plain HTTP, so it cannot tell from the request); and it is the one
origin a browser's ``Origin`` may name on ``POST /login``, ``/logout``, the websocket and the API's
cookie changes (``console_origins``). Nothing a request says about itself is trusted: ``Host``,
``X-Forwarded-Proto``, ``X-Forwarded-Host`` and ``Forwarded`` are ignored, whoever sends them, so a
page on a rebinding DNS name or a client forging those headers gains nothing.

Without it, a loopback listener's own origins are the allowed ones (``http://127.0.0.1:<port>``,
``localhost``, ``[::1]``); a listener beyond loopback has no name it knows of (nor one on port 0, which
the system picks), so there the ``Origin`` is compared with the request's ``Host`` (as before) and the
docs ask for ``public_url``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from config.exposure import is_loopback
from config.values import ConfigError

KEY = "http.public_url"
VARIABLE = "SWITCHBOARD_PUBLIC_URL"


def public_url(http: Mapping[str, Any], env: Mapping[str, str]) -> str | None:
    """The public origin (``scheme://host[:port]``, lower case, no default port), or None when unset."""
    raw = env.get(VARIABLE) or http.get("public_url")
    if raw is None:
        return None
    where = VARIABLE if env.get(VARIABLE) else KEY
    if not isinstance(raw, str):
        raise ConfigError(f"{where}: a URL such as https://calls.example.com is required")
    try:
        parts = urlsplit(raw.strip())
        port = parts.port
    except ValueError:
        raise ConfigError(f"{where}: {raw!r} is not a URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{where}: {raw!r} must start with https:// (or http://) and name a host")
    if parts.username or parts.password or parts.query or parts.fragment or parts.path not in ("", "/"):
        raise ConfigError(f"{where}: {raw!r} must be an origin only: no path, query or credentials")
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    default = 443 if parts.scheme == "https" else 80
    return f"{parts.scheme}://{host}" + ("" if port in (None, default) else f":{port}")


def console_origins(public: str | None, host: str, port: int) -> tuple[str, ...]:
    """The origins a browser's ``Origin`` may name; empty: compare it with the request's ``Host``."""
    local = ("127.0.0.1", "localhost", "[::1]")
    # Port 0: the system picks one when the listener opens (tests), so no origin of its own is known.
    own = (f"http://{name}:{port}" for name in local) if is_loopback(host) and port else ()
    found = ([public] if public else []) + list(own)
    return tuple(dict.fromkeys(found))
