"""The API's refusals and the one table mapping ``CrmError`` subclasses to HTTP status and public code.

    ApiError              a refusal decided by the HTTP layer itself (status, code, message, field)

Codes are stable kebab-case strings and part of the public API (docs/api.md lists them):
bad-json, invalid-input, invalid-phone-number, invalid-phone-kind, invalid-cursor, invalid-csv-header,
invalid-encoding, too-large, unauthorized, forbidden, bad-origin, not-found, method-not-allowed, conflict,
internal-error.
"""

from __future__ import annotations

from aiohttp import web

from crm_core.domain import errors as crm

# Most specific first: the first class an error is an instance of decides.
CRM_ERRORS: tuple[tuple[type[crm.CrmError], int, str], ...] = (
    (crm.InvalidPhoneNumber, 422, "invalid-phone-number"),
    (crm.InvalidPhoneKind, 422, "invalid-phone-kind"),
    (crm.InvalidCursor, 400, "invalid-cursor"),
    (crm.InvalidCsvHeader, 422, "invalid-csv-header"),
    (crm.InvalidInput, 422, "invalid-input"),
    (crm.NotFound, 404, "not-found"),
    (crm.Conflict, 409, "conflict"),
    (crm.CrmError, 500, "internal-error"),  # UnsupportedDatabase: our configuration, not the request
)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field


def invalid(field: str, reason: str) -> ApiError:
    return ApiError(422, "invalid-input", f"{field}: {reason}", field)


def from_crm(error: crm.CrmError) -> ApiError:
    status, code = next((s, c) for kind, s, c in CRM_ERRORS if isinstance(error, kind))
    return ApiError(status, code, str(error), getattr(error, "field", None))


def from_http(error: web.HTTPException) -> ApiError:
    """aiohttp's own refusals (no such route, wrong method, body too large) in the API's shape."""
    codes = {404: "not-found", 405: "method-not-allowed", 413: "too-large"}
    return ApiError(error.status, codes.get(error.status, "http-error"), error.reason)


def response(error: ApiError) -> web.Response:
    body: dict[str, object] = {"error": error.code, "message": error.message}
    if error.field is not None:
        body["field"] = error.field
    return web.json_response(body, status=error.status)
