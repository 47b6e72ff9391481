"""Errors agent_console decides itself, on the websocket and on the HTTP API.

    ConsoleError
    ├── BadMessage          the browser sent something that is not a valid protocol message
    ├── NotLoggedIn         no session, or an ACD action before ``login`` on this connection
    ├── BadOrigin           a websocket, or a change made with the session cookie, from another origin
    ├── Forbidden           the user's role may not send this message or call this route (``access``)
    ├── NoAgent             the user acts as no agent id (a supervisor or admin without one)
    ├── NotYourCall         a wrap-up, message or attachment for a call another agent took
    ├── UnknownCall         a call id this console never saw (or the call log never got)
    ├── UnknownDisposition  a disposition code outside ``[console] disposition_codes``
    ├── BadNumber           a phone number (transfer target, callback number) that is not one
    ├── UnknownCustomer     a case or callback for a call whose caller has no customer record
    ├── NotOffered          a pick of a customer the call's pop did not offer (the number's owners)
    ├── StoreUnavailable    the customer store failed; nothing was written
    ├── NoWallboard         this service runs no wallboard feed
    ├── RateLimited         a websocket sent more messages than a console does (``rate``)
    ├── NoLeader            an order for the router found no leading instance in time (several
    │                       instances: ``switchboard.cluster.asks``); nothing was done, try again
    └── ApiError            a refusal of the HTTP API's own (``agent_console.api.errors``)

The store's refusals (``crm_core.domain.errors``) and the router's (``routing.errors``) reach the client as
themselves. Every one of these has its HTTP status and stable kebab-case ``error`` code in the one table,
``agent_console.error_codes``: those strings are public API.
"""

from __future__ import annotations


class ConsoleError(Exception):
    """Root of the refusals agent_console decides; nothing has been done when one is raised."""


class BadMessage(ConsoleError):
    pass


class NotLoggedIn(ConsoleError):
    pass


class BadOrigin(ConsoleError):
    pass


class Forbidden(ConsoleError):
    pass


class NoAgent(ConsoleError):
    pass


class NotYourCall(ConsoleError):
    pass


class UnknownCall(ConsoleError):
    pass


class UnknownDisposition(ConsoleError):
    pass


class BadNumber(ConsoleError):
    pass


class UnknownCustomer(ConsoleError):
    pass


class NotOffered(ConsoleError):
    pass


class StoreUnavailable(ConsoleError):
    pass


class NoWallboard(ConsoleError):
    pass


class RateLimited(ConsoleError):
    pass


class NoLeader(ConsoleError):
    pass
