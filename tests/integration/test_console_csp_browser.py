"""The three pages under their Content-Security-Policy in real headless Chromium: each signs in, loads
its data and reports no violation (a blocked script, style or connection). No Asterisk needed: the
console and wallboard run on the console harness, the reports page on test_reports_browser's store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, Page, expect

from crm_core.domain.users import Role
from tests.agent_console.fakes import PASSWORD, FakeUsers, user
from tests.agent_console.harness import Console, make_console
from tests.integration.test_reports_browser import RANGE
from tests.integration.test_reports_browser import server as server  # the reports page's store and app
from tests.integration.test_reports_browser import sign_in as sign_in_to_reports

# Before any of the page's scripts: every violation the browser reports, and its console's CSP errors.
WATCH = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) =>
  window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
"""


@pytest.fixture
async def console() -> AsyncIterator[Console]:
    users = FakeUsers(user("alice", Role.AGENT, "a1"), user("sue", Role.SUPERVISOR, None))
    async with make_console(users, wallboard=True) as c:
        yield c


@pytest.fixture
async def watched(browser: Browser) -> AsyncIterator[tuple[Page, list[str]]]:
    """A page whose violations are collected. Set up after the server (the test names it later), so it
    is closed before the server stops: a page left open kept its websocket, and the console's shutdown
    waited 30 s for it."""
    context = await browser.new_context()
    page = await context.new_page()
    await page.add_init_script(WATCH)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
    yield page, errors
    await context.close()


async def violations(page: Page, errors: list[str]) -> list[Any]:
    return [*await page.evaluate("window.__violations"), *errors]


async def sign_in(page: Page, url: str, username: str) -> None:
    await page.goto(url)
    await page.fill("#login input[name=username]", username)
    await page.fill("#login input[name=password]", PASSWORD)
    await page.click("#login button[type=submit]")
    await expect(page.locator("#connection")).to_have_text("connected")


@pytest.mark.parametrize(("path", "username"), [("/", "alice"), ("/wallboard", "sue")])
async def test_given_the_policy_when_a_live_page_signs_in_then_no_violation(
    console: Console, watched: tuple[Page, list[str]], path: str, username: str
) -> None:
    page, errors = watched
    await sign_in(page, str(console.client.make_url(path)), username)
    if path == "/":
        await page.click("#ready")
        await expect(page.locator("#state")).to_contain_text("ready")
    assert await violations(page, errors) == []


async def test_given_the_policy_when_the_reports_page_draws_its_charts_then_no_violation(
    server: TestServer, watched: tuple[Page, list[str]]
) -> None:
    page, errors = watched
    await sign_in_to_reports(page, server, f"/reports?{RANGE}&by=queue", "sam")
    await expect(page.locator("body")).to_have_attribute("data-loaded", "2026-11-10..2026-11-11 by queue")
    await expect(page.locator("#chart-hours rect.bar")).to_have_count(12)
    assert await violations(page, errors) == []
