"""Errors of the PBX adapter.

TelephonyError
├── AriRequestError    Asterisk answered a REST call with an error status (the peer refused)
└── AriUnavailable     Asterisk could not be reached at all (network, wrong URL, not running)
"""

from __future__ import annotations


class TelephonyError(Exception):
    """Root of the errors raised by telephony/."""


class AriRequestError(TelephonyError):
    def __init__(self, method: str, path: str, status: int, body: str) -> None:
        super().__init__(f"ARI {method} {path} -> {status}: {body[:200]}")
        self.method = method
        self.path = path
        self.status = status
        self.body = body


class AriUnavailable(TelephonyError):
    def __init__(self, url: str, cause: str) -> None:
        super().__init__(f"ARI at {url} unreachable: {cause}")
        self.url = url
        self.cause = cause
