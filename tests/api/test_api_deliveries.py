"""``GET /messages/{id}/deliveries`` on SQLite and PostgreSQL: each recipient's status and history, in
the shape the OpenAPI document says."""

from __future__ import annotations

from agent_console.api.openapi import DOCUMENT
from crm_core.domain.deliveries import (
    Accepted,
    Channel,
    DeliveryStatus,
    NewDelivery,
    Refused,
    RetryPolicy,
    after_attempt,
)
from routing.ids import LineId
from tests.api.conftest import Api
from tests.api.test_api_openapi_schemas import validate

SCHEMA = {"$ref": "#/components/schemas/Deliveries"}


def new(channel: Channel, recipient: str, message_id: int = 12) -> NewDelivery:
    return NewDelivery(message_id=message_id, business=LineId("smith"), channel=channel, recipient=recipient,
                       content={"case_id": message_id, "message": "hi"})  # fmt: skip


async def test_given_a_message_with_deliveries_then_each_with_its_status_and_history(api: Api) -> None:
    mail, sms = await api.store.deliveries.enqueue(
        [new(Channel.EMAIL, "a@example.com"), new(Channel.SMS, "+14155550100")]
    )
    await api.store.deliveries.enqueue([new(Channel.EMAIL, "other@example.com", message_id=13)])
    claim, _ = await api.store.deliveries.claim(lease_s=60, limit=10)
    policy = RetryPolicy(attempts=2)
    await api.store.deliveries.record(
        mail.id, claim, after_attempt(0, Accepted(DeliveryStatus.SENT, "250 ok"), mail.created_at, policy)
    )
    await api.store.deliveries.record(
        sms.id, claim, after_attempt(0, Refused("HTTP 400: bad To", True), sms.created_at, policy)
    )

    status, body = await api.call("GET", "/messages/12/deliveries")

    assert status == 200
    validate(DOCUMENT, SCHEMA, body)
    got = {(d["channel"], d["recipient"], d["status"], d["answer"], d["last_error"]) for d in body["items"]}
    assert got == {
        ("email", "a@example.com", "sent", "250 ok", None),
        ("sms", "+14155550100", "failed", None, "HTTP 400: bad To"),
    }
    assert [c["status"] for c in body["items"][0]["history"]] == ["queued", "sent"]


async def test_given_a_message_without_deliveries_then_an_empty_list(api: Api) -> None:
    assert await api.call("GET", "/messages/99/deliveries") == (200, {"items": []})


async def test_given_an_id_that_is_no_number_then_not_found(api: Api) -> None:
    status, body = await api.call("GET", "/messages/x1/deliveries")
    assert status == 404 and body["error"] == "not-found"


async def test_given_no_token_then_refused(api: Api) -> None:
    async with api.client.get("/api/v1/messages/12/deliveries") as response:
        assert response.status == 401
