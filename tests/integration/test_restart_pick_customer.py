"""A customer picked during a call survives a crash: a real ``switchboard serve`` on the real Asterisk,
a caller whose number two customers share (an office's main line), the agent picks one, the process is
SIGKILLed and started again. The console that comes back shows the picked customer (with the others
still on offer), not the list to pick from again, and the call log names the picked customer.

``tests/integration/restart/harness.py`` runs the process; the router journals the pick as an event
(``CustomerNamed``), so the replay after the kill has it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from telephony.ari_client import AriClient
from tests.integration import test_restart_kill as kill
from tests.integration.conftest import Console, wait_until_async
from tests.integration.restart.harness import Served
from tests.integration.test_restart_kill import ari, served  # noqa: F401 (fixtures)

pytestmark = pytest.mark.timeout(120)

MAIN_LINE = "+14155550150"


def add_sharing(service: Served) -> None:
    for name in ("Ben Ortiz", "Ann Park"):
        service.cli("customers", "add", "--name", name, "--phone", MAIN_LINE)


async def popped(agent: Console, call: str) -> dict[str, Any]:
    """The pop as it stands once the caller's lookup is in (it may follow the ring)."""
    offer = await agent.expect("offer", call=call)
    if offer["customer_pending"]:
        found = await agent.expect("offer-customer", call=call)
        offer |= {key: found[key] for key in ("customer", "matches", "more_matches")}
    return offer


def shown(snapshot: dict[str, Any]) -> dict[str, Any]:
    return dict(snapshot["call"]["offer"])


async def test_given_a_customer_picked_when_the_service_is_killed_then_the_pick_is_kept(
    tmp_path: Path,
    ari: AriClient,  # noqa: F811 (the fixture imported above)
    served: list[Served],  # noqa: F811
) -> None:
    service = await kill.one_agent(tmp_path, served)
    add_sharing(service)
    async with aiohttp.ClientSession() as http:
        agent = await service.console(http, "a1")
        call = await kill.place_call(ari, service, MAIN_LINE)
        offer = await popped(agent, call)
        await agent.expect("call-connected", call=call)
        assert offer["customer"] is None and len(offer["matches"]) == 2  # nobody picked yet: the list
        picked = offer["matches"][1]  # not the first (the most recently updated): a real choice
        await agent.send(type="pick-customer", call=call, customer_id=picked["id"])
        chosen = await agent.expect("offer-customer", call=call)
        assert chosen["customer"]["id"] == picked["id"]
        await kill.journalled(service, "CustomerNamed", 1)
    service.kill()
    await asyncio.sleep(0.5)
    await service.start()
    async with aiohttp.ClientSession() as http:
        agent = await service.console(http, "a1", ready=False)
        again = shown(agent.seen[-1])
        if again["customer_pending"]:  # the restored pop went out before the store answered
            found = await agent.expect("offer-customer", call=call)
            again |= {key: found[key] for key in ("customer", "matches")}
        assert again["call"] == call
        assert again["customer"] is not None and again["customer"]["id"] == picked["id"]
        assert [m["id"] for m in again["matches"]] == [m["id"] for m in offer["matches"]]  # may pick again
        await ari.hangup(call.removesuffix(";2"))
    row = await kill.logged(service, call)
    assert (row["customer"], row["agent"], row["outcome"]) == (picked["id"], "a1", "answered")
    await wait_until_async(lambda: kill._nothing_left(ari, service), what="no channel or bridge left")
    service.stop()
