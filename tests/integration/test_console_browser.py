"""The console page in real headless Chromium, with a real call from the Asterisk sandbox."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from playwright.async_api import Browser, Page, expect

from crm_core.domain.accounts import Account, AccountStatus
from crm_core.domain.cases import NewCase, Priority
from crm_core.domain.orders import NewOrder
from routing.ids import AgentId, QueueId
from tests.integration.conftest import (
    ARTIFACTS,
    PASSWORD,
    Sandbox,
    SandboxFactory,
    make_plan,
    phone,
    wait_until,
)

pytestmark = pytest.mark.asterisk


class Cable:
    """A TCP proxy between the browser and the service: ``cut()`` drops every connection and refuses
    new ones (the agent's network is down), ``mend()`` listens again on the same port."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def mend(self) -> None:
        self._server = await asyncio.start_server(self._connect, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()  # a reset, as when a link goes down; no closing handshake
        await self._server.wait_closed()

    async def _connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        self._writers |= {writer, up_writer}
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            self._writers.discard(writer)
            writer.transport.abort()


async def sign_in(
    page: Page, box: Sandbox, username: str, role: str = "agent", url: str | None = None
) -> None:
    """Open the console and sign in as ``username`` (created on first use, acting as agent ``username``)."""
    if await box.service.store.users.get(username) is None:
        await box.service.store.users.add(username, PASSWORD, role, agent=username, name=username.title())
    await page.goto(url or str(box.client.make_url("/")))
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
    # The console acknowledged the pop it displayed.
    assert any(agent == "alice" for agent in box.service.hub.acked.values())

    await box.hang_up_caller(call)
    await expect(page.locator("#call-status")).to_have_text("call ended (answered)")
    await expect(page.locator("#state")).to_have_text("ready")
    await expect(page.locator("#log li").first).to_contain_text("call ended (answered, caller hung up)")


async def jane_with_an_account(box: Sandbox) -> int:
    """Jane Doe, VIP, on credit hold, with an open case and an order."""
    store = box.service.store
    jane = await store.add_customer("Jane Doe", [("415-555-0123", "mobile")], "Doe Plumbing", tier="vip")
    hold = Account(Decimal("1234.50"), "USD", Decimal("1000.00"), AccountStatus.ON_HOLD, date(2026, 10, 1))
    await store.accounts.set(jane.id, hold)
    await store.accounts.add_order(
        jane.id, NewOrder(date(2026, 11, 2), "Pressure valve", 2, Decimal("80.00"))
    )
    await store.cases.open(NewCase(customer_id=jane.id, subject="Leaking boiler", priority=Priority.HIGH))
    return jane.id


async def test_given_a_known_caller_when_the_agent_hangs_up_and_wraps_up_then_the_history_shows_it(
    sandbox: SandboxFactory, browser: Browser
) -> None:
    box = await sandbox({"alice": phone("101")})
    await jane_with_an_account(box)
    page = await browser.new_page(viewport={"width": 1366, "height": 768})
    await sign_in(page, box, "alice")
    await page.click("#ready")
    # A first call, which the caller ends: it is in Jane's history when she calls again.
    first = await box.call("+14155550123", "18005550101")
    await expect(page.locator("#call-status")).to_contain_text("connected")
    await box.hang_up_caller(first)
    await expect(page.locator("#call-status")).to_have_text("call ended (answered)")
    await expect(page.get_by_role("form", name="wrap-up")).to_be_visible()
    await expect(page.locator("#state")).to_have_text("ready")

    call = await box.call("+14155550123", "18005550104")
    await expect(page.locator("#call-status")).to_contain_text("connected")
    await expect(page.locator("#pop-title")).to_have_text("Jane Doe ★ VIP")
    await expect(page.locator("#pop-caller")).to_have_text("(415) 555-0123")
    await expect(page.locator("#pop-account")).to_contain_text("CREDIT HOLD, balance 1234.50 USD")
    await expect(page.locator("#pop-source")).to_have_text("google-ads")
    history = page.locator("#pop-history tbody tr")
    await expect(history).to_have_count(1)
    await expect(history.first).to_contain_text("radio")
    await expect(page.locator("#pop-cases")).to_contain_text("Leaking boiler — open, high")
    await expect(page.locator("#pop-orders")).to_contain_text("Pressure valve")
    await expect(page.locator("#pop-orders")).to_contain_text("80.00 USD")
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "console-pop.png"))

    await page.get_by_role("button", name="Hang up").click()
    await expect(page.locator("#call-status")).to_have_text("call ended (answered)")
    await box.gone(call.removesuffix(";2"))  # the caller was hung up in Asterisk
    await page.reload()  # a pending wrap-up comes back with the snapshot, with the caller's record
    wrap_up = page.get_by_role("form", name="wrap-up")
    await expect(wrap_up).to_be_visible()
    await expect(page.locator("#pop-title")).to_have_text("Jane Doe ★ VIP")
    await expect(page.locator("#call-status")).to_have_text("call ended")
    await wrap_up.get_by_label("Disposition").select_option("support")
    await wrap_up.get_by_label("Notes").fill("Valve on order; told her about the credit hold")
    await page.screenshot(path=str(ARTIFACTS / "console-wrap-up.png"))
    await wrap_up.get_by_role("button", name="Save wrap-up").click()
    await expect(wrap_up).to_be_hidden()
    newest = page.locator("#pop-history tbody tr").first
    await expect(newest.locator(".disposition")).to_have_text("support")
    await expect(newest.locator(".notes")).to_have_text("Valve on order; told her about the credit hold")
    await expect(page.locator("#pop-history tbody tr")).to_have_count(2)
    logged = await box.logged(call)
    assert (logged.disposition, logged.agent_notes) == (
        "support",
        "Valve on order; told her about the credit hold",
    )
    assert str(logged.record.hung_up_by) == "agent"
    await expect(page.locator("#log")).not_to_contain_text("invalid")  # every message met its schema


async def test_given_wrap_up_time_when_the_agent_extends_it_and_books_a_callback_then_both_are_kept(
    sandbox: SandboxFactory, browser: Browser
) -> None:
    plan = make_plan({"alice": phone("101")})
    acme = plan.queues[QueueId("acme")]
    wrap_up_30s = {acme.id: dataclasses.replace(acme, wrap_up_s=30)}
    plan = dataclasses.replace(plan, queues=wrap_up_30s, pause_reasons=("break", "coaching"))
    box = await sandbox({}, plan=plan)
    jane = await jane_with_an_account(box)
    # The agent's browser is in New York: the callback time typed there is stored with its offset.
    context = await browser.new_context(
        viewport={"width": 1366, "height": 768}, timezone_id="America/New_York"
    )
    page = await context.new_page()
    await sign_in(page, box, "alice")
    await page.click("#ready")
    call = await box.call("+14155550123", "18005550104")
    await expect(page.locator("#call-status")).to_contain_text("connected")
    await page.keyboard.press("Alt+h")
    await expect(page.locator("#state")).to_have_text("wrap-up")
    timer = page.get_by_label("time in state")
    await expect(timer).to_have_text(re.compile(r"^0:[0-3]\d left$"))
    await page.get_by_role("button", name="extend wrap-up by 60 s").click()
    await expect(timer).to_have_text(re.compile(r"^1:[0-3]\d left$"))

    wrap_up = page.get_by_role("form", name="wrap-up")
    await page.keyboard.press("Alt+w")
    await expect(wrap_up.get_by_label("Notes")).to_be_focused()
    await page.keyboard.type("Wants the valve fitted next week")
    await wrap_up.get_by_label("Disposition").select_option("sale")
    await wrap_up.get_by_label("case action").select_option("update")
    await wrap_up.get_by_label("Case", exact=True).select_option(label="#1 Leaking boiler")
    await wrap_up.get_by_label("Status").select_option("pending")
    await wrap_up.get_by_label("Comment").fill("valve ordered")
    await wrap_up.get_by_label("Call back at").fill("2026-12-01T10:30")
    await page.keyboard.press("Alt+s")
    await expect(wrap_up).to_be_hidden()
    await expect(page.locator("#log")).to_contain_text("wrap-up saved: sale, case #1, callback case #2")

    logged = await box.logged(call)
    assert (logged.disposition, logged.case_id, logged.agent_notes) == (
        "sale",
        1,
        "Wants the valve fitted next week",
    )
    assert str((await box.service.store.cases.get(1)).status) == "pending"
    callback = await box.service.store.cases.get(2)
    assert (callback.customer_id, callback.subject, callback.owner) == (jane, "Call back", "alice")
    assert callback.due_at == datetime(2026, 12, 1, 15, 30, tzinfo=UTC)  # 10:30 in New York

    # The not-ready reasons are the plan's; then the agent signs out.
    reasons = page.get_by_label("not-ready reason")
    await expect(reasons.locator("option")).to_have_text(["break", "coaching"])
    await reasons.select_option("coaching")
    await page.click("#pause")
    await expect(page.locator("#state")).to_have_text("not-ready (coaching)")
    await page.get_by_role("button", name="Log out").click()
    await expect(page.locator("#connection")).to_have_text("signed out")
    await expect(page.get_by_role("form", name="sign in")).to_be_visible()
    await wait_until(lambda: str(box.service.router.agent_view(AgentId("alice")).state) == "logged-out")
    await context.close()


async def test_given_unknown_callers_when_the_agent_creates_or_finds_them_then_the_call_is_theirs(
    sandbox: SandboxFactory, browser: Browser
) -> None:
    box = await sandbox({"alice": phone("101")})
    await jane_with_an_account(box)
    page = await browser.new_page(viewport={"width": 1366, "height": 768})
    await sign_in(page, box, "alice")
    await page.click("#ready")

    first = await box.call("+14155550199", "18005550101")
    await expect(page.locator("#pop-title")).to_have_text("Unknown caller")
    create = page.get_by_role("form", name="new customer")
    await expect(create.get_by_label("Phone")).to_have_value("+14155550199")
    await create.get_by_label("Name").fill("Sam Newman")
    await create.get_by_label("Company").fill("Newman Roofing")
    await create.get_by_role("button", name="Create and attach").click()
    await expect(page.locator("#pop-title")).to_have_text("Sam Newman")
    await expect(page.locator("#pop-customer")).to_have_text("Sam Newman, Newman Roofing")
    sam = await box.service.store.find_by_number("+14155550199")
    assert sam is not None and sam.name == "Sam Newman"
    await expect(page.locator("#call-status")).to_contain_text("connected")  # hang-up while ringing declines
    await page.get_by_role("button", name="Hang up").click()
    assert (await box.logged(first)).customer_id == sam.id

    second = await box.call("+14155550177", "18005550101")
    await expect(page.locator("#pop-title")).to_have_text("Unknown caller")
    search = page.get_by_role("form", name="find customer")
    await search.get_by_label("search customers").fill("Doe Plumbing")
    await search.get_by_role("button", name="Search").click()
    await search.get_by_role("button", name="attach Jane Doe").click()
    await expect(page.locator("#pop-title")).to_have_text("Jane Doe ★ VIP")
    await expect(page.locator("#pop-cases")).to_contain_text("Leaking boiler")
    await expect(page.locator("#call-status")).to_contain_text("connected")
    await page.get_by_role("button", name="Hang up").click()
    jane = await box.service.store.find_by_number("+14155550123")
    assert jane is not None and (await box.logged(second)).customer_id == jane.id


async def test_given_a_call_when_the_agent_holds_resumes_and_transfers_it_then_the_page_follows(
    sandbox: SandboxFactory, browser: Browser
) -> None:
    box = await sandbox({"alice": phone("101"), "bob": phone("102")})
    page = await browser.new_page(viewport={"width": 1366, "height": 768})
    await sign_in(page, box, "alice")
    await page.click("#ready")
    call = await box.call("+14155550123", "18005550101")
    await expect(page.locator("#call-status")).to_contain_text("connected")

    await page.keyboard.press("Alt+o")
    await expect(page.locator("#call-status")).to_have_text("on hold")
    await page.get_by_role("button", name="Resume").click()
    await expect(page.locator("#call-status")).to_contain_text("connected")

    bobs = await browser.new_context(viewport={"width": 1366, "height": 768})  # his own session
    bob = await bobs.new_page()
    await sign_in(bob, box, "bob")
    await bob.click("#ready")  # ready now, so the transfer has someone to go to
    await expect(bob.locator("#state")).to_have_text("ready")
    transfer = page.get_by_role("form", name="transfer")
    await transfer.get_by_label("transfer to").select_option("number")
    await transfer.get_by_label("transfer number").fill("call me maybe")
    await transfer.get_by_role("button", name="Transfer").click()
    await expect(page.get_by_role("alert")).to_contain_text("bad-number")
    await expect(page.locator("#call-status")).to_contain_text("connected")  # refused: still on the call
    await transfer.get_by_label("transfer to").select_option("agent")
    await transfer.get_by_label("transfer agent").select_option("bob")
    await transfer.get_by_role("button", name="Transfer").click()
    await expect(page.locator("#call-status")).to_have_text("call ended (transferred)")
    await expect(bob.locator("#pop-caller")).to_have_text("(415) 555-0123")
    await expect(bob.locator("#call-status")).to_contain_text("connected")
    assert call in await box.channels()
    await bobs.close()


async def test_given_a_call_up_when_the_network_drops_and_comes_back_then_the_page_restores_it(
    sandbox: SandboxFactory, browser: Browser
) -> None:
    box = await sandbox({"alice": phone("101")})
    await box.service.store.add_customer("Jane Doe", [("415-555-0123", "mobile")], "Doe Plumbing", tier="vip")
    cable = Cable(box.client.port)
    await cable.mend()
    page = await browser.new_page(viewport={"width": 1366, "height": 768})
    await sign_in(page, box, "alice", url=f"http://127.0.0.1:{cable.port}/")
    await page.click("#ready")
    await expect(page.locator("#state")).to_have_text("ready")
    call = await box.call("+14155550123", "18005550104")
    await expect(page.locator("#state")).to_have_text("on-call")
    await expect(page.locator("#pop-title")).to_have_text("Jane Doe ★ VIP")

    await cable.cut()
    await expect(page.locator("#connection")).to_have_text("reconnecting…")
    # What the page shows now must come back from the server, not from before the drop.
    await page.evaluate("document.getElementById('pop-title').textContent = ''")
    await page.evaluate("document.getElementById('state').textContent = ''")
    await cable.mend()
    await expect(page.locator("#connection")).to_have_text("connected", timeout=15_000)
    await expect(page.locator("#state")).to_have_text("on-call")
    await expect(page.locator("#pop-title")).to_have_text("Jane Doe ★ VIP")
    await expect(page.locator("#call-status")).to_contain_text("connected")
    assert call in await box.channels()  # the caller is still on the line
    assert str(box.service.router.agent_view(AgentId("alice")).state) == "on-call"

    # A fresh page (nothing kept in memory) gets the call on hold back from the snapshot.
    await page.get_by_role("button", name="Hold").click()
    await expect(page.locator("#call-status")).to_have_text("on hold")
    await page.reload()
    await expect(page.locator("#pop-title")).to_have_text("Jane Doe ★ VIP")
    await expect(page.locator("#call-status")).to_have_text("on hold")
    await page.get_by_role("button", name="Resume").click()
    await expect(page.locator("#call-status")).to_contain_text("connected")

    await box.hang_up_caller(call)
    await expect(page.locator("#call-status")).to_have_text("call ended (answered)")
    await cable.cut()


async def test_given_two_tabs_of_one_agent_then_both_show_the_same_state_and_pop(
    sandbox: SandboxFactory, browser: Browser
) -> None:
    box = await sandbox({"alice": phone("101")})
    await box.service.store.add_customer("Jane Doe", [("415-555-0123", "mobile")], "Doe Plumbing", tier="vip")
    context = await browser.new_context(viewport={"width": 1366, "height": 768})
    first = await context.new_page()
    await sign_in(first, box, "alice")
    second = await context.new_page()  # the same browser, so the same session cookie
    await second.goto(str(box.client.make_url("/")))
    for tab in (first, second):
        await expect(tab.locator("#connection")).to_have_text("connected")
        await expect(tab.locator("#state")).to_have_text("not-ready (logged-in)")

    await second.keyboard.press("Alt+r")  # the page's shortcut for ready
    call = await box.call("+14155550123", "18005550104")
    for tab in (first, second):
        await expect(tab.locator("#state")).to_have_text("on-call")
        await expect(tab.locator("#pop-title")).to_have_text("Jane Doe ★ VIP")
        await expect(tab.locator("#pop-source")).to_have_text("google-ads")

    await first.select_option("#reason", "lunch")
    await first.keyboard.press("Alt+n")  # not now: the server's refusal shows in the tab that asked
    await expect(first.get_by_role("alert")).to_contain_text("not-allowed-now")
    await expect(second.locator("#error")).to_be_empty()
    await box.hang_up_caller(call)
    for tab in (first, second):
        await expect(tab.locator("#call-status")).to_have_text("call ended (answered)")
        await expect(tab.locator("#state")).to_have_text("ready")
    await first.keyboard.press("Alt+n")
    for tab in (first, second):
        await expect(tab.locator("#state")).to_have_text("not-ready (lunch)")
    await context.close()


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
