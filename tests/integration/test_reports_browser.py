"""The reports page in real headless Chromium, over the calls of tests/api/test_api_reports.py (recorded
straight into a SQLite store: no Asterisk needed, so no ``asterisk`` marker)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, Page, expect

from agent_console.api.context import ApiConfig
from agent_console.app import ConsoleBackend, create_app
from agent_console.hub import ConsoleHub
from crm_core.sql.migrate import upgrade_async
from crm_core.sql.store import SqlStore
from routing.plan import Plan
from routing.router import Router
from tests.api.conftest import NoCallers
from tests.api.test_api_reports import REPORTING, load
from tests.integration.conftest import ARTIFACTS

PASSWORD = "reports-password"
RANGE = "from=2026-11-10&to=2026-11-11"


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[TestServer]:
    url = f"sqlite+aiosqlite:///{tmp_path}/crm.db"
    await upgrade_async(url)
    store = SqlStore.open(url, "US")
    await load(store)
    await store.users.add("sam", PASSWORD, "supervisor", name="Sam Supervisor")
    await store.users.add("alice", PASSWORD, "agent", agent="a1", name="Alice")
    router = Router(Plan(dids={}, lines={}, queues={}, agents={}))

    async def ask(_: object) -> list[Any]:
        return []

    backend = ConsoleBackend(
        ask, router.agent_view, lambda: 0.0, store.users, lambda: {}, sessions=store.sessions
    )
    app = create_app(ConsoleHub(NoCallers()), backend, ApiConfig(store, (), "US", reporting=REPORTING))
    test_server = TestServer(app)
    await test_server.start_server()
    yield test_server
    await test_server.close()
    await store.close()


async def sign_in(page: Page, server: TestServer, path: str, username: str) -> None:
    await page.goto(str(server.make_url(path)))
    await expect(page.locator("#login")).to_be_visible()
    await page.fill("#login input[name=username]", username)
    await page.fill("#login input[name=password]", PASSWORD)
    await page.click("#login button[type=submit]")


def cell(page: Page, where: str, group: str, field: str) -> Any:
    return page.locator(f"#figures {where} tr[data-group='{group}'] td[data-field='{field}']")


async def test_given_a_supervisor_when_the_reports_page_opens_then_figures_charts_and_csv_agree(
    browser: Browser, server: TestServer
) -> None:
    page = await browser.new_page(viewport={"width": 1366, "height": 768})
    await sign_in(page, server, f"/reports?{RANGE}&by=queue", "sam")

    await expect(page.locator("body")).to_have_attribute("data-loaded", "2026-11-10..2026-11-11 by queue")
    await expect(page.locator("#who")).to_have_text("Sam Supervisor (supervisor)")
    await expect(page.locator("#login")).to_be_hidden()
    await expect(page.locator("#error")).to_be_hidden()
    await expect(page.locator("#formula")).to_contain_text(
        "service level = answered within 20 s / (answered + abandoned), goal 80%"
    )
    await expect(cell(page, "tbody", "sales", "service_level")).to_have_text("40.0 %")
    await expect(cell(page, "tbody", "support", "service_level")).to_have_text("100.0 %")  # its own target
    await expect(cell(page, "tbody", "support", "target")).to_have_text("answered, 30 s, goal 90.0 %")
    await expect(cell(page, "tfoot", "total", "entered")).to_have_text("10")
    await expect(cell(page, "tfoot", "total", "service_level")).to_have_text("28.6 %")
    await expect(cell(page, "tfoot", "total", "asa_s")).to_have_text("17.0 s")
    await expect(cell(page, "tfoot", "total", "abandonment_rate")).to_have_text("33.3 %")
    # Hours 09, 10, 11 and 14 have calls: three bars each; two days; two sources; one goal line.
    await expect(page.locator("#chart-hours rect.bar")).to_have_count(12)
    await expect(page.locator("#chart-hours rect.offered[data-group='09']")).to_have_attribute(
        "data-value", "5"
    )
    await expect(page.locator("#chart-hours rect.answered[data-group='09']")).to_have_attribute(
        "data-value", "3"
    )
    await expect(page.locator("#chart-days rect.bar")).to_have_count(2)
    await expect(page.locator("#chart-days rect.below")).to_have_count(1)  # 16.7 % on the 10th, 100 % next
    await expect(page.locator("#chart-days line.goal")).to_have_count(1)
    await expect(page.locator("#chart-sources rect.bar")).to_have_count(2)
    await expect(page.locator("#chart-sources rect[data-group='web']")).to_have_attribute("data-value", "6")
    await expect(page.locator("#agents tr[data-agent='a1'] td").nth(1)).to_have_text("3")
    csv_link = page.locator("#csv")
    await expect(csv_link).to_have_attribute("href", f"/api/v1/reports/calls.csv?{RANGE}&by=queue")
    csv = await page.evaluate("async () => (await fetch(document.getElementById('csv').href)).text()")
    assert csv.splitlines()[1].startswith("sales,8,7,1,3,2,2,1,1,1,0,1,0.4,")
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "reports.png"), full_page=True)

    await page.select_option("#range select[name=by]", "day")
    await page.click("#range button[type=submit]")
    await expect(page.locator("body")).to_have_attribute("data-loaded", "2026-11-10..2026-11-11 by day")
    await expect(page.locator("#figures tbody tr")).to_have_count(2)
    await expect(cell(page, "tbody", "2026-11-10", "service_level")).to_have_text("16.7 %")


async def test_given_an_agent_when_the_reports_page_opens_then_the_refusal_is_shown(
    browser: Browser, server: TestServer
) -> None:
    page = await browser.new_page(viewport={"width": 1366, "height": 768})
    await sign_in(page, server, f"/reports?{RANGE}", "alice")

    await expect(page.locator("body")).to_have_attribute("data-loaded", "refused")
    await expect(page.locator("#error")).to_be_visible()
    await expect(page.locator("#error")).to_contain_text("You may not see reports. 403 forbidden")
    await expect(page.locator("#figures tbody tr")).to_have_count(0)
