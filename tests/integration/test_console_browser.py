"""The console page in real headless Chromium, with a real call from the Asterisk sandbox."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright, expect

from tests.integration.conftest import PASSWORD, SandboxFactory, phone
from tests.support import unavailable

pytestmark = pytest.mark.asterisk

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]  # fmt: skip
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if shutil.which(CHROMIUM) is None:
        unavailable("Chromium at /usr/bin/chromium", "apt-get install chromium, or run scripts/setup")
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        await browser.close()


async def test_given_an_agent_in_the_browser_when_a_customer_calls_then_the_pop_shows_them(
    sandbox: SandboxFactory, browser: Browser
) -> None:
    box = await sandbox({"alice": phone("101")})
    await box.service.store.add_customer("Jane Doe", [("415-555-0123", "mobile")], "Doe Plumbing", tier="vip")
    page = await browser.new_page(viewport={"width": 1366, "height": 768})
    await box.service.store.users.add("alice", PASSWORD, "agent", agent="alice", name="Alice")
    await page.goto(str(box.client.make_url("/")))
    await expect(page.locator("#connection")).to_have_text("signed out")
    await page.fill("input[name=username]", "alice")
    await page.fill("input[name=password]", "not her password")
    await page.click("#login button[type=submit]")
    await expect(page.locator("#error")).to_have_text("login-failed: wrong username or password")

    await page.fill("input[name=username]", "alice")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("#login button[type=submit]")
    await expect(page.locator("#connection")).to_have_text("connected")
    await expect(page.locator("#state")).to_have_text("not-ready (logged-in)")
    await page.click("#ready")
    await expect(page.locator("#state")).to_have_text("ready")

    call = await box.call("+14155550123", "18005550104")
    pop = page.locator("#pop")
    await expect(pop).to_be_visible()
    await expect(page.locator("#pop-title")).to_have_text("Jane Doe ★ VIP")
    await expect(page.locator("#pop-customer")).to_have_text("Jane Doe, Doe Plumbing")
    await expect(page.locator("#pop-line")).to_have_text("Acme Service")
    await expect(page.locator("#pop-source")).to_have_text("google-ads")
    await expect(page.locator("#state")).to_have_text("on-call")
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "console-pop.png"))
    # The console acknowledged the pop it displayed.
    assert any(agent == "alice" for agent in box.service.hub.acked.values())

    await box.hang_up_caller(call)
    await expect(pop).to_be_hidden()
    await expect(page.locator("#state")).to_have_text("ready")
    await expect(page.locator("#log li").first).to_contain_text("call ended (answered, caller hung up)")
