"""Call control over real SIP: hold and resume, and a transfer to another queue, with a SIPp caller on
the PJSIP trunk and SIPp desk phones (tests/integration/sip). Both are done inside Asterisk (bridges and
hold music), so neither SIP side may see anything but its own call: no re-INVITE, no BYE to the caller
until the call ends.
"""

from __future__ import annotations

import pytest

from routing import events as ev
from routing.ids import AgentId, LineId, QueueId
from routing.plan import Agent, Did, Line, Plan, Queue
from tests.integration.conftest import DIDS, Sandbox, SandboxFactory, act, bridge_members, wait_until_async
from tests.integration.sip.fixtures import Sip
from tests.integration.sip.harness import endpoint

pytestmark = pytest.mark.asterisk

ACME, SUPPORT = QueueId("acme"), QueueId("support")


def plan(agents: dict[str, tuple[str, QueueId]]) -> Plan:
    queues = {
        q: Queue(id=q, name=q.title(), ring_timeout_s=10, max_wait_s=120, announce_every_s=0)
        for q in (ACME, SUPPORT)
    }
    line = Line(id=LineId("acme"), name="Acme Service", queue=ACME)
    return Plan(
        dids={n: Did(n, src, line.id) for n, src in DIDS.items()},
        lines={line.id: line},
        queues=queues,
        agents={
            AgentId(a): Agent(id=AgentId(a), name=a, endpoint=ext, queues=(q,))
            for a, (ext, q) in agents.items()
        },
    )


async def test_given_a_sip_call_when_held_and_resumed_then_the_caller_hears_music_and_comes_back(
    sandbox: SandboxFactory, sip: Sip
) -> None:
    await sip.phones.start("answer")
    agents = {"a1": (endpoint("answer"), ACME)}
    box = await sandbox(agents, plan(agents))
    agent = await box.console("a1")
    caller = await sip.call(box.app)
    call = (await agent.expect("offer"))["call"]
    await agent.expect("call-connected", call=call)
    leg = f"sb-{call}-1"
    bridge = f"sb-bridge-{call}"
    await wait_until_async(lambda: _holds(box, bridge, {call, leg}), what="caller and phone bridged")
    await act(box, ev.HoldRequested, AgentId("a1"))
    await wait_until_async(lambda: _holds(box, bridge, {leg}), what="the caller out of the bridge")
    moh = await box.ari.request("GET", f"/channels/{call}")
    assert moh["state"] == "Up"  # still answered: on hold music in Asterisk, not a SIP hold
    await act(box, ev.ResumeRequested, AgentId("a1"))
    await wait_until_async(lambda: _holds(box, bridge, {call, leg}), what="the caller back in the bridge")
    await box.hang_up_caller(call)
    await sip.phones.wait_for("sip-answer-1", "bye-received")
    await caller.wait_for("bye-received")
    assert sip.phones.did("sip-answer-1") == ["invite", "answer", "ack", "bye-received"]
    assert [s.step for s in caller.steps()] == ["invite-sent", "answered", "bye-received"]
    row = await box.logged(call)
    assert (str(row.record.outcome), row.record.agent) == ("answered", "a1")


async def test_given_a_sip_call_when_transferred_to_a_queue_then_the_first_phone_is_hung_up_the_next_rung(
    sandbox: SandboxFactory, sip: Sip
) -> None:
    await sip.phones.start("answer")
    agents = {"a1": (endpoint("answer", 1), ACME), "b1": (endpoint("answer", 2), SUPPORT)}
    box = await sandbox(agents, plan(agents))
    first, second = await box.console("a1"), await box.console("b1")
    caller = await sip.call(box.app)
    call = (await first.expect("offer"))["call"]
    await first.expect("call-connected", call=call)
    await act(box, ev.TransferRequested, AgentId("a1"), ev.TransferKind.QUEUE, "support")
    await second.expect("call-connected", call=call)
    await sip.phones.wait_for("sip-answer-1", "bye-received")  # the first agent is off the call
    assert sip.phones.did("sip-answer-2")[:3] == ["invite", "answer", "ack"]
    assert sip.phones.steps("sip-answer-2")[0].party == sip.phones.steps("sip-answer-1")[0].party
    bridge = f"sb-bridge-{call}"
    await wait_until_async(lambda: _holds(box, bridge, {call, f"sb-{call}-2"}), what="caller with b1")
    assert [s.step for s in caller.steps()] == ["invite-sent", "answered"]  # one call, never re-invited
    await box.hang_up_caller(call)
    await sip.phones.wait_for("sip-answer-2", "bye-received")
    stretch, whole = (await box.logged(f"{call}~1")).record, (await box.logged(call)).record
    assert (str(stretch.outcome), stretch.agent) == ("transferred", "a1")
    assert (str(whole.outcome), whole.agent, whole.queue) == ("answered", "b1", "support")


async def _holds(box: Sandbox, bridge: str, channels: set[str]) -> bool:
    return await bridge_members(box, bridge) == channels
