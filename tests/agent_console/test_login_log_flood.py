"""A flood of websocket ``login`` messages writes a bounded number of log lines, and counts the rest."""

from __future__ import annotations

from structlog.testing import capture_logs

from agent_console.log_throttle import LogThrottle
from tests.agent_console.harness import Console, Tab

PER_TAB = 50  # under the per-connection burst: every one of them reaches the handler


async def _flood(tab: Tab) -> None:
    for _ in range(PER_TAB):
        await tab.send_json({"type": "login"})
    snapshots = 0
    while snapshots < PER_TAB:
        snapshots += (await tab.receive_json(timeout=5))["type"] == "snapshot"


async def test_given_logins_in_a_loop_over_four_sockets_when_flooded_then_one_line_counts_them(
    console: Console,
) -> None:
    tabs = [await console.ws(login=False) for _ in range(4)]
    with capture_logs() as entries:
        for tab in tabs:
            await _flood(tab)
        console.now[0] += 61  # the window has passed: the next login is written, with the count
        await tabs[0].send_json({"type": "login"})
        assert (await tabs[0].receive_json())["type"] == "snapshot"
    lines = [e for e in entries if e["event"] == "console.login"]
    assert [(e["agent"], e["held_back"]) for e in lines] == [("a1", 0), ("a1", 4 * PER_TAB - 1)]


def test_given_two_agents_when_each_logs_in_twice_in_a_window_then_one_line_each() -> None:
    throttle = LogThrottle(window_s=60)
    assert [throttle.admit(a, 10.0) for a in ("a1", "a2", "a1", "a2", "a1")] == [0, 0, None, None, None]
    later = [throttle.admit("a1", 69.9), throttle.admit("a1", 70.0), throttle.admit("a2", 70.0)]
    assert later == [None, 3, 1]


def test_given_a_clock_that_went_back_when_logging_in_then_the_line_is_written() -> None:
    throttle = LogThrottle(window_s=60)
    answers = [throttle.admit("a1", 500.0), throttle.admit("a1", 100.0), throttle.admit("a1", 101.0)]
    assert answers == [0, 0, None]
