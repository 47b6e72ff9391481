"""Secrets fit to be reached from the network: a listener beyond loopback refuses placeholders and short
secrets.

The shipped config and the Asterisk sandbox carry well-known values (``dev-only-insecure-token``,
``switchboard-test``) so that the README's first call works on one machine. They are public: on a listener
that other machines reach, the API token among them read and deleted customers. So when ``[http] host`` is
not loopback (127.0.0.0/8, ::1, ``localhost``), every API token, the ARI password and every webhook secret
must be at least ``MIN_SECRET_BYTES`` long (UTF-8) and none of the placeholders; otherwise the config is
refused, naming the key (never the secret). On loopback they are allowed: only this machine can use them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from config.values import ConfigError

MIN_SECRET_BYTES = 32  # 256 bits, as ``secrets.token_urlsafe(32)`` gives (43 characters)
PLACEHOLDERS = frozenset({"dev-only-insecure-token", "switchboard-test", "change-me"})
ADVICE = 'make one with: python3 -c "import secrets; print(secrets.token_urlsafe(32))"'


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address, or a name) can only be reached from this machine."""
    name = host.strip().removeprefix("[").removesuffix("]").lower()
    if name == "localhost":
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False  # another name may resolve to anything: treat it as public
    mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
    return (mapped or address).is_loopback


def check_exposed(host: str, secrets: Iterable[tuple[str, str]]) -> None:
    """Refuse ``secrets`` (pairs of where each comes from, and its value) unfit for a listener on
    ``host`` that is not loopback; nothing to refuse on loopback."""
    if is_loopback(host):
        return
    for where, secret in secrets:
        if secret in PLACEHOLDERS:
            problem = f"is the shipped placeholder {secret!r}"
        elif len(secret.encode()) < MIN_SECRET_BYTES:
            problem = f"is shorter than {MIN_SECRET_BYTES} bytes"
        else:
            continue
        raise ConfigError(
            f"{where} {problem}, which http.host {host!r} (not loopback) would expose; "
            f"use a random secret of at least {MIN_SECRET_BYTES} bytes ({ADVICE})"
        )
