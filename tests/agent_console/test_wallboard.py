"""The live wallboard: figures after a known sequence, and the same figures for a supervisor who
connects later (loaded from the store) as for one who watched it all live."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from agent_console.wallboard import Wallboard
from crm_core.domain.calls import utc
from crm_core.sql.migrate import upgrade_async
from crm_core.sql.store import SqlStore
from routing import commands as cmd
from routing import events as ev
from routing.ids import CallId
from switchboard.state_log import StateLog
from tests.routing.routing_harness import CALLER, SALES_DID, SALES_RADIO_DID, Scenario

NEW_YORK = ZoneInfo("America/New_York")
T = datetime(2026, 11, 30, 15, 0, tzinfo=UTC).timestamp()  # 10:00 in New York


def a_morning() -> tuple[Scenario, dict[str, int]]:
    """Three calls to sales: one answered (4 s wait, 60 s talk, 30 s wrap-up), one abandoned while it
    rang, one abandoned after a ring that failed on the agent's phone."""
    sc = Scenario(agents=2, wrap_up_s=30.0)
    sc.staff("a1", "a2", at=T)
    sc.arrive("c1", at=T + 10)
    sc.ring(sc.offer_of("c1").offer, at=T + 11)
    sc.answer(sc.offer_of("c1").offer, at=T + 14)
    sc.arrive("c2", at=T + 20, did=SALES_RADIO_DID)
    sc.ring(sc.offer_of("c2").offer, at=T + 21)
    sc.hang_up("c2", at=T + 30)  # abandoned while a2's phone rang: not a2's miss
    sc.arrive("c3", at=T + 31)
    sc.ring(sc.offer_of("c3").offer, at=T + 32)
    sc.leg_failed(sc.offer_of("c3").offer, at=T + 33)  # a2's phone failed: a miss
    sc.hang_up("c3", at=T + 36)  # waited exactly 5 s: an abandon, not a short one
    splits = {"during a call": len(sc.emitted)}  # c1 is still connected here
    sc.hang_up("c1", at=T + 74)
    splits["during a wrap-up"] = len(sc.emitted)
    sc.tick(T + 104)  # a1's wrap-up ends
    splits["after the morning"] = len(sc.emitted)
    return sc, splits


def watched_live(sc: Scenario) -> Wallboard:
    board = Wallboard(sc.plan, sc.router, NEW_YORK)
    board.load([], [], T - 3600)
    for command in sc.emitted:
        board.notice(command)
    return board


def test_given_a_known_morning_when_viewed_then_each_tile_has_the_hand_computed_figures() -> None:
    sc, _ = a_morning()

    view = watched_live(sc).view(T + 200)

    sales = next(q for q in view["queues"] if q["id"] == "sales")
    assert (sales["entered"], sales["answered"], sales["abandoned"], sales["short_abandons"]) == (3, 1, 2, 0)
    assert sales["service_level"] == 0.3333  # offered formula: 1 within 20 s of 3, to 1/100 of a percent
    assert (sales["asa_s"], sales["aht_s"]) == (4.0, 60.0 + 30.0)
    assert sales["alerts"] == ["service-level"]
    assert sales["waiting"] == 0
    assert (sales["agents"]["ready"], sales["agents"]["not-ready"]) == (1, 1)  # a2 paused after the miss
    sources = {s["id"]: s["entered"] for s in view["sources"]}
    assert sources == {"google-ads": 2, "radio": 1}
    (line,) = [li for li in view["lines"] if li["id"] == "acme-sales"]
    assert line["entered"] == 3
    a1, a2 = view["agents"]
    assert (a1["handled"], a1["average_talk_s"], a1["average_wrap_up_s"], a1["rings_unanswered"]) == (
        1,
        60,
        30,
        0,
    )
    assert (a2["handled"], a2["rings_unanswered"]) == (0, 1)
    # a1: logged in and ready at T, rang from T+10, talked T+14 to T+74, wrapped up, ready from T+104.
    assert a1["seconds_in"] == {
        "not-ready": 0.0,
        "ready": 10 + 96,
        "ringing": 4,
        "on-call": 60,
        "wrap-up": 30,
    }
    assert a1["occupancy"] == pytest.approx(90 / 200)


def test_given_a_caller_waiting_too_long_when_viewed_then_the_tile_says_so() -> None:
    sc = Scenario(agents=1)
    sc.arrive("c1", at=T)  # nobody is logged in
    sc.arrive("c2", at=T + 30, number=None)  # a withheld number

    view = watched_live(sc).view(T + 61)

    sales = next(q for q in view["queues"] if q["id"] == "sales")
    assert (sales["waiting"], sales["longest_wait_s"], sales["oldest_arrived_at"]) == (2, 61.0, T)
    assert sales["alerts"] == ["longest-wait"]
    assert sales["calls"] == [
        {"call": "c1", "arrived_at": T, "caller": CALLER, "priority": 0},
        {"call": "c2", "arrived_at": T + 30, "caller": None, "priority": 0},
    ]


def test_given_callers_waiting_when_viewed_then_the_tile_lists_them_first_in_line_first() -> None:
    sc = Scenario(agents=1)
    for n, call in enumerate(("c1", "c2", "c3")):
        sc.arrive(call, at=T + n)
    board = watched_live(sc)
    sc.feed(ev.CallPrioritised(CallId("c3"), T + 5))

    sales = next(q for q in board.view(T + 10)["queues"] if q["id"] == "sales")

    assert [(c["call"], c["arrived_at"]) for c in sales["calls"]] == [("c3", T + 2), ("c1", T), ("c2", T + 1)]
    assert sales["calls"][0]["priority"] > sales["calls"][1]["priority"]
    assert sales["waiting"] == len(sales["calls"])


async def _store_of(commands: list[cmd.Command], tmp_path: Path) -> SqlStore:
    url = f"sqlite+aiosqlite:///{tmp_path}/wallboard.db"
    await upgrade_async(url)
    store = SqlStore.open(url, "US")
    states = StateLog(store.agent_states)
    writer = asyncio.create_task(states.run())
    for command in commands:
        states.notice(command)
        if isinstance(command, cmd.LogCall):
            await store.record(command.record, None)
    await asyncio.wait_for(states.flush(), 5)
    writer.cancel()
    return store


def _figures(view: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in view.items() if k != "at"}


@pytest.mark.parametrize("connects", ["during a call", "during a wrap-up", "after the morning"])
async def test_given_a_supervisor_connecting_mid_morning_when_loaded_from_the_store_then_it_matches_live(
    tmp_path: Path, connects: str
) -> None:
    sc, splits = a_morning()
    split = splits[connects]
    store = await _store_of(sc.emitted[:split], tmp_path)
    try:
        since, until = datetime(2026, 11, 30, 5, tzinfo=UTC), datetime(2026, 12, 1, 5, tzinfo=UTC)
        later = Wallboard(sc.plan, sc.router, NEW_YORK)
        calls = await store.reports.calls_between(since, until)
        later.load(calls, await store.agent_states.between(since, until), T + 50)
    finally:
        await store.close()
    for command in sc.emitted[split:]:  # the rest of the morning, live
        later.notice(command)

    assert _figures(later.view(T + 200)) == _figures(watched_live(sc).view(T + 200))


def test_given_midnight_passes_when_viewed_then_todays_counts_start_again() -> None:
    sc, _ = a_morning()
    board = watched_live(sc)
    midnight = datetime(2026, 12, 1, 5, 0, tzinfo=UTC).timestamp()

    view = board.view(midnight + 60)

    sales = next(q for q in view["queues"] if q["id"] == "sales")
    assert view["day"] == "2026-12-01" and sales["entered"] == 0
    a1 = view["agents"][0]
    assert a1["seconds_in"] == {"ready": 60.0}  # still ready since T+104, counted from midnight
    assert utc(midnight).astimezone(NEW_YORK).hour == 0


def test_given_a_call_from_before_midnight_when_logged_after_it_then_it_stays_in_yesterday() -> None:
    midnight = datetime(2026, 12, 1, 5, 0, tzinfo=UTC).timestamp()
    sc = Scenario(agents=1)
    sc.staff("a1", at=midnight - 60)
    sc.arrive("late", at=midnight - 10, did=SALES_DID)
    sc.ring(sc.offer_of("late").offer, at=midnight - 9)
    sc.answer(sc.offer_of("late").offer, at=midnight - 8)
    sc.hang_up("late", at=midnight + 100)  # spans midnight

    view = watched_live(sc).view(midnight + 200)

    sales = next(q for q in view["queues"] if q["id"] == "sales")
    assert (view["day"], sales["entered"], view["agents"][0]["handled"]) == ("2026-12-01", 0, 0)


def test_given_practice_calls_when_logged_then_the_counts_leave_them_out_and_the_agents_still_move() -> None:
    sc, _ = a_morning()
    practice = {"c2", "c3"}  # as switchboard/practice.py would mark a demo's or a trainee's calls
    board = Wallboard(sc.plan, sc.router, NEW_YORK, counted=lambda record: record.call not in practice)
    board.load([], [], T - 3600)
    for command in sc.emitted:
        board.notice(command)

    view = board.view(T + 200)

    sales = next(q for q in view["queues"] if q["id"] == "sales")
    assert (sales["entered"], sales["answered"], sales["abandoned"]) == (1, 1, 0)
    assert sales["service_level"] == 1.0
    assert {s["id"]: s["entered"] for s in view["sources"]} == {"google-ads": 1}
    a1, a2 = view["agents"]
    assert a1["handled"] == 1 and a1["seconds_in"]["on-call"] == 60  # the states are the agents' own
    assert a2["rings_unanswered"] == 1
