"""The README's first call works at any hour: the number its "Try a call end to end" dials is, in the
shipped config, on a line that is open at every hour of the week, on public holidays and through the
one-off closures, and its queue is one the agent the README signs in takes."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from config.settings import Settings, load
from crm_core.domain.phones import to_e164
from routing.destinations import Closed, Target, destination
from routing.ids import AgentId
from switchboard.bootstrap import normaliser

ROOT = Path(__file__).resolve().parents[2]
NY = ZoneInfo("America/New_York")
ACME_WEB = "+18005550103"


def walk_through() -> str:
    """The README's "Try a call end to end" section."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return readme.split("## Try a call end to end", 1)[1].split("\n## ", 1)[0]


@pytest.fixture(scope="module")
def shipped() -> Settings:
    return load(ROOT / "config" / "switchboard.toml", normaliser, env={})


@pytest.fixture(scope="module")
def quick_start_did(shipped: Settings) -> str:
    found = re.search(r"switchboard call --from \S+ --to (\S+)", walk_through())
    assert found is not None, "the walk-through places no call"
    did = to_e164(found.group(1), shipped.region)
    assert did is not None
    return did


def at(*when: int) -> float:
    return dt.datetime(*when, tzinfo=NY).timestamp()


NIGHTS_AND_HOLIDAYS = [
    at(2026, 12, 6, 3), at(2026, 12, 6, 23),  # a Sunday, 03:00 and 23:00 New York time
    at(2026, 11, 26, 3), at(2026, 11, 26, 23),  # Thanksgiving Day
    at(2026, 12, 25, 12),  # Christmas Day
    at(2026, 12, 24, 15),  # in the shipped config's one-off closure (Christmas Eve afternoon)
    at(2027, 7, 4, 10),  # Independence Day, a Sunday
]  # fmt: skip


@pytest.mark.parametrize("when", NIGHTS_AND_HOLIDAYS)
def test_given_the_readme_call_when_placed_at_night_or_on_a_holiday_then_its_line_is_open(
    shipped: Settings, quick_start_did: str, when: float
) -> None:
    found = destination(shipped.plan, quick_start_did, when)
    assert found.line is not None
    assert (found.open, found.target, found.queue) == (True, Target.QUEUE, found.line.queue)
    # Acme's own number, at the same moment, is closed: the reason the README dials another one.
    assert destination(shipped.plan, ACME_WEB, when).open is False


def test_given_the_readme_call_when_placed_at_every_quarter_hour_of_a_week_then_its_line_is_open(
    shipped: Settings, quick_start_did: str
) -> None:
    start = at(2026, 11, 22)  # Sunday, with Thanksgiving in the week
    closed = [
        t for t in (start + n * 900 for n in range(7 * 24 * 4))
        if destination(shipped.plan, quick_start_did, t).open is not True
    ]  # fmt: skip
    assert closed == []


def test_given_the_readme_agent_when_ready_then_the_readme_call_is_for_them(
    shipped: Settings, quick_start_did: str
) -> None:
    found = re.search(r"switchboard users add alice --role agent --agent (\d+)", walk_through())
    assert found is not None
    agent = shipped.plan.agents[AgentId(found.group(1))]
    queue = destination(shipped.plan, quick_start_did, at(2026, 12, 6, 3)).queue
    assert queue is not None and queue in agent.queues


def test_given_the_after_hours_example_when_called_at_night_then_the_answering_queue_takes_it(
    shipped: Settings,
) -> None:
    found = destination(shipped.plan, ACME_WEB, at(2026, 12, 6, 23))
    assert found.closing is not None
    assert (found.closing.why, found.target, found.queue) == (Closed.HOURS, Target.QUEUE, "answering")
    assert destination(shipped.plan, ACME_WEB, at(2026, 12, 8, 10)).queue == "acme"  # a Tuesday morning
