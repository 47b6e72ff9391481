"""Call control from the console: each message becomes its router event, refusals come back with the
contract's codes, and the router's call notices (hold, escalation) reach the console."""

from __future__ import annotations

from typing import Any

import pytest

from agent_console.error_codes import error_code
from routing import commands as cmd
from routing import events as ev
from routing.errors import (
    AgentNotReady,
    IllegalTransition,
    NoOnCall,
    NoWarmPatch,
    RoutingError,
    UnknownAgent,
    UnknownQueue,
    UnknownReason,
)
from routing.ids import AgentId, CallId, LineId
from routing.plan import OnCallStep
from tests.agent_console.harness import Console, next_of
from tests.agent_console.test_console_snapshot import connected_call

A1 = AgentId("a1")


async def round_trip(ws: Any) -> None:
    """Messages are handled in order: once the reply to this arrives, the ones before it are done."""
    await ws.send_json({"type": "nonsense"})
    assert (await next_of(ws, "error"))["error"] == "bad-message"


@pytest.mark.parametrize(
    ("message", "event"),
    [
        ({"type": "hang-up"}, ev.AgentHungUp(A1, 1000.0)),
        ({"type": "hold"}, ev.HoldRequested(A1, 1000.0)),
        ({"type": "resume"}, ev.ResumeRequested(A1, 1000.0)),
        ({"type": "escalate"}, ev.EscalationRequested(A1, 1000.0)),
        ({"type": "connect-caller"}, ev.WarmPatchDecided(A1, 1000.0, connect=True)),
        ({"type": "back-to-caller"}, ev.WarmPatchDecided(A1, 1000.0, connect=False)),
        ({"type": "transfer", "to": "queue", "target": "q"},
         ev.TransferRequested(A1, ev.TransferKind.QUEUE, "q", 1000.0)),
        ({"type": "transfer", "to": "agent", "target": "a2"},
         ev.TransferRequested(A1, ev.TransferKind.AGENT, "a2", 1000.0)),
        ({"type": "transfer", "to": "number", "target": "(415) 555-0199"},
         ev.TransferRequested(A1, ev.TransferKind.NUMBER, "+14155550199", 1000.0)),
        ({"type": "transfer", "to": "number", "target": "+44 20 7946 0958"},
         ev.TransferRequested(A1, ev.TransferKind.NUMBER, "+442079460958", 1000.0)),
    ],
)  # fmt: skip
async def test_given_a_logged_in_agent_when_sending_call_control_then_the_router_gets_its_event(
    console: Console, message: dict[str, Any], event: ev.Event
) -> None:
    ws = await console.ws()
    await ws.send_json(message)
    await round_trip(ws)
    assert console.ask.events[-1] == event


@pytest.mark.parametrize("target", ["not a number", "12", "+1 415 555 01999999999"])
async def test_given_a_transfer_to_a_bad_number_then_bad_number_and_no_event(
    console: Console, target: str
) -> None:
    ws = await console.ws()
    await ws.send_json({"type": "transfer", "to": "number", "target": target})
    assert (await next_of(ws, "error"))["error"] == "bad-number"
    assert not any(isinstance(e, ev.TransferRequested) for e in console.ask.events)


async def test_given_no_login_when_sending_call_control_then_not_logged_in(console: Console) -> None:
    ws = await console.ws(login=False)
    await ws.send_json({"type": "hold"})
    assert (await ws.receive_json())["error"] == "not-logged-in"
    assert console.ask.events == []


class NotAllowedWhileRinging(IllegalTransition):
    """A finer refusal the router may gain: its parent's code applies (the table is read along the MRO)."""


@pytest.mark.parametrize(
    ("refusal", "code"),
    [
        (UnknownQueue("q9"), "unknown-queue"),
        (UnknownAgent("a9"), "unknown-agent"),
        (AgentNotReady("a2", "on-call"), "agent-not-ready"),
        (NoOnCall("acme"), "no-on-call"),
        (NoWarmPatch("c1"), "no-warm-patch"),
        (UnknownReason("nap"), "unknown-reason"),
        (NotAllowedWhileRinging("a1", "ringing", "hold"), "not-allowed-now"),
        (IllegalTransition("a1", "ready", "hold"), "not-allowed-now"),
        (RoutingError("something new"), "routing-refused"),
    ],
)
async def test_given_a_router_refusal_when_sending_call_control_then_the_contract_code(
    console: Console, refusal: RoutingError, code: str
) -> None:
    ws = await console.ws()
    console.ask.refusal = refusal
    await ws.send_json({"type": "transfer", "to": "agent", "target": "a2"})
    error = await next_of(ws, "error")
    assert (error["error"], error["message"]) == (code, str(refusal))
    assert error_code(refusal) == code


async def test_given_a_router_that_fails_when_sending_call_control_then_internal_error_and_the_socket_lives(
    console: Console,
) -> None:
    ws = await console.ws()
    console.ask.refusal = KeyError("AgentHungUp")  # today's router: no handler for the event yet
    await ws.send_json({"type": "hang-up"})
    assert (await next_of(ws, "error"))["error"] == "internal-error"
    console.ask.refusal = None
    await ws.send_json({"type": "hang-up"})
    await round_trip(ws)
    assert console.ask.events[-1] == ev.AgentHungUp(A1, 1000.0)


async def test_given_a_call_when_the_router_reports_hold_and_escalation_then_the_console_shows_them(
    console: Console,
) -> None:
    ws = await console.ws()
    console.bus.publish(cmd.CallHeld(A1, CallId("c1"), True, 1002.0))
    assert await next_of(ws, "call-held") == {"type": "call-held", "call": "c1", "held": True, "at": 1002.0}
    attempts = (("Dr. Smith", "no-answer"), ("Dr. Jones", "answered"))
    console.bus.publish(
        cmd.EscalationUpdate(
            agent=A1,
            call=CallId("c1"),
            status=cmd.EscalationStatus.ANSWERED,
            person="Dr. Jones",
            attempts=attempts,
            at=1040.0,
        )
    )
    assert await next_of(ws, "escalation") == {
        "type": "escalation", "call": "c1", "status": "answered", "person": "Dr. Jones", "at": 1040.0,
        "attempts": [{"person": "Dr. Smith", "result": "no-answer"},
                     {"person": "Dr. Jones", "result": "answered"}],
    }  # fmt: skip
    console.bus.publish(cmd.CallHeld(AgentId("a2"), CallId("c2"), True, 1003.0))  # someone else's
    await ws.send_json({"type": "nonsense"})
    assert (await ws.receive_json())["type"] == "error"  # nothing about a2's call came before it


async def test_given_an_on_call_schedule_when_the_agent_escalates_then_its_chain_goes_in_the_event(
    console: Console,
) -> None:
    asked: list[tuple[LineId, float]] = []
    chain = (OnCallStep("Dr. Lee", "Local/+14155550100@out", 20, number="+14155550100"),)

    async def on_call(line: LineId, at: float) -> tuple[OnCallStep, ...]:
        asked.append((line, at))
        return chain

    console.backend.on_call = on_call
    ws = await connected_call(console)
    await ws.send_json({"type": "escalate"})
    await round_trip(ws)
    assert asked == [(LineId("acme"), 1000.0)]  # the call's line, resolved when the agent asked
    assert console.ask.events[-1] == ev.EscalationRequested(A1, 1000.0, chain)
