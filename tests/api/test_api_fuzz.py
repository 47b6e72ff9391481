"""A schema-driven fuzz of the customer API (schemathesis, over a real port): whatever a client sends
within or outside the OpenAPI document, no answer is a 5xx, and every answer has its documented shape.

The document is the one the service serves (``agent_console.api.openapi.DOCUMENT``); the app runs on a
SQLite store in a thread of its own, as a client sees it. The number of examples per operation is
bounded so the whole run stays well under a minute.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from agent_console.api.openapi import DOCUMENT
from crm_core.sql.migrate import upgrade_async
from tests.api.conftest import serve

EXAMPLES = 12
AUTH = {"Authorization": "Bearer second-token"}  # serve()'s second token: ASCII, as requests sends headers
schema = schemathesis.openapi.from_dict(DOCUMENT)


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The API's root on a real port, served from a loop in its own thread (schemathesis calls it
    synchronously)."""
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('fuzz') / Path('crm.db')}"
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    def run(coroutine: object) -> object:
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result(30)  # type: ignore[arg-type]

    run(upgrade_async(url))
    served = serve(url)
    api = run(anext(served))
    try:
        yield str(api.client.make_url("/api/v1"))  # type: ignore[attr-defined]
    finally:
        run(anext(served, None))  # runs serve()'s cleanup
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_given_any_request_when_sent_then_no_server_error_and_the_documented_shape(
    case: schemathesis.Case[Any], base_url: str
) -> None:
    case.call_and_validate(
        base_url=base_url, headers=AUTH, checks=[not_a_server_error, response_schema_conformance]
    )
