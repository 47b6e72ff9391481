"""Errors of the console and their public codes.

    ConsoleError
    ├── BadMessage        the browser sent something that is not a valid protocol message
    ├── NotLoggedIn       no session, or an ACD action before ``login`` on this connection
    ├── Forbidden         the user's role may not send this message (``access.PERMISSIONS``)
    ├── NoAgent           the user acts as no agent id (a supervisor or admin without one)
    ├── NotYourCall       a wrap-up, message or attachment for a call another agent took
    ├── UnknownCall       a call id this console never saw (or the call log never got)
    ├── UnknownDisposition a disposition code outside ``[console] disposition_codes``
    ├── BadNumber         a phone number (transfer target, callback number) that is not one
    ├── UnknownCustomer   a customer id the store does not hold
    ├── UnknownCase       a case id the store does not hold
    ├── CaseRefused       a case change its lifecycle does not allow
    ├── StoreUnavailable  the customer store failed; nothing was written
    └── NoWallboard       this service runs no wallboard feed

Router refusals (``routing.errors``) are mapped here too, by class name, so every error a console sees
has a stable kebab-case ``error`` code: those strings are public API. Mapping by name lets a refusal the
router gains later (``UnknownQueue``, ``AgentNotReady``, ``NoOnCall``, ``NotAllowedNow``) come out with
its contract code without this module importing it.
"""

from __future__ import annotations

from crm_core.domain.errors import CrmError
from routing.errors import RoutingError


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


class NotYourCall(ConsoleError):
    code = "not-your-call"


class UnknownCall(ConsoleError):
    code = "unknown-call"


class UnknownDisposition(ConsoleError):
    code = "unknown-disposition"


class BadNumber(ConsoleError):
    code = "bad-number"


class UnknownCustomer(ConsoleError):
    code = "unknown-customer"


class UnknownCase(ConsoleError):
    code = "unknown-case"


class CaseRefused(ConsoleError):
    code = "not-allowed-now"  # a case change its lifecycle does not allow (e.g. editing a closed case)


class StoreUnavailable(ConsoleError):
    code = "store-unavailable"


class NoWallboard(ConsoleError):
    code = "no-wallboard"


# routing.errors class name -> code; the first class of an exception's MRO found here wins.
ROUTING_CODES: dict[str, str] = {
    "IllegalTransition": "not-allowed-now",  # e.g. pausing during a call
    "NotAllowedNow": "not-allowed-now",  # e.g. hold with no call
    "UnknownAgent": "unknown-agent",
    "UnknownQueue": "unknown-queue",
    "AgentNotReady": "agent-not-ready",
    "NoOnCall": "no-on-call",
    "UnknownReason": "unknown-reason",
}


def error_code(exc: Exception) -> str:
    if isinstance(exc, ConsoleError):
        return exc.code
    if isinstance(exc, RoutingError):
        for kind in type(exc).__mro__:
            if kind.__name__ in ROUTING_CODES:
                return ROUTING_CODES[kind.__name__]
        return "routing-refused"
    if isinstance(exc, CrmError):
        return "store-refused"
    return "internal-error"
