"""A crash loses nothing: a real ``switchboard serve`` is SIGKILLed on the real Asterisk and started again.

Each test kills the process in one phase of a call and checks, after the restart, the call log (one row
per call, with the true wait and talk time), the agents' states and what Asterisk holds (no channel or
bridge of ours left behind). ``tests/integration/restart/harness.py`` runs the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import subprocess
import time
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from telephony.ari_client import AriClient
from telephony.errors import TelephonyError
from tests.integration.conftest import ARI_PASSWORD, ARI_URL, ARI_USER, ari_reachable, phone, wait_until_async
from tests.integration.restart.harness import DID, Served

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
async def ari() -> AsyncIterator[AriClient]:
    probe = await ari_reachable()
    await probe.close()
    client = AriClient(ARI_URL, ARI_USER, ARI_PASSWORD, "probe")
    yield client
    await client.close()


@pytest.fixture
async def served(tmp_path: Path, ari: AriClient) -> AsyncIterator[list[Served]]:
    made: list[Served] = []
    yield made
    for s in made:
        s.stop()
        # Nothing of this test may ring on in the shared sandbox.
        for channel in await ari.channels():
            if in_app(channel, s.app) or channel["id"] in s.placed:
                with contextlib.suppress(TelephonyError):
                    await ari.hangup(channel["id"])


async def place_call(ari: AriClient, served: Served, caller: str, retries: int | None = None) -> str:
    """A carrier's call to the line's DID; returns the call id the router knows it by. ``retries``: how
    often the dialplan tries the app again while it is missing (the shipped default: 120, a minute)."""
    channel = f"test-{uuid.uuid4().hex[:12]}"
    endpoint = f"Local/{DID.lstrip('+')}@switchboard-inbound/n"
    variables = {"_SB_APP": served.app} | ({} if retries is None else {"_SB_RETRIES": str(retries)})
    await ari.originate(endpoint, "switchboard-caller", "s", caller, channel, variables=variables)
    served.placed.append(channel)
    return f"{channel};2"


async def ours(ari: AriClient, served: Served) -> tuple[set[str], set[str]]:
    """The channels in the test's app and the bridges its service made (named after its app), as
    Asterisk lists them now; another test's leftovers on the shared sandbox are not this one's."""
    channels = {c["id"] for c in await ari.channels() if in_app(c, served.app)}
    bridges = {b["id"] for b in await ari.bridges() if b.get("name") == served.app}
    return channels, bridges


def in_app(channel: dict[str, Any], app: str) -> bool:
    return str((channel.get("dialplan") or {}).get("app_data", "")).startswith(f"{app},")


async def journalled(served: Served, kind: str, count: int) -> None:
    """Wait until the journal in the database holds ``count`` events of ``kind``."""

    async def enough() -> bool:
        return served.journalled(kind) >= count

    await wait_until_async(enough, what=f"{count} {kind} in the journal")


async def logged(served: Served, call: str) -> dict[str, Any]:
    async def row() -> dict[str, Any] | None:
        rows = [r for r in served.calls() if r["call"] == call]
        assert len(rows) <= 1, rows  # never twice
        return rows[0] if rows else None

    found: dict[str, Any] = await wait_until_async(row, timeout=15, what=f"the call log row of {call}")
    return found


async def one_agent(workdir: Path, served: list[Served], extension: str = "101") -> Served:
    """The service running, with agent a1 as a user, on the sandbox phone ``extension`` (101: answers
    after 300 ms; the first digit says how a phone behaves, telephony/sandbox/extensions.conf)."""
    service = Served(workdir, {"a1": phone(extension)})
    served.append(service)
    service.write_config()
    await service.start()
    service.add_agent_user("a1")
    return service


async def test_given_callers_waiting_when_killed_twice_then_they_keep_their_place_and_their_wait(
    tmp_path: Path, ari: AriClient, served: list[Served]
) -> None:
    service = await one_agent(tmp_path, served)
    first_at = time.time()
    first = await place_call(ari, service, "+14155550101")
    await asyncio.sleep(0.3)
    second = await place_call(ari, service, "+14155550102")
    leaving = await place_call(ari, service, "+14155550109")
    await journalled(service, "CallArrived", 3)
    service.kill()
    await ari.hangup(leaving.removesuffix(";2"))  # gives up while nobody is there to see it
    await asyncio.sleep(1.0)  # down for a second: nobody serves the callers, they hear their music
    await service.start()
    service.kill()  # and again, at once
    await service.start()
    restarted_at = time.time()
    gave_up = await logged(service, leaving)
    assert (gave_up["outcome"], gave_up["hung_up_by"], gave_up["agent"]) == ("abandoned", "caller", None)
    async with aiohttp.ClientSession() as http:
        agent = await service.console(http, "a1")
        offer = await agent.expect("offer", timeout=15)
        assert offer["call"] == first  # the first caller is still first
        await agent.expect("call-connected", call=first)
        await ari.hangup(first.removesuffix(";2"))
        row = await logged(service, first)
        assert (row["outcome"], row["agent"]) == ("answered", "a1")
        # Counted from the first arrival, not from the restart.
        assert abs(datetime.fromisoformat(row["arrived"]).timestamp() - first_at) < 0.5
        assert row["wait_s"] >= restarted_at - first_at
        channels, _ = await ours(ari, service)
        assert second in channels  # still waiting, in line behind
    service.stop()


async def test_given_a_caller_waiting_when_the_service_is_stopped_then_it_exits_at_once_and_replays_nothing(
    tmp_path: Path, ari: AriClient, served: list[Served]
) -> None:
    service = await one_agent(tmp_path, served)
    call = await place_call(ari, service, "+14155550107")
    await journalled(service, "CallArrived", 1)
    async with aiohttp.ClientSession() as http:
        await service.console(http, "a1", ready=False)  # a console still open when the stop comes
        took = await asyncio.to_thread(service.terminate)
    # 0.06 s measured here; 0.9 s before the password worker was ended at once and the teardown skipped.
    assert took < 1.0, f"SIGTERM took {took:.2f} s"
    assert service.kept_lines() == 0  # a snapshot of the last state: the next start replays nothing
    await service.start()
    async with aiohttp.ClientSession() as http:
        agent = await service.console(http, "a1")
        await agent.expect("offer", call=call)
    service.stop()


async def test_given_a_phone_ringing_when_its_leg_is_gone_after_a_kill_then_it_is_no_miss(
    tmp_path: Path, ari: AriClient, served: list[Served]
) -> None:
    service = await one_agent(tmp_path, served, "201")  # 2XX: rings and never answers
    async with aiohttp.ClientSession() as http:
        agent = await service.console(http, "a1")
        call = await place_call(ari, service, "+14155550104")
        offer = await agent.expect("offer", call=call)
        await journalled(service, "OfferRinging", 1)
    service.kill()
    await ari.hangup(offer["offer"])  # the phone's leg ends while nobody watches (a phone rebooted)
    await service.start()
    async with aiohttp.ClientSession() as http:
        agent = await service.console(http, "a1", ready=False)
        # Not paused for ring-no-answer (one miss would pause this agent): rung again for the caller,
        # before this console came back (its snapshot shows the pop) or after.
        snapshot = agent.seen[-1]
        shown = (snapshot["call"] or {}).get("offer")
        again = shown if shown is not None else await agent.expect("offer", call=call)
        assert snapshot["state"] in ("ringing", "ready") and again["call"] == call
        assert again["offer"] != offer["offer"]
        assert not [m for m in agent.seen if m["type"] == "state" and m.get("state") == "paused"]
    service.stop()


async def test_given_an_agent_in_wrap_up_when_the_service_is_killed_then_the_deadline_is_kept(
    tmp_path: Path, ari: AriClient, served: list[Served]
) -> None:
    service = await one_agent(tmp_path, served)
    async with aiohttp.ClientSession() as http:
        agent = await service.console(http, "a1")
        call = await place_call(ari, service, "+14155550105")
        await agent.expect("call-connected", call=call)
        await ari.hangup(call.removesuffix(";2"))
        wrap = await agent.expect("state", state="wrap-up")
        await logged(service, call)
        # What a console coming back got before the kill: the wrap-up form, for this call.
        kept = (await service.console(http, "a1", ready=False)).seen[-1]["wrap_up"]
        assert kept["call"] == call and kept["offer"]["call"] == call and kept["until"] == wrap["until"]
    service.kill()
    await asyncio.sleep(1.0)
    await service.start()
    async with aiohttp.ClientSession() as http:
        agent = await service.console(http, "a1", ready=False)
        snapshot = agent.seen[-1]
        assert (snapshot["state"], snapshot["until"]) == ("wrap-up", wrap["until"])
        form = snapshot["wrap_up"]  # the same form: its call, deadline and pop (the wait the pop showed)
        if form["offer"]["customer_pending"]:  # the caller's lookup, started afresh, had not finished yet
            found = await agent.expect("offer-customer", call=call)
            form["offer"] |= {"customer": found["customer"], "customer_pending": False}
        assert form == kept
        await agent.send(type="wrap-up", call=call, disposition="sale", notes="after the kill", case=None,
                         callback_at=None)  # fmt: skip
        await agent.expect("wrap-up-saved", call=call)
    assert wrapped_up(service, call) == ("sale", "after the kill")
    assert len([r for r in service.calls() if r["call"] == call]) == 1
    service.stop()


def wrapped_up(served: Served, call: str) -> tuple[str | None, str | None]:
    """The disposition and notes on the call's row of the call log (read straight from the database)."""
    with contextlib.closing(sqlite3.connect(served.db, timeout=5)) as db:
        query = "SELECT disposition, agent_notes FROM calls WHERE call_id = ?"
        ((disposition, notes),) = db.execute(query, (call,)).fetchall()
        return disposition, notes


async def test_given_a_caller_on_hold_when_the_service_is_killed_then_they_stay_held_and_come_back(
    tmp_path: Path, ari: AriClient, served: list[Served]
) -> None:
    service = await one_agent(tmp_path, served)
    async with aiohttp.ClientSession() as http:
        agent = await service.console(http, "a1")
        call = await place_call(ari, service, "+14155550106")
        offer = await agent.expect("offer", call=call)
        await agent.expect("call-connected", call=call)
        await agent.send(type="hold")
        await agent.expect("call-held", call=call, held=True)
        await journalled(service, "HoldRequested", 1)
        await wait_until_async(lambda: _bridged(ari, call, {offer["offer"]}), what="the agent alone")
    service.kill()
    await service.start()
    await asyncio.sleep(1.0)
    assert await _bridged(ari, call, {offer["offer"]})  # still on hold: the agent alone in the bridge
    async with aiohttp.ClientSession() as http:
        agent = await service.console(http, "a1", ready=False)
        snapshot = agent.seen[-1]
        assert snapshot["call"]["offer"]["call"] == call and snapshot["call"]["held"] is True
        await agent.send(type="resume")
        await agent.expect("call-held", call=call, held=False)
        await wait_until_async(lambda: _bridged(ari, call, {call, offer["offer"]}), what="back together")
        await ari.hangup(call.removesuffix(";2"))
    row = await logged(service, call)
    assert (row["outcome"], row["agent"]) == ("answered", "a1")
    await wait_until_async(lambda: _nothing_left(ari, service), what="no channel or bridge left")
    service.stop()


async def test_given_a_burst_of_callers_when_the_service_is_killed_then_each_is_logged_exactly_once(
    tmp_path: Path, ari: AriClient, served: list[Served]
) -> None:
    service = Served(tmp_path, {"a1": phone("301"), "a2": phone("302")}, wrap_up_s=0)  # 3XX: 2 s calls
    served.append(service)
    service.write_config()
    await service.start()
    service.add_agent_user("a1")
    service.add_agent_user("a2")
    calls = []
    async with aiohttp.ClientSession() as http:
        await service.console(http, "a1")
        await service.console(http, "a2")
        for n in range(8):
            calls.append(await place_call(ari, service, f"+1415555012{n}"))
            await asyncio.sleep(0.1)
        service.kill()  # mid-burst: two callers talking, the others waiting, the last maybe unseen
    await service.start()
    async with aiohttp.ClientSession() as http:
        await service.console(http, "a1", ready=False)
        await service.console(http, "a2", ready=False)

        async def all_logged() -> bool:
            return {r["call"] for r in service.calls()} >= set(calls)

        await wait_until_async(all_logged, timeout=40, what="every call of the burst logged")
    rows = service.calls()
    assert sorted(r["call"] for r in rows) == sorted(calls)  # exactly once each
    assert {r["outcome"] for r in rows} == {"answered"}
    await wait_until_async(lambda: _nothing_left(ari, service), what="no channel or bridge left")
    service.stop()


async def test_given_a_caller_talking_to_an_agent_when_the_service_is_killed_then_the_call_goes_on(
    tmp_path: Path, ari: AriClient, served: list[Served]
) -> None:
    service = await one_agent(tmp_path, served)
    async with aiohttp.ClientSession() as http:
        agent = await service.console(http, "a1")
        call = await place_call(ari, service, "+14155550103")
        offer = await agent.expect("offer", call=call)
        await agent.expect("call-connected", call=call)
        connected_at = time.time()
        await journalled(service, "OfferAnswered", 1)
        await asyncio.sleep(0.2)  # the bridge is made
        channels_before, bridges_before = await ours(ari, service)
        assert {call, offer["offer"]} <= channels_before and f"sb-bridge-{call}" in bridges_before
    service.kill()
    await asyncio.sleep(1.0)
    await service.start()
    await asyncio.sleep(1.5)  # what the restart did (before the journal: both phones hung up here)
    channels, _ = await ours(ari, service)
    assert {call, offer["offer"]} <= channels  # neither side was hung up
    bridge = await ari.request("GET", f"/bridges/sb-bridge-{call}")
    assert set(bridge["channels"]) == {call, offer["offer"]}  # still talking to each other
    async with aiohttp.ClientSession() as http:
        agent = await service.console(http, "a1", ready=False)
        snapshot = agent.seen[-1]  # still on the call, and the console shows it as before the kill
        assert snapshot["state"] == "on-call" and snapshot["call"]["offer"]["call"] == call
        assert abs(snapshot["call"]["connected_at"] - connected_at) < 1.0 and not snapshot["call"]["held"]
        await asyncio.sleep(0.5)
        hung_up_at = time.time()
        await ari.hangup(call.removesuffix(";2"))
        await agent.expect("call-ended", call=call)
    row = await logged(service, call)
    assert (row["outcome"], row["agent"], row["hung_up_by"]) == ("answered", "a1", "caller")
    assert row["talk_s"] >= hung_up_at - connected_at - 0.5  # from the real answer, across the restart
    await wait_until_async(lambda: _nothing_left(ari, service), what="no channel or bridge left")
    service.stop()


async def _bridged(ari: AriClient, call: str, channels: set[str]) -> bool:
    """Whether the call's bridge holds exactly ``channels``."""
    try:
        bridge = await ari.request("GET", f"/bridges/sb-bridge-{call}")
    except TelephonyError:
        return False
    return set(bridge["channels"]) == channels


async def _nothing_left(ari: AriClient, served: Served) -> bool:
    channels, bridges = await ours(ari, served)
    return not channels and not bridges


async def test_given_the_service_down_when_a_call_arrives_then_it_rings_on_and_enters_when_back(
    tmp_path: Path, ari: AriClient, served: list[Served]
) -> None:
    service = await one_agent(tmp_path, served)
    async with aiohttp.ClientSession() as http:
        await service.console(http, "a1", ready=False)
    service.kill()
    call = await place_call(ari, service, "+14155550130")  # no app to enter: the dialplan tries again
    await asyncio.sleep(2.0)
    caller = await ari.request("GET", f"/channels/{call}")
    assert caller["dialplan"]["context"] == "switchboard-inbound"  # still ringing in the dialplan, not gone
    await service.start()
    async with aiohttp.ClientSession() as http:
        agent = await service.console(http, "a1")
        await agent.expect("offer", call=call, timeout=5)
        await agent.expect("call-connected", call=call)
        await ari.hangup(call.removesuffix(";2"))
    row = await logged(service, call)
    assert (row["outcome"], row["agent"]) == ("answered", "a1")
    await wait_until_async(lambda: _nothing_left(ari, service), what="no channel or bridge left")
    service.stop()


async def test_given_the_service_stays_down_then_a_caller_gives_up_after_the_bounded_retries(
    tmp_path: Path, ari: AriClient, served: list[Served]
) -> None:
    service = await one_agent(tmp_path, served)
    service.kill()
    placed = time.monotonic()
    call = await place_call(ari, service, "+14155550131", retries=2)  # about a second of tries
    await asyncio.sleep(0.6)
    caller = await ari.request("GET", f"/channels/{call}")
    assert caller["dialplan"]["context"] == "switchboard-inbound"  # still trying, not fallen through

    async def gone() -> bool:
        return call not in {c["id"] for c in await ari.channels()}

    await wait_until_async(gone, timeout=10, what="the caller given up on")  # not the default minute
    assert time.monotonic() - placed >= 1.0  # both tries were made


def restart_asterisk() -> None:
    """``core restart now``: the sandbox's Asterisk drops every channel and starts again (same process)."""
    script = Path(__file__).resolve().parents[2] / "scripts" / "asterisk-sandbox"
    subprocess.run([str(script), "cli", "core restart now"], check=True, capture_output=True, timeout=30)


async def test_given_a_call_talking_when_asterisk_restarts_then_it_is_logged_as_the_pbxs_doing(
    tmp_path: Path, ari: AriClient, served: list[Served]
) -> None:
    service = await one_agent(tmp_path, served)
    async with aiohttp.ClientSession() as http:
        agent = await service.console(http, "a1")
        call = await place_call(ari, service, "+14155550140")
        await agent.expect("call-connected", call=call)
        await journalled(service, "OfferAnswered", 1)
        restart_asterisk()
        ended = await agent.expect("call-ended", call=call, timeout=40)  # once the service reconnected
        assert ended["call"] == call
        row = await logged(service, call)
        assert (row["outcome"], row["hung_up_by"], row["end_reason"]) == ("answered", "system", "pbx-restart")
        # The next caller is served as usual: the agent was freed, the service is connected again.
        await ari.forget_connections()  # this test's own client, too, kept connections to the old Asterisk
        await agent.send(type="ready")
        again = await place_call(ari, service, "+14155550141")
        offer = await agent.expect("offer", call=again)
        await agent.expect("call-connected", call=again)
        await wait_until_async(lambda: _bridged(ari, again, {again, offer["offer"]}), what="bridged")
        await ari.hangup(again.removesuffix(";2"))
    row = await logged(service, again)
    assert (row["outcome"], row["hung_up_by"], row["end_reason"]) == ("answered", "caller", None)
    await wait_until_async(lambda: _nothing_left(ari, service), what="no channel or bridge left")
    service.stop()
