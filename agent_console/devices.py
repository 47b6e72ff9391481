"""Known devices: a browser that has signed in as a user before is not locked out by a stranger's guesses.

After five wrong passwords for one username the throttle refuses that username, so anyone could lock a
user out from anywhere (issue 18, Medium #7). A successful sign-in therefore also sets a device cookie,
``sb_device``: a random nonce and an HMAC of (username, nonce) under a key only this process holds. A
sign-in that presents a valid device cookie for the username typed is counted against that device
(``device:<nonce>``) instead of the username, so the stranger's failures do not refuse it, while every
client without one (the stranger included) stays under the username's count; the per-address count
applies to everybody (``login_throttle``). A device's own failures lock that device as the
username's would, so a stolen device cookie buys five guesses per window, no more.

The cookie names no username (the HMAC binds it), is sent only to ``/login`` (its path), HttpOnly,
SameSite=Strict, and lasts ``DEVICE_MAX_AGE_S``; one browser holds one: the user who signed in there
last. Alone, the key is made at start and never stored: a restart makes every device unknown again, as
it forgets the failures (the throttle is in memory too), and the next successful sign-in makes it known.
In a cluster, the key and the counts are in Redis, shared by the instances (switchboard/cluster/).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

DEVICE_COOKIE = "sb_device"
DEVICE_PATH = "/login"
DEVICE_MAX_AGE_S = 90 * 86400


def canonical(username: str) -> str:
    """A username as the store keeps it (trimmed, case-folded): ``Alice`` and ``alice`` are one user."""
    return username.strip().casefold()


class KnownDevices:
    def __init__(self, key: bytes | None = None) -> None:
        self._key = secrets.token_bytes(32) if key is None else key

    def issue(self, username: str) -> str:
        """A new device cookie's value for ``username``."""
        nonce = secrets.token_urlsafe(16)
        return f"{nonce}.{self._sign(username, nonce)}"

    def device_of(self, cookie: str | None, username: str) -> str | None:
        """The device's nonce when ``cookie`` was issued here for ``username``, else None."""
        nonce, _, signature = (cookie or "").partition(".")
        if not nonce or not hmac.compare_digest(signature.encode(), self._sign(username, nonce).encode()):
            return None
        return nonce

    def _sign(self, username: str, nonce: str) -> str:
        mac = hmac.new(self._key, f"{canonical(username)}\0{nonce}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode().rstrip("=")
