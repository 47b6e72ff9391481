"""The supervisors' wallboard page in real headless Chromium, fed by real calls on the Asterisk sandbox."""

from __future__ import annotations

import re
import time
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Browser, expect

from agent_console.wallboard import Thresholds, Wallboard
from routing.events import SupervisionMode
from routing.ids import AgentId, CallId, QueueId
from tests.integration.conftest import ARTIFACTS, PASSWORD, SandboxFactory, phone

pytestmark = pytest.mark.asterisk
WAIT = 10_000  # ms: Playwright's expect retries until then; pushes come at most once a second


async def test_given_a_supervisor_on_the_wallboard_when_calls_come_then_figures_alerts_and_orders(
    sandbox: SandboxFactory,
    browser: Browser,
) -> None:
    # 101 and 102 answer after 300 ms; Sue's phone is boss's (102), who never logs in: free to supervise.
    box = await sandbox({"alice": phone("101"), "boss": phone("102")})
    service = box.service
    # A red tile after 2 s of waiting rather than the default 60 s; set before any call, so nothing is lost.
    board = Wallboard(service.settings.plan, service.router, ZoneInfo(service.settings.plan.timezone),
                      thresholds=Thresholds(longest_wait_s=2.0))  # fmt: skip
    board.load([], [], time.time())
    service.wallboard.board = board
    await service.store.users.add("sue", PASSWORD, "supervisor", name="Sue", agent="boss")
    alice = await box.console("alice")  # signed in, logged in and ready

    page = await browser.new_page(viewport={"width": 1366, "height": 768})
    await page.goto(str(box.client.make_url("/wallboard")))
    await expect(page.locator("#connection")).to_have_text("signed out")
    await page.fill("input[name=username]", "sue")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("#login button[type=submit]")
    await expect(page.locator("#connection")).to_have_text("connected")
    await expect(page.locator("#login")).to_be_hidden()
    tile = page.locator("#queue-acme")
    row = page.locator("#agent-alice")
    await expect(tile.locator("h3")).to_contain_text("Acme Service")
    await expect(row.locator("td.state")).to_have_text("ready")
    await expect(tile.locator("[data-k=answered]")).to_have_text("0")
    await expect(page.locator("#agent-boss td.in-state")).to_have_text("—")  # never logged in: no time

    # A real call, answered by Alice's phone and hung up by the caller.
    call = await box.call("+14155550123", "18005550104")
    await alice.expect("call-connected")
    # Sue listens on her own phone from Alice's row, then stops.
    listen = row.locator("button.listen")
    await expect(listen).to_be_enabled(timeout=WAIT)  # Alice is on the call
    await expect(row.locator("button.stop")).to_be_disabled()
    await listen.click()
    await expect(page.locator("#supervision")).to_contain_text("listen on alice's call", timeout=WAIT)
    await expect(row.locator("button.stop")).to_be_enabled()
    await expect(row.locator("button.barge")).to_be_disabled()  # one supervision at a time
    view = service.router.call_view(CallId(call))
    assert view is not None and view.supervisors == ((AgentId("boss"), SupervisionMode.LISTEN),)
    await row.locator("button.stop").click()
    await expect(page.locator("#supervision")).to_have_text("not supervising", timeout=WAIT)
    view = service.router.call_view(CallId(call))
    assert view is not None and view.supervisors == ()
    await box.hang_up_caller(call)
    await alice.expect("call-ended")
    await expect(tile.locator("[data-k=offered]")).to_have_text("1", timeout=WAIT)
    await expect(tile.locator("[data-k=answered]")).to_have_text("1", timeout=WAIT)
    await expect(tile.locator("[data-k=abandoned]")).to_have_text("0")
    await expect(row.locator("td.handled")).to_have_text("1", timeout=WAIT)
    await expect(page.locator("#sources tr[data-id=google-ads] td").nth(2)).to_have_text("1")
    await expect(tile).not_to_have_class(re.compile(r"\balert\b"))

    # The supervisor sets Alice not-ready from the page: her console hears it, and it is audited.
    await page.select_option("#reason", "meeting")
    await row.locator("button.not-ready").click()
    await alice.expect("state", state="not-ready", reason="meeting")
    await expect(row.locator("td.state")).to_have_text("not-ready (meeting)", timeout=WAIT)
    assert [(o.who, o.action, o.target, o.outcome) for o in service.backend.supervision.audit] == [
        ("sue", "listen", "alice", "done"),
        ("sue", "stop-supervising", "boss", "done"),
        ("sue", "not-ready", "alice", "done"),
    ]

    # A caller with no agent free waits; past the threshold the queue's tile turns red.
    waiting = await box.call("+14155550199", "18005550101")
    await expect(tile.locator("[data-k=waiting] b")).to_have_text("1", timeout=WAIT)
    await expect(tile).to_have_class(re.compile(r"\balert\b"), timeout=WAIT)
    await expect(tile.locator(".alerts")).to_contain_text("longest-wait")
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "wallboard.png"))

    # A second caller waits behind the first; "Front" on it puts it first in line, in the router too.
    behind = await box.call("+14155550188", "18005550101")
    calls = tile.locator(".calls li")
    await expect(calls).to_have_count(2, timeout=WAIT)
    first, second = [await calls.nth(n).get_attribute("data-call") for n in (0, 1)]
    assert first is not None and second is not None
    await expect(calls.nth(0).locator("button.front")).to_be_disabled()  # already first
    await calls.nth(1).locator("button.front").click()
    await expect(calls.nth(0)).to_have_attribute("data-call", second, timeout=WAIT)
    assert service.router.waiting(QueueId("acme")) == [CallId(second), CallId(first)]
    last = service.backend.supervision.audit[-1]
    assert (last.who, last.action, last.target, last.outcome) == ("sue", "call-to-front", second, "done")
    await box.hang_up_caller(behind)
    await expect(calls).to_have_count(1, timeout=WAIT)

    await box.hang_up_caller(waiting)
    await expect(tile.locator("[data-k=waiting] b")).to_have_text("0", timeout=WAIT)
