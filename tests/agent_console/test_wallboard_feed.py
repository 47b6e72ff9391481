"""The supervisors' wallboard over the websocket: watching, coalesced pushes, and orders for agents.

The feed's own task never ticks here (``cadence_s`` is an hour); each test calls ``feed.tick()`` where a
second would have passed, so a "push" is exactly what one cadence step sends.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from agent_console.wallboard import Wallboard
from agent_console.wallboard_feed import Supervision, WallboardFeed
from crm_core.domain.calls import utc
from crm_core.domain.supervisor_actions import SupervisorAction
from crm_core.domain.users import Role
from routing import events as ev
from routing.ids import AgentId, CallId
from tests.agent_console.fakes import FakeUsers, user
from tests.agent_console.harness import Console, Tab, make_console, next_of, ready
from tests.agent_console.test_wallboard import NEW_YORK, _figures, _store_of, a_morning, watched_live


@pytest.fixture
async def floor() -> AsyncIterator[Console]:
    """Alice (agent a1), Bob (agent a2), Sue (supervisor, no agent id), Ann (answering, agent a2)."""
    users = FakeUsers(
        user("alice", Role.AGENT, "a1"),
        user("bob", Role.AGENT, "a2"),
        user("sue", Role.SUPERVISOR, None),
        user("ann", Role.ANSWERING, "a2"),
    )
    async with make_console(users, wallboard=True) as c:
        yield c


def feed_of(console: Console) -> WallboardFeed:
    assert console.feed is not None
    return console.feed


async def tab_of(console: Console, username: str) -> Tab:
    """A websocket signed in as ``username`` (the cookie jar then holds that user's session)."""
    assert (await console.sign_in(username))[0] == 200
    tab = Tab(await console.client.ws_connect("/ws", origin=console.origin))
    assert (await tab.receive_json())["type"] == "hello"
    return tab


async def agent_tab(console: Console, username: str) -> Tab:
    tab = await tab_of(console, username)
    await tab.send_json({"type": "login"})
    assert (await tab.receive_json())["type"] == "snapshot"
    return tab


async def watching(console: Console) -> tuple[Tab, dict[str, Any]]:
    sue = await tab_of(console, "sue")
    await sue.send_json({"type": "watch-wallboard"})
    first = await sue.receive_json()
    assert first["type"] == "wallboard"
    return sue, first


async def replies_until_marker(tab: Tab) -> list[dict[str, Any]]:
    """Everything the server sent before the answer to an invalid marker message (which is in order)."""
    await tab.send_json({"type": "end-of-test"})
    replies: list[dict[str, Any]] = []
    while not replies or replies[-1].get("error") != "bad-message":
        replies.append(await tab.receive_json())
    return replies[:-1]


def queue(view: dict[str, Any]) -> dict[str, Any]:
    tile: dict[str, Any] = view["queues"][0]
    return tile


def agent(view: dict[str, Any], agent_id: str) -> dict[str, Any]:
    return next(a for a in view["agents"] if a["id"] == agent_id)


async def test_given_a_supervisor_with_no_agent_id_when_watching_then_the_view_comes_at_once(
    floor: Console,
) -> None:
    _, first = await watching(floor)
    assert queue(first)["id"] == "q" and queue(first)["waiting"] == 0
    assert [a["id"] for a in first["agents"]] == ["a1", "a2"]
    assert agent(first, "a1")["state"] == "logged-out"
    assert feed_of(floor).watchers == 1


async def test_given_a_watcher_when_nothing_changed_then_a_tick_pushes_nothing(floor: Console) -> None:
    sue, _ = await watching(floor)
    assert feed_of(floor).tick() == 0
    assert await replies_until_marker(sue) == []


async def test_given_a_watcher_when_a_call_is_handled_then_one_push_per_tick_with_the_latest_figures(
    floor: Console,
) -> None:
    sue, first = await watching(floor)
    alice = await agent_tab(floor, "alice")
    await ready(alice)
    floor.ring()
    floor.answer()
    floor.hang_up()
    await next_of(alice, "call-ended")  # the router has handled every event: the board has counted them
    assert feed_of(floor).tick() == 1
    pushed = await replies_until_marker(sue)
    assert [m["type"] for m in pushed] == ["wallboard"]  # many changes, one push
    view = pushed[0]
    assert view["version"] > first["version"]
    assert (queue(view)["offered"], queue(view)["answered"], queue(view)["abandoned"]) == (1, 1, 0)
    assert agent(view, "a1")["handled"] == 1
    assert feed_of(floor).tick() == 0  # nothing moved since


async def test_given_a_caller_waiting_when_ticks_pass_then_the_longest_wait_is_pushed_each_tick(
    floor: Console,
) -> None:
    sue, _ = await watching(floor)
    await floor.loop.ask(ev.CallArrived(CallId("c7"), "+18005550101", None, None, floor.now[0]))
    floor.now[0] += 70
    assert feed_of(floor).tick() == 1
    (view,) = await replies_until_marker(sue)
    assert queue(view)["waiting"] == 1
    assert queue(view)["longest_wait_s"] == 70.0
    assert queue(view)["alerts"] == ["longest-wait"]  # over the 60 s threshold: the tile turns red
    floor.now[0] += 1
    assert feed_of(floor).tick() == 1  # no event, but the wait grew: pushed again
    (again,) = await replies_until_marker(sue)
    assert queue(again)["longest_wait_s"] == 71.0


async def test_given_a_watcher_that_stopped_reading_when_ticking_then_it_gets_no_pile_and_others_theirs(
    floor: Console,
) -> None:
    await watching(floor)
    stalled = next(iter(feed_of(floor)._watchers))
    other, _ = await watching(floor)
    stalled._writer.cancel()  # nothing leaves its outbox any more
    await asyncio.gather(stalled._writer, return_exceptions=True)
    stalled.send_text('{"type":"hello","version":2}')  # stands for a push it has not taken yet
    for event in (ev.AgentLoggedIn(AgentId("a2"), 1001.0), ev.AgentBecameReady(AgentId("a2"), 1002.0)):
        await floor.loop.ask(event)
        assert feed_of(floor).tick() == 1  # the other watcher, each time
        assert stalled.backlog == 1  # never more than what it already had
    pushed = await replies_until_marker(other)
    assert [m["type"] for m in pushed] == ["wallboard", "wallboard"]
    assert agent(pushed[-1], "a2")["state"] == "ready"


async def test_given_two_watchers_when_unwatched_then_only_the_other_is_pushed(floor: Console) -> None:
    sue, _ = await watching(floor)
    sue2, _ = await watching(floor)
    await sue.send_json({"type": "unwatch-wallboard"})
    assert await replies_until_marker(sue) == []  # the unwatch has been handled
    alice = await agent_tab(floor, "alice")
    await ready(alice)
    assert feed_of(floor).tick() == 1
    assert [m["type"] for m in await replies_until_marker(sue2)] == ["wallboard"]
    assert await replies_until_marker(sue) == []


async def test_given_a_closed_socket_then_it_is_no_longer_watching(floor: Console) -> None:
    sue, _ = await watching(floor)
    await sue.close()  # returns once the server has answered the close, after its handler's cleanup
    assert feed_of(floor).watchers == 0


@pytest.mark.parametrize("username", ["alice", "ann"])
@pytest.mark.parametrize(
    "message",
    [
        {"type": "watch-wallboard"},
        {"type": "set-agent-state", "agent": "a2", "state": "not-ready", "reason": "break"},
    ],
)
async def test_given_an_agent_or_answering_when_supervising_then_forbidden(
    floor: Console, username: str, message: dict[str, Any]
) -> None:
    tab = await tab_of(floor, username)
    await tab.send_json(message)
    reply = await tab.receive_json()
    assert (reply["type"], reply["error"]) == ("error", "forbidden")
    assert feed_of(floor).watchers == 0
    assert floor.backend is not None and list(floor.backend.supervision.audit) == []


async def test_given_a_ready_agent_when_a_supervisor_sets_them_not_ready_then_paused_and_audited(
    floor: Console,
) -> None:
    bob = await agent_tab(floor, "bob")
    await ready(bob)
    sue, _ = await watching(floor)
    await sue.send_json({"type": "set-agent-state", "agent": "a2", "state": "not-ready", "reason": "meeting"})
    state = await next_of(bob, "state")
    assert (state["agent"], state["state"], state["reason"]) == ("a2", "not-ready", "meeting")
    assert floor.loop.router.agent_view(AgentId("a2")).state == "not-ready"
    assert floor.loop.router.agent_view(AgentId("a1")).state == "logged-out"
    assert await replies_until_marker(sue) == []  # no error
    assert floor.backend is not None
    (entry,) = floor.backend.supervision.audit
    assert (entry.who, entry.action, entry.target, entry.reason, entry.outcome) == (
        "sue", "not-ready", "a2", "meeting", "done",
    )  # fmt: skip
    assert feed_of(floor).tick() == 1
    (view,) = await replies_until_marker(sue)
    assert (agent(view, "a2")["state"], agent(view, "a2")["reason"]) == ("not-ready", "meeting")


async def test_given_a_ready_agent_when_a_supervisor_logs_them_out_then_logged_out(floor: Console) -> None:
    bob = await agent_tab(floor, "bob")
    await ready(bob)
    sue = await tab_of(floor, "sue")
    await sue.send_json({"type": "set-agent-state", "agent": "a2", "state": "logged-out", "reason": None})
    assert (await next_of(bob, "state"))["state"] == "logged-out"
    assert floor.backend is not None
    assert [(e.action, e.target, e.outcome) for e in floor.backend.supervision.audit] == [
        ("logged-out", "a2", "done")
    ]


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"agent": "nobody", "state": "not-ready", "reason": "break"}, "unknown-agent"),
        ({"agent": "a2", "state": "not-ready", "reason": "nap"}, "unknown-reason"),
        ({"agent": "a1", "state": "not-ready", "reason": "break"}, "not-allowed-now"),  # logged out
    ],
)
async def test_given_a_refused_order_then_the_router_code_and_the_refusal_is_audited(
    floor: Console, fields: dict[str, Any], code: str
) -> None:
    bob = await agent_tab(floor, "bob")
    await ready(bob)
    sue = await tab_of(floor, "sue")
    await sue.send_json({"type": "set-agent-state", **fields})
    reply = await sue.receive_json()
    assert (reply["type"], reply["error"]) == ("error", code)
    assert floor.backend is not None
    assert [e.outcome for e in floor.backend.supervision.audit] == [code]
    assert floor.loop.router.agent_view(AgentId("a2")).state == "ready"


@pytest.mark.parametrize(
    "message",
    [
        {"type": "watch-wallboard", "queue": "q"},
        {"type": "unwatch-wallboard", "all": True},
        {"type": "set-agent-state", "agent": "a2", "state": "ready", "reason": None},
        {"type": "set-agent-state", "agent": "a2", "state": "not-ready", "reason": None},
        {"type": "set-agent-state", "agent": "a2", "state": "logged-out", "reason": "break"},
        {"type": "set-agent-state", "agent": "", "state": "not-ready", "reason": "break"},
        {"type": "set-agent-state", "agent": "a" * 41, "state": "not-ready", "reason": "break"},
        {"type": "set-agent-state", "agent": ["a2"], "state": "not-ready", "reason": "break"},
        {"type": "set-agent-state", "agent": "a2", "state": "not-ready"},
        {"type": "set-agent-state", "agent": "a2", "state": "not-ready", "reason": "x" * 41},
        {"type": "set-agent-state", "agent": "a2", "state": "not-ready", "reason": "break", "by": "boss"},
    ],
)
async def test_given_hostile_supervisor_messages_then_bad_message_and_nothing_happens(
    floor: Console, message: dict[str, Any]
) -> None:
    bob = await agent_tab(floor, "bob")
    await ready(bob)
    sue = await tab_of(floor, "sue")
    await sue.send_json(message)
    reply = await sue.receive_json()
    assert (reply["type"], reply["error"]) == ("error", "bad-message"), reply
    assert feed_of(floor).watchers == 0
    assert floor.backend is not None and list(floor.backend.supervision.audit) == []
    assert floor.loop.router.agent_view(AgentId("a2")).state == "ready"


async def test_given_no_feed_when_watching_then_no_wallboard(console: Console) -> None:
    sue = await tab_of(console, "sue")
    await sue.send_json({"type": "watch-wallboard"})
    reply = await sue.receive_json()
    assert (reply["type"], reply["error"]) == ("error", "no-wallboard")


async def test_the_wallboard_page_is_served(floor: Console) -> None:
    async with floor.client.get("/wallboard") as r:
        assert r.status == 200
        assert 'src="/static/wallboard.js"' in await r.text()
    for name in ("wallboard.js", "wallboard.css"):
        async with floor.client.get(f"/static/{name}") as r:
            assert r.status == 200


async def test_given_a_morning_in_the_store_when_the_feed_loads_late_in_the_centers_evening_then_it_has_it(
    tmp_path: Path,
) -> None:
    """22:00 in New York is already tomorrow in UTC: the window must be the center's day, not UTC's."""
    sc, splits = a_morning()
    store = await _store_of(sc.emitted[: splits["after the morning"]], tmp_path)
    evening = datetime(2026, 12, 1, 3, 0, tzinfo=UTC).timestamp()  # 22:00 on Nov 30 in New York
    feed = WallboardFeed(Wallboard(sc.plan, sc.router, NEW_YORK), lambda: evening, zone=NEW_YORK)
    try:
        await feed.load(store.reports, store.agent_states)
    finally:
        await store.close()
    loaded = feed.board.view(evening)
    assert loaded["day"] == "2026-11-30"
    assert next(q for q in loaded["queues"] if q["id"] == "sales")["entered"] == 3
    assert _figures(loaded) == _figures(watched_live(sc).view(evening))


def test_given_todays_figures_when_midnight_passes_without_an_event_then_the_next_tick_pushes_zeros() -> None:
    """The board rolls over when viewed, without a version bump: the feed must notice the new day."""
    sc, _ = a_morning()
    now = [datetime(2026, 11, 30, 16, 0, tzinfo=UTC).timestamp()]
    feed = WallboardFeed(watched_live(sc), lambda: now[0], zone=NEW_YORK)
    watcher = RecordingConnection()
    feed.watch(watcher)  # type: ignore[arg-type]
    assert sales(watcher.sent[-1])["entered"] == 3
    now[0] = datetime(2026, 12, 1, 5, 0, 30, tzinfo=UTC).timestamp()  # 00:00:30 in New York
    assert feed.tick() == 1
    assert sales(watcher.sent[-1])["entered"] == 0
    assert feed.tick() == 0  # and only once


class RecordingConnection:
    """What the feed needs of a ``hub.Connection``: the texts it was handed, and no backlog."""

    backlog = 0

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def send_text(self, text: str) -> None:
        self.sent.append(json.loads(text))


def sales(message: dict[str, Any]) -> dict[str, Any]:
    tile: dict[str, Any] = next(q for q in message["queues"] if q["id"] == "sales")
    return tile


class Trail:
    """An audit trail that keeps what it is given, or fails like a store that is down."""

    def __init__(self, fails: bool = False) -> None:
        self.fails = fails
        self.kept: list[SupervisorAction] = []

    async def record(self, entry: SupervisorAction) -> None:
        if self.fails:
            raise ConnectionError("database restarting")
        self.kept.append(entry)


@pytest.mark.parametrize("fails", [False, True])
async def test_given_an_order_when_audited_then_the_store_keeps_it_and_a_failing_store_loses_no_order(
    fails: bool,
) -> None:
    asked: list[object] = []

    async def ask(event: object) -> list[object]:
        asked.append(event)
        return []

    trail = Trail(fails)
    supervision = Supervision(ask, lambda: 1_764_522_000.0, trail)  # type: ignore[arg-type]

    await supervision.set_state("sue", "a2", "not-ready", "meeting")

    assert len(asked) == 1 and [(e.who, e.action, e.outcome) for e in supervision.audit] == [
        ("sue", "not-ready", "done")
    ]
    expected = (
        []
        if fails
        else [
            SupervisorAction(
                at=utc(1_764_522_000.0),
                who="sue",
                action="not-ready",
                target="a2",
                detail="meeting",
                outcome="done",
            )
        ]
    )
    assert trail.kept == expected
