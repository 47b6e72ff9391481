"""The console page in real headless Chromium, with a real call from the Asterisk sandbox."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from tests.integration.conftest import PASSWORD, Sandbox, SandboxFactory, phone
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


async def sign_in(page: Page, box: Sandbox, username: str) -> None:
    await page.goto(str(box.client.make_url("/")))
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("#login button[type=submit]")
    await expect(page.locator("#connection")).to_have_text("connected")


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
    await expect(page.locator("#call-status")).to_have_text("call ended (answered)")
    await expect(page.locator("#state")).to_have_text("ready")
    await expect(page.locator("#log li").first).to_contain_text("call ended (answered, caller hung up)")


SCHEMA_CASES = """
async () => {
  const { validate, checkServerMessage } = await import("/static/schema.js");
  const schema = {
    type: "object", additionalProperties: false, required: ["type", "n", "who"],
    properties: {
      type: { const: "t" },
      n: { type: "integer", minimum: 1, maximum: 3 },
      who: { type: ["string", "null"], minLength: 2, maxLength: 3 },
      mode: { enum: ["agent", "answering"] },
      list: { type: "array", items: { $ref: "#/$defs/item" } },
      pick: { oneOf: [{ type: "string" }, { type: "number", minimum: 0 }] },
    },
    $defs: { item: { type: "object", required: ["id"], properties: { id: { type: "integer" } } } },
  };
  const ok = { type: "t", n: 2, who: "añb", mode: "agent", list: [{ id: 1 }], pick: "x" };
  const bad = {
    extra: { ...ok, x: 1 }, missing: { type: "t", n: 2 }, constant: { ...ok, type: "u" },
    integer: { ...ok, n: 1.5 }, minimum: { ...ok, n: 0 }, maximum: { ...ok, n: 4 },
    typeArray: { ...ok, who: 5 }, minLength: { ...ok, who: "a" }, maxLength: { ...ok, who: "abcd" },
    enumeration: { ...ok, mode: "boss" }, items: { ...ok, list: [{ id: "1" }] }, ref: { ...ok, list: [{}] },
    oneOfNone: { ...ok, pick: -1 }, notObject: [ok],
  };
  return {
    ok: validate(schema, ok), nullAllowed: validate(schema, { ...ok, who: null }),
    bad: Object.fromEntries(Object.entries(bad).map(([k, v]) => [k, validate(schema, v)])),
    both: validate({ oneOf: [{ type: "number" }, { type: "integer" }] }, 1),
    unknownType: checkServerMessage({ server: {} }, { type: "surprise" }),
  };
}
"""


async def test_given_the_page_validator_then_it_checks_the_subset_the_contract_names(
    sandbox: SandboxFactory, browser: Browser
) -> None:
    box = await sandbox({"alice": phone("101")})
    page = await browser.new_page()
    await page.goto(str(box.client.make_url("/")))
    result = await page.evaluate(SCHEMA_CASES)
    assert result["ok"] == [] and result["nullAllowed"] == []
    refused = {case: bool(errors) for case, errors in result["bad"].items()}
    assert refused == dict.fromkeys(result["bad"], True)
    assert result["both"] == ["$: matches 2 of oneOf, not exactly 1"]
    assert result["unknownType"] == ['no schema for server message type "surprise"']


async def test_given_a_schema_bundle_when_a_server_message_fails_it_then_the_page_does_not_apply_it(
    sandbox: SandboxFactory, browser: Browser
) -> None:
    box = await sandbox({"alice": phone("101")})
    await box.service.store.users.add("alice", PASSWORD, "agent", agent="alice", name="Alice")
    page = await browser.new_page()
    # A bundle whose `state` schema knows no "ready": the server's reply to "ready" must be refused.
    state = {
        "type": "object",
        "required": ["type", "state"],
        "properties": {"type": {"const": "state"}, "state": {"enum": ["not-ready", "logged-out"]}},
    }
    bundle = {
        "version": 2,
        "client": {},
        "server": {"hello": {}, "snapshot": {}, "state": state, "error": {}},
    }
    await page.route("**/protocol/schemas.json", lambda route: route.fulfill(json=bundle))
    await sign_in(page, box, "alice")
    await expect(page.locator("#state")).to_have_text("not-ready (logged-in)")
    await page.click("#ready")
    await expect(page.locator("#log")).to_contain_text(
        "invalid state message not applied: $.state: not one of"
    )
    await expect(page.locator("#state")).to_have_text("not-ready (logged-in)")
