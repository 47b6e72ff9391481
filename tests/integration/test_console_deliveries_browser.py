"""A console that comes back shows its message's deliveries as they are now (issue 15), in real headless
Chromium with a real call from the Asterisk sandbox and a real SMTP server on loopback: the message's email
is queued on screen; the agent's page goes away (a reload, a crash of the tab) while the mail server takes
the mail; the page that comes back shows it sent at once, where it showed nothing of it before."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from config.deliveries import Smtp
from crm_core.domain.deliveries import DeliveryStatus
from tests.integration.conftest import ARTIFACTS, SandboxFactory, wait_until
from tests.integration.test_console_forms_browser import FRONT_DESK, HeldMailbox, mailbox, on_a_call  # noqa: F401

pytestmark = pytest.mark.asterisk


async def test_given_a_delivery_sent_while_the_page_was_away_when_it_comes_back_then_it_shows_it_sent(
    sandbox: SandboxFactory,
    browser: Browser,
    mailbox: tuple[HeldMailbox, Smtp],  # noqa: F811 (the fixture, imported)
) -> None:
    held, smtp = mailbox
    box, page = await on_a_call(sandbox, browser, smtp)
    form = page.get_by_role("form", name="take a message")
    await form.get_by_label("Message", exact=True).fill("Lost a filling, please call back")
    await form.get_by_role("button", name="Take message").click()
    deliveries = page.get_by_role("list", name="deliveries")
    await expect(deliveries).to_have_text(f"email to {FRONT_DESK}: queued")  # the mail server holds it
    status = page.get_by_role("status", name="message status")
    case_id = int((await status.inner_text()).split("case #")[1].split(" ")[0])

    console = str(box.client.make_url("/"))
    await page.goto("about:blank")  # the page is away
    held.release.set()
    [row] = await box.service.store.deliveries.of_message(case_id)
    await wait_until(lambda: held.received, what="the mail")

    async def sent() -> bool:
        return (await box.service.store.deliveries.get(row.id)).status is DeliveryStatus.SENT

    for _ in range(100):
        if await sent():
            break
        await page.wait_for_timeout(50)
    assert await sent()
    await page.goto(console)  # still signed in: the session is in the store
    await expect(page.locator("#connection")).to_have_text("connected")
    await expect(page.locator("#call-status")).to_contain_text("connected")  # the snapshot's live call
    await expect(deliveries).to_have_text(f"email to {FRONT_DESK}: sent", timeout=5_000)
    await expect(status).to_have_text(f"Message taken: case #{case_id}")
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "answering-deliveries-after-reload.png"))
    await expect(page.locator("#log")).not_to_contain_text("invalid")  # every message met its schema
