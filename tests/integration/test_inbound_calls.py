"""One inbound call, end to end, on the real Asterisk sandbox: routing, ringing, pops, bridging, logging."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from crm_core.domain.calls import LoggedCall
from routing.ids import AgentId, CallId, QueueId
from routing.records import Outcome, Party
from routing.states import AgentState
from switchboard.cli import main
from tests.integration.conftest import (
    ARI_PASSWORD,
    ARI_URL,
    ARI_USER,
    Sandbox,
    SandboxFactory,
    phone,
    wait_until,
    wait_until_async,
)

pytestmark = pytest.mark.asterisk

CALLER = "+14155550123"


async def test_given_a_ready_agent_when_a_known_customer_calls_then_pop_bridge_and_log(
    sandbox: SandboxFactory,
) -> None:
    box = await sandbox({"alice": phone("101")})
    jane = await box.service.store.add_customer("Jane Doe", [("(415) 555-0123", "mobile")], "Doe Plumbing")
    alice = await box.console("alice")

    call = await box.call(f'"Jane" <{CALLER}>', "18005550103")

    offer = await alice.expect("offer", call=call)
    # The pop never waits for the store: a record not found by ringing time follows in offer-customer.
    customer = offer["customer"]
    if offer["customer_pending"]:
        customer = (await alice.expect("offer-customer", offer=offer["offer"]))["customer"]
    assert customer["id"] == jane.id
    assert customer["name"] == "Jane Doe"
    assert offer["caller"]["number"] == CALLER
    assert (offer["line"]["name"], offer["did"], offer["source"]) == ("Acme Service", "+18005550103", "web")
    await alice.expect("call-connected", call=call)
    # The pop came while the phone was ringing, before the agent picked up.
    kinds = [m["type"] for m in alice.seen]
    assert kinds.index("offer") < kinds.index("call-connected")

    async def bridged() -> bool:
        bridges = await box.ari.request("GET", "/bridges")
        return any(
            b["id"] == f"sb-bridge-{call}" and set(b["channels"]) == {call, offer["offer"]} for b in bridges
        )

    await wait_until_async(bridged, what="caller and agent in one bridge")

    await box.hang_up_caller(call)
    ended = await alice.expect("call-ended", call=call)
    assert (ended["outcome"], ended["hung_up_by"]) == ("answered", "caller")
    # A caller's hangup must take the agent's leg and the bridge down with it (ARI leaves them up).
    await wait_until_gone(box, offer["offer"])

    async def unbridged() -> bool:  # destroyed right after the leg's hangup: a request later, not at once
        return f"sb-bridge-{call}" not in {b["id"] for b in await box.ari.request("GET", "/bridges")}

    await wait_until_async(unbridged, what="the call's bridge destroyed")

    row: LoggedCall = await box.logged(call)
    assert (row.record.did, row.record.source, row.record.line, row.record.line_name, row.record.queue) == (
        "+18005550103", "web", "acme", "Acme Service", "acme",
    )  # fmt: skip
    assert (row.record.caller_number, row.customer_id, row.record.agent) == (CALLER, jane.id, "alice")
    assert (row.record.outcome, row.record.hung_up_by, row.record.offers) == (
        Outcome.ANSWERED,
        Party.CALLER,
        1,
    )
    assert row.answered_at is not None
    assert 0.25 <= row.wait_s < 3.0  # the simulated phone answers after 300 ms
    assert row.talk_s > 0
    assert row.wait_s == pytest.approx((row.answered_at - row.arrived_at).total_seconds(), abs=1e-3)
    assert box.service.router.agent_view(AgentId("alice")).state is AgentState.READY


async def test_given_two_agents_when_four_calls_arrive_then_the_others_wait_and_are_served_in_order(
    sandbox: SandboxFactory,
) -> None:
    box = await sandbox({"alice": phone("101"), "bob": phone("102")})
    alice = await box.console("alice")
    bob = await box.console("bob")

    calls = []
    for i in range(4):
        calls.append(await box.call(f"+1415555010{i}", "18005550101"))
        await wait_until(lambda n=i + 1: box.service.router.active_calls == n, what=f"call {i + 1} to arrive")
    first_a = await alice.expect("offer")
    first_b = await bob.expect("offer")
    # Longest idle first: alice went ready before bob.
    assert (first_a["call"], first_b["call"]) == (calls[0], calls[1])
    await alice.expect("call-connected")
    await bob.expect("call-connected")
    assert box.service.router.waiting(QueueId("acme")) == [CallId(calls[2]), CallId(calls[3])]

    await box.hang_up_caller(calls[1])  # bob frees up first
    assert (await bob.expect("offer"))["call"] == calls[2]
    await box.hang_up_caller(calls[0])
    assert (await alice.expect("offer"))["call"] == calls[3]
    await bob.expect("call-connected", call=calls[2])
    await alice.expect("call-connected", call=calls[3])

    for call in calls[2:]:
        await box.hang_up_caller(call)
    rows = [await box.logged(c) for c in calls]
    assert [r.record.agent for r in rows] == ["alice", "bob", "bob", "alice"]
    assert all(r.record.outcome is Outcome.ANSWERED for r in rows)
    assert rows[2].wait_s > rows[0].wait_s  # the third caller really waited for an agent


async def test_given_an_agent_who_does_not_answer_when_the_ring_times_out_then_the_next_agent_gets_it(
    sandbox: SandboxFactory,
) -> None:
    box = await sandbox({"absent": phone("201"), "bob": phone("102")}, ring_timeout_s=2)
    absent = await box.console("absent")
    bob = await box.console("bob")

    call = await box.call(CALLER, "18005550102")
    first = await absent.expect("offer", call=call)
    withdrawn = await absent.expect("offer-withdrawn", timeout=8, call=call)
    assert withdrawn["offer"] == first["offer"]
    await absent.expect("state", state="not-ready", reason="ring-no-answer")
    await bob.expect("offer", call=call)
    await bob.expect("call-connected", call=call)
    await wait_until_gone(box, first["offer"])

    await box.hang_up_caller(call)
    row = await box.logged(call)
    assert (row.record.agent, row.record.offers, row.record.outcome, row.record.source) == (
        "bob",
        2,
        Outcome.ANSWERED,
        "yellow-pages",
    )
    assert 2.0 <= row.wait_s < 6.0


async def test_given_no_ready_agent_when_the_caller_hangs_up_then_the_call_is_abandoned(
    sandbox: SandboxFactory,
) -> None:
    box = await sandbox({"alice": phone("101")})
    await box.console("alice", ready=False)

    call = await box.call(CALLER, "18005550101")
    await wait_until(
        lambda: box.service.router.waiting(QueueId("acme")) == [CallId(call)], what="call waiting"
    )
    # The caller is answered and hears hold music while waiting.
    channel = await box.ari.request("GET", f"/channels/{call.replace(';', '%3B')}")
    assert channel["state"] == "Up"
    await box.hang_up_caller(call)

    row = await box.logged(call)
    assert (row.record.outcome, row.record.hung_up_by, row.record.agent, row.record.offers) == (
        Outcome.ABANDONED,
        Party.CALLER,
        None,
        0,
    )
    assert row.answered_at is None and row.talk_s == 0


async def test_given_a_ringing_agent_when_the_caller_hangs_up_then_the_agent_phone_stops(
    sandbox: SandboxFactory,
) -> None:
    box = await sandbox({"absent": phone("201")}, ring_timeout_s=30)
    absent = await box.console("absent")

    call = await box.call(CALLER, "18005550101")
    offer = await absent.expect("offer", call=call)
    await box.hang_up_caller(call)

    await absent.expect("offer-withdrawn", call=call)
    await wait_until_gone(box, offer["offer"])  # ARI would have let it ring for 30 s
    await absent.expect("state", state="ready")
    row = await box.logged(call)
    assert (row.record.outcome, row.record.hung_up_by, row.record.offers) == (
        Outcome.ABANDONED,
        Party.CALLER,
        1,
    )


async def test_given_a_connected_call_when_the_agent_hangs_up_then_the_caller_is_released(
    sandbox: SandboxFactory,
) -> None:
    box = await sandbox({"brief": phone("301")})  # answers, hangs up 2 s later
    brief = await box.console("brief")

    call = await box.call(CALLER, "18005550101")
    await brief.expect("call-connected", call=call)
    ended = await brief.expect("call-ended", timeout=8, call=call)
    assert ended["hung_up_by"] == "agent"
    await wait_until_gone(box, call)
    row = await box.logged(call)
    assert (row.record.outcome, row.record.hung_up_by, row.record.agent) == (
        Outcome.ANSWERED,
        Party.AGENT,
        "brief",
    )
    assert 1.5 <= row.talk_s < 5


async def test_given_a_number_outside_the_plan_when_called_then_rejected_and_logged_no_agent(
    sandbox: SandboxFactory,
) -> None:
    box = await sandbox({"alice": phone("101")})
    call = await box.call(CALLER, "18005559999")
    await wait_until_gone(box, call)
    row = await box.logged(call)
    assert (row.record.outcome, row.record.hung_up_by, row.record.did, row.record.line) == (
        Outcome.NO_AGENT,
        Party.SYSTEM,
        "+18005559999",
        None,
    )


async def wait_until_gone(box: Sandbox, channel: str) -> None:
    async def gone() -> bool:
        return channel not in await box.channels()

    await wait_until_async(gone, what=f"channel {channel} to hang up")


async def test_given_the_command_line_when_a_test_call_is_placed_then_it_reaches_an_agent(
    sandbox: SandboxFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    box = await sandbox({"alice": phone("101")})
    alice = await box.console("alice")
    config = tmp_path / "switchboard.toml"
    config.write_text(
        f'[ari]\nurl = "{ARI_URL}"\nuser = "{ARI_USER}"\npassword = "{ARI_PASSWORD}"\napp = "{box.app}"\n'
        '[queues.q]\n[lines.l]\nqueue = "q"\n[lines.l.dids]\nweb = "+1 800 555 0103"\n'
    )
    # main() runs its own event loop, so it goes to a worker thread while this loop serves the call.
    code = await asyncio.to_thread(
        main, ["--config", str(config), "call", "--from", CALLER, "--to", "8005550103"]
    )
    assert code == 0
    placed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    box.callers.append(placed["channel"])
    offer = await alice.expect("offer", call=placed["call"])
    assert (offer["caller"]["number"], offer["did"], offer["source"]) == (CALLER, "+18005550103", "web")
