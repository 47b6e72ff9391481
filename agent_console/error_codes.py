"""The one table of public error codes: each error a client can meet, its HTTP status and ``error`` code.

Keyed by the classes themselves and read along an error's MRO, so a subclass added later answers with
its parent's code until it is given its own (``tests/agent_console/test_error_codes.py`` asks for that
decision). The REST API (``api.routes``), the websocket (``app``) and the supervisors' audit
(``wallboard_feed``) all answer from it, and docs/api.md and docs/console-protocol.md list exactly its
codes (the same test compares them). The codes are public API: a published code keeps its meaning.

``where`` says where a client meets the error: REST, the websocket (an ``error`` message, or the refused
upgrade), or both. A websocket error's status is what it would be over HTTP; only the upgrade's refusals
are actually sent with one.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from aiohttp import web

from agent_console import errors as console
from agent_console.api import errors as api
from crm_core.domain import errors as crm
from crm_core.domain import oncall
from routing import errors as routing


class Where(enum.Flag):
    REST = enum.auto()
    WEBSOCKET = enum.auto()
    BOTH = REST | WEBSOCKET


@dataclass(frozen=True, slots=True)
class Public:
    status: int
    code: str
    where: Where


REST, WEBSOCKET, BOTH = Where.REST, Where.WEBSOCKET, Where.BOTH

PUBLIC: dict[type[Exception], Public] = {
    console.BadMessage: Public(400, "bad-message", WEBSOCKET),
    console.NotLoggedIn: Public(401, "not-logged-in", WEBSOCKET),
    console.BadOrigin: Public(403, "bad-origin", BOTH),
    console.Forbidden: Public(403, "forbidden", BOTH),
    console.NoAgent: Public(403, "no-agent", WEBSOCKET),
    console.NotYourCall: Public(403, "not-your-call", BOTH),  # access.ANY_CALL
    console.UnknownCall: Public(404, "unknown-call", WEBSOCKET),
    console.NoWallboard: Public(404, "no-wallboard", WEBSOCKET),
    console.UnknownCustomer: Public(409, "unknown-customer", WEBSOCKET),
    console.NotOffered: Public(409, "not-offered", WEBSOCKET),
    console.UnknownDisposition: Public(422, "unknown-disposition", WEBSOCKET),
    console.BadNumber: Public(422, "bad-number", WEBSOCKET),
    console.StoreUnavailable: Public(503, "store-unavailable", WEBSOCKET),
    console.RateLimited: Public(429, "rate-limited", WEBSOCKET),
    console.NoLeader: Public(503, "no-leader", WEBSOCKET),  # orders for the router come by websocket only
    api.BadJson: Public(400, "bad-json", REST),
    api.UnreadableNumber: Public(400, "invalid-phone-number", REST),
    api.InvalidDate: Public(400, "invalid-date", REST),
    api.InvalidRange: Public(400, "invalid-range", REST),
    api.InvalidGrouping: Public(400, "invalid-grouping", REST),
    api.Unauthorized: Public(401, "unauthorized", REST),
    api.NoSuchRecord: Public(404, "not-found", REST),
    api.TooLarge: Public(413, "too-large", REST),
    api.InvalidField: Public(422, "invalid-input", REST),
    api.InvalidEncoding: Public(422, "invalid-encoding", REST),
    # aiohttp's own refusals under /api/v1 (a path or method it has no route for); any other is sent
    # with aiohttp's status, whatever it is, and this generic code
    web.HTTPNotFound: Public(404, "not-found", REST),
    web.HTTPMethodNotAllowed: Public(405, "method-not-allowed", REST),
    web.HTTPRequestEntityTooLarge: Public(413, "too-large", REST),
    web.HTTPException: Public(400, "http-error", REST),
    routing.IllegalTransition: Public(409, "not-allowed-now", WEBSOCKET),  # e.g. pausing during a call
    routing.UnknownAgent: Public(404, "unknown-agent", BOTH),  # REST: /training/{agent}
    routing.UnknownQueue: Public(404, "unknown-queue", WEBSOCKET),
    routing.UnknownReason: Public(422, "unknown-reason", WEBSOCKET),
    routing.AgentNotReady: Public(409, "agent-not-ready", WEBSOCKET),
    routing.NoOnCall: Public(409, "no-on-call", WEBSOCKET),
    routing.NoWarmPatch: Public(409, "no-warm-patch", WEBSOCKET),  # connect-caller with nobody to connect
    routing.NotInTraining: Public(409, "agent-not-in-training", REST),  # DELETE /training/{agent}
    routing.AgentInTraining: Public(409, "agent-in-training", WEBSOCKET),  # a real caller to a trainee
    routing.TrainingCallKept: Public(409, "training-call-kept", WEBSOCKET),  # a practice caller elsewhere
    routing.RoutingError: Public(409, "routing-refused", WEBSOCKET),
    crm.InvalidPhoneNumber: Public(422, "invalid-phone-number", REST),
    crm.InvalidPhoneKind: Public(422, "invalid-phone-kind", REST),
    crm.InvalidCursor: Public(400, "invalid-cursor", REST),
    crm.InvalidCsvHeader: Public(422, "invalid-csv-header", REST),
    crm.InvalidImportMapping: Public(422, "invalid-import-mapping", REST),
    oncall.InvalidSchedule: Public(422, "invalid-schedule", REST),  # e.g. a rotation without people
    oncall.BusinessNotFound: Public(404, "unknown-business", REST),  # a business with no schedule
    oncall.OverlappingOverrides: Public(409, "overlapping-overrides", REST),
    crm.InvalidInput: Public(422, "invalid-input", BOTH),  # on the websocket: e.g. a case subject
    crm.NotFound: Public(404, "not-found", BOTH),  # on the websocket: a customer, case or call id
    crm.Conflict: Public(409, "conflict", BOTH),  # on the websocket: a case change its lifecycle refuses
    crm.CrmError: Public(500, "internal-error", REST),  # UnsupportedDatabase: our configuration's fault
    Exception: Public(500, "internal-error", BOTH),  # anything else is a fault of ours, never the request's
}
INTERNAL = PUBLIC[Exception]


def public(error: Exception | type[Exception]) -> Public:
    """The entry of ``error``'s class, else of the nearest class along its MRO that has one."""
    kind = error if isinstance(error, type) else type(error)
    return next(PUBLIC[k] for k in kind.__mro__ if k in PUBLIC)


def error_code(error: Exception) -> str:
    return public(error).code


def refusal(error: Exception) -> web.Response:
    """``error`` as every HTTP refusal is sent: ``{"error": code, "message": ...}``, plus ``"field"``
    when one field is to blame; aiohttp's own refusals keep aiohttp's status and reason."""
    found = public(error)
    status, message = found.status, str(error)
    if isinstance(error, web.HTTPException):
        status, message = error.status, error.reason
    body = {"error": found.code, "message": message}
    field = getattr(error, "field", None)
    if field is not None:
        body["field"] = field
    return web.json_response(body, status=status)
