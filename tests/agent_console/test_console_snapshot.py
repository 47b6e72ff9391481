"""The snapshot a console gets on login and on every reconnect, and what every tab of an agent sees."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from agent_console import messages
from crm_core.domain.users import Role
from routing import commands as cmd
from routing import events as ev
from routing.ids import AgentId, CallId, LineId, OfferId, QueueId
from routing.plan import Queue
from routing.records import CallRecord, Outcome, Party
from tests.agent_console.fakes import FakeUsers, user
from tests.agent_console.harness import PLAN, Console, Q, make_console, next_of, ready, restarted
from tests.support import radio_call

A1, C1 = AgentId("a1"), CallId("c1")
WRAP_UP_PLAN = dataclasses.replace(PLAN, queues={Q: Queue(id=Q, name="Acme", wrap_up_s=60)})


async def connected_call(console: Console) -> Any:
    ws = await console.ws()
    await ready(ws)
    console.ring()
    await next_of(ws, "offer")
    console.answer()
    await next_of(ws, "call-connected")
    return ws


def segment(call: str, part_of: str | None) -> CallRecord:
    return radio_call(
        call,
        agent=A1,
        arrived_at=1000.0,
        answered_at=1001.0,
        ended_at=1030.0,
        outcome=Outcome.TRANSFERRED,
        hung_up_by=Party.AGENT,
        offers=1,
        part_of=None if part_of is None else CallId(part_of),
    )


async def test_given_an_agent_when_logging_in_then_a_snapshot_of_their_desk_and_the_floor(
    console: Console,
) -> None:
    ws = await console.ws()
    s = ws.snapshot
    assert (s["agent"], s["name"], s["role"], s["mode"]) == ("a1", "Alice", "agent", "agent")
    assert (s["state"], s["since"], s["until"]) == ("not-ready", 1000.0, None)
    assert s["pause_reasons"] == ["break", "lunch", "training", "meeting", "other"]
    assert s["disposition_codes"] == ["sale", "support", "no-action"]
    assert s["queues"] == [{"id": "q", "name": "Acme"}]
    assert s["agents"] == [{"id": "a1", "name": "Alice"}, {"id": "a2", "name": "Bob"}]
    assert (s["call"], s["wrap_up"]) == (None, None)


async def test_given_an_answering_service_user_when_logging_in_then_mode_answering() -> None:
    async with make_console(FakeUsers(user("alice", Role.ANSWERING, "a1"))) as console:
        ws = await console.ws()
        assert (ws.snapshot["role"], ws.snapshot["mode"]) == ("answering", "answering")


async def test_given_two_tabs_of_one_agent_then_the_same_snapshot_and_the_same_stream(
    console: Console,
) -> None:
    first = await console.ws()
    second = await console.ws()
    assert first.snapshot == second.snapshot
    await console.loop.ask(ev.AgentBecameReady(A1, 1000.0))
    console.ring()
    console.answer()
    await console.loop.ask(ev.Tick(1001.5))  # a round trip: the ring and the answer are handled
    console.bus.publish(cmd.CallHeld(A1, C1, True, 1002.0))
    console.hang_up()
    streams = [await until(tab, "call-ended") for tab in (first, second)]
    assert streams[0] == streams[1]
    assert [m["type"] for m in streams[0]][:3] == ["state", "state", "offer"]
    assert {"call-connected", "call-held"} <= {m["type"] for m in streams[0]}


async def until(tab: Any, kind: str) -> list[dict[str, Any]]:
    seen = [await tab.receive_json()]
    while seen[-1]["type"] != kind:
        seen.append(await tab.receive_json())
    return seen


async def test_given_a_call_in_progress_when_the_console_reconnects_then_it_resumes_the_call(
    console: Console,
) -> None:
    ws = await connected_call(console)
    console.bus.publish(cmd.CallHeld(A1, C1, True, 1002.0))
    update = cmd.EscalationUpdate(
        agent=A1, call=C1, status=cmd.EscalationStatus.RINGING, person="Dr. Smith", attempts=(), at=1003.0
    )
    console.bus.publish(update)
    escalation = await next_of(ws, "escalation")
    await ws.close()
    again = await console.ws()
    call = again.snapshot["call"]
    assert call["offer"]["call"] == "c1" and call["offer"]["customer"]["name"] == "Jane Doe"
    assert (call["connected_at"], call["held"], call["escalation"]) == (1001.0, True, escalation)
    assert again.snapshot["state"] == "on-call"
    console.hang_up()  # the resumed console follows the call to its end
    ended = await next_of(again, "call-ended")
    assert (ended["call"], ended["logged_as"], ended["outcome"]) == ("c1", "c1", "answered")
    after = await console.ws()
    assert after.snapshot["call"] is None
    assert after.snapshot["wrap_up"]["call"] == "c1" and after.snapshot["wrap_up"]["offer"]["call"] == "c1"


async def test_given_a_transferred_stretch_when_logged_then_call_ended_names_the_call_and_the_log_id(
    console: Console,
) -> None:
    ws = await connected_call(console)
    console.bus.publish(cmd.LogCall(segment("c1~1", "c1")))
    ended = await next_of(ws, "call-ended")
    assert (ended["call"], ended["logged_as"], ended["outcome"]) == ("c1", "c1~1", "transferred")
    again = await console.ws()
    assert again.snapshot["call"] is None and again.snapshot["wrap_up"]["call"] == "c1~1"


async def test_given_hostile_input_during_a_call_then_errors_and_the_call_goes_on(console: Console) -> None:
    ws = await connected_call(console)
    for raw in ["[" * 3000, json.dumps({"type": "hold", "x": 1}), "\x00", json.dumps({"type": "ready"})]:
        await ws.send_str(raw)
        assert (await next_of(ws, "error"))["error"] in ("bad-message", "not-allowed-now")
    await ws.send_bytes(b"\xff")
    assert (await next_of(ws, "error"))["error"] == "bad-message"
    assert console.loop.router.agent_view(A1).state == "on-call"
    console.hang_up()
    assert (await next_of(ws, "call-ended"))["call"] == "c1"


def restated_pop(call: str = "c1") -> cmd.PopScreen:
    return cmd.PopScreen(
        agent=A1, call=CallId(call), offer=OfferId(f"sb-{call}-1"), caller_number="+14155550100",
        caller_name=None, did="+18005550101", source="radio", line=LineId("acme"),
        line_name="Acme Service", queue=QueueId("q"), waited_s=5.0, priority=0, callback=False,
        after_hours=False,
    )  # fmt: skip


async def test_given_a_call_restated_after_a_restart_then_a_returning_console_shows_it_connected_and_held(
    console: Console,
) -> None:
    console.hub.restate(
        [restated_pop(), cmd.CallConnected(A1, C1, 995.0), cmd.CallHeld(A1, C1, True, 1000.0)]
    )
    ws = await console.ws()
    call = ws.snapshot["call"]
    assert (call["offer"]["call"], call["offer"]["waited_s"]) == ("c1", 5.0)
    assert (call["connected_at"], call["held"]) == (995.0, True)


async def test_given_an_escalation_restated_while_the_person_decides_then_a_returning_console_says_so(
    console: Console,
) -> None:
    tried = (("Dr. Smith", "no-answer"),)
    status = cmd.EscalationStatus.PROMPTED
    prompted = cmd.EscalationUpdate(
        agent=A1, call=C1, status=status, person="Dr. Jones", attempts=tried, at=1010
    )
    console.hub.restate([restated_pop(), cmd.CallConnected(A1, C1, 995.0), prompted])
    ws = await console.ws()
    escalation = ws.snapshot["call"]["escalation"]
    assert (escalation["status"], escalation["person"]) == ("prompted", "Dr. Jones")
    assert escalation["attempts"] == [{"person": "Dr. Smith", "result": "no-answer"}]


async def test_given_a_pop_restated_when_the_console_acknowledges_it_then_no_pop_latency_is_counted(
    console: Console,
) -> None:
    console.hub.restate([restated_pop()])
    ws = await console.ws()
    await ws.send_json({"type": "ack", "offer": "sb-c1-1"})
    await ws.send_json({"type": "ready"})  # a round trip, so the ack was handled
    await next_of(ws, "state")
    assert console.hub.acked == {}  # the phone rang before the restart: its latency is not this


# --- after a restart: the wrap-up form ------------------------------------------------------------
async def test_given_an_agent_in_wrap_up_when_the_service_restarts_then_a_console_gets_the_same_form() -> (
    None
):
    users = FakeUsers(user("alice", Role.AGENT, "a1"))
    async with make_console(users, plan=WRAP_UP_PLAN) as before:
        ws = await connected_call(before)
        before.hang_up()
        await next_of(ws, "call-ended")
        kept = (await before.ws()).snapshot  # what a console coming back got before the restart
        async with make_console(users, plan=WRAP_UP_PLAN) as after:
            after.directory.number_of.update(before.directory.number_of)  # the store knows the caller
            restarted(before, after)
            again = await after.ws()
    assert (kept["state"], kept["until"]) == ("wrap-up", 1090.0)
    assert kept["wrap_up"]["call"] == "c1" and kept["wrap_up"]["until"] == 1090.0
    assert kept["wrap_up"]["offer"]["customer"]["name"] == "Jane Doe"
    assert again.snapshot == kept


async def test_given_a_restated_form_whose_caller_is_still_being_looked_up_then_the_record_follows() -> None:
    users = FakeUsers(user("alice", Role.AGENT, "a1"))
    async with make_console(users, plan=WRAP_UP_PLAN) as before:
        ws = await connected_call(before)
        before.hang_up()
        await next_of(ws, "call-ended")
        async with make_console(users, plan=WRAP_UP_PLAN) as after:
            after.directory.slow = True  # the caller cache starts empty after a restart
            restarted(before, after)
            tab = await after.ws()
            form = tab.snapshot["wrap_up"]
            assert form["call"] == "c1" and form["offer"]["customer_pending"] is True
            after.directory.release.set()
            follow_up = await next_of(tab, "offer-customer")
            assert (follow_up["call"], follow_up["customer"]["name"]) == ("c1", "Jane Doe")
            again = (await after.ws()).snapshot["wrap_up"]["offer"]
            assert again["customer_pending"] is False and again["customer"]["name"] == "Jane Doe"


async def test_given_a_slow_customer_store_when_the_call_ends_before_the_record_then_the_form_gets_it(
    console: Console,
) -> None:
    console.directory.slow = True
    ws = await connected_call(console)
    console.hang_up()
    await next_of(ws, "call-ended")
    console.directory.release.set()
    follow_up = await next_of(ws, "offer-customer")
    assert (follow_up["call"], follow_up["customer"]["name"]) == ("c1", "Jane Doe")
    form = (await console.ws()).snapshot["wrap_up"]
    assert form["offer"]["customer_pending"] is False and form["offer"]["customer"]["name"] == "Jane Doe"


async def test_given_a_form_when_wrapped_up_then_the_router_is_told_and_restates_it_no_more() -> None:
    async with make_console(FakeUsers(user("alice", Role.AGENT, "a1")), plan=WRAP_UP_PLAN) as console:
        ws = await connected_call(console)
        console.hang_up()
        await next_of(ws, "call-ended")
        assert [type(c) for c in console.loop.router.restated(1040.0)] == [cmd.PopScreen, cmd.LogCall]
        await ws.send_json({"type": "wrap-up", "call": "c1", "disposition": "sale", "notes": "",
                            "case": None, "callback_at": None})  # fmt: skip
        assert (await next_of(ws, "error"))["error"] == "store-unavailable"  # no store here: nothing saved
        assert not [e for e in console.ask.events if isinstance(e, ev.WrapUpSaved)]
        assert len(console.loop.router.restated(1040.0)) == 2


def test_given_one_plan_then_every_snapshot_shares_its_directory_and_an_edited_plan_gets_its_own() -> None:
    first = messages.directory(PLAN)
    assert messages.directory(PLAN) is first  # built once per plan, not per console
    assert first.agents == [{"id": a.id, "name": a.name} for a in PLAN.agents.values()]
    assert first.queues == [{"id": q.id, "name": q.name} for q in PLAN.queues.values()]
    edited = messages.directory(WRAP_UP_PLAN)
    assert edited is not first and edited.queues == [{"id": Q, "name": "Acme"}]
    assert messages.directory(PLAN) is not first and messages.directory(PLAN).agents == first.agents
