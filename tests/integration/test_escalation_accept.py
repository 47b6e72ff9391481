"""Escalation until someone accepts, on the real Asterisk sandbox: the on-call person's phone picks up,
hears who the call is for (the prompt plays on their leg) and presses 1 to be patched to the caller;
a phone that answers and presses nothing (a voicemail would), one that presses 2, one that is busy and one
that never answers are attempts that failed, and the chain goes on, round after round.

On-call phones (telephony/sandbox/extensions.conf): 6xx answers and presses 1 after a second, 7xx answers
and presses nothing, 8xx answers and presses 2 after a second, 4xx is busy, 2xx never answers.
The agent escalates through the service's own loop (``act``), as the console's Escalate does.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

import pytest

from crm_core.domain.oncall import Cadence, Contact, ContactKind, PatchMethod, Rotation, Tier
from routing import commands as cmd
from routing import events as ev
from routing.commands import EscalationStatus
from routing.hours import Hours
from routing.ids import AgentId, LineId, QueueId
from routing.plan import AfterHours, AfterHoursKind, Agent, Did, Line, OnCallStep, Plan, Queue
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

ACME = QueueId("acme")
CALLER = "+14155550123"
DID = "+18005550101"
ONCALL = "Local/{number}@switchboard-oncall"  # the sandbox's stand-in for the outbound trunk


def plan(chain: tuple[OnCallStep, ...], rounds: int) -> Plan:
    line = Line(id=LineId("acme"), name="Acme Service", queue=ACME, on_call=chain, escalation_rounds=rounds)
    return Plan(
        dids={n: Did(n, src, line.id) for n, src in DIDS.items()},
        lines={line.id: line},
        queues={ACME: Queue(id=ACME, name="Acme", ring_timeout_s=10, max_wait_s=120, announce_every_s=0)},
        agents={AgentId("a1"): Agent(id=AgentId("a1"), name="a1", endpoint=phone("101"), queues=(ACME,))},
    )


def closed(chain: tuple[OnCallStep, ...]) -> Plan:
    """The same line, closed, whose after-hours policy rings ``chain``."""
    shut = {
        "hours": Hours(timezone="UTC", weekly={}),
        "after_hours": AfterHours(AfterHoursKind.ON_CALL, None, chain),
    }
    line = dataclasses.replace(plan((), 1).lines[LineId("acme")], **shut)
    return dataclasses.replace(plan((), 1), lines={line.id: line})


def tried(seen: list[cmd.Command]) -> list[tuple[str, int, int, str]]:
    return [(a.person, a.round, a.step, a.result) for a in seen if isinstance(a, cmd.EscalationAttempt)]


def final(seen: list[cmd.Command]) -> cmd.EscalationUpdate | None:
    under_way = (EscalationStatus.RINGING, EscalationStatus.PROMPTED, EscalationStatus.CONSULTING)
    done = [c for c in seen if isinstance(c, cmd.EscalationUpdate) and c.status not in under_way]
    return done[-1] if done else None


async def escalated(
    sandbox: SandboxFactory, chain: tuple[OnCallStep, ...], rounds: int
) -> tuple[Sandbox, list[cmd.Command], str]:
    """a1 takes a call and, once the caller and a1 are bridged, escalates it to ``chain``."""
    box = await sandbox({"a1": phone("101")}, plan(chain, rounds))
    seen = watch(box)
    agent = await box.console("a1")
    call = await box.call(CALLER, DID)
    await agent.expect("call-connected", call=call)
    await wait_until_async(lambda: _bridged(box, call, f"sb-{call}-1"), 5, "the caller with the agent")
    await act(box, ev.EscalationRequested, AgentId("a1"))
    return box, seen, call


async def test_given_an_on_call_person_who_presses_1_then_patched_to_the_caller_and_the_attempt_stored(
    sandbox: SandboxFactory,
) -> None:
    box, seen, call = await escalated(sandbox, (OnCallStep("Dr. Yes", phone("601"), 10),), 2)
    person = f"sb-{call}-2"
    # Picked up at 0.3 s: prompted, the caller still on hold and not with the person
    await wait_until(lambda: any(isinstance(c, cmd.PromptOnCall) for c in seen), 5, "the person prompted")
    assert await bridge_members(box, f"sb-bridge-{call}") != {call, person}
    await wait_until(lambda: final(seen), 10, "the escalation over")
    update = final(seen)
    assert update is not None and (update.status, update.person) == (EscalationStatus.ANSWERED, "Dr. Yes")
    await wait_until_async(
        lambda: _bridged(box, call, person), 5, "the caller and the on-call person bridged"
    )
    await box.gone(f"sb-{call}-1")  # the agent is out of the call
    assert tried(seen) == [("Dr. Yes", 1, 1, "accepted")]
    assert await stored(box, call) == [("Dr. Yes", phone("601"), 1, 1, "accepted")]
    await box.hang_up_caller(call)
    whole = await box.logged(call)
    assert (whole.record.on_call, str(whole.record.outcome)) == ("Dr. Yes", "answered")


async def test_given_people_who_decline_or_say_nothing_then_the_next_one_who_presses_1_takes_it(
    sandbox: SandboxFactory,
) -> None:
    chain = (
        OnCallStep("Dr. No", phone("801"), 10),
        OnCallStep("Dr. Voicemail", phone("701"), 3),
        OnCallStep("Dr. Yes", phone("601"), 10),
    )
    box, seen, call = await escalated(sandbox, chain, 1)
    await wait_until(lambda: final(seen), 20, "the escalation over")
    assert tried(seen) == [
        ("Dr. No", 1, 1, "declined"),
        ("Dr. Voicemail", 1, 2, "voicemail-or-no-key"),
        ("Dr. Yes", 1, 3, "accepted"),
    ]
    await box.gone(f"sb-{call}-2")  # Dr. No's and Dr. Voicemail's legs were hung up
    await box.gone(f"sb-{call}-3")
    await wait_until_async(lambda: _bridged(box, call, f"sb-{call}-4"), 5, "the caller with Dr. Yes")
    await box.hang_up_caller(call)
    assert (await box.logged(call)).record.on_call == "Dr. Yes"


async def test_given_two_rounds_nobody_accepts_then_every_attempt_stored_and_the_caller_back_with_the_agent(
    sandbox: SandboxFactory,
) -> None:
    chain = (
        OnCallStep("Dr. Voicemail", phone("702"), 2),
        OnCallStep("Dr. Busy", phone("401"), 2),
        OnCallStep("Dr. Away", phone("201"), 2),
    )
    box, seen, call = await escalated(sandbox, chain, 2)
    leg = f"sb-{call}-1"
    await wait_until(lambda: final(seen), 30, "the escalation over")
    update = final(seen)
    assert update is not None and update.status is EscalationStatus.FAILED
    results = [("Dr. Voicemail", "voicemail-or-no-key"), ("Dr. Busy", "busy"), ("Dr. Away", "no-answer")]
    assert tried(seen) == [(p, r, s, why) for r in (1, 2) for s, (p, why) in enumerate(results, 1)]
    rows = await stored(box, call)
    assert [(p, r, s, why) for p, _, r, s, why in rows] == tried(seen)  # every attempt in the store
    assert [number for _, number, *_ in rows[:3]] == [phone("702"), phone("401"), phone("201")]
    await wait_until_async(lambda: _bridged(box, call, leg), 5, "the caller back with the agent")
    for n in range(2, 8):
        await box.gone(f"sb-{call}-{n}")
    await box.hang_up_caller(call)
    whole = await box.logged(call)
    assert (whole.record.agent, whole.record.on_call, str(whole.record.outcome)) == ("a1", None, "answered")


async def stored(box: Sandbox, call: str) -> list[tuple[str, str, int, int, str]]:
    """The call's escalation attempts as the store has them (once the recorder has written them)."""
    await box.service.attempts.flush()
    kept = (await box.service.store.escalations.of_calls([call])).get(call, ())
    return [(a.person, a.number, a.round, a.step, a.result) for a in kept]


async def _bridged(box: Sandbox, call: str, other: str) -> bool:
    return await _in_bridge(box, call, call, other)


async def _in_bridge(box: Sandbox, call: str, *legs: str) -> bool:
    return await bridge_members(box, f"sb-bridge-{call}") == set(legs)


async def test_given_an_on_call_schedule_then_its_tiers_are_rung_not_the_config_and_message_only_skipped(
    sandbox: SandboxFactory,
) -> None:
    """The console's Escalate: the chain comes from the business's schedule, read when the agent asks
    (numbers dialled through ``Local/{number}@switchboard-oncall``, whose last digits pick the phone)."""
    config_chain = (OnCallStep("Dr. Config", phone("601"), 10),)
    box = await sandbox({"a1": phone("101")}, plan(config_chain, 1), outbound=ONCALL)
    oncall, line = box.service.store.oncall, LineId("acme")
    await oncall.set_timezone(line, "UTC", who="admin")
    notes = await oncall.add_person(line, "Dr. Notes", PatchMethod.MESSAGE_ONLY,
                                    [Contact(ContactKind.PHONE, "+14155550601")], who="admin")  # fmt: skip
    no = await oncall.add_person(line, "Dr. No", PatchMethod.COLD,
                                 [Contact(ContactKind.MOBILE, "+14155550801")], who="admin")  # fmt: skip
    yes = await oncall.add_person(line, "Dr. Yes", PatchMethod.COLD,
                                  [Contact(ContactKind.PHONE, "+14155550602")], who="admin")  # fmt: skip
    for tier, who in ((Tier.PRIMARY, notes), (Tier.BACKUP, no), (Tier.MANAGER, yes)):
        rotation = Rotation(tier=tier, cadence=Cadence.DAILY, people=(who.id,), starts_on=date(2020, 1, 1))
        await oncall.set_rotation(line, rotation, who="admin")
    agent = await box.console("a1")
    call = await box.call(CALLER, DID)
    await agent.expect("call-connected", call=call)
    await agent.send(type="escalate")
    taken = await agent.expect("escalation", call=call, status="answered", timeout=20)
    assert taken["attempts"] == [
        {"person": "Dr. No", "result": "declined"},
        {"person": "Dr. Yes", "result": "accepted"},
    ]
    assert [(person, number) for person, number, *_ in await stored(box, call)] == [
        ("Dr. No", "+14155550801"),
        ("Dr. Yes", "+14155550602"),
    ]
    await wait_until_async(lambda: _bridged(box, call, f"sb-{call}-3"), 5, "the caller with Dr. Yes")
    await box.hang_up_caller(call)
    assert (await box.logged(call)).record.on_call == "Dr. Yes"


async def test_given_a_closed_line_when_the_first_person_presses_nothing_then_the_second_pressing_1_takes_it(
    sandbox: SandboxFactory,
) -> None:
    """After hours there is no agent: the line's on-call chain is rung on arrival, with the same prompt."""
    chain = (OnCallStep("Dr. Voicemail", phone("701"), 3), OnCallStep("Dr. Yes", phone("601"), 10))
    box = await sandbox({"a1": phone("101")}, closed(chain))
    seen = watch(box)
    call = await box.call(CALLER, DID)
    await wait_until(lambda: any(isinstance(c, cmd.BridgeCall) for c in seen), 20, "the on-call bridge")
    assert [c.offer for c in seen if isinstance(c, cmd.PromptOnCall)] == [f"sb-{call}-1", f"sb-{call}-2"]
    await box.gone(f"sb-{call}-1")  # Dr. Voicemail's leg was hung up
    await wait_until_async(lambda: _bridged(box, call, f"sb-{call}-2"), 5, "the caller with Dr. Yes")
    assert await stored(box, call) == [
        ("Dr. Voicemail", phone("701"), 1, 1, "voicemail-or-no-key"),
        ("Dr. Yes", phone("601"), 1, 2, "accepted"),
    ]
    await box.hang_up_caller(call)
    whole = await box.logged(call)
    assert (whole.record.on_call, whole.record.after_hours, str(whole.record.outcome)) == (
        "Dr. Yes", True, "answered",
    )  # fmt: skip


# --- warm patch: the agent announces the caller first ------------------------------------------------
def decided(connect: bool) -> Any:
    """The console's Connect caller (``connect``) or Back to caller, as ``act`` submits it."""
    return lambda agent, at: ev.WarmPatchDecided(agent, at, connect)


async def announcing(sandbox: SandboxFactory) -> tuple[Sandbox, list[cmd.Command], str]:
    """a1 escalates to Dr. Warm (601: presses 1), a warm patch: once the 1 is in, a1 and Dr. Warm are in
    the call's bridge and the caller, on hold, is not."""
    box, seen, call = await escalated(sandbox, (OnCallStep("Dr. Warm", phone("601"), 10, warm=True),), 1)
    agent, person = f"sb-{call}-1", f"sb-{call}-2"
    await wait_until(lambda: any(isinstance(c, cmd.ConsultOnCall) for c in seen), 10, "Dr. Warm accepted")
    await wait_until_async(lambda: _in_bridge(box, call, agent, person), 5, "the agent with Dr. Warm")
    assert not any(isinstance(c, cmd.EscalationAttempt) for c in seen)  # not over until the agent says
    return box, seen, call


async def test_given_a_warm_person_who_presses_1_when_the_agent_connects_then_caller_and_person_bridged(
    sandbox: SandboxFactory,
) -> None:
    box, seen, call = await announcing(sandbox)
    await act(box, decided(True), AgentId("a1"))
    await wait_until_async(lambda: _bridged(box, call, f"sb-{call}-2"), 5, "the caller with Dr. Warm")
    await box.gone(f"sb-{call}-1")  # the agent is out of the call
    update = final(seen)
    assert update is not None and (update.status, update.person) == (EscalationStatus.ANSWERED, "Dr. Warm")
    assert await stored(box, call) == [("Dr. Warm", phone("601"), 1, 1, "accepted")]
    assert str((await box.logged(f"{call}~1")).record.outcome) == "transferred"
    await box.hang_up_caller(call)
    assert (await box.logged(call)).record.on_call == "Dr. Warm"


async def test_given_a_warm_person_who_presses_1_when_the_agent_goes_back_then_the_caller_is_with_the_agent(
    sandbox: SandboxFactory,
) -> None:
    box, seen, call = await announcing(sandbox)
    await act(box, decided(False), AgentId("a1"))
    await box.gone(f"sb-{call}-2")  # Dr. Warm's leg is hung up
    await wait_until_async(lambda: _bridged(box, call, f"sb-{call}-1"), 5, "the caller back with the agent")
    update = final(seen)
    assert update is not None and (update.status, update.person) == (EscalationStatus.CANCELLED, "Dr. Warm")
    assert await stored(box, call) == [("Dr. Warm", phone("601"), 1, 1, "taken-back")]
    await box.hang_up_caller(call)
    whole = await box.logged(call)
    assert (whole.record.agent, whole.record.on_call, str(whole.record.outcome)) == ("a1", None, "answered")
