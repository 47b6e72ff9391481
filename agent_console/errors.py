"""Errors of the console and their public codes.

    ConsoleError
    ├── BadMessage        the browser sent something that is not a valid protocol message
    ├── NotLoggedIn       an action before a successful login on this connection
    └── LoginFailed       unknown agent or wrong PIN

Router refusals (``routing.errors``) are mapped here too, so every error a console sees has a stable
kebab-case ``error`` code: those strings are public API.
"""

from __future__ import annotations

from routing.errors import IllegalTransition, RoutingError, UnknownAgent, UnknownReason


class ConsoleError(Exception):
    code = "console-error"


class BadMessage(ConsoleError):
    code = "bad-message"


class NotLoggedIn(ConsoleError):
    code = "not-logged-in"


class LoginFailed(ConsoleError):
    code = "login-failed"


def error_code(exc: Exception) -> str:
    if isinstance(exc, ConsoleError):
        return exc.code
    if isinstance(exc, IllegalTransition):
        return "not-allowed-now"  # e.g. pausing during a call
    if isinstance(exc, UnknownAgent):
        return "unknown-agent"
    if isinstance(exc, UnknownReason):
        return "unknown-reason"
    if isinstance(exc, RoutingError):
        return "routing-refused"
    return "internal-error"
