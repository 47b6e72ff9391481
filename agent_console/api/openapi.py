"""The OpenAPI 3 description of ``/api/v1``, written by hand; a test checks it lists every route."""

from __future__ import annotations

from agent_console.api import deliveries, oncall_openapi, training
from agent_console.api.calls import FILTERS as CALL_FILTERS  # the handler's own list: one truth
from agent_console.api.fields import INT64
from agent_console.api.schemas import DAY, MONEY, NULLABLE_MONEY, RESPONSES, Json
from agent_console.api.schemas import ref as _ref
from crm_core.domain.cases import CaseStatus
from crm_core.domain.overview import MAX_MATCHES
from crm_core.domain.pagination import DEFAULT_PAGE, MAX_PAGE
from crm_core.domain.reports import MAX_DAYS, Grouping
from crm_core.domain.validation import LONG_TEXT, SHORT_TEXT
from routing.records import Outcome


def _json(schema: Json, description: str = "OK") -> Json:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_REFUSALS = ("400", "401", "403", "404", "409", "413", "422")
ERRORS = {code: {"$ref": "#/components/responses/Error"} for code in _REFUSALS}


def _op(
    summary: str, ok: Json, *, body: str | None = None, params: tuple[str, ...] = (), status: str = "200"
) -> Json:
    operation: Json = {"summary": summary, "responses": {status: ok, **ERRORS}}
    if body is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(body)}}}
    if params:
        operation["parameters"] = [{"$ref": f"#/components/parameters/{p}"} for p in params]
    return operation


def _query(name: str, kind: str = "string", description: str = "") -> Json:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": {"type": kind},
        "description": description,
    }


def _repeated(name: str, description: str) -> Json:
    """A parameter that may be given several times (``?map=a&map=b``)."""
    return {**_query(name, description=description), "schema": {"type": "array", "items": {"type": "string"}},
            "style": "form", "explode": True}  # fmt: skip


def _limited(parameter: Json, **rules: object) -> Json:
    """``parameter`` with what the server checks of its value (JSON Schema keywords)."""
    return {**parameter, "schema": {**parameter["schema"], **rules}}


def _path(name: str) -> Json:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


_TEXT = {"type": "string"}
# Text the store strips and refuses when nothing is left (crm_core.domain.validation.text).
_FILLED = {"type": "string", "pattern": r"\S", "maxLength": SHORT_TEXT}
_TIER = {**_FILLED, "maxLength": 100}
_DAY_TEXT: dict[str, object] = {"format": "date", "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}
_INTEGER = {"type": "integer", "minimum": INT64[0], "maximum": INT64[1]}  # Fields.integer
_ID: dict[str, object] = {"minimum": 0, "maximum": 10**18 - 1}  # Query.integer: at most 18 digits
# A cursor is URL-safe base64 without padding (crm_core.domain.pagination); any other text is refused.
CURSOR = r"^[A-Za-z0-9_-]+$"
_NULLABLE = {"type": ["string", "null"]}
_OBJECT = {"type": "object"}

DOCUMENT: Json = {
    "openapi": "3.1.0",
    "info": {"title": "Switchboard customer API", "version": "1"},
    "servers": [{"url": "/api/v1"}],
    "security": [{"bearer": []}, {"session": []}],  # who may call what: docs/access.md
    "paths": {
        "/openapi.json": {"get": _op("This document", _json(_OBJECT))},
        "/customers": {
            "post": _op(
                "Create a customer", _json(_ref("Customer"), "Created"), body="NewCustomer", status="201"
            ),
            "get": _op(
                "Search by name, company or e-mail",
                _json(_ref("CustomerPage")),
                params=("q", "limit", "cursor"),
            ),
        },
        "/customers/import": {
            "post": {
                **_op(
                    "Import customers from CSV (docs/api.md describes the columns and the mapping)",
                    _json(_ref("ImportResult")),
                    params=("map", "value", "default", "dry_run"),
                ),
                "requestBody": {"required": True, "content": {"text/csv": {"schema": _TEXT}}},
            }
        },
        "/customers/by-number/{number}": {
            "parameters": [_path("number")],
            "get": {
                **_op(
                    "The customers a caller number belongs to (several share an office's main line), most"
                    " recently updated first, a page at a time: the page's first one's card, in `matches`"
                    f" the page's owners (`limit`, at most {MAX_MATCHES}, the default), and the next page"
                    " in `next` (a link) and `next_cursor` (pass it as `cursor`), null on the last page",
                    _json(_ref("NumberOwners")),
                ),
                "parameters": [
                    _limited(
                        _query("limit", "integer", "owners per page"),
                        minimum=1,
                        maximum=MAX_MATCHES,
                        default=MAX_MATCHES,
                    ),
                    {"$ref": "#/components/parameters/cursor"},
                ],
            },
        },
        "/customers/{id}": {
            "parameters": [_path("id")],
            "get": _op("Read a customer", _json(_ref("Customer"))),
            "patch": _op(
                "Change a customer (absent fields kept)", _json(_ref("Customer")), body="CustomerChanges"
            ),
            "delete": _op("Delete a customer", {"description": "Deleted"}, status="204"),
        },
        "/customers/{id}/anonymise": {
            "parameters": [_path("id")],
            "post": _op("Erase a customer's personal data, keep the history", _json(_ref("Customer"))),
        },
        "/customers/{id}/overview": {
            "parameters": [_path("id")],
            "get": _op("The customer 360", _json(_ref("Overview"))),
        },
        "/customers/{id}/account": {
            "parameters": [_path("id")],
            "get": _op("Read a customer's account (404 when they have none)", _json(_ref("Account"))),
            "patch": _op(
                "Change the account (absent fields kept); opens one given balance and currency",
                _json(_ref("Account")),
                body="AccountChanges",
            ),
        },
        "/customers/{id}/orders": {
            "parameters": [_path("id")],
            "get": _op(
                "A customer's orders, newest order date first",
                _json(_ref("OrderPage")),
                params=("limit", "cursor"),
            ),
            "post": _op("Add an order", _json(_ref("Order"), "Created"), body="NewOrder", status="201"),
        },
        "/cases": {
            "post": _op("Open a case", _json(_ref("Case"), "Created"), body="NewCase", status="201"),
            "get": _op(
                "List cases",
                _json(_ref("CasePage")),
                params=("customer_id", "status", "owner", "limit", "cursor"),
            ),
        },
        "/cases/{id}": {
            "parameters": [_path("id")],
            "get": _op("Read a case with its history", _json(_ref("Case"))),
            "patch": _op("Change a case", _json(_ref("Case")), body="CaseChanges"),
        },
        "/cases/{id}/comments": {
            "parameters": [_path("id")],
            "post": _op(
                "Comment on a case", _json(_ref("CaseEvent"), "Created"), body="Comment", status="201"
            ),
        },
        "/cases/{id}/close": {
            "parameters": [_path("id")],
            "post": _op("Close a case (optional body {comment})", _json(_ref("Case"))),
        },
        "/calls": {
            "get": _op(
                "Query the call log, newest first",
                _json(_ref("CallPage")),
                params=(*CALL_FILTERS, "limit", "cursor"),
            ),
        },
        "/calls/export.csv": {
            "get": {
                **_op(
                    "The matching calls as CSV, oldest first, streamed",
                    {"description": "CSV"},
                    params=CALL_FILTERS,
                ),
                "responses": {
                    "200": {"description": "CSV", "content": {"text/csv": {"schema": _TEXT}}},
                    **ERRORS,
                },
            }
        },
        "/calls/{id}": {
            "parameters": [_path("id")],
            "patch": _op("Wrap up a call", _json(_ref("Call")), body="WrapUp"),
        },
        "/reports/calls": {
            "get": _op(
                "Call figures for whole days, grouped, with the service-level formula used (docs/figures.md)",
                _json(_ref("CallReport")),
                params=("from", "to", "by"),
            ),
        },
        "/reports/calls.csv": {
            "get": {
                **_op(
                    "The call report as CSV: one line per group, then the total",
                    {"description": "CSV"},
                    params=("from", "to", "by"),
                ),
                "responses": {
                    "200": {"description": "CSV", "content": {"text/csv": {"schema": _TEXT}}},
                    **ERRORS,
                },
            }
        },
        "/reports/agents": {
            "get": _op("Agent figures for whole days", _json(_ref("AgentReport")), params=("from", "to")),
        },
        "/reports/escalations": {
            "get": _op(
                "Escalations for whole days: attempts and their results per business and per person",
                _json(_ref("EscalationReport")),
                params=("from", "to"),
            ),
        },
        **oncall_openapi.PATHS,
        **deliveries.PATHS,
        **training.PATHS,
    },
    "components": {
        "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer"},
            "session": {"type": "apiKey", "in": "cookie", "name": "sb_session"},  # POST /login
        },
        "responses": {"Error": _json(_ref("Error"), "Refused: `error` is a stable code (docs/api.md)")},
        "parameters": {
            "q": _query("q", description="text found in name, company or e-mail"),
            "limit": _limited(
                _query("limit", "integer", "page size"), minimum=1, maximum=MAX_PAGE, default=DEFAULT_PAGE
            ),
            "cursor": _limited(
                _query("cursor", description="next_cursor of the previous page of the same list, as given"),
                pattern=CURSOR,
            ),
            "status": _limited(_query("status"), enum=[s.value for s in CaseStatus]),
            "owner": _query("owner"),
            "since": _limited(
                _query("since", description="with a UTC offset, inclusive (arrival time)"), format="date-time"
            ),
            "until": _limited(
                _query("until", description="with a UTC offset, exclusive"), format="date-time"
            ),
            "outcome": _limited(_query("outcome"), enum=[outcome.value for outcome in Outcome]),
            "after_hours": _query("after_hours", "boolean", "true: only calls that came in after hours"),
            "map": _repeated(
                "map",
                "SOURCE=FIELD[,SOURCE=FIELD...]: the file's column fills the import's "
                "(FIELD - leaves it out)",
            ),
            "value": _repeated("value", "COLUMN:FROM=TO: in the file's column, the value FROM reads as TO"),
            "default": _repeated("default", "FIELD=VALUE: the import's column reads VALUE where empty"),
            "dry_run": _query(
                "dry_run", "boolean", "true: write nothing, list what would become of each line"
            ),
            "customer_id": _limited(_query("customer_id", "integer"), **_ID),
            "from": {
                **_limited(_query("from", description="first day, in the center's time zone"), **_DAY_TEXT),
                "required": True,
            },
            "to": {
                **_limited(
                    _query("to", description=f"last day, inclusive; at most {MAX_DAYS} days from `from`"),
                    **_DAY_TEXT,
                ),
                "required": True,
            },
            "by": _limited(_query("by"), enum=[g.value for g in Grouping], default=Grouping.DAY.value),
            "case_id": _limited(_query("case_id", "integer"), **_ID),
            **{name: _query(name) for name in ("line", "did", "source", "queue", "agent")},
        },
        "schemas": {
            **RESPONSES,
            **oncall_openapi.SCHEMAS,
            **deliveries.SCHEMAS,
            **training.SCHEMAS,
            "AccountChanges": {
                "type": "object",
                "additionalProperties": False,
                "description": "Money as decimal strings; opening an account needs balance and currency",
                "properties": {
                    "balance": MONEY,
                    "currency": {"type": "string", "description": "ISO 4217, any case"},
                    "credit_limit": MONEY,
                    "status": {"enum": ["ok", "overdue", "on-hold"]},
                    "last_payment_on": {**DAY, "type": ["string", "null"]},
                },
            },
            "NewOrder": {
                "type": "object",
                "required": ["ordered_on", "item", "quantity", "amount"],
                "additionalProperties": False,
                "properties": {
                    "ordered_on": DAY,
                    "item": _TEXT,
                    "quantity": {**_INTEGER, "minimum": 1},
                    "amount": MONEY,
                    "special_price": NULLABLE_MONEY,
                },
            },
            "Phone": {
                "type": "object",
                "required": ["number"],
                "properties": {"number": _TEXT, "kind": {"enum": ["mobile", "office", "home", "other"]}},
                "additionalProperties": False,
            },
            "NewCustomer": {
                "type": "object",
                "required": ["name"],
                "additionalProperties": False,
                "properties": {
                    "name": _FILLED,
                    "phones": {"type": "array", "items": _ref("Phone")},
                    "tags": {"type": "array", "items": _TEXT},
                    "tier": _TIER,
                    **{f: _NULLABLE for f in ("company", "email", "language", "notes", "external_id")},
                },
            },
            "CustomerChanges": {
                "type": "object",
                "additionalProperties": False,
                "description": "NewCustomer's fields, all optional; null erases an optional one",
                "properties": {"name": _FILLED, "tier": _TIER, "tags": {"type": "array", "items": _TEXT}},
            },
            "NewCase": {
                "type": "object",
                "required": ["customer_id", "subject"],
                "additionalProperties": False,
                "properties": {
                    "customer_id": _INTEGER,
                    "subject": _FILLED,
                    "description": _TEXT,
                    "priority": {"enum": ["low", "normal", "high", "urgent"]},
                    "owner": _NULLABLE,
                    "due_at": {"type": ["string", "null"], "format": "date-time"},
                    "calls": {"type": "array", "items": _FILLED},
                },
            },
            "CaseChanges": _OBJECT,
            "Comment": {
                "type": "object",
                "required": ["text"],
                "properties": {"text": {**_FILLED, "maxLength": LONG_TEXT}},
            },
            "WrapUp": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "disposition": _NULLABLE,
                    "agent_notes": _NULLABLE,
                    "case_id": {**_INTEGER, "type": ["integer", "null"]},
                },
            },
        },
    },
}
