"""Call control on the real Asterisk sandbox: the agent hangs up (and declines) from the console, holds
and resumes, transfers to a queue and to an outside number, and escalates to the on-call chain (whose
people accept with the key 1: tests/integration/test_escalation_accept.py has the rest of that).

The console's websocket messages for these are not wired yet, so the tests submit the router events
through the service's own loop, as the console backend will. Phones (conftest): 1xx answer after
300 ms, 2xx never answer, 6xx answer and press 1; switchboard-outbound answers any number after 300 ms.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from routing import commands as cmd
from routing import events as ev
from routing.commands import EscalationStatus
from routing.ids import AgentId, LineId, QueueId
from routing.plan import Agent, Did, Line, OnCallStep, Plan, Queue
from tests.integration.conftest import (
    DIDS,
    Sandbox,
    SandboxFactory,
    act,
    bridge_members,
    phone,
    wait_until,
    wait_until_async,
    watch,
)

pytestmark = pytest.mark.asterisk

ACME, SUPPORT = QueueId("acme"), QueueId("support")
CALLER = "+14155550123"
DID = "+18005550101"
NUMBER = "+14155550199"


def plan(
    agents: dict[str, tuple[str, QueueId]], on_call: tuple[OnCallStep, ...] = (), rounds: int = 1
) -> Plan:
    queues = {
        q: Queue(id=q, name=q.title(), ring_timeout_s=10, max_wait_s=120, announce_every_s=0)
        for q in (ACME, SUPPORT)
    }
    line = Line(id=LineId("acme"), name="Acme Service", queue=ACME, on_call=on_call, escalation_rounds=rounds)
    return Plan(
        dids={n: Did(n, src, line.id) for n, src in DIDS.items()},
        lines={line.id: line},
        queues=queues,
        agents={
            AgentId(a): Agent(id=AgentId(a), name=a, endpoint=ext, queues=(q,))
            for a, (ext, q) in agents.items()
        },
    )


def ari_log(box: Sandbox) -> list[tuple[str, str]]:
    """Every REST call the service's PBX adapter makes from now on that Asterisk accepted."""
    done: list[tuple[str, str]] = []
    client = box.service.ari
    original = client.request

    async def request(method: str, path: str, params: Any = None, body: Any = None) -> Any:
        result = await original(method, path, params, body)
        done.append((method, path))
        return result

    client.request = request  # type: ignore[method-assign]
    return done


async def in_bridge(box: Sandbox, call: str) -> set[str]:
    return await bridge_members(box, f"sb-bridge-{call}")


async def bridged(box: Sandbox, call: str, *channels: str, timeout: float = 10.0) -> None:
    last: list[set[str]] = []

    async def check() -> bool:
        last.append(await in_bridge(box, call))
        return last[-1] == {call, *channels}

    try:
        await wait_until_async(check, timeout, f"{call} bridged with {channels}")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; the bridge holds {last[-1] if last else None}") from None


def logged(seen: list[cmd.Command], call: str) -> Any:
    found = [c.record for c in seen if isinstance(c, cmd.LogCall) and c.record.call == call]
    return found[0] if found else None


def updates(seen: list[cmd.Command]) -> list[cmd.EscalationUpdate]:
    return [c for c in seen if isinstance(c, cmd.EscalationUpdate)]


async def test_given_a_connected_call_when_the_agent_hangs_up_on_the_console_then_both_legs_end(
    sandbox: SandboxFactory,
) -> None:
    agents = {"a1": (phone("101"), ACME)}
    box = await sandbox(agents, plan(agents))
    agent = await box.console("a1")
    call = await box.call(CALLER, DID)
    await agent.expect("call-connected", call=call)
    await act(box, ev.AgentHungUp, AgentId("a1"))
    await box.gone(call)
    await box.gone(f"sb-{call}-1")
    ended = await agent.expect("call-ended", call=call)
    assert (ended["outcome"], ended["hung_up_by"]) == ("answered", "agent")
    row = await box.logged(call)
    assert (str(row.record.outcome), str(row.record.hung_up_by), row.record.agent) == (
        "answered",
        "agent",
        "a1",
    )


async def test_given_a_ringing_phone_when_the_agent_hangs_up_then_declined_and_the_next_agent_answers(
    sandbox: SandboxFactory,
) -> None:
    agents = {"a1": (phone("201"), ACME), "a2": (phone("102"), ACME)}
    box = await sandbox(agents, plan(agents))
    first, second = await box.console("a1"), await box.console("a2")
    call = await box.call(CALLER, DID)
    await first.expect("offer", call=call)
    await act(box, ev.AgentHungUp, AgentId("a1"))
    withdrawn = await first.expect("offer-withdrawn", call=call)
    assert withdrawn["reason"] == "declined"
    await box.gone(withdrawn["offer"])  # a1's phone stopped ringing
    await second.expect("call-connected", call=call)
    await bridged(box, call, f"sb-{call}-2")
    await box.hang_up_caller(call)
    assert (await box.logged(call)).record.agent == "a2"


async def test_given_a_connected_call_when_held_then_the_caller_leaves_the_bridge_for_music_and_comes_back(
    sandbox: SandboxFactory,
) -> None:
    agents = {"a1": (phone("101"), ACME)}
    box = await sandbox(agents, plan(agents))
    seen = watch(box)
    agent = await box.console("a1")
    call = await box.call(CALLER, DID)
    await agent.expect("call-connected", call=call)
    leg = f"sb-{call}-1"
    await bridged(box, call, leg)
    done = ari_log(box)
    await act(box, ev.HoldRequested, AgentId("a1"))
    moh = ("POST", f"/channels/{quote(call, safe='')}/moh")
    await wait_until(lambda: moh in done, 5, "hold music started on the caller")
    assert await in_bridge(box, call) == {leg}  # the agent alone: silence
    assert [c.held for c in seen if isinstance(c, cmd.CallHeld)] == [True]
    view = box.service.router.call_view(call)  # type: ignore[arg-type]
    assert view is not None and view.held
    await act(box, ev.ResumeRequested, AgentId("a1"))
    await bridged(box, call, leg)
    assert ("DELETE", f"/channels/{quote(call, safe='')}/moh") in done
    await act(box, ev.HoldRequested, AgentId("a1"))
    await wait_until(lambda: done.count(moh) == 2, 5, "on hold again")
    await box.hang_up_caller(call)  # hanging up while held ends the call normally
    await box.gone(leg)
    row = await box.logged(call)
    assert (str(row.record.outcome), str(row.record.hung_up_by)) == ("answered", "caller")


async def test_given_a_connected_call_when_transferred_to_a_queue_then_the_second_agent_takes_it(
    sandbox: SandboxFactory,
) -> None:
    agents = {"a1": (phone("101"), ACME), "b1": (phone("102"), SUPPORT)}
    box = await sandbox(agents, plan(agents))
    seen = watch(box)
    first, second = await box.console("a1"), await box.console("b1")
    call = await box.call(CALLER, DID)
    await first.expect("call-connected", call=call)
    await act(box, ev.TransferRequested, AgentId("a1"), ev.TransferKind.QUEUE, "support")
    await second.expect("call-connected", call=call)
    await box.gone(f"sb-{call}-1")
    await bridged(box, call, f"sb-{call}-2")
    await first.expect("state", state="ready")  # a1's stretch is over (no wrap-up in this plan)
    await box.hang_up_caller(call)
    stretch, whole = (await box.logged(f"{call}~1")).record, (await box.logged(call)).record
    assert (str(stretch.outcome), stretch.agent, str(stretch.hung_up_by)) == ("transferred", "a1", "agent")
    assert (str(whole.outcome), whole.agent, whole.queue, str(whole.hung_up_by)) == (
        "answered", "b1", "support", "caller",
    )  # fmt: skip
    assert logged(seen, f"{call}~1").part_of == call


async def test_given_a_connected_call_when_transferred_to_a_number_then_the_caller_talks_to_it(
    sandbox: SandboxFactory,
) -> None:
    agents = {"a1": (phone("101"), ACME)}
    box = await sandbox(agents, plan(agents))
    seen = watch(box)
    agent = await box.console("a1")
    call = await box.call(CALLER, DID)
    await agent.expect("call-connected", call=call)
    await act(box, ev.TransferRequested, AgentId("a1"), ev.TransferKind.NUMBER, NUMBER)
    await box.gone(f"sb-{call}-1")
    await bridged(box, call, f"sb-{call}-2")
    assert [c.number for c in seen if isinstance(c, cmd.DialNumber)] == [NUMBER]
    await box.hang_up_caller(call)
    await box.gone(f"sb-{call}-2")
    assert str((await box.logged(f"{call}~1")).record.outcome) == "transferred"
    whole = await box.logged(call)
    assert (whole.record.on_call, str(whole.record.outcome)) == (NUMBER, "answered")


async def test_given_an_escalation_when_the_second_person_answers_then_they_take_the_caller(
    sandbox: SandboxFactory,
) -> None:
    chain = (OnCallStep("Dr. Away", phone("201"), 2), OnCallStep("Dr. Home", phone("603"), 10))
    agents = {"a1": (phone("102"), ACME)}
    box = await sandbox(agents, plan(agents, chain))
    seen = watch(box)
    agent = await box.console("a1")
    call = await box.call(CALLER, DID)
    await agent.expect("call-connected", call=call)
    await act(box, ev.EscalationRequested, AgentId("a1"))
    await wait_until(lambda: await_status(seen, EscalationStatus.ANSWERED), 15, "the escalation answered")
    assert [(u.status, u.person) for u in updates(seen)] == [
        (EscalationStatus.RINGING, "Dr. Away"),
        (EscalationStatus.RINGING, "Dr. Home"),
        (EscalationStatus.PROMPTED, "Dr. Home"),  # picked up, deciding: the agent's console says so
        (EscalationStatus.ANSWERED, "Dr. Home"),
    ]
    assert updates(seen)[-1].attempts == (("Dr. Away", "no-answer"), ("Dr. Home", "accepted"))
    await box.gone(f"sb-{call}-1")  # the agent is out of the call
    await box.gone(f"sb-{call}-2")  # Dr. Away stopped ringing
    await bridged(box, call, f"sb-{call}-3")
    await box.hang_up_caller(call)
    await box.gone(f"sb-{call}-3")
    stretch, whole = await box.logged(f"{call}~1"), await box.logged(call)
    assert (str(stretch.record.outcome), stretch.record.agent) == ("transferred", "a1")
    assert (whole.record.on_call, str(whole.record.outcome), str(whole.record.hung_up_by)) == (
        "Dr. Home",
        "answered",
        "caller",
    )


async def test_given_an_escalation_nobody_answers_then_the_caller_is_back_with_the_agent(
    sandbox: SandboxFactory,
) -> None:
    chain = (OnCallStep("Dr. Away", phone("201"), 2), OnCallStep("Dr. Gone", phone("202"), 2))
    agents = {"a1": (phone("101"), ACME)}
    box = await sandbox(agents, plan(agents, chain))
    seen = watch(box)
    agent = await box.console("a1")
    call = await box.call(CALLER, DID)
    await agent.expect("call-connected", call=call)
    leg = f"sb-{call}-1"
    await bridged(box, call, leg)
    await act(box, ev.EscalationRequested, AgentId("a1"))
    await wait_until(lambda: escalation_started(seen), 1, "the escalation started")
    await wait_until_async(lambda: _alone(box, call, leg), 5, "the caller on hold")  # the agent alone
    await wait_until(lambda: await_status(seen, EscalationStatus.FAILED), 20, "the escalation failed")
    assert updates(seen)[-1].attempts == (("Dr. Away", "no-answer"), ("Dr. Gone", "no-answer"))
    await bridged(box, call, leg)  # back with the agent
    await box.hang_up_caller(call)
    whole = await box.logged(call)
    assert (whole.record.agent, whole.record.on_call, str(whole.record.outcome)) == ("a1", None, "answered")


def await_status(seen: list[cmd.Command], status: EscalationStatus) -> bool:
    return any(u.status is status for u in updates(seen))


def escalation_started(seen: list[cmd.Command]) -> bool:
    return any(isinstance(c, cmd.HoldCall) for c in seen)


async def test_given_a_connected_call_when_transferred_to_a_ready_agent_then_they_take_it(
    sandbox: SandboxFactory,
) -> None:
    agents = {"a1": (phone("101"), ACME), "b1": (phone("102"), SUPPORT)}
    box = await sandbox(agents, plan(agents))
    first, second = await box.console("a1"), await box.console("b1")
    call = await box.call(CALLER, DID)
    await first.expect("call-connected", call=call)
    await act(box, ev.TransferRequested, AgentId("a1"), ev.TransferKind.AGENT, "b1")
    offer = await second.expect("offer", call=call)
    assert offer["queue"] == "acme"  # offered from the call's own queue
    await second.expect("call-connected", call=call)
    await bridged(box, call, f"sb-{call}-2")
    await box.gone(f"sb-{call}-1")
    await box.hang_up_caller(call)
    assert ((await box.logged(f"{call}~1")).record.agent, (await box.logged(call)).record.agent) == (
        "a1",
        "b1",
    )


async def test_given_an_escalation_when_the_caller_hangs_up_then_every_leg_stops(
    sandbox: SandboxFactory,
) -> None:
    chain = (OnCallStep("Dr. Away", phone("201"), 30),)
    agents = {"a1": (phone("101"), ACME)}
    box = await sandbox(agents, plan(agents, chain))
    agent = await box.console("a1")
    call = await box.call(CALLER, DID)
    await agent.expect("call-connected", call=call)
    await act(box, ev.EscalationRequested, AgentId("a1"))
    ringing = f"sb-{call}-2"
    await wait_until_async(lambda: _has(box, ringing), 5, "Dr. Away's phone ringing")
    await box.hang_up_caller(call)
    await box.gone(ringing)
    await box.gone(f"sb-{call}-1")
    row = await box.logged(call)
    assert (str(row.record.outcome), str(row.record.hung_up_by), row.record.agent, row.record.on_call) == (
        "answered",
        "caller",
        "a1",
        None,
    )


async def test_given_an_escalation_when_the_agent_hangs_up_then_it_goes_on_and_the_next_person_takes_it(
    sandbox: SandboxFactory,
) -> None:
    chain = (OnCallStep("Dr. Away", phone("201"), 3), OnCallStep("Dr. Home", phone("603"), 10))
    agents = {"a1": (phone("101"), ACME)}
    box = await sandbox(agents, plan(agents, chain))
    seen = watch(box)
    agent = await box.console("a1")
    call = await box.call(CALLER, DID)
    await agent.expect("call-connected", call=call)
    await act(box, ev.EscalationRequested, AgentId("a1"))
    await act(box, ev.AgentHungUp, AgentId("a1"))
    await box.gone(f"sb-{call}-1")
    assert str((await box.logged(f"{call}~1")).record.outcome) == "transferred"
    await bridged(box, call, f"sb-{call}-3", timeout=15)
    assert [u.status for u in updates(seen)] == [EscalationStatus.RINGING]  # none after the agent left
    await box.hang_up_caller(call)
    assert (await box.logged(call)).record.on_call == "Dr. Home"


async def _has(box: Sandbox, channel: str) -> bool:
    return channel in await box.channels()


async def _alone(box: Sandbox, call: str, leg: str) -> bool:
    return await in_bridge(box, call) == {leg}
