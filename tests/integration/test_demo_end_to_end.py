"""``switchboard demo`` as a new user meets it: the real process, from an empty database, no Asterisk.

Within a minute its simulated callers' calls are in the call log, every one marked ``demo`` and left out
of the reports; in real Chromium, the demo's agent signs in, presses Ready and gets a demo call popped,
while the supervisor's wallboard moves with the simulated agents.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import re
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Browser, Page, expect

from config.settings import load
from crm_core.domain.calls import Practice
from crm_core.domain.figures import ServiceTarget
from crm_core.domain.reports import Grouping
from crm_core.sql.store import SqlStore
from routing import commands as cmd
from routing.ids import CallId
from routing.records import Outcome
from routing.states import AgentState
from switchboard.bootstrap import normaliser, open_store
from switchboard.demo import Demo, Options, open_demo
from switchboard.demo_callers import Caller, Callers
from tests.integration.conftest import ARTIFACTS

ROOT = Path(__file__).resolve().parents[2]
SWITCHBOARD = Path(sys.executable).parent / "switchboard"
MINUTE = 60.0


@dataclass
class DemoProcess:
    process: asyncio.subprocess.Process
    url: str
    database: str
    stderr: Path

    def said(self) -> str:
        return self.stderr.read_text(encoding="utf-8", errors="replace")

    async def password(self) -> str:
        """The demo users' password, from the line the demo prints once it listens."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            found = re.search(r"password (\S+);", self.said())
            if found:
                return found.group(1)
            assert self.process.returncode is None, f"the demo ended: {self.said()[-2000:]}"
            await asyncio.sleep(0.2)
        raise AssertionError(f"the demo never said how to sign in: {self.said()[-2000:]}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def demo(tmp_path: Path) -> AsyncIterator[DemoProcess]:
    """``switchboard demo`` on an empty SQLite file: 20 callers a minute, one simulated agent."""
    database = f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}"
    port = free_port()
    stderr = tmp_path / "demo.stderr"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    with stderr.open("wb") as err:
        process = await asyncio.create_subprocess_exec(
            str(SWITCHBOARD), "--config", str(ROOT / "config" / "switchboard.toml"), "demo",
            "--database", database, "--port", str(port), "--rate", "20", "--agents", "1", "--seed", "17",
            cwd=tmp_path, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=err,
        )  # fmt: skip
    running = DemoProcess(process, f"http://127.0.0.1:{port}", database, stderr)
    try:
        yield running
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 20)
            except TimeoutError:
                process.kill()
                await process.wait()


async def test_given_an_empty_database_when_the_demo_runs_then_calls_are_logged_marked_demo_within_a_minute(
    demo: DemoProcess,
) -> None:
    started = time.monotonic()
    await demo.password()  # listening, with its demo users made
    store = SqlStore.open(demo.database, "US")
    try:
        while not (logged := await store.recent_calls(50)):
            assert time.monotonic() - started < MINUTE, f"no call logged in a minute: {demo.said()[-2000:]}"
            assert demo.process.returncode is None, demo.said()[-2000:]
            await asyncio.sleep(0.5)
        assert all(call.practice is Practice.DEMO for call in logged)
        assert all(call.record.call.startswith("demo-") for call in logged)
        customers = (await store.customers.search("", limit=50)).items
        assert len(customers) == 6  # the demo's own, in a store that had none
        zone = ZoneInfo("America/New_York")
        today = date.today()
        report = await store.reports.calls(today - timedelta(days=1), today + timedelta(days=1), zone,
                                           Grouping.QUEUE, ServiceTarget())  # fmt: skip
        assert report.total.entered == 0 and report.rows == {}  # not one demo call in a report
    finally:
        await store.close()

    demo.process.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(demo.process.wait(), 20) == 0
    assert "demo over" in demo.said()


async def sign_in(page: Page, url: str, username: str, password: str) -> None:
    await page.goto(url)
    await expect(page.locator("#connection")).to_have_text("signed out")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", password)
    await page.click("#login button[type=submit]")
    await expect(page.locator("#connection")).to_have_text("connected")


async def test_given_an_empty_database_when_a_new_user_tries_the_demo_then_a_pop_and_the_wallboard_moves(
    demo: DemoProcess, browser: Browser
) -> None:
    password = await demo.password()
    board = await browser.new_page(viewport={"width": 1366, "height": 768})
    await sign_in(board, f"{demo.url}/wallboard", "demo-supervisor", password)
    simulated = board.locator("#agent-sim-1 td.state")
    await expect(simulated).to_have_text(re.compile(r"ready|ringing|on-call|wrap-up"), timeout=10_000)
    seen = {await simulated.inner_text()}

    console = await browser.new_page(viewport={"width": 1366, "height": 768})
    await sign_in(console, demo.url, "demo-agent", password)
    await console.click("#ready")
    pop = console.locator("#pop")
    await expect(pop).to_be_visible(timeout=MINUTE * 1000)
    await expect(console.locator("#pop-line")).not_to_be_empty()
    await expect(console.locator("#pop-source")).not_to_be_empty()
    ARTIFACTS.mkdir(exist_ok=True)
    await console.screenshot(path=str(ARTIFACTS / "demo-console-pop.png"))

    # The wallboard follows the demo: the simulated agent's state changes, and so does the person's.
    deadline = time.monotonic() + MINUTE
    while len(seen) < 2:
        assert time.monotonic() < deadline, f"the simulated agent stayed {seen} for a minute"
        await asyncio.sleep(0.5)
        seen.add(await simulated.inner_text())
    await expect(board.locator("#agent-1001 td.state")).to_have_text(
        re.compile(r"ringing|on-call|wrap-up"), timeout=MINUTE * 1000
    )
    await board.screenshot(path=str(ARTIFACTS / "demo-wallboard.png"))
    await console.close()
    await board.close()


class OneCaller(Callers):
    """A single scripted caller (hold, then a transfer), then nobody for an hour."""

    def __init__(self) -> None:
        super().__init__([], rate_per_min=1)
        self.count = 0

    def next_caller(self, dids: Sequence[str]) -> Caller:
        self.count += 1
        return Caller(
            call=CallId(f"demo-{self.count:06d}"), after_s=0.5 if self.count == 1 else 3600.0, did=dids[0],
            number="+14155550123", name="Jane Doe", talk_s=9.0, hold=True, transfer=True, patience_s=60.0,
        )  # fmt: skip


async def test_given_a_scripted_caller_when_the_demo_plays_it_then_hold_transfer_wrap_up_and_a_demo_record(
    tmp_path: Path,
) -> None:
    settings = dataclasses.replace(
        load(ROOT / "config" / "switchboard.toml", normaliser),
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}",
    )
    store = await open_store(settings)
    service, _, _ = await open_demo(settings, store, Options(rate_per_min=1, agents=2, seed=0))
    seen: list[cmd.Command] = []
    service.bus.subscribe(seen.append)
    await service.start(http=False)
    driver = Demo(service, OneCaller())
    running = asyncio.create_task(driver.run())
    try:
        deadline = time.monotonic() + MINUTE
        while not any(isinstance(c, cmd.LogCall) and c.record.call == "demo-000001" for c in seen):
            assert time.monotonic() < deadline, [type(c).__name__ for c in seen]
            await asyncio.sleep(0.2)
        await service.recorder.flush()
        logged = await store.get_call("demo-000001")
    finally:
        running.cancel()
        await service.stop()

    held = [(c.agent, c.held) for c in seen if isinstance(c, cmd.CallHeld)]
    # Each agent who has the caller puts them on hold for a moment, then takes them back.
    assert held == [("sim-1", True), ("sim-1", False), ("sim-2", True), ("sim-2", False)]
    parts = [c.record for c in seen if isinstance(c, cmd.LogCall)]
    assert [(r.agent, r.outcome, r.queue) for r in parts] == [
        ("sim-1", Outcome.TRANSFERRED, "acme"),  # sim-1's stretch: passed on to the answering queue
        ("sim-2", Outcome.ANSWERED, "answering"),  # sim-2 took it there and ended it
    ]
    states = [(c.agent, c.state) for c in seen if isinstance(c, cmd.AgentStateChanged)]
    assert ("sim-1", AgentState.WRAP_UP) in states  # the acme queue's 30 s of after-call work
    assert states[-1] == ("sim-2", AgentState.READY)  # the answering queue has none: ready at once
    assert logged is not None and logged.practice is Practice.DEMO
