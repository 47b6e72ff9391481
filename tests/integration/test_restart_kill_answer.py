"""A phone picked up while the service was down: after the restart the call is bridged, not rung on.

ARI does not replay the events an app missed, so the restarted service learns of the answer only from
the leg's state in Asterisk's channel list (``telephony.translate.reconcile``); before that, the books
said "ringing" until the ring deadline counted a miss against the agent who had answered.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiohttp
import pytest

from telephony.ari_client import AriClient
from tests.integration.conftest import wait_until_async
from tests.integration.restart.harness import Served
from tests.integration.test_restart_kill import (  # noqa: F401 (fixtures)
    _bridged,
    _nothing_left,
    ari,
    journalled,
    logged,
    one_agent,
    place_call,
    served,
)

pytestmark = pytest.mark.timeout(120)


async def test_given_a_phone_answered_while_the_service_was_down_then_the_call_is_bridged_after_restart(
    tmp_path: Path,
    ari: AriClient,  # noqa: F811 (the fixture imported above)
    served: list[Served],  # noqa: F811
) -> None:
    service = await one_agent(tmp_path, served, "501")  # 5XX: answers 2 s after it starts ringing
    async with aiohttp.ClientSession() as http:
        agent = await service.console(http, "a1")
        call = await place_call(ari, service, "+14155550107")
        offer = await agent.expect("offer", call=call)  # the pop comes with the ring
        await journalled(service, "OfferRinging", 1)  # kept: what a kill this early could lose
    service.kill()
    assert service.journalled("OfferAnswered") == 0  # the answer came after the kill: nobody saw it
    leg = offer["offer"]

    async def answered() -> bool:
        return (await ari.request("GET", f"/channels/{leg}"))["state"] == "Up"

    await wait_until_async(answered, what="the phone picked up while the service was down")
    picked_up_by = time.time()  # the answer came at the latest now
    await asyncio.sleep(1.0)  # down a while longer: the talk time must not start at the restart
    await service.start()
    await wait_until_async(lambda: _bridged(ari, call, {call, leg}), what="caller and agent bridged")
    async with aiohttp.ClientSession() as http:
        agent = await service.console(http, "a1", ready=False)
        snapshot = agent.seen[-1]
        assert snapshot["state"] == "on-call" and snapshot["call"]["offer"]["call"] == call
        hung_up_at = time.time()
        await ari.hangup(call.removesuffix(";2"))
        await agent.expect("call-ended", call=call)
        assert not [m for m in agent.seen if m["type"] == "state" and m.get("state") == "paused"]
    row = await logged(service, call)
    assert (row["outcome"], row["agent"], row["hung_up_by"]) == ("answered", "a1", "caller")
    assert row["talk_s"] >= hung_up_at - picked_up_by - 0.1  # from the real answer (Asterisk's CDR)
    await wait_until_async(lambda: _nothing_left(ari, service), what="no channel or bridge left")
    service.stop()
