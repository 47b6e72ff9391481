"""The JSON Schemas of the API's response bodies, for the OpenAPI document's ``components.schemas``.

Each mirrors one function of ``views``; a test validates real responses against them, so a field added
to a view without its schema (or the other way round) fails. Response objects are closed
(``additionalProperties: false``) for that reason.
"""

from __future__ import annotations

from typing import Any

from crm_core.domain.customers import RowOutcome
from routing.records import EndReason, Outcome

Json = dict[str, Any]

TEXT: Json = {"type": "string"}
NULLABLE: Json = {"type": ["string", "null"]}
INTEGER: Json = {"type": "integer"}
NULLABLE_INTEGER: Json = {"type": ["integer", "null"]}
INSTANT: Json = {"type": "string", "format": "date-time"}
NULLABLE_INSTANT: Json = {"type": ["string", "null"], "format": "date-time"}
DAY: Json = {"type": "string", "format": "date"}
MONEY: Json = {"type": "string", "pattern": r"^-?[0-9]+\.[0-9]{2}$", "description": "decimal, 2 places"}
NULLABLE_MONEY: Json = {**MONEY, "type": ["string", "null"]}
SECONDS: Json = {"type": "number", "minimum": 0}
SOME: Json = {"type": "integer", "minimum": 1}  # a count that is there only when not 0
NULLABLE_SECONDS: Json = {"type": ["number", "null"], "minimum": 0}
SHARE: Json = {
    "type": ["number", "null"],
    "minimum": 0,
    "maximum": 1,
    "description": "0 to 1; null: undefined",
}
COUNT: Json = {"type": "integer", "minimum": 0}
TALLY: Json = {"attempts": COUNT, "calls": COUNT, "accepted": COUNT,
               "results": {"type": "object", "additionalProperties": COUNT}}  # fmt: skip


def ref(name: str) -> Json:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(name: str) -> Json:
    return {"oneOf": [ref(name), {"type": "null"}]}


def array(item: Json) -> Json:
    return {"type": "array", "items": item}


def closed(properties: Json, *, optional: tuple[str, ...] = ()) -> Json:
    """An object with exactly these properties (all required but ``optional``)."""
    return {
        "type": "object",
        "required": [name for name in properties if name not in optional],
        "properties": properties,
        "additionalProperties": False,
    }


def page(item: str) -> Json:
    return closed({"items": array(ref(item)), "next_cursor": NULLABLE})


PHONES = array(ref("Phone"))
CASE_STATUS: Json = {"enum": ["open", "pending", "escalated", "closed"]}
PRIORITY: Json = {"enum": ["low", "normal", "high", "urgent"]}
ACCOUNT_STATUS: Json = {"enum": ["ok", "overdue", "on-hold"]}

RESPONSES: Json = {
    "Customer": closed(
        {
            "id": INTEGER, "name": TEXT, "company": NULLABLE, "email": NULLABLE, "language": NULLABLE,
            "tier": TEXT, "tags": array(TEXT), "notes": NULLABLE, "external_id": NULLABLE,
            "phones": PHONES, "created_at": INSTANT, "updated_at": INSTANT,
            "anonymised_at": NULLABLE_INSTANT,
        }
    ),
    "CustomerPage": page("Customer"),
    "CustomerCard": closed(
        {
            "id": INTEGER, "name": TEXT, "company": NULLABLE, "email": NULLABLE, "tier": TEXT,
            "language": NULLABLE, "phones": PHONES, "account": nullable("Account"),
        }
    ),
    # GET /customers/by-number: the page's first owner's card, the page's owners (a number several share),
    # and the next page (its cursor, and the link with it), null on the last
    "NumberOwners": closed(
        {
            "id": INTEGER, "name": TEXT, "company": NULLABLE, "email": NULLABLE, "tier": TEXT,
            "language": NULLABLE, "phones": PHONES, "account": nullable("Account"),
            "matches": array(ref("CustomerCard")), "next_cursor": NULLABLE, "next": NULLABLE,
        }
    ),
    "Account": closed(
        {
            "balance": MONEY, "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
            "credit_limit": MONEY, "status": ACCOUNT_STATUS,
            "last_payment_on": {"type": ["string", "null"], "format": "date"},
            "on_credit_hold": {"type": "boolean"},
        }
    ),
    "Order": closed(
        {
            "id": INTEGER, "customer_id": INTEGER, "ordered_on": DAY, "item": TEXT,
            "quantity": {"type": "integer", "minimum": 1}, "amount": MONEY,
            "special_price": NULLABLE_MONEY, "created_at": INSTANT,
        }
    ),
    "OrderPage": page("Order"),
    "Case": closed(
        {
            "id": INTEGER, "customer_id": INTEGER, "subject": TEXT, "description": TEXT,
            "status": CASE_STATUS, "priority": PRIORITY, "owner": NULLABLE, "due_at": NULLABLE_INSTANT,
            "created_at": INSTANT, "updated_at": INSTANT, "closed_at": NULLABLE_INSTANT,
            "calls": array(TEXT), "history": array(ref("CaseEvent")),
        },
        optional=("history",),  # only reading one case returns its history
    ),
    "CasePage": page("Case"),
    "CaseEvent": closed(
        {
            "id": INTEGER, "case_id": INTEGER, "at": INSTANT, "author": NULLABLE,
            "kind": {"enum": ["opened", "changed", "commented", "call-linked"]},
            "changes": array(closed({"field": TEXT, "old": NULLABLE, "new": NULLABLE})),
            "comment": NULLABLE,
        }
    ),
    "Call": closed(
        {
            "call_id": TEXT, "did": TEXT, "source": NULLABLE, "line": NULLABLE, "line_name": NULLABLE,
            "queue": NULLABLE, "caller_number": NULLABLE, "caller_name": NULLABLE, "agent": NULLABLE,
            "arrived_at": INSTANT, "answered_at": NULLABLE_INSTANT, "ended_at": INSTANT,
            "outcome": {"enum": [outcome.value for outcome in Outcome]},
            "hung_up_by": {"enum": ["caller", "agent", "system"]},
            "offers": {"type": "integer", "minimum": 0}, "wait_s": SECONDS, "talk_s": SECONDS,
            "customer_id": NULLABLE_INTEGER, "disposition": NULLABLE, "agent_notes": NULLABLE,
            "case_id": NULLABLE_INTEGER, "priority": INTEGER, "after_hours": {"type": "boolean"},
            "on_call": NULLABLE, "recording": NULLABLE, "callback_of": NULLABLE, "part_of": NULLABLE,
            "end_reason": {"enum": [*(reason.value for reason in EndReason), None]},
            "escalation_attempts": array(ref("EscalationAttempt")),
            "escalation_results": {"type": "object", "additionalProperties": SOME},
        },
        optional=("escalation_attempts", "escalation_results"),  # in the call log's list (GET /calls)
    ),
    "EscalationAttempt": closed(
        {
            "person": TEXT, "number": TEXT, "round": {"type": "integer", "minimum": 1},
            "step": {"type": "integer", "minimum": 1}, "started_at": INSTANT, "ended_at": INSTANT,
            "result": TEXT,
        }
    ),
    "CallPage": page("Call"),
    "Overview": closed(
        {
            "customer": ref("Customer"), "account": nullable("Account"),
            "recent_calls": array(ref("Call")), "open_cases": array(ref("Case")),
            "recent_orders": array(ref("Order")),
        }
    ),
    "ImportResult": closed(
        {
            "summary": closed(
                {name: {"type": "integer", "minimum": 0}
                 for name in ("lines", "inserted", "updated", "unchanged", "rejected")}
            ),
            "rejected": array(closed({"line": INTEGER, "field": NULLABLE, "reason": TEXT})),
            "rejected_truncated": {"type": "boolean"},
            "dry_run": {"type": "boolean"},
            # On a dry run only: what would become of each line not rejected, in file order.
            "lines": array(closed({"line": INTEGER, "outcome": {"enum": [o.value for o in RowOutcome]}})),
            "lines_truncated": {"type": "boolean"},
        },
        optional=("lines", "lines_truncated"),
    ),
    "ServiceTargetUsed": closed(
        {
            "formula": {"enum": ["answered", "offered", "late-abandons", "within-both"]},
            "answer_within_s": SECONDS, "goal": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
            "short_abandon_s": SECONDS,
        }
    ),
    "CallFigures": closed(
        {
            "group": {"type": ["string", "null"], "description": "null on the total"},
            **{name: COUNT for name in (
                "entered", "offered", "short_abandons", "answered", "answered_within", "abandoned",
                "abandoned_within", "callbacks_chosen", "voicemail", "no_agent", "callbacks_placed")},
            "service_level": SHARE, "asa_s": NULLABLE_SECONDS, "aht_s": NULLABLE_SECONDS,
            "abandonment_rate": SHARE, "longest_wait_s": SECONDS, "target": ref("ServiceTargetUsed"),
        }
    ),
    "CallReport": closed(
        {
            "from": DAY, "to": DAY, "by": {"enum": ["day", "hour", "queue", "line", "source"]},
            "formula": closed(
                {
                    "formula": {"enum": ["answered", "offered", "late-abandons", "within-both"]},
                    "answer_within_s": SECONDS, "goal": {"type": "number"}, "short_abandon_s": SECONDS,
                    "zone": TEXT,
                    "applies_to": {"enum": ["every row", "total and queues without their own target"]},
                    "label": TEXT,
                }
            ),
            "rows": array(ref("CallFigures")), "total": ref("CallFigures"),
        }
    ),
    "AgentFigures": closed(
        {
            "agent": TEXT, "handled": COUNT, "talk_s": SECONDS, "average_talk_s": NULLABLE_SECONDS,
            "average_wrap_up_s": NULLABLE_SECONDS, "occupancy": {"type": ["number", "null"], "minimum": 0},
            "rings_unanswered": COUNT,
            "seconds_in": {"type": "object", "additionalProperties": SECONDS},
            "not_ready_by_reason": {"type": "object", "additionalProperties": SECONDS},
        }
    ),
    "AgentReport": closed({"from": DAY, "to": DAY, "zone": TEXT, "agents": array(ref("AgentFigures"))}),
    "EscalationTally": closed(TALLY),
    "EscalationReport": closed({
        "from": DAY, "to": DAY, "zone": TEXT, "total": ref("EscalationTally"),
        "lines": array(closed({"line": TEXT, **TALLY})), "people": array(closed({"person": TEXT, **TALLY})),
    }),
    "Error": closed({"error": TEXT, "message": TEXT, "field": TEXT}, optional=("field",)),
}  # fmt: skip
