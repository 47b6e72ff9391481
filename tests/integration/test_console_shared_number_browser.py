"""Two customers share one number (an office's main line): the console in real headless Chromium, with a
real call from the Asterisk sandbox, offers both, and the agent's pick becomes the call's customer."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from crm_core.domain.customers import CustomerDraft
from tests.integration.conftest import ARTIFACTS, SandboxFactory, phone
from tests.integration.test_console_browser import sign_in

pytestmark = pytest.mark.asterisk

MAIN_LINE = "+12125550150"


async def test_given_two_customers_on_one_number_when_the_agent_picks_the_second_then_the_call_is_theirs(
    sandbox: SandboxFactory, browser: Browser
) -> None:
    box = await sandbox({"alice": phone("101")})
    customers = box.service.store.customers
    ben = await customers.create(
        CustomerDraft(name="Ben Ortiz", company="Ortiz & Park", phones=[(MAIN_LINE, "office")])
    )
    ann = await customers.create(  # updated last: the lookup used to show her alone
        CustomerDraft(name="Ann Park", company="Ortiz & Park", tier="vip",
                      phones=[(MAIN_LINE, "office"), ("+12125550151", "mobile")])
    )  # fmt: skip
    page = await browser.new_page(viewport={"width": 1366, "height": 768})
    await sign_in(page, box, "alice")
    await page.click("#ready")

    call = await box.call(MAIN_LINE, "18005550101")
    await expect(page.locator("#pop-title")).to_have_text("Who is calling? 2 customers share this number")
    await expect(page.locator("#pop-customer")).to_have_text("not picked yet: ask the caller's name")
    choices = page.get_by_role("list", name="customers sharing this number").get_by_role("button")
    await expect(choices).to_have_count(2)
    await expect(choices.nth(0)).to_contain_text("Ann Park ★ VIP")
    await expect(choices.nth(1)).to_contain_text("Ben Ortiz")
    await expect(choices.nth(1)).to_contain_text("office (212) 555-0150")
    await expect(page.locator("#pop-360")).to_be_hidden()  # nobody's history until the caller is known
    await expect(page.get_by_role("form", name="find customer")).to_be_hidden()
    await expect(page.locator("#call-status")).to_contain_text("connected")

    # By keyboard alone: Alt+C to the list, 1 picks the first; the agent heard wrong, so the arrow down to
    # the second and Enter: the last pick wins.
    await page.keyboard.press("Alt+KeyC")
    await expect(choices.nth(0)).to_be_focused()
    await page.keyboard.press("1")
    await expect(page.locator("#pop-title")).to_have_text("Ann Park ★ VIP")
    await expect(choices.nth(0)).to_have_attribute("aria-pressed", "true")
    await expect(choices.nth(0)).to_be_focused()  # the list drawn again keeps the keyboard's place
    await page.keyboard.press("ArrowDown")
    await expect(choices.nth(1)).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(page.locator("#pop-title")).to_have_text("Ben Ortiz")
    await expect(page.locator("#pop-customer")).to_have_text("Ben Ortiz, Ortiz & Park")
    await expect(choices.nth(1)).to_have_attribute("aria-pressed", "true")
    await expect(choices.nth(0)).to_have_attribute("aria-pressed", "false")
    await expect(page.locator("#pop-360")).to_be_visible()
    await page.screenshot(path=str(ARTIFACTS / "console-shared-number.png"))

    # A console that connects now (another tab) shows the pick too.
    other = await browser.new_page(viewport={"width": 1366, "height": 768})
    await sign_in(other, box, "alice")
    await expect(other.locator("#pop-title")).to_have_text("Ben Ortiz")

    await page.get_by_role("button", name="Hang up").click()
    logged = await box.logged(call)
    assert logged.customer_id == ben.id != ann.id
    await expect(page.locator("#call-status")).to_contain_text("call ended")
