"""The protocol's JSON Schemas: served without login, well formed, closed, and able to refuse."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest

from agent_console import contract, messages
from agent_console.protocol import KINDS
from tests.agent_console.harness import Console

SERVER_TYPES = {"hello", "state", "snapshot", "offer", "offer-customer", "offer-withdrawn", "call-connected",
                "call-ended", "call-held", "escalation", "wrap-up-saved", "message-taken", "message-notified",
                "error", "wallboard", "supervision", "message-form", "message-refused",
                "delivery", "training"}  # fmt: skip


def objects(schema: Any) -> Iterator[dict[str, Any]]:
    if isinstance(schema, dict):
        if "properties" in schema or schema.get("type") == "object":
            yield schema
        for value in schema.values():
            yield from objects(value)
    elif isinstance(schema, list):
        for item in schema:
            yield from objects(item)


async def test_given_no_session_when_the_bundle_is_fetched_then_every_schema_of_both_sides(
    console: Console,
) -> None:
    async with console.client.get("/protocol/schemas.json") as r:
        assert r.status == 200
        bundle = await r.json()
    assert bundle["version"] == 2
    assert set(bundle["client"]) == set(KINDS)
    assert set(bundle["server"]) == SERVER_TYPES
    assert bundle == contract.bundle()


@pytest.mark.parametrize("side", ["client", "server"])
def test_every_schema_is_draft_2020_12_closed_and_named_by_its_type(side: str) -> None:
    for kind, schema in contract.bundle()[side].items():
        jsonschema.Draft202012Validator.check_schema(schema)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["properties"]["type"] == {"const": kind}
        closed = [o.get("additionalProperties") is False for o in objects(schema)]
        assert closed and all(closed), kind


@pytest.mark.parametrize(
    "message",
    [
        {"type": "call-held", "call": "c1", "held": "yes", "at": 1.0},
        {"type": "call-held", "call": "c1", "held": True, "at": 1.0, "extra": 1},
        {"type": "call-ended", "call": "c1", "outcome": "answered", "hung_up_by": "caller", "talk_s": 1.0},
        {"type": "message-taken", "call": "c1", "case_id": 1, "urgent": True, "notify": "maybe"},
        {"type": "hello", "version": 1},
        {"type": "supervision", "supervisor": "a2", "agent": "a1", "call": "c1", "mode": "spy", "at": 1.0},
        {"type": "supervision", "supervisor": "a2", "agent": "a1", "call": "c1", "at": 1.0},
        {"type": "no-such-message"},
    ],
)
def test_given_a_server_message_off_the_contract_then_the_check_says_so(message: dict[str, Any]) -> None:
    assert contract.server_problem(message) is not None


@pytest.mark.parametrize(
    ("number", "shown"),
    [
        ("+14155550123", "(415) 555-0123"),
        ("+442079460958", "+44 20 7946 0958"),
        (None, None),
        ("anonymous", "anonymous"),
        ("+1", "+1"),
    ],
)
def test_given_a_caller_number_then_it_is_shown_national_at_home_and_international_abroad(
    number: str | None, shown: str | None
) -> None:
    assert messages.display(number, "US") == shown
