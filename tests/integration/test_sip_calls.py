"""The ACD over real SIP: callers on the sandbox's PJSIP trunk, agents on PJSIP desk phones, all played
by SIPp (tests/integration/sip), through the whole service (router, PBX adapter, consoles, call log).

The phones' kinds (telephony/sandbox/sipp/phones.txt): ``answer`` rings, answers after 300 ms and sends
RTP; ``ring`` never answers; ``hangup`` answers, then hangs up after 2 s; ``busy`` answers 486. What a
phone or caller saw is read from SIPp's own log of each call (invite, cancel, busy, answer, bye-...).
"""

from __future__ import annotations

import dataclasses

import pytest

from routing.ids import AgentId
from routing.plan import Plan, Strategy
from routing.states import AgentState
from tests.integration.conftest import Console, SandboxFactory, make_plan
from tests.integration.sip.fixtures import CALLER, DID, Sip
from tests.integration.sip.harness import endpoint

pytestmark = pytest.mark.asterisk


async def offered(agent: Console) -> str:
    """The call offered to ``agent`` next (the router knows a SIP caller by its channel's id)."""
    return str((await agent.expect("offer"))["call"])


async def test_given_a_sip_caller_when_the_desk_phone_answers_then_pop_media_and_log(
    sandbox: SandboxFactory, sip: Sip
) -> None:
    await sip.phones.start("answer")
    box = await sandbox({"a1": endpoint("answer")})
    jane = await box.service.store.add_customer("Jane Doe", [("(415) 555-0123", "mobile")], "Doe Plumbing")
    agent = await box.console("a1")
    caller = await sip.call(box.app, hold_ms=1500)  # the caller hangs up 1.5 s after it is answered
    offer = await agent.expect("offer")
    call = offer["call"]
    customer = offer["customer"]
    if offer["customer_pending"]:
        customer = (await agent.expect("offer-customer", offer=offer["offer"]))["customer"]
    assert (customer["id"], offer["caller"]["number"], offer["did"]) == (jane.id, CALLER, DID)
    channel = await box.ari.request("GET", f"/channels/{call}")
    assert channel["name"].startswith("PJSIP/sipp-trunk-")
    await agent.expect("call-connected", call=call)
    invite = await sip.phones.wait_for("sip-answer-1", "invite")
    assert invite.party == CALLER  # the phone shows who calls
    ended = await agent.expect("call-ended", call=call)
    assert (ended["outcome"], ended["hung_up_by"]) == ("answered", "caller")
    await sip.phones.wait_for("sip-answer-1", "bye-received")  # the caller's BYE took the phone down
    assert sip.phones.did("sip-answer-1") == ["invite", "answer", "ack", "bye-received"]
    assert [s.step for s in caller.steps()] == ["invite-sent", "answered", "bye-sent"]
    row = await box.logged(call)
    record = row.record
    assert (record.caller_number, row.customer_id, record.agent, record.did) == (CALLER, jane.id, "a1", DID)
    assert (str(record.outcome), str(record.hung_up_by), record.offers) == ("answered", "caller", 1)
    assert 0.25 <= row.wait_s < 3.0  # the phone answers 300 ms after it rings
    assert row.talk_s > 1.0


async def test_given_a_ringing_desk_phone_when_the_caller_hangs_up_then_the_phone_gets_a_cancel(
    sandbox: SandboxFactory, sip: Sip
) -> None:
    await sip.phones.start("ring")
    box = await sandbox({"a1": endpoint("ring")})
    agent = await box.console("a1")
    caller = await sip.call(box.app, hold_ms=1000)
    call = await offered(agent)
    withdrawn = await agent.expect("offer-withdrawn", call=call)
    assert withdrawn["reason"] == "caller-hung-up"
    hung_up = await caller.wait_for("bye-sent")
    cancel = await sip.phones.wait_for("sip-ring-1", "cancel", timeout=3)
    assert cancel.at - hung_up.at < 1.0  # the service stopped the phone; Asterisk would let it ring on
    assert sip.phones.did("sip-ring-1") == ["invite", "cancel"]
    await agent.expect("state", state="ready")  # not the agent's fault: no pause
    record = (await box.logged(call)).record
    assert (str(record.outcome), str(record.hung_up_by), record.agent) == ("abandoned", "caller", None)


async def test_given_a_busy_desk_phone_then_the_call_moves_on_at_once_and_the_agent_is_paused(
    sandbox: SandboxFactory, sip: Sip
) -> None:
    await sip.phones.start("busy", "answer")
    box = await sandbox({"a1": endpoint("busy"), "a2": endpoint("answer")}, ring_timeout_s=30)
    busy = await box.console("a1")  # ready first: the longest idle, so offered first
    free = await box.console("a2")
    await sip.call(box.app)
    withdrawn = await busy.expect("offer-withdrawn", timeout=5)
    call = withdrawn["call"]
    # A 486 reaches the app only as the leg's end (ChannelDestroyed, cause 17): the router counts it as
    # an unanswered ring. The screen popped as the INVITE went out (the Dial event, issue 19) and the
    # offer is withdrawn with the leg's end: the agent never sees a call they could take.
    assert withdrawn["reason"] == "no-answer"
    paused = await busy.expect("state", state="not-ready")
    assert paused["reason"] == "ring-no-answer"  # the queue's default no_answer policy: one miss
    kinds = [m["type"] for m in busy.seen]
    assert kinds.count("offer") <= 1 and "call-connected" not in kinds
    if "offer" in kinds:
        assert kinds.index("offer") < kinds.index("offer-withdrawn")
    await free.expect("call-connected", call=call, timeout=5)  # long before the 30 s ring timeout
    assert sip.phones.did("sip-busy-1") == ["invite", "busy"]
    assert sip.phones.did("sip-answer-1")[:2] == ["invite", "answer"]
    await box.hang_up_caller(call)
    await sip.phones.wait_for("sip-answer-1", "bye-received")
    row = await box.logged(call)
    assert (str(row.record.outcome), row.record.agent, row.record.offers) == ("answered", "a2", 2)


async def test_given_a_desk_phone_nobody_picks_up_then_it_is_cancelled_at_the_ring_timeout(
    sandbox: SandboxFactory, sip: Sip
) -> None:
    await sip.phones.start("ring", "answer")
    box = await sandbox({"a1": endpoint("ring"), "a2": endpoint("answer")}, ring_timeout_s=2)
    away = await box.console("a1")
    back = await box.console("a2")
    await sip.call(box.app)
    call = await offered(away)
    withdrawn = await away.expect("offer-withdrawn", call=call, timeout=6)
    assert withdrawn["reason"] == "no-answer"
    cancel = await sip.phones.wait_for("sip-ring-1", "cancel")
    invite = sip.phones.steps("sip-ring-1")[0]
    assert 1.8 <= cancel.at - invite.at < 4.0  # Asterisk's dial timeout, not the caller
    assert (await away.expect("state", state="not-ready"))["reason"] == "ring-no-answer"
    await back.expect("call-connected", call=call)
    await box.hang_up_caller(call)
    assert (await box.logged(call)).record.agent == "a2"


async def test_given_a_desk_phone_that_hangs_up_then_the_caller_gets_a_bye_and_the_agent_ended_it(
    sandbox: SandboxFactory, sip: Sip
) -> None:
    await sip.phones.start("hangup")
    box = await sandbox({"a1": endpoint("hangup")})
    agent = await box.console("a1")
    caller = await sip.call(box.app)  # waits for Asterisk's BYE
    call = await offered(agent)
    await agent.expect("call-connected", call=call)
    await sip.phones.wait_for("sip-hangup-1", "bye-sent", timeout=5)
    await caller.wait_for("bye-received", timeout=5)  # the service ended the caller's leg too
    ended = await agent.expect("call-ended", call=call)
    assert (ended["outcome"], ended["hung_up_by"]) == ("answered", "agent")
    await box.gone(call)
    row = await box.logged(call)
    record = row.record
    assert (str(record.outcome), str(record.hung_up_by), record.agent) == ("answered", "agent", "a1")
    assert 1.5 < row.talk_s < 4.0  # the phone hangs up 2 s after answering
    assert box.service.router.agent_view(AgentId("a1")).state is AgentState.READY


async def test_given_ring_all_over_sip_when_one_phone_answers_then_the_other_gets_a_cancel(
    sandbox: SandboxFactory, sip: Sip
) -> None:
    await sip.phones.start("ring", "answer")
    agents = {"a1": endpoint("ring"), "a2": endpoint("answer")}
    box = await sandbox(agents, ring_all(agents))
    loser, winner = await box.console("a1"), await box.console("a2")
    await sip.call(box.app)
    call = await offered(loser)
    await winner.expect("call-connected", call=call)
    withdrawn = await loser.expect("offer-withdrawn", call=call)
    assert withdrawn["reason"] == "answered-elsewhere"
    await sip.phones.wait_for("sip-ring-1", "cancel")
    both = [sip.phones.steps(p)[0] for p in ("sip-ring-1", "sip-answer-1")]
    assert [s.step for s in both] == ["invite", "invite"]
    assert abs(both[0].at - both[1].at) < 0.5  # rung together, not one after the other
    await loser.expect("state", state="ready")
    await box.hang_up_caller(call)
    assert str((await box.logged(call)).record.outcome) == "answered"


def ring_all(agents: dict[str, str]) -> Plan:
    """The conftest's one-queue plan, its queue ringing every ready agent at once."""
    plan = make_plan(agents)
    queues = {q: dataclasses.replace(queue, strategy=Strategy.RING_ALL) for q, queue in plan.queues.items()}
    return dataclasses.replace(plan, queues=queues)
