"""Errors of the console and their public codes.

    ConsoleError
    ├── BadMessage        the browser sent something that is not a valid protocol message
    ├── NotLoggedIn       no session, or an ACD action before ``login`` on this connection
    ├── Forbidden         the user's role may not send this message (``access.PERMISSIONS``)
    └── NoAgent           the user acts as no agent id (a supervisor or admin without one)

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


class Forbidden(ConsoleError):
    code = "forbidden"


class NoAgent(ConsoleError):
    code = "no-agent"


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
