"""A crash in the middle of call control loses nothing: a real ``switchboard serve`` is SIGKILLed on the
real Asterisk while a transfer rings its target, while an escalation rings the on-call chain, and while
a callback waits for an agent, then started again on the same store.

Each test then checks what the restarted process made of it: the caller is served, the call log holds
each call once with its true outcome, wait and talk time, the agents are in the state the call left
them in, and nothing of the test's app is left in Asterisk. ``tests/integration/restart/harness.py``
runs the process; ``test_restart_kill.py`` has the fixtures and the helpers shared with these tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from telephony.ari_client import AriClient
from telephony.errors import TelephonyError
from tests.integration import test_restart_kill as kill
from tests.integration.conftest import Console, phone, wait_until_async
from tests.integration.restart.harness import DID, Served
from tests.integration.test_restart_kill import _bridged, _nothing_left, journalled, ours, place_call

ari, served = kill.ari, kill.served  # the fixtures: the probe's ARI client, the services to stop after

pytestmark = pytest.mark.timeout(120)

# A second queue for transfers: b1's phone rings and never answers (2XX), b2's answers after 300 ms.
# Its ring timeout outlasts a restart, so b1's phone still rings when the service is back.
TRANSFER_TARGET = f"""
[queues.q2]
name = "Second line"
ring_timeout_s = 8
wrap_up_s = 120
[agents.b1]
name = "b1"
endpoint = "{phone("201")}"
queues = ["q2"]
[agents.b2]
name = "b2"
endpoint = "{phone("102")}"
queues = ["q2"]
"""

# The line's on-call chain: Dr. Away's phone rings out (longer than a restart takes), Dr. Home answers
# and accepts with the key 1.
ON_CALL = f"""
[[lines.l.on_call]]
name = "Dr. Away"
endpoint = "{phone("202")}"
ring_timeout_s = 8
[[lines.l.on_call]]
name = "Dr. Home"
endpoint = "{phone("603")}"
ring_timeout_s = 10
"""

# A caller who waits a second is offered a callback (press 1).
CALLBACK_RULE = """
[[queues.q.rules]]
after_s = 1
action = "callback"
"""


async def test_given_a_transfer_ringing_its_target_when_killed_then_the_next_agent_takes_the_caller(
    tmp_path: Path,
    ari: AriClient,
    served: list[Served],
) -> None:
    service = await running(tmp_path, served, {"a1": phone("101")}, TRANSFER_TARGET, "a1", "b1", "b2")
    async with aiohttp.ClientSession() as http:
        a1 = await service.console(http, "a1")
        await service.console(http, "b1")  # ready first: the longest idle of q2, so rung first
        await service.console(http, "b2")
        arrived_at = time.time()
        call = await place_call(ari, service, "+14155550150")
        await a1.expect("call-connected", call=call)
        answered_at = time.time()
        await a1.send(type="transfer", to="queue", target="q2")
        await a1.expect("state", state="wrap-up")
        b1_leg = f"sb-{call}-2"  # the call's second leg: a1's phone was its first
        await wait_until_async(lambda: _ringing(ari, b1_leg), what="b1's phone ringing")
        await journalled_about(service, "OfferRinging", b1_leg)
    service.kill()
    await service.start()
    async with aiohttp.ClientSession() as http:
        b2 = await service.console(http, "b2", ready=False)
        # b1's phone rings out (8 s from the transfer, across the restart): the caller goes to b2.
        b2_leg = await connected(b2, call, timeout=20)
        await wait_until_async(lambda: _bridged(ari, call, {call, b2_leg}), what="caller and b2 bridged")
        channels, _ = await ours(ari, service)
        assert b1_leg not in channels and f"sb-{call}-1" not in channels  # b1's ring and a1's leg ended
        await asyncio.sleep(0.5)
        hung_up_at = time.time()
        await ari.hangup(call.removesuffix(";2"))
        await b2.expect("call-ended", call=call)
    stretch, whole = await logged_row(service, f"{call}~1"), await logged_row(service, call)
    assert (stretch["outcome"], stretch["agent"], stretch["hung_up_by"], stretch["part_of"]) == (
        "transferred", "a1", "agent", call,
    )  # fmt: skip
    assert (whole["outcome"], whole["agent"], whole["queue"], whole["hung_up_by"]) == (
        "answered", "b2", "q2", "caller",
    )  # fmt: skip
    # Waited until a1 answered; talked from then on, through the transfer and the restart.
    assert whole["wait_s"] <= answered_at - arrived_at + 0.5
    assert whole["talk_s"] >= hung_up_at - answered_at - 0.5
    assert await agent_states(service, "a1", "b1", "b2") == {
        "a1": ("wrap-up", None), "b1": ("not-ready", "ring-no-answer"), "b2": ("wrap-up", None),
    }  # fmt: skip
    await wait_until_async(lambda: _nothing_left(ari, service), what="no channel or bridge left")
    assert sorted(r["call"] for r in service.calls()) == sorted([call, f"{call}~1"])  # once each
    service.stop()


async def test_given_an_escalation_ringing_the_on_call_chain_when_killed_then_it_goes_on_to_the_next(
    tmp_path: Path,
    ari: AriClient,
    served: list[Served],
) -> None:
    service = await running(tmp_path, served, {"a1": phone("101")}, ON_CALL, "a1")
    async with aiohttp.ClientSession() as http:
        agent = await service.console(http, "a1")
        call = await place_call(ari, service, "+14155550151")
        await agent.expect("call-connected", call=call)
        answered_at = time.time()
        await agent.send(type="escalate")
        await agent.expect("escalation", call=call, status="ringing", person="Dr. Away")
        away = f"sb-{call}-2"
        await wait_until_async(lambda: _ringing(ari, away), what="Dr. Away's phone ringing")
        await journalled_about(service, "OfferRinging", away)
    service.kill()
    await service.start()
    async with aiohttp.ClientSession() as http:
        agent = await service.console(http, "a1", ready=False)
        snapshot = agent.seen[-1]  # while Dr. Away's phone still rings: shown as before the kill
        shown = snapshot["call"]
        assert snapshot["state"] == "on-call" and shown is not None and shown["offer"]["call"] == call
        assert shown["escalation"] is not None, f"the restarted console shows no escalation: {shown}"
        assert (shown["escalation"]["status"], shown["escalation"]["person"]) == ("ringing", "Dr. Away")
        # Dr. Away's phone rings out (8 s from the escalation, across the restart); Dr. Home takes it.
        await agent.expect("escalation", call=call, status="ringing", person="Dr. Home", timeout=20)
        taken = await agent.expect("escalation", call=call, status="answered")
        assert (taken["person"], taken["attempts"]) == (
            "Dr. Home",
            [{"person": "Dr. Away", "result": "no-answer"}, {"person": "Dr. Home", "result": "accepted"}],
        )
        home = f"sb-{call}-3"
        await wait_until_async(lambda: _bridged(ari, call, {call, home}), what="caller and Dr. Home bridged")
        channels, _ = await ours(ari, service)
        assert away not in channels and f"sb-{call}-1" not in channels  # Dr. Away's ring and a1's leg ended
        await asyncio.sleep(0.5)
        hung_up_at = time.time()
        await ari.hangup(call.removesuffix(";2"))
    stretch, whole = await logged_row(service, f"{call}~1"), await logged_row(service, call)
    assert (stretch["outcome"], stretch["agent"], stretch["hung_up_by"]) == ("transferred", "a1", "agent")
    assert (whole["outcome"], whole["on_call"], whole["hung_up_by"]) == ("answered", "Dr. Home", "caller")
    assert whole["talk_s"] >= hung_up_at - answered_at - 0.5  # from a1's answer, through the restart
    assert await agent_states(service, "a1") == {"a1": ("wrap-up", None)}
    await wait_until_async(lambda: _nothing_left(ari, service), what="no channel or bridge left")
    assert sorted(r["call"] for r in service.calls()) == sorted([call, f"{call}~1"])  # once each
    service.stop()


async def test_given_a_callback_waiting_when_killed_twice_then_the_agent_calls_the_customer_back(
    tmp_path: Path,
    ari: AriClient,
    served: list[Served],
) -> None:
    service = await running(tmp_path, served, {"a1": phone("101")}, CALLBACK_RULE, "a1")
    async with aiohttp.ClientSession() as http:
        await service.console(http, "a1", ready=False)  # logged in, not ready: the caller waits
        caller = "+14155550152"
        arrived_at = time.time()
        call = await keypad_call(ari, service, caller)
        await journalled(service, "CallArrived", 1)
        chosen = await press_1_for_a_callback(ari, service, call)
        chosen_at = time.time()
    service.kill()  # at once: the caller still hears the goodbye
    assert call in {c["id"] for c in await ari.channels()}, "the goodbye was over before the kill"
    await service.start()
    await wait_until_async(lambda: _gone(ari, call), what="the caller hung up after the goodbye")
    service.kill()  # and again, while the callback only waits: nobody is on the line
    await asyncio.sleep(1.0)
    await service.start()
    async with aiohttp.ClientSession() as http:
        agent = await service.console(http, "a1")
        offer = await agent.expect("offer", callback=True, timeout=15)
        back = offer["call"]
        assert back == f"sb-cb-{call}"
        await agent.expect("call-connected", call=back)  # the customer picked up
        customer = await ari.request("GET", f"/channels/{back}")
        assert customer["name"].startswith(f"Local/{caller}@switchboard-outbound")  # the sandbox's customer
        await wait_until_async(lambda: _bridged(ari, back, {back, offer["offer"]}), what="agent and customer")
        connected_at = time.time()
        await asyncio.sleep(0.5)
        hung_up_at = time.time()
        await ari.hangup(back)  # the customer hangs up
        await agent.expect("call-ended", call=back)
    assert (chosen["outcome"], chosen["hung_up_by"], chosen["agent"]) == ("callback", "caller", None)
    assert 1.0 <= chosen["wait_s"] <= chosen_at - arrived_at + 0.5 and chosen["talk_s"] == 0
    row = await logged_row(service, back)
    assert (row["outcome"], row["agent"], row["callback_of"]) == ("answered", "a1", call)
    # Waited from the choice to the customer's answer, across both restarts.
    assert connected_at - chosen_at - 1.0 <= row["wait_s"] <= connected_at - arrived_at
    assert row["talk_s"] >= hung_up_at - connected_at - 0.5
    assert await agent_states(service, "a1") == {"a1": ("wrap-up", None)}
    await wait_until_async(lambda: _nothing_left(ari, service), what="no channel or bridge left")
    assert sorted(r["call"] for r in service.calls()) == sorted([call, back])  # once each
    service.stop()


# --- helpers ------------------------------------------------------------------------------------------
async def running(
    workdir: Path, started: list[Served], agents: dict[str, str], extra: str, *users: str
) -> Served:
    """The service with ``agents`` in queue q, ``extra`` in its config, and ``users`` signed up. Wrap-ups
    last two minutes: an agent is still in theirs when the test looks, however slow the machine is."""
    service = Served(workdir, agents, wrap_up_s=120, extra=extra)
    started.append(service)
    service.write_config()
    await service.start()
    service.add_agent_users(*users)
    return service


async def connected(console: Console, call: str, timeout: float) -> str:
    """The leg of the offer of ``call`` on ``console`` once it is connected; rung, or even connected,
    before the console came back (its snapshot shows it) or after."""
    shown = console.seen[-1]["call"]
    if shown is None or shown["offer"]["call"] != call:
        shown = {"offer": await console.expect("offer", call=call, timeout=timeout), "connected_at": None}
    if shown["connected_at"] is None:
        await console.expect("call-connected", call=call)
    leg: str = shown["offer"]["offer"]
    return leg


async def journalled_about(service: Served, kind: str, about: str) -> None:
    async def kept() -> bool:
        return service.journalled(kind, about) >= 1

    await wait_until_async(kept, what=f"{kind} of {about} in the journal")


async def logged_row(service: Served, call: str) -> dict[str, Any]:
    """The call's row in the call log, read straight from the database."""

    async def row() -> dict[str, Any] | None:
        rows = [r for r in service.logged_calls() if r["call"] == call]
        return rows[0] if rows else None

    found: dict[str, Any] = await wait_until_async(row, timeout=15, what=f"the call log row of {call}")
    return found


async def agent_states(service: Served, *agents: str) -> dict[str, tuple[str, str | None]]:
    """Each agent's state and its reason, as their console's snapshot shows it when it comes back."""
    states = {}
    async with aiohttp.ClientSession() as http:
        for agent in agents:
            snapshot = (await service.console(http, agent, ready=False)).seen[-1]
            states[agent] = (snapshot["state"], snapshot["reason"])
    return states


async def keypad_call(client: AriClient, service: Served, caller: str) -> str:
    """A caller whose own phone is parked in the app (args ``keypad``, which the service ignores), so
    the test can press keys on it: ARI sends DTMF only from a channel in Stasis."""
    channel = f"test-{uuid.uuid4().hex[:12]}"
    params = {"endpoint": f"Local/{DID.lstrip('+')}@switchboard-inbound/n", "callerId": caller,
              "channelId": channel, "app": service.app, "appArgs": "keypad"}  # fmt: skip
    await client.request("POST", "/channels", params, {"variables": {"_SB_APP": service.app}})
    service.placed.append(channel)
    return f"{channel};2"


async def press_1_for_a_callback(client: AriClient, service: Served, call: str) -> dict[str, Any]:
    """Press 1 until the call is logged as the caller's choice of a callback (a key pressed before the
    choice is offered is ignored); its row."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        with contextlib.suppress(TelephonyError):
            await client.send_dtmf(call.removesuffix(";2"), "1")
        for _ in range(6):
            await asyncio.sleep(0.05)
            rows = [r for r in service.logged_calls() if r["call"] == call]
            if rows:
                return rows[0]
        await asyncio.sleep(0.2)
    raise AssertionError(f"{call} not logged as a callback after pressing 1 for 15 s")


async def _ringing(client: AriClient, channel: str) -> bool:
    try:
        found = await client.request("GET", f"/channels/{channel}")
    except TelephonyError:
        return False
    return bool(found["state"] == "Ringing")


async def _gone(client: AriClient, channel: str) -> bool:
    return channel not in {c["id"] for c in await client.channels()}
