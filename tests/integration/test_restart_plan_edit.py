"""A restart after a config edit loses nothing: a real ``switchboard serve`` is SIGKILLed on the real
Asterisk with a caller talking to an agent and two callers waiting, an agent and a queue are added to its
config, and it is started again on the same store.

The restart rebinds the kept books to the edited plan (switchboard/journal.py, routing/rebind.py): the
conversation stays bridged, the waiting callers keep their place and their wait, and the new agent signs
in and takes the first of them. ``tests/integration/restart/harness.py`` runs the process;
``test_restart_kill.py`` has the fixtures and helpers shared with these tests.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from pathlib import Path

import aiohttp
import pytest

from telephony.ari_client import AriClient
from tests.integration import test_restart_kill as kill
from tests.integration.conftest import phone, wait_until_async
from tests.integration.restart.harness import Served
from tests.integration.test_restart_kill import _bridged, _nothing_left, journalled, logged, ours, place_call

ari, served = kill.ari, kill.served  # the fixtures: the probe's ARI client, the services to stop after

pytestmark = pytest.mark.timeout(120)

# Added to the config while the service is down: a queue nobody's line uses yet, and its agent.
NEW_QUEUE = f"""
[queues.q9]
name = "Added queue"
[agents.b9]
name = "b9"
endpoint = "{phone("104")}"
queues = ["q9"]
"""


async def test_given_calls_under_way_when_an_agent_and_a_queue_are_added_between_runs_then_nothing_is_lost(
    tmp_path: Path, ari: AriClient, served: list[Served]
) -> None:
    service = Served(tmp_path, {"a1": phone("101")}, wrap_up_s=0)
    served.append(service)
    service.write_config()
    await service.start()
    service.add_agent_user("a1")
    async with aiohttp.ClientSession() as http:
        agent = await service.console(http, "a1")
        talking = await place_call(ari, service, "+14155550141")
        offer = await agent.expect("offer", call=talking)
        await agent.expect("call-connected", call=talking)
        await journalled(service, "OfferAnswered", 1)
        first_at = time.time()
        first = await place_call(ari, service, "+14155550142")
        await asyncio.sleep(0.3)
        second = await place_call(ari, service, "+14155550143")
        await journalled(service, "CallArrived", 3)
        await wait_until_async(lambda: _bridged(ari, talking, {talking, offer["offer"]}), what="the bridge")
    service.kill()
    service.agents["a3"] = phone("102")  # a new agent of queue q, on a phone that answers
    service.extra = NEW_QUEUE
    service.write_config()
    await asyncio.sleep(0.5)
    await service.start()
    restarted_at = time.time()
    log = service.log()
    assert "journal.plan-edited" in log and "journal.not-restored" not in log, log
    await asyncio.sleep(1.5)  # what the restart did (before the rebind: the agent's leg hung up here)
    assert await _bridged(ari, talking, {talking, offer["offer"]})  # still talking to each other
    channels, _ = await ours(ari, service)
    assert {first, second} <= channels  # both still waiting in the app

    service.add_agent_users("a3", "b9")
    async with aiohttp.ClientSession() as http:
        a1 = await service.console(http, "a1", ready=False)
        snapshot = a1.seen[-1]
        assert snapshot["state"] == "on-call" and snapshot["call"]["offer"]["call"] == talking
        newcomer = await service.console(http, "a3")
        taken = await newcomer.expect("offer", timeout=15)
        assert taken["call"] == first  # the first in line is still first
        await newcomer.expect("call-connected", call=first)
        b9 = await service.console(http, "b9")  # the added queue's agent signs in, ready, idle
        assert b9.seen[-1]["state"] == "ready"
        await ari.hangup(first.removesuffix(";2"))
        await newcomer.expect("call-ended", call=first)
        then = await newcomer.expect("offer", call=second, timeout=15)  # a3 is ready again: the second
        await newcomer.expect("call-connected", call=second)
        assert then["call"] == second
        for call in (talking, second):
            await ari.hangup(call.removesuffix(";2"))
    row = await logged(service, first)
    assert (row["outcome"], row["agent"]) == ("answered", "a3")
    # Its wait counts from its first arrival, across the restart.
    assert abs(datetime.fromisoformat(row["arrived"]).timestamp() - first_at) < 0.5
    assert row["wait_s"] >= restarted_at - first_at
    talked = await logged(service, talking)
    assert (talked["outcome"], talked["agent"]) == ("answered", "a1")
    assert (await logged(service, second))["agent"] == "a3"
    assert sorted(r["call"] for r in service.calls()) == sorted([talking, first, second])  # once each
    await wait_until_async(lambda: _nothing_left(ari, service), what="no channel or bridge left")
    service.stop()


async def test_given_an_agent_on_a_call_when_removed_from_the_config_between_runs_then_the_call_goes_on(
    tmp_path: Path, ari: AriClient, served: list[Served]
) -> None:
    """a1 talks to a caller, a2 is paused with a caller waiting; a1 is taken out of the config."""
    service = Served(tmp_path, {"a1": phone("101"), "a2": phone("102")}, wrap_up_s=0)
    served.append(service)
    service.write_config()
    await service.start()
    service.add_agent_users("a1", "a2")
    async with aiohttp.ClientSession() as http:
        a1 = await service.console(http, "a1")
        await service.console(http, "a2", ready=False)
        talking = await place_call(ari, service, "+14155550151")
        offer = await a1.expect("offer", call=talking)
        await a1.expect("call-connected", call=talking)
        waiting = await place_call(ari, service, "+14155550152")
        await journalled(service, "CallArrived", 2)
        await wait_until_async(lambda: _bridged(ari, talking, {talking, offer["offer"]}), what="the bridge")
    service.kill()
    del service.agents["a1"]
    service.write_config()
    await service.start()
    log = service.log()
    assert "journal.plan-edited" in log and "leaving=['a1']" in log, log
    await asyncio.sleep(1.5)
    assert await _bridged(ari, talking, {talking, offer["offer"]})  # the conversation goes on
    async with aiohttp.ClientSession() as http:
        a2 = await service.console(http, "a2")
        await a2.expect("offer", call=waiting, timeout=15)
        await a2.expect("call-connected", call=waiting)
        for call in (talking, waiting):
            await ari.hangup(call.removesuffix(";2"))
    row = await logged(service, talking)
    assert (row["outcome"], row["agent"]) == ("answered", "a1")  # logged once, as usual, for a1
    assert (await logged(service, waiting))["agent"] == "a2"
    await wait_until_async(lambda: _nothing_left(ari, service), what="no channel or bridge left")
    service.stop()
