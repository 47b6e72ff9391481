"""Every route under /api/v1 needs a bearer token, and the OpenAPI document lists every route."""

from __future__ import annotations

import pytest
from aiohttp import web

from agent_console.api.openapi import DOCUMENT
from agent_console.api.routes import PREFIX, ROUTES
from tests.api.conftest import Api

SAMPLE = {"{id}": "1", "{number}": "4155550123"}


def concrete(path: str) -> str:
    for placeholder, value in SAMPLE.items():
        path = path.replace(placeholder, value)
    return path


@pytest.mark.parametrize(("method", "path"), [(method, path) for method, path, _ in ROUTES])
@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": "Basic dGVzdA=="},
        {"Authorization": "Bearer "},
    ],
    ids=["missing", "wrong-token", "wrong-scheme", "empty"],
)
async def test_given_no_valid_token_when_any_route_is_called_then_401_and_nothing_written(
    sqlite_api: Api, method: str, path: str, headers: dict[str, str]
) -> None:
    before = await sqlite_api.row_counts()
    async with sqlite_api.client.request(
        method, PREFIX + concrete(path), headers=headers, json={"name": "Eve"}
    ) as response:
        assert response.status == 401
        assert (await response.json())["error"] == "unauthorized"
    assert await sqlite_api.row_counts() == before


async def test_given_either_configured_token_when_called_then_accepted(sqlite_api: Api) -> None:
    for token in ("second-token",):
        async with sqlite_api.client.get(
            "/api/v1/customers", headers={"Authorization": f"Bearer {token}"}
        ) as response:
            assert response.status == 200


def test_given_the_route_table_then_every_route_is_in_the_openapi_document() -> None:
    paths = DOCUMENT["paths"]
    for method, path, _ in ROUTES:
        assert path in paths, path
        assert method.lower() in paths[path], (method, path)
    assert "bearer" in DOCUMENT["components"]["securitySchemes"]


async def test_given_the_mounted_app_then_every_registered_api_route_is_documented(sqlite_api: Api) -> None:
    app = sqlite_api.client.app
    assert app is not None
    sub = next(
        resource._app  # aiohttp keeps no public handle on a mounted sub-application
        for resource in app.router.resources()
        if isinstance(resource, web.PrefixedSubAppResource) and resource.canonical == PREFIX
    )
    documented = {(m.upper(), p) for p, ops in DOCUMENT["paths"].items() for m in ops if m != "parameters"}
    registered = {
        (route.method, route.resource.canonical.removeprefix(PREFIX))
        for route in sub.router.routes()
        if route.resource is not None and route.method != "HEAD"
    }
    assert registered and registered <= documented
    assert documented == registered


async def test_given_a_token_when_openapi_is_fetched_then_it_is_served(sqlite_api: Api) -> None:
    status, body = await sqlite_api.call("GET", "/openapi.json")
    assert status == 200 and body["openapi"].startswith("3.")


async def test_given_an_unknown_api_path_when_called_then_json_not_found(sqlite_api: Api) -> None:
    status, body = await sqlite_api.call("GET", "/nothing-here")
    assert status in (401, 404)
    assert isinstance(body, dict) and "error" in body
