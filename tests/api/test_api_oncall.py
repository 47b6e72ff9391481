"""``/api/v1/oncall/{business}/...`` on SQLite and PostgreSQL: people, schedule, overrides, who is on call,
gaps, and the audit naming who changed what; every response checked against its OpenAPI schema."""

from __future__ import annotations

import re
from typing import Any

import pytest

from agent_console.api.openapi import DOCUMENT
from tests.api.conftest import Api
from tests.api.test_api_openapi_schemas import validate

PASSWORD = "correct horse battery"
SMITH = "/oncall/smith"
DAILY = {"cadence": "daily", "people": [1], "starts_on": "2026-01-01"}


class Checked:
    """Calls the API and validates each answer against the schema documented for its path and status."""

    def __init__(self, api: Api) -> None:
        self.api = api

    async def __call__(self, method: str, template: str, body: Any = None, **ids: object) -> tuple[int, Any]:
        path = template.format(**ids)
        status, got = await self.api.call(method, path, body)
        operation = DOCUMENT["paths"][documented_path(path)][method.lower()]
        response = operation["responses"][str(status)]
        if "content" in response or "$ref" in response:
            if "$ref" in response:
                response = DOCUMENT["components"]["responses"]["Error"]
            validate(DOCUMENT, response["content"]["application/json"]["schema"], got)
        return status, got


def documented_path(path: str) -> str:
    """The OpenAPI path template that ``path`` (with its query) is an instance of."""
    bare = path.partition("?")[0]
    found: list[str] = [t for t in DOCUMENT["paths"] if re.fullmatch(re.sub(r"\{\w+\}", "[^/]+", t), bare)]
    assert len(found) == 1, (path, found)
    return found[0]


@pytest.fixture
def call(api: Api) -> Checked:
    return Checked(api)


async def staffed(call: Checked) -> tuple[dict[str, Any], dict[str, Any]]:
    """Smith's office in New York: Dr. Jones and Dr. Lee taking weekly turns from Monday 2 March 2026."""
    assert (await call("PUT", SMITH + "/schedule", {"timezone": "America/New_York"}))[0] == 200
    status, jones = await call(
        "POST",
        SMITH + "/people",
        {"name": "Dr. Jones", "patch": "warm", "contacts": [{"kind": "mobile", "value": "(415) 555-0123"}]},
    )
    assert status == 201
    lee = (await call("POST", SMITH + "/people", {"name": "Dr. Lee", "patch": "cold"}))[1]
    rotation = {"cadence": "weekly", "people": [jones["id"], lee["id"]], "starts_on": "2026-03-02"}
    assert (await call("PUT", SMITH + "/rotations/primary", rotation))[0] == 200
    return jones, lee


async def test_given_a_staffed_schedule_then_who_is_on_call_follows_rotation_and_override(
    call: Checked,
) -> None:
    jones, lee = await staffed(call)
    assert jones["contacts"] == [{"kind": "mobile", "value": "+14155550123"}]
    night = {"tier": "primary", "person": lee["id"], "starts_at": "2026-03-06T18:00:00-05:00",
             "ends_at": "2026-03-07T08:00:00-05:00", "reason": "Dr. Lee covers Friday night"}  # fmt: skip
    status, override = await call("POST", SMITH + "/overrides", night)
    assert status == 201

    status, before = await call("GET", SMITH + "/on-call?at=2026-03-06T17:59:00-05:00")
    assert status == 200
    assert [(t["tier"], t["person"]["name"], t["override"]) for t in before["tiers"]] == [
        ("primary", "Dr. Jones", None)
    ]
    during = (await call("GET", SMITH + "/on-call?at=2026-03-06T23:30:00%2B00:00"))[1]
    assert [(t["person"]["id"], t["override"]) for t in during["tiers"]] == [(lee["id"], override["id"])]
    status, schedule = await call("GET", SMITH + "/schedule")
    assert schedule["rotations"][0]["handoff"] == "09:00" and schedule["overrides"] == [override]


async def test_given_now_then_the_answer_is_for_the_present(call: Checked) -> None:
    jones, _ = await staffed(call)
    await call(
        "PUT",
        SMITH + "/rotations/primary",
        {"cadence": "daily", "people": [jones["id"]], "starts_on": "2026-01-01"},
    )
    status, now = await call("GET", SMITH + "/on-call")
    assert status == 200 and [t["person"]["id"] for t in now["tiers"]] == [jones["id"]]


async def test_given_overlapping_overrides_then_409_naming_both_and_nothing_written(
    call: Checked, api: Api
) -> None:
    jones, lee = await staffed(call)
    first = {"tier": "primary", "person": lee["id"], "starts_at": "2026-03-06T18:00:00-05:00",
             "ends_at": "2026-03-07T08:00:00-05:00"}  # fmt: skip
    created = (await call("POST", SMITH + "/overrides", first))[1]
    before = await api.row_counts()
    clash = {
        **first,
        "person": jones["id"],
        "starts_at": "2026-03-07T07:00:00-05:00",
        "ends_at": "2026-03-07T09:00:00-05:00",
    }
    status, refused = await call("POST", SMITH + "/overrides", clash)
    assert (status, refused["error"]) == (409, "overlapping-overrides")
    assert f"overlap: {created['id']} (2026-03-06T23:00:00+00:00" in refused["message"]
    assert await api.row_counts() == before
    touching = {**clash, "starts_at": "2026-03-07T08:00:00-05:00"}
    assert (await call("POST", SMITH + "/overrides", touching))[0] == 201


async def test_given_a_gap_then_it_is_listed_as_a_warning_in_the_business_s_time(call: Checked) -> None:
    jones, lee = await staffed(call)
    await call("DELETE", SMITH + "/rotations/primary")
    for person, start, end in (
        (jones, "2026-12-11T18:00:00-05:00", "2026-12-12T02:00:00-05:00"),
        (lee, "2026-12-12T06:00:00-05:00", "2026-12-14T09:00:00-05:00"),
    ):
        body = {"tier": "primary", "person": person["id"], "starts_at": start, "ends_at": end}
        assert (await call("POST", SMITH + "/overrides", body))[0] == 201
    status, found = await call("GET", SMITH + "/gaps?from=2026-12-11T18:00:00-05:00&days=2")
    assert status == 200
    assert [g["warning"] for g in found["gaps"]] == [
        "nobody on call (primary) Saturday 2026-12-12 02:00-06:00"
    ]
    assert (await call("GET", SMITH + "/gaps?days=0"))[1]["error"] == "invalid-input"


async def test_given_changes_then_each_is_audited_with_the_token_or_user_that_made_it(
    call: Checked, api: Api
) -> None:
    jones, _ = await staffed(call)
    status, changed = await call("PATCH", SMITH + "/people/{id}", {"patch": "message-only"}, id=jones["id"])
    assert status == 200 and (changed["name"], changed["patch"]) == ("Dr. Jones", "message-only")
    await api.store.users.add("sue", PASSWORD, "supervisor")
    client = api.client
    async with client.post("/login", json={"username": "sue", "password": PASSWORD}) as r:
        assert r.status == 200
    origin = {"Origin": str(client.make_url("/")).rstrip("/")}
    async with client.put(
        "/api/v1/oncall/smith/schedule", json={"timezone": "America/Chicago"}, headers=origin
    ) as r:
        assert r.status == 200
    status, audit = await call("GET", SMITH + "/changes")
    assert [(c["who"], c["action"]) for c in audit["items"]] == [
        ("sue", "schedule.set"),
        ("api-token-1", "person.changed"),
        ("api-token-1", "rotation.set"),
        ("api-token-1", "person.created"),
        ("api-token-1", "person.created"),
        ("api-token-1", "schedule.set"),
    ]


async def test_given_an_override_changed_and_removed_then_the_schedule_follows(call: Checked) -> None:
    jones, lee = await staffed(call)
    body = {
        "tier": "backup",
        "person": lee["id"],
        "starts_at": "2026-03-06T18:00:00-05:00",
        "ends_at": "2026-03-07T08:00:00-05:00",
    }
    created = (await call("POST", SMITH + "/overrides", body))[1]
    status, moved = await call(
        "PATCH", SMITH + "/overrides/{id}", {"person": jones["id"], "reason": "swap"}, id=created["id"]
    )
    assert status == 200 and (moved["person"], moved["reason"], moved["tier"]) == (
        jones["id"],
        "swap",
        "backup",
    )
    assert (await call("DELETE", SMITH + "/overrides/{id}", id=created["id"]))[0] == 204
    assert (await call("GET", SMITH + "/schedule"))[1]["overrides"] == []
    assert (await call("DELETE", SMITH + "/overrides/{id}", id=created["id"]))[1]["error"] == "not-found"


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code", "field"),
    [
        ("GET", "/oncall/nobody/schedule", None, 404, "unknown-business", None),
        ("GET", "/oncall/nobody/on-call", None, 404, "unknown-business", None),
        ("PUT", SMITH + "/schedule", {"timezone": "Mars/Olympus"}, 422, "invalid-schedule", "timezone"),
        ("PUT", SMITH + "/rotations/primary", {**DAILY, "people": []}, 422, "invalid-schedule", "people"),
        ("PUT", SMITH + "/rotations/primary", {**DAILY, "cadence": "hour"}, 422, "invalid-input", "cadence"),
        ("PUT", SMITH + "/rotations/chief", DAILY, 422, "invalid-input", "tier"),
        ("PUT", SMITH + "/rotations/primary", {**DAILY, "people": [999]}, 404, "not-found", None),
        ("PUT", SMITH + "/rotations/primary", {**DAILY, "handoff": "9am"}, 422, "invalid-input", "handoff"),
        ("POST", SMITH + "/people", {"name": "X", "contacts": [{"kind": "phone", "value": "12"}]}, 422,
         "invalid-phone-number", "contacts"),
        ("POST", SMITH + "/people", {"name": "X", "pager": "1"}, 422, "invalid-input", "pager"),
        ("POST", SMITH + "/overrides", {"tier": "primary", "person": 1, "starts_at": "2026-03-07T08:00:00Z",
         "ends_at": "2026-03-07T08:00:00Z"}, 422, "invalid-schedule", "ends_at"),
        ("POST", SMITH + "/overrides", {"tier": "primary", "person": 1, "starts_at": "2026-03-07T08:00:00",
         "ends_at": "2026-03-07T09:00:00Z"}, 422, "invalid-input", "starts_at"),
    ],
)  # fmt: skip
async def test_given_bad_input_then_a_clear_refusal_and_nothing_written(
    call: Checked, api: Api, method: str, path: str, body: Any, status: int, code: str, field: str | None
) -> None:
    assert (await call("PUT", SMITH + "/schedule", {"timezone": "America/New_York"}))[0] == 200
    before = await api.row_counts()
    got_status, got = await call(method, path, body)
    assert (got_status, got["error"], got.get("field")) == (status, code, field)
    assert await api.row_counts() == before
