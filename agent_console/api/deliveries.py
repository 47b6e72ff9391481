"""``GET /messages/{id}/deliveries``: how a taken message is being delivered (one item per recipient, its
status, attempts, what the far end said, and each status it went through). A message is the case it was
filed as; one with no deliveries (its line has no delivery rules, or no such case) has an empty list.
Also the OpenAPI paths and schemas of it, merged into ``api.openapi.DOCUMENT``."""

from __future__ import annotations

from collections.abc import Sequence

from aiohttp import web

from agent_console.api.context import store
from agent_console.api.errors import NoSuchRecord
from agent_console.api.schemas import INSTANT, INTEGER, NULLABLE, TEXT, Json, array, closed, ref
from crm_core.domain.deliveries import Channel, Delivery, DeliveryChange, DeliveryStatus


def _id(request: web.Request) -> int:
    raw = request.match_info["id"]
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise NoSuchRecord(f"no message with id {raw[:40]!r}")
    return int(raw)


async def message_deliveries(request: web.Request) -> web.Response:
    reads = store(request).deliveries
    found = await reads.of_message(_id(request))
    return web.json_response({"items": [view(d, await reads.history(d.id)) for d in found]})


def view(delivery: Delivery, history: Sequence[DeliveryChange]) -> dict[str, object]:
    return {
        "id": delivery.id, "message_id": delivery.message_id, "business": delivery.business,
        "channel": delivery.channel.value, "recipient": delivery.recipient, "status": delivery.status.value,
        "attempts": delivery.attempts, "next_attempt_at": delivery.next_attempt_at.isoformat(),
        "last_error": delivery.last_error, "answer": delivery.answer,
        "created_at": delivery.created_at.isoformat(), "updated_at": delivery.updated_at.isoformat(),
        "history": [{"status": c.status.value, "at": c.at.isoformat(), "detail": c.detail} for c in history],
    }  # fmt: skip


ROUTES = (("GET", "/messages/{id}/deliveries", message_deliveries),)

STATUS: Json = {"enum": [s.value for s in DeliveryStatus]}
ERROR = {"$ref": "#/components/responses/Error"}
PATHS: Json = {
    "/messages/{id}/deliveries": {
        "parameters": [
            {
                "name": "id",
                "in": "path",
                "required": True,
                "schema": INTEGER,
                "description": "the case the message was filed as",
            }
        ],
        "get": {
            "summary": "How a taken message is being delivered: each recipient's status and history",
            "responses": {
                "200": {"description": "OK", "content": {"application/json": {"schema": ref("Deliveries")}}},
                **{code: ERROR for code in ("401", "403", "404")},
            },
        },
    },
}
SCHEMAS: Json = {
    "DeliveryChange": closed({"status": STATUS, "at": INSTANT, "detail": TEXT}),
    "Delivery": closed(
        {
            "id": INTEGER,
            "message_id": INTEGER,
            "business": TEXT,
            "channel": {"enum": [c.value for c in Channel]},
            "recipient": TEXT,
            "status": STATUS,
            "attempts": INTEGER,
            "next_attempt_at": INSTANT,
            "last_error": NULLABLE,
            "answer": NULLABLE,
            "created_at": INSTANT,
            "updated_at": INSTANT,
            "history": array(ref("DeliveryChange")),
        }
    ),
    "Deliveries": closed({"items": array(ref("Delivery"))}),
}
