"""The OpenAPI paths and schemas of ``/oncall/{business}/...`` (``api.oncall``), merged into
``api.openapi.DOCUMENT``; the response schemas mirror ``oncall_bodies``' views, and a test validates real
responses against them."""

from __future__ import annotations

from agent_console.api.oncall import DEFAULT_GAP_DAYS, MAX_GAP_DAYS
from agent_console.api.schemas import DAY, INSTANT, INTEGER, TEXT, Json, array, closed, ref

ERROR = {"$ref": "#/components/responses/Error"}
ERRORS = {code: ERROR for code in ("400", "401", "403", "404", "409", "413", "422")}
TIER: Json = {"enum": ["primary", "backup", "manager"]}
PATCH: Json = {"enum": ["warm", "cold", "message-only"]}
CADENCE: Json = {"enum": ["daily", "weekly"]}
HANDOFF: Json = {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$", "description": "HH:MM, local"}


def _bounded(parameter: Json, minimum: int, maximum: int, default: int) -> Json:
    """An integer parameter with the range the handler checks, and what it takes when left out."""
    rules = {"minimum": minimum, "maximum": maximum, "default": default}
    return {**parameter, "schema": {**parameter["schema"], **rules}}


def _param(name: str, where: str = "path", kind: str = "string", description: str = "") -> Json:
    return {
        "name": name,
        "in": where,
        "required": where == "path",
        "schema": {"type": kind},
        "description": description,
    }


def _op(summary: str, ok: str | None, *, body: str | None = None, status: str = "200") -> Json:
    content = (
        {"description": "OK"}
        if ok is None
        else {"description": "OK", "content": {"application/json": {"schema": ref(ok)}}}
    )
    operation: Json = {"summary": summary, "responses": {status: content, **ERRORS}}
    if body is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": ref(body)}}}
    return operation


BUSINESS = _param("business", description="the answering line id")
PATHS: Json = {
    "/oncall/{business}/people": {
        "parameters": [BUSINESS],
        "get": _op("The business's on-call people", "OnCallPeople"),
        "post": _op("Add a person", "OnCallPerson", body="NewOnCallPerson", status="201"),
    },
    "/oncall/{business}/people/{id}": {
        "parameters": [BUSINESS, _param("id")],
        "patch": _op(
            "Change a person; contacts replace the whole list", "OnCallPerson", body="OnCallPersonChanges"
        ),
    },
    "/oncall/{business}/schedule": {
        "parameters": [BUSINESS],
        "get": _op("The schedule: time zone, rotations, overrides", "OnCallSchedule"),
        "put": _op("Create the schedule, or change its time zone", "OnCallSchedule", body="OnCallTimezone"),
    },
    "/oncall/{business}/rotations/{tier}": {
        "parameters": [BUSINESS, {**_param("tier"), "schema": TIER}],
        "put": _op("Set the tier's rotation (replaces any before)", "OnCallSchedule", body="NewRotation"),
        "delete": _op("Remove the tier's rotation", "OnCallSchedule"),
    },
    "/oncall/{business}/overrides": {
        "parameters": [BUSINESS],
        "post": _op(
            "Add an override; one overlapping another of its tier is refused",
            "OnCallOverride",
            body="NewOverride",
            status="201",
        ),
    },
    "/oncall/{business}/overrides/{id}": {
        "parameters": [BUSINESS, _param("id")],
        "patch": _op("Change an override", "OnCallOverride", body="OverrideChanges"),
        "delete": {**_op("Remove an override", None, status="204")},
    },
    "/oncall/{business}/on-call": {
        "parameters": [BUSINESS, _param("at", "query", description="ISO 8601 with offset; default now")],
        "get": _op("Who is on call now or at `at`, per tier in escalation order", "OnCallNow"),
    },
    "/oncall/{business}/gaps": {
        "parameters": [
            BUSINESS,
            _param("from", "query", description="ISO 8601 with offset; default now"),
            _bounded(_param("days", "query", "integer"), 1, MAX_GAP_DAYS, DEFAULT_GAP_DAYS),
        ],
        "get": _op("Stretches with nobody on call in a tier, as warnings", "OnCallGaps"),
    },
    "/oncall/{business}/changes": {
        # crm_core.sql.oncall.MAX_CHANGES (this module does not import the SQL adapter)
        "parameters": [BUSINESS, _bounded(_param("limit", "query", "integer"), 1, 1_000, 100)],
        "get": _op("Every change to the people and schedule, newest first", "OnCallChanges"),
    },
}

CONTACT: Json = closed({"kind": {"enum": ["phone", "mobile", "email"]}, "value": TEXT})
PERSON_FIELDS: Json = {"name": TEXT, "patch": PATCH, "contacts": array(ref("OnCallContact"))}
OVERRIDE_FIELDS: Json = {
    "tier": TIER,
    "person": INTEGER,
    "starts_at": INSTANT,
    "ends_at": INSTANT,
    "reason": TEXT,
}
SCHEMAS: Json = {
    "OnCallContact": CONTACT,
    "NewOnCallPerson": closed(PERSON_FIELDS, optional=("patch", "contacts")),
    "OnCallPersonChanges": closed(PERSON_FIELDS, optional=tuple(PERSON_FIELDS)),
    "OnCallPerson": closed({"id": INTEGER, "business": TEXT, **PERSON_FIELDS}),
    "OnCallPeople": closed({"items": array(ref("OnCallPerson"))}),
    "OnCallTimezone": closed({"timezone": {**TEXT, "description": "IANA, e.g. America/New_York"}}),
    "NewRotation": closed(
        {
            "cadence": CADENCE,
            "people": array(INTEGER),
            "starts_on": DAY,
            "handoff": HANDOFF,
            "ends_on": {**DAY, "type": ["string", "null"]},
        },
        optional=("handoff", "ends_on"),
    ),
    "OnCallRotation": closed(
        {
            "tier": TIER,
            "cadence": CADENCE,
            "people": array(INTEGER),
            "starts_on": DAY,
            "handoff": HANDOFF,
            "ends_on": {**DAY, "type": ["string", "null"]},
        }
    ),
    "NewOverride": closed(OVERRIDE_FIELDS, optional=("reason",)),
    "OverrideChanges": closed(OVERRIDE_FIELDS, optional=tuple(OVERRIDE_FIELDS)),
    "OnCallOverride": closed({"id": INTEGER, **OVERRIDE_FIELDS}),
    "OnCallSchedule": closed(
        {
            "business": TEXT,
            "timezone": TEXT,
            "rotations": array(ref("OnCallRotation")),
            "overrides": array(ref("OnCallOverride")),
        }
    ),
    "OnCallNow": closed(
        {
            "business": TEXT,
            "at": INSTANT,
            "tiers": array(
                closed(
                    {"tier": TIER, "person": ref("OnCallPerson"), "override": {"type": ["integer", "null"]}}
                )
            ),
        }
    ),
    "OnCallGaps": closed(
        {
            "from": INSTANT,
            "until": INSTANT,
            "gaps": array(closed({"tier": TIER, "starts_at": INSTANT, "ends_at": INSTANT, "warning": TEXT})),
        }
    ),
    "OnCallChanges": closed(
        {
            "items": array(
                closed(
                    {
                        "at": INSTANT,
                        "who": TEXT,
                        "action": TEXT,
                        "target": TEXT,
                        "detail": {**TEXT, "description": "the values written, as JSON"},
                    }
                )
            )
        }
    ),
}
