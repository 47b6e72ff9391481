"""The customer API's responses carry the console's security headers too (it is a sub-app of the same
server): answers, refusals and the CSV stream, none with a ``Server`` version banner."""

from __future__ import annotations

import pytest

from tests.agent_console.test_console_headers import assert_secured
from tests.api.conftest import AUTH, Api


@pytest.mark.parametrize(
    ("path", "headers", "status"),
    [
        ("/api/v1/customers", AUTH, 200),
        ("/api/v1/openapi.json", AUTH, 200),
        ("/api/v1/calls/export.csv", AUTH, 200),
        ("/api/v1/customers", {}, 401),
        ("/api/v1/customers/404", AUTH, 404),
        ("/api/v1/no-such-route", AUTH, 404),
    ],
)
async def test_given_an_api_request_when_answered_then_security_headers_and_no_server_banner(
    sqlite_api: Api, path: str, headers: dict[str, str], status: int
) -> None:
    async with sqlite_api.client.get(path, headers=headers) as r:
        assert r.status == status
        assert_secured(r.headers)
