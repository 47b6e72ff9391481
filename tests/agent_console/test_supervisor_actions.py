"""Supervisors' phone and queue orders over the websocket: supervise, stop-supervising, move-call and
call-to-front, through the real router, each audited.

Sam is a supervisor whose user acts as agent a2 (his phone is a2's endpoint; a2 is logged out, so the
phone is free); Sue is a supervisor with no agent id.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import pytest

from agent_console.wallboard_feed import Audited
from crm_core.domain.users import Role
from routing import commands as cmd
from routing import events as ev
from routing.events import SupervisionMode
from routing.ids import AgentId, CallId, QueueId
from routing.plan import Queue
from tests.agent_console.fakes import FakeUsers, user
from tests.agent_console.harness import PLAN, Console, Q, make_console, next_of, ready
from tests.agent_console.test_wallboard_feed import agent_tab, replies_until_marker, tab_of

R = QueueId("r")
TWO_QUEUES = dataclasses.replace(PLAN, queues={**PLAN.queues, R: Queue(id=R, name="Returns")})


@pytest.fixture
async def floor() -> AsyncIterator[Console]:
    users = FakeUsers(
        user("alice", Role.AGENT, "a1"),
        user("sam", Role.SUPERVISOR, "a2"),
        user("sue", Role.SUPERVISOR, None),
        user("ann", Role.ANSWERING, "a2"),
    )
    async with make_console(users, wallboard=True, plan=TWO_QUEUES) as c:
        yield c


@pytest.fixture
def published(floor: Console) -> list[cmd.Command]:
    """Every command the router publishes from now on (the PBX's side of ``supervise`` among them)."""
    commands: list[cmd.Command] = []
    floor.bus.subscribe(commands.append)
    return commands


def rung(commands: list[cmd.Command]) -> list[cmd.RingSupervisor]:
    return [c for c in commands if isinstance(c, cmd.RingSupervisor)]


def audit(console: Console) -> list[Audited]:
    assert console.backend is not None
    return list(console.backend.supervision.audit)


def asked(console: Console, kind: type) -> list[Any]:
    return [e for e in console.ask.events if isinstance(e, kind)]


async def alice_on_a_call(console: Console) -> None:
    alice = await agent_tab(console, "alice")
    await ready(alice)
    console.ring()
    console.answer()
    await next_of(alice, "call-connected")


async def callers_waiting(console: Console, *calls: str) -> None:
    """Callers queued in q with nobody ready: they wait, first come first."""
    for call in calls:
        await console.ask(ev.CallArrived(CallId(call), "+18005550101", None, None, console.now[0]))
    assert console.loop.router.waiting(Q) == [CallId(c) for c in calls]


async def test_given_an_agent_on_a_call_when_a_supervisor_whispers_then_his_phone_rings_and_he_is_told(
    floor: Console, published: list[cmd.Command]
) -> None:
    await alice_on_a_call(floor)
    sam = await tab_of(floor, "sam")
    await sam.send_json({"type": "supervise", "agent": "a1", "mode": "whisper"})
    told = await sam.receive_json()
    assert told == {
        "type": "supervision", "supervisor": "a2", "agent": "a1", "call": "c1", "mode": "whisper",
        "at": floor.now[0],
    }  # fmt: skip
    view = floor.loop.router.call_view(CallId("c1"))
    assert view is not None and view.supervisors == ((AgentId("a2"), SupervisionMode.WHISPER),)
    (ring,) = rung(published)
    assert (ring.supervisor, ring.endpoint) == ("a2", "Local/102@x")
    assert [(e.who, e.action, e.target, e.reason, e.outcome) for e in audit(floor)] == [
        ("sam", "whisper", "a1", None, "done")
    ]

    await sam.send_json({"type": "stop-supervising"})
    ended = await sam.receive_json()
    assert (ended["type"], ended["mode"], ended["agent"], ended["call"]) == ("supervision", None, "a1", "c1")
    view = floor.loop.router.call_view(CallId("c1"))
    assert view is not None and view.supervisors == ()
    assert [(e.action, e.target, e.outcome) for e in audit(floor)][1:] == [("stop-supervising", "a2", "done")]


async def test_given_a_supervision_begun_in_a_closed_tab_when_another_tab_stops_it_then_that_tab_is_told(
    floor: Console,
) -> None:
    await alice_on_a_call(floor)
    sam = await tab_of(floor, "sam")
    await sam.send_json({"type": "supervise", "agent": "a1", "mode": "listen"})
    assert (await sam.receive_json())["mode"] == "listen"
    await sam.close()
    other = await tab_of(floor, "sam")
    await other.send_json({"type": "stop-supervising"})
    told = await other.receive_json()
    assert (told["type"], told["supervisor"], told["mode"]) == ("supervision", "a2", None)
    view = floor.loop.router.call_view(CallId("c1"))
    assert view is not None and view.supervisors == ()
    await other.send_json({"type": "stop-supervising"})  # nothing left to stop
    assert (await other.receive_json())["error"] == "not-allowed-now"


async def test_given_an_agent_not_on_a_call_when_supervised_then_not_allowed_now_and_audited(
    floor: Console, published: list[cmd.Command]
) -> None:
    alice = await agent_tab(floor, "alice")
    await ready(alice)
    sam = await tab_of(floor, "sam")
    await sam.send_json({"type": "supervise", "agent": "a1", "mode": "barge"})
    reply = await sam.receive_json()
    assert (reply["type"], reply["error"]) == ("error", "not-allowed-now")
    assert [(e.action, e.target, e.outcome) for e in audit(floor)] == [("barge", "a1", "not-allowed-now")]
    assert rung(published) == []


async def test_given_an_unknown_agent_when_supervised_then_unknown_agent(floor: Console) -> None:
    sam = await tab_of(floor, "sam")
    await sam.send_json({"type": "supervise", "agent": "nobody", "mode": "listen"})
    assert (await sam.receive_json())["error"] == "unknown-agent"
    assert [e.outcome for e in audit(floor)] == ["unknown-agent"]


@pytest.mark.parametrize(
    "message", [{"type": "supervise", "agent": "a1", "mode": "listen"}, {"type": "stop-supervising"}]
)
async def test_given_a_supervisor_with_no_agent_id_when_supervising_then_no_agent_and_nothing_asked(
    floor: Console, message: dict[str, Any]
) -> None:
    await alice_on_a_call(floor)
    sue = await tab_of(floor, "sue")
    await sue.send_json(message)
    reply = await sue.receive_json()
    assert (reply["type"], reply["error"]) == ("error", "no-agent")
    assert "--role supervisor --agent ID" in reply["message"]
    assert asked(floor, ev.SupervisionRequested) == asked(floor, ev.SupervisionEnded) == []


@pytest.mark.parametrize("username", ["alice", "ann"])
@pytest.mark.parametrize(
    "message",
    [
        {"type": "supervise", "agent": "a1", "mode": "listen"},
        {"type": "stop-supervising"},
        {"type": "move-call", "call": "c1", "queue": "r"},
        {"type": "call-to-front", "call": "c2"},
    ],
)
async def test_given_an_agent_or_answering_when_ordering_then_forbidden_and_nothing_changes(
    floor: Console, username: str, message: dict[str, Any]
) -> None:
    await callers_waiting(floor, "c1", "c2")
    tab = await tab_of(floor, username)
    await tab.send_json(message)
    reply = await tab.receive_json()
    assert (reply["type"], reply["error"]) == ("error", "forbidden")
    assert audit(floor) == []
    assert floor.loop.router.waiting(Q) == [CallId("c1"), CallId("c2")]


async def test_given_waiting_calls_when_the_last_is_put_to_the_front_then_it_is_first_in_line(
    floor: Console,
) -> None:
    await callers_waiting(floor, "c1", "c2", "c3")
    sue = await tab_of(floor, "sue")  # queue orders need no agent id
    await sue.send_json({"type": "call-to-front", "call": "c3"})
    assert await replies_until_marker(sue) == []
    assert floor.loop.router.waiting(Q) == [CallId("c3"), CallId("c1"), CallId("c2")]
    assert [(e.who, e.action, e.target, e.outcome) for e in audit(floor)] == [
        ("sue", "call-to-front", "c3", "done")
    ]


async def test_given_a_watcher_when_a_call_is_put_to_the_front_then_the_next_push_lists_it_first(
    floor: Console,
) -> None:
    await callers_waiting(floor, "c1", "c2")
    sue = await tab_of(floor, "sue")
    await sue.send_json({"type": "watch-wallboard"})
    first = await sue.receive_json()
    tile = next(q for q in first["queues"] if q["id"] == "q")
    assert [c["call"] for c in tile["calls"]] == ["c1", "c2"]
    await sue.send_json({"type": "call-to-front", "call": "c2"})
    assert await replies_until_marker(sue) == []
    assert floor.feed is not None and floor.feed.tick() == 1
    (pushed,) = await replies_until_marker(sue)
    tile = next(q for q in pushed["queues"] if q["id"] == "q")
    assert [c["call"] for c in tile["calls"]] == ["c2", "c1"]


async def test_given_waiting_calls_when_one_is_moved_then_it_waits_in_the_other_queue(floor: Console) -> None:
    await callers_waiting(floor, "c1", "c2")
    sue = await tab_of(floor, "sue")
    await sue.send_json({"type": "move-call", "call": "c1", "queue": "r"})
    assert await replies_until_marker(sue) == []
    assert floor.loop.router.waiting(Q) == [CallId("c2")]
    assert floor.loop.router.waiting(R) == [CallId("c1")]
    assert [(e.action, e.target, e.reason, e.outcome) for e in audit(floor)] == [
        ("move-call", "c1", "r", "done")
    ]


@pytest.mark.parametrize(
    ("message", "code"),
    [
        ({"type": "move-call", "call": "c9", "queue": "r"}, "unknown-call"),
        ({"type": "call-to-front", "call": "c9"}, "unknown-call"),
        ({"type": "move-call", "call": "c2", "queue": "nowhere"}, "unknown-queue"),
        ({"type": "move-call", "call": "c1", "queue": "r"}, "not-allowed-now"),  # answered, not waiting
        ({"type": "call-to-front", "call": "c1"}, "not-allowed-now"),
    ],
)
async def test_given_a_refused_queue_order_then_its_code_the_order_audited_and_the_line_unchanged(
    floor: Console, message: dict[str, Any], code: str
) -> None:
    await alice_on_a_call(floor)  # c1 is up; c2 and c3 wait
    await callers_waiting_after_call(floor)
    sue = await tab_of(floor, "sue")
    await sue.send_json(message)
    reply = await sue.receive_json()
    assert (reply["type"], reply["error"]) == ("error", code), reply
    assert [e.outcome for e in audit(floor)] == [code]
    assert floor.loop.router.waiting(Q) == [CallId("c2"), CallId("c3")]
    assert floor.loop.router.waiting(R) == []


async def callers_waiting_after_call(console: Console) -> None:
    for call in ("c2", "c3"):
        await console.ask(ev.CallArrived(CallId(call), "+18005550101", None, None, console.now[0]))
    assert console.loop.router.waiting(Q) == [CallId("c2"), CallId("c3")]


@pytest.mark.parametrize(
    "message",
    [
        {"type": "supervise", "agent": "a1"},
        {"type": "supervise", "agent": "a1", "mode": "spy"},
        {"type": "supervise", "agent": "a1", "mode": "LISTEN"},
        {"type": "supervise", "agent": "", "mode": "listen"},
        {"type": "supervise", "agent": "a" * 41, "mode": "listen"},
        {"type": "supervise", "agent": ["a1"], "mode": "listen"},
        {"type": "supervise", "agent": "a1", "mode": "listen", "supervisor": "a1"},
        {"type": "stop-supervising", "agent": "a1"},
        {"type": "move-call", "call": "c1"},
        {"type": "move-call", "call": "c1", "queue": ""},
        {"type": "move-call", "call": "", "queue": "r"},
        {"type": "move-call", "call": "c" * 201, "queue": "r"},
        {"type": "move-call", "call": 1, "queue": "r"},
        {"type": "move-call", "call": "c1", "queue": None},
        {"type": "move-call", "call": "c1", "queue": "r", "priority": 9},
        {"type": "call-to-front"},
        {"type": "call-to-front", "call": None},
        {"type": "call-to-front", "call": {"id": "c1"}},
        {"type": "call-to-front", "call": "c1", "queue": "q"},
    ],
)
async def test_given_hostile_orders_then_bad_message_and_nothing_happens(
    floor: Console, message: dict[str, Any]
) -> None:
    await callers_waiting(floor, "c1", "c2")
    sam = await tab_of(floor, "sam")
    await sam.send_json(message)
    reply = await sam.receive_json()
    assert (reply["type"], reply["error"]) == ("error", "bad-message"), reply
    assert audit(floor) == []
    assert floor.loop.router.waiting(Q) == [CallId("c1"), CallId("c2")]
    assert floor.loop.router.waiting(R) == []
