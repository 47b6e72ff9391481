"""Real responses of the app, on SQLite and PostgreSQL, validated against the response schemas of the
OpenAPI document it serves: the documented shape is the shape clients get."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from routing.records import Outcome
from tests.api.conftest import Api, MakeCall

Json = dict[str, Any]


class DocumentedApi:
    """Calls the API by path template and checks each response against the schema documented for it."""

    def __init__(self, api: Api, document: Json) -> None:
        self._api = api
        self.document = document
        self.checked: set[tuple[str, str, int]] = set()

    async def call(self, method: str, template: str, body: Any = None, **kwargs: Any) -> Any:
        path = template.format(**kwargs.pop("ids", {}))
        status, got = await self._api.call(method, path, body, **kwargs)
        validate(self.document, self.schema(method, template, status), got)
        self.checked.add((method, template, status))
        return got

    def schema(self, method: str, template: str, status: int) -> Json:
        operation = self.document["paths"][template.split("?")[0]][method.lower()]
        response = operation["responses"][str(status)]
        if "$ref" in response:
            response = self.document["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
        schema: Json = response["content"]["application/json"]["schema"]
        return schema


def validate(document: Json, schema: Json, instance: Any) -> None:
    # The document's own components resolve the "#/components/..." references.
    rooted = {**schema, "components": document["components"]}
    jsonschema.Draft202012Validator(rooted, format_checker=jsonschema.FormatChecker()).validate(instance)


@pytest.fixture
async def documented(api: Api) -> DocumentedApi:
    status, document = await api.call("GET", "/openapi.json")
    assert status == 200
    jsonschema.Draft202012Validator.check_schema({**document["components"]["schemas"]["Customer"]})
    return DocumentedApi(api, document)


async def test_given_every_kind_of_response_when_served_then_each_matches_its_documented_schema(
    documented: DocumentedApi, record_call: MakeCall
) -> None:
    d = documented
    jane = await d.call("POST", "/customers", {"name": "Jane", "phones": [{"number": "(415) 555-0123"}]})
    ids = {"id": jane["id"]}
    await d.call("GET", "/customers/{id}", ids=ids)
    await d.call("GET", "/customers?q=jane")
    await d.call("PATCH", "/customers/{id}/account", {"balance": "1.50", "currency": "USD"}, ids=ids)
    await d.call("GET", "/customers/{id}/account", ids=ids)
    order = {
        "ordered_on": "2026-01-02",
        "item": "W",
        "quantity": 1,
        "amount": "3.00",
        "special_price": "3.00",
    }
    await d.call("POST", "/customers/{id}/orders", order, ids=ids)
    await d.call("GET", "/customers/{id}/orders?limit=1", ids=ids)
    await d.call("GET", "/customers/by-number/{number}", ids={"number": "+14155550123"})
    call = await record_call(jane["id"])
    await record_call(None, outcome=Outcome.VOICEMAIL, priority=10, after_hours=True, on_call="Dr. Smith",
                      recording="vm-1")  # fmt: skip
    await record_call(None, outcome=Outcome.UNREACHED, callback_of=call.call)
    case = await d.call("POST", "/cases", {"customer_id": jane["id"], "subject": "S", "calls": [call.call]})
    await d.call("PATCH", "/calls/{id}", {"disposition": "sale"}, ids={"id": call.call})
    await d.call("POST", "/cases/{id}/comments", {"text": "noted"}, ids=case)
    await d.call("GET", "/cases/{id}", ids=case)
    await d.call("GET", "/cases?limit=1")
    await d.call("GET", "/calls")
    await d.call("GET", "/customers/{id}/overview", ids=ids)
    await d.call("POST", "/cases/{id}/close", ids=case)
    await d.call("POST", "/customers/import", data=b"name,phones\r\nAl,mobile:12\r\nBo,\r\n",
                 headers={"Content-Type": "text/csv"})  # fmt: skip
    await d.call("POST", "/customers/{id}/anonymise", ids=ids)
    await d.call("GET", "/customers/{id}", ids={"id": 999_999})
    await d.call("POST", "/customers", {"name": 1})
    await d.call("GET", "/calls?cursor=nonsense")

    assert {status for _, _, status in d.checked} == {200, 201, 400, 404, 422}


@pytest.mark.parametrize(
    ("schema", "instance"),
    [
        ("Error", {"error": "not-found"}),
        ("Error", {"error": "not-found", "message": "m", "stack": "..."}),
        ("Account", {"balance": 1.5, "currency": "USD", "credit_limit": "0.00", "status": "ok",
                     "last_payment_on": None, "on_credit_hold": False}),
        ("Order", {"id": 1, "customer_id": 1, "ordered_on": "2026-13-01", "item": "W", "quantity": 1,
                   "amount": "1.00", "special_price": None, "created_at": "2026-01-01T00:00:00+00:00"}),
        ("CustomerPage", {"items": [{"id": 1}], "next_cursor": None}),
    ],
)  # fmt: skip
async def test_given_a_body_unlike_the_documented_schema_when_validated_then_refused(
    documented: DocumentedApi, schema: str, instance: Json
) -> None:
    with pytest.raises(jsonschema.ValidationError):
        validate(documented.document, {"$ref": f"#/components/schemas/{schema}"}, instance)
