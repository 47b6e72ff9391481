"""The ACD through the whole service on the real Asterisk sandbox: router, PBX adapter, consoles, call log.

Each test builds the plan it needs; the sandbox's phones are the agents (1xx answer after 300 ms,
2xx never answer) and switchboard-outbound plays the customers a callback dials.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from routing import commands as cmd
from routing.hours import Hours, Span
from routing.ids import AgentId, LineId, QueueId
from routing.plan import (
    Action,
    AfterHours,
    AfterHoursKind,
    Agent,
    Did,
    Line,
    OnCallStep,
    Plan,
    Queue,
    Rule,
    Strategy,
)
from tests.integration.conftest import DIDS, Sandbox, SandboxFactory, phone, wait_until

pytestmark = pytest.mark.asterisk

ACME, ANSWERING = QueueId("acme"), QueueId("answering")
CALLER = "+14155550123"
DID = "+18005550101"
CLOSED = Hours(timezone="UTC", weekly={0: (Span(dt.time(0), dt.time(0, 0, 1)),)})  # open one second a week


def plan(
    agents: dict[str, tuple[str, tuple[QueueId, ...]]],
    line: dict[str, Any] | None = None,
    **queue: Any,
) -> Plan:
    queues = {
        ACME: Queue(
            id=ACME,
            name="Acme Service",
            ring_timeout_s=10,
            max_wait_s=120,
            **{"announce_every_s": 0, **queue},
        ),
        ANSWERING: Queue(id=ANSWERING, name="Answering service", ring_timeout_s=10, announce_every_s=0),
    }
    return Plan(
        dids={n: Did(n, src, LineId("acme")) for n, src in DIDS.items()},
        lines={LineId("acme"): Line(id=LineId("acme"), name="Acme Service", queue=ACME, **(line or {}))},
        queues=queues,
        agents={
            AgentId(a): Agent(id=AgentId(a), name=a, endpoint=ext, queues=qs)
            for a, (ext, qs) in agents.items()
        },
    )


def watch(box: Sandbox) -> list[cmd.Command]:
    """Every command the router publishes from now on."""
    seen: list[cmd.Command] = []
    box.service.bus.subscribe(seen.append)
    return seen


def logged(seen: list[cmd.Command], call: str) -> Any:
    found = [c.record for c in seen if isinstance(c, cmd.LogCall) and c.record.call == call]
    return found[0] if found else None


async def test_given_a_closed_line_then_the_answering_service_takes_the_call_marked_after_hours(
    sandbox: SandboxFactory,
) -> None:
    agents = {"n1": (phone("101"), (ANSWERING,)), "a1": (phone("102"), (ACME,))}
    after = AfterHours(AfterHoursKind.QUEUE, ANSWERING)
    box = await sandbox(agents, plan(agents, {"hours": CLOSED, "after_hours": after}))
    await box.console("a1")
    night = await box.console("n1")
    call = await box.call(CALLER, DID)
    offer = await night.expect("offer", call=call)
    assert (offer["after_hours"], offer["queue"], offer["line"]["name"]) == (
        True,
        "answering",
        "Acme Service",
    )
    await night.expect("call-connected", call=call)
    await box.hang_up_caller(call)
    row = await box.logged(call)
    assert (row.record.queue, row.record.agent, str(row.record.outcome)) == ("answering", "n1", "answered")


async def test_given_a_closed_line_with_an_on_call_chain_then_the_next_accepts_if_the_first_does_not_answer(
    sandbox: SandboxFactory,
) -> None:
    # 601 answers, hears who the call is for and presses 1 (telephony/sandbox/extensions.conf)
    chain = (OnCallStep("Dr. Away", phone("201"), 2), OnCallStep("Dr. Home", phone("601"), 10))
    after = AfterHours(AfterHoursKind.ON_CALL, None, chain)
    box = await sandbox({}, plan({}, {"hours": CLOSED, "after_hours": after}))
    seen = watch(box)
    call = await box.call(CALLER, DID)
    await wait_until(lambda: [c for c in seen if isinstance(c, cmd.BridgeCall)], 15, "the on-call bridge")
    assert [c.endpoint for c in seen if isinstance(c, cmd.OfferCall)] == [phone("201"), phone("601")]
    assert [c.offer for c in seen if isinstance(c, cmd.PromptOnCall)] == [f"sb-{call}-2"]  # before the 1
    await box.gone(next(c.offer for c in seen if isinstance(c, cmd.OfferCall)))  # the first stopped ringing
    await box.hang_up_caller(call)
    record = await wait_until(lambda: logged(seen, call), what="the call's record")
    assert (record.on_call, record.after_hours, record.queue, str(record.outcome)) == (
        "Dr. Home", True, None, "answered",
    )  # fmt: skip


async def test_given_ring_all_when_one_phone_answers_then_the_other_stops_ringing_and_its_agent_is_free(
    sandbox: SandboxFactory,
) -> None:
    agents = {"a1": (phone("201"), (ACME,)), "a2": (phone("101"), (ACME,))}
    box = await sandbox(agents, plan(agents, strategy=Strategy.RING_ALL))
    seen = watch(box)
    loser, winner = await box.console("a1"), await box.console("a2")
    call = await box.call(CALLER, DID)
    await loser.expect("offer", call=call)
    await winner.expect("call-connected", call=call)
    withdrawn = await loser.expect("offer-withdrawn", call=call)
    assert withdrawn["reason"] == "answered-elsewhere"
    await loser.expect("state", state="ready")
    await box.gone(withdrawn["offer"])
    assert len([c for c in seen if isinstance(c, cmd.OfferCall)]) == 2
    await box.hang_up_caller(call)
    assert str((await box.logged(call)).record.outcome) == "answered"


async def test_given_a_waiting_caller_who_presses_1_then_called_back_when_an_agent_is_free(
    sandbox: SandboxFactory,
) -> None:
    agents = {"a1": (phone("101"), (ACME,))}
    box = await sandbox(agents, plan(agents, rules=(Rule(1, Action.CALLBACK),)))
    seen = watch(box)
    agent = await box.console("a1", ready=False)
    call = await box.call(CALLER, DID, keypad=True)
    await wait_until(lambda: cmd.OfferCallbackChoice(call) in seen, 10, "the callback offer")  # type: ignore[arg-type]
    keypad = call.removesuffix(";2")
    await box.ari.send_dtmf(keypad, "1")
    record = await wait_until(lambda: logged(seen, call), 10, "the caller's record")
    assert str(record.outcome) == "callback"
    await agent.send(type="ready")
    offer = await agent.expect("offer", callback=True)
    await wait_until(lambda: [c for c in seen if isinstance(c, cmd.DialCustomer)], 10, "the customer dialed")
    connected = await agent.expect("call-connected", call=offer["call"])
    assert connected["call"] == f"sb-cb-{call}"
    await box.ari.hangup(offer["call"])  # the customer hangs up
    back = await wait_until(lambda: logged(seen, offer["call"]), 10, "the callback's record")
    assert (str(back.outcome), back.callback_of, back.agent) == ("answered", call, "a1")


async def test_given_a_waiting_caller_then_position_is_announced_and_the_call_is_still_served_after(
    sandbox: SandboxFactory,
) -> None:
    agents = {"a1": (phone("101"), (ACME,))}
    box = await sandbox(agents, plan(agents, announce_every_s=1.0))
    seen = watch(box)
    agent = await box.console("a1", ready=False)
    call = await box.call(CALLER, DID)
    announced = await wait_until(
        lambda: [c for c in seen if isinstance(c, cmd.AnnouncePosition) and c.call == call],
        10,
        "announcement",
    )
    assert announced[0].position == 1
    await agent.send(type="ready")
    await agent.expect("call-connected", call=call)
    await box.hang_up_caller(call)
    assert str((await box.logged(call)).record.outcome) == "answered"
