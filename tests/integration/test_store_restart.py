"""The store's PostgreSQL stops under a running service (a crash or a restart of the database host), and
comes back: calls go on being routed and answered meanwhile, and every call's row lands in the call log
once the database is back, exactly once. Real Asterisk sandbox, a real ``switchboard serve`` process, a
PostgreSQL server of the test's own (tests/integration/private_postgres.py) stopped with an immediate
shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest

from telephony.ari_client import AriClient
from telephony.errors import TelephonyError
from tests.integration.conftest import phone, wait_until_async
from tests.integration.private_postgres import PrivatePostgres, private_postgres
from tests.integration.restart.harness import DID, Served
from tests.integration.test_restart_kill import ari  # noqa: F401 (the fixture)

pytestmark = [pytest.mark.timeout(150), pytest.mark.postgres]


class OnPostgres(Served):
    server_url: str = ""

    @property
    def database_url(self) -> str:
        return self.server_url


@pytest.fixture
def postgres() -> Iterator[PrivatePostgres]:
    with private_postgres() as server:
        yield server


async def _place(client: AriClient, service: Served, caller: str) -> str:
    channel = f"test-{uuid.uuid4().hex[:12]}"
    endpoint = f"Local/{DID.lstrip('+')}@switchboard-inbound/n"
    await client.originate(
        endpoint, "switchboard-caller", "s", caller, channel, variables={"_SB_APP": service.app}
    )
    service.placed.append(channel)
    return f"{channel};2"


async def _rows(server: PrivatePostgres) -> list[dict[str, Any]]:
    connection = await asyncpg.connect(host="127.0.0.1", port=server.port, user="postgres", database="sb")
    try:
        found = await connection.fetch("SELECT call_id, outcome, agent_id FROM calls")
        return [dict(r) for r in found]
    finally:
        await connection.close()


async def test_given_postgres_restarted_under_calls_then_routing_goes_on_and_each_call_is_logged_once(
    tmp_path: Path,
    ari: AriClient,  # noqa: F811 (the fixture imported above)
    postgres: PrivatePostgres,
) -> None:
    postgres.create_database("sb")
    service = OnPostgres(tmp_path, {"a1": phone("301"), "a2": phone("302")}, wrap_up_s=0)
    service.server_url = postgres.url("sb")
    service.write_config()
    service.cli("migrate")
    await service.start()
    service.add_agent_users("a1", "a2")
    try:
        async with aiohttp.ClientSession() as http:
            consoles = [await service.console(http, a) for a in ("a1", "a2")]
            before = await _place(ari, service, "+14155550121")
            await wait_until_async(
                lambda: _logged(postgres, {before}), timeout=20, what="the first call logged"
            )

            postgres.stop()
            during = [await _place(ari, service, f"+1415555013{n}") for n in range(2)]
            # Routed and answered with the database down: each phone answers, talks 2 s and hangs up.
            for call in during:
                await _offered(consoles, call)
            await asyncio.sleep(3)  # the calls end while the database is still down
            postgres.start()

            landed = "the calls of the outage logged once the database is back"
            await wait_until_async(lambda: _logged(postgres, {before, *during}), timeout=30, what=landed)
            rows = await _rows(postgres)
            mine = [r for r in rows if r["call_id"] in {before, *during}]
            assert sorted(r["call_id"] for r in mine) == sorted({before, *during})  # each exactly once
            assert all(r["outcome"] == "answered" and r["agent_id"] in {"a1", "a2"} for r in mine), mine
            for console in consoles:
                await console.ws.close()
    finally:
        service.stop()
        for channel in await ari.channels():
            if channel["id"] in service.placed or str(channel["id"]).startswith(f"{service.app}"):
                with contextlib.suppress(TelephonyError):
                    await ari.hangup(channel["id"])


async def _logged(server: PrivatePostgres, calls: set[str]) -> bool:
    try:
        rows = await _rows(server)
    except (OSError, asyncpg.PostgresError):
        return False
    return calls <= {r["call_id"] for r in rows}


async def _offered(consoles: list[Any], call: str) -> None:
    """One of the consoles is offered ``call`` (whichever agent is free)."""
    # A console's wait that lost the race for the call before may have read this call's offer already.
    if any(m["type"] == "offer" and m.get("call") == call for c in consoles for m in c.seen):
        return
    waits = [asyncio.create_task(c.expect("offer", timeout=15, call=call)) for c in consoles]
    done, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    if not any(t.exception() is None for t in done):
        for c in consoles:
            print([(m["type"], m.get("call"), m.get("state")) for m in c.seen])
        raise AssertionError(f"no console was offered {call}")
