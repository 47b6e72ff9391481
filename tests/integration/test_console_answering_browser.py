"""The answering service's console in real headless Chromium, with real calls from the Asterisk sandbox:
a line with an answering profile (greeting, script, webhook) and an on-call chain."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, expect

from config.answering import Answering
from crm_core.domain.cases import Priority
from routing.ids import AgentId, LineId, QueueId
from routing.plan import AfterHours, Agent, Did, Line, OnCallStep, Plan, Queue
from tests.integration.conftest import (
    ARTIFACTS,
    Sandbox,
    SandboxFactory,
    phone,
    wait_until_async,
)
from tests.integration.test_console_browser import sign_in

pytestmark = pytest.mark.asterisk

DENTIST = LineId("dentist")
DID = "+18005550103"
SECRET = "webhook-test-secret"
SCRIPT = "1. Ask for the caller's name.\n2. Ask whether it is an emergency (pain, swelling, bleeding)."


@dataclass
class Webhook:
    """The business's end of the answering webhook: a local server that keeps what it was sent."""

    url: str = ""
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append((dict(request.headers), await request.read()))
        self.arrived.set()
        return web.json_response({"ok": True})


@pytest.fixture
async def webhook() -> AsyncIterator[Webhook]:
    hook = Webhook()
    app = web.Application()
    app.router.add_post("/messages", hook.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    hook.url = str(server.make_url("/messages"))
    yield hook
    await server.close()


def dentist_plan() -> Plan:
    """One answering line; its on-call chain: Dr Lee never answers (2xx), Dr Park answers and accepts
    with the key 1 (6xx)."""
    q = QueueId("answering")
    chain = (OnCallStep("Dr Lee", phone("201"), ring_timeout_s=3), OnCallStep("Dr Park", phone("602")))
    return Plan(
        dids={DID: Did(DID, "web", DENTIST)},
        lines={DENTIST: Line(id=DENTIST, name="Smile Dental", queue=q, after_hours=AfterHours(chain=chain))},
        queues={q: Queue(id=q, name="Answering service", ring_timeout_s=10, max_wait_s=120)},
        agents={
            AgentId("olivia"): Agent(id=AgentId("olivia"), name="Olivia", endpoint=phone("101"), queues=(q,))
        },
    )


Start = Callable[[str], Awaitable[Sandbox]]

# Every status line the escalation box shows, in order (a page script, so no status is missed between polls).
SHOWN_ESCALATIONS = """() => {
  const box = document.getElementById("escalation");
  window.shownEscalations = [];
  new MutationObserver(() => {
    const line = box.querySelector("strong")?.textContent;
    if (line) window.shownEscalations.push(line);
  }).observe(box, { childList: true, subtree: true, characterData: true });
}"""


@pytest.fixture
def answering_sandbox(sandbox: SandboxFactory) -> Start:
    """conftest's ``sandbox`` with the dentist's plan and the line's answering profile."""

    async def start(webhook_url: str) -> Sandbox:
        profile = Answering(
            greeting="Smile Dental, this is the answering service. How can I help?",
            script=SCRIPT,
            instructions="Pain or swelling: escalate to the dentist on call.",
            webhook_url=webhook_url,
            webhook_secret=SECRET,
        )
        return await sandbox({}, plan=dentist_plan(), answering={DENTIST: profile})

    return start


async def test_given_an_answering_line_when_a_message_is_taken_and_the_call_escalated_then_the_page_shows_it(
    answering_sandbox: Start, webhook: Webhook, browser: Browser
) -> None:
    box = await answering_sandbox(webhook.url)
    jane = await box.service.store.add_customer("Jane Doe", [("415-555-0123", "mobile")])
    page = await browser.new_page(viewport={"width": 1366, "height": 768})
    await sign_in(page, box, "olivia", role="answering")
    await page.click("#ready")
    await expect(page.locator("#state")).to_have_text("ready")

    call = await box.call("+14155550123", DID)
    business = page.get_by_role("region", name="answering service")
    await expect(business.locator("#biz-name")).to_have_text("Smile Dental")
    await expect(business.get_by_label("greeting")).to_have_text(
        "Smile Dental, this is the answering service. How can I help?"
    )
    await expect(business.get_by_label("script")).to_have_text(SCRIPT)
    await expect(business.get_by_label("on-call list").locator("li")).to_have_text(["Dr Lee", "Dr Park"])
    await expect(page.locator("#pop-title")).to_have_text("Jane Doe")
    await expect(page.locator("#call-status")).to_contain_text("connected")

    form = page.get_by_role("form", name="take a message")
    await form.get_by_label("Urgent").check()
    await form.get_by_label("Message", exact=True).fill("Broken crown, in pain since this morning")
    await form.get_by_label("Caller name").fill("Jane Doe")
    await form.get_by_role("button", name="Take message").click()
    status = page.get_by_role("status", name="message status")
    await expect(status).to_contain_text("(urgent) — business notified")
    case_id = int((await status.inner_text()).split("case #")[1].split(" ")[0])
    case = await box.service.store.cases.get(case_id)
    assert case.customer_id == jane.id and case.priority is Priority.URGENT
    assert case.description.startswith("Broken crown, in pain since this morning")
    await asyncio.wait_for(webhook.arrived.wait(), 5)
    headers, body = webhook.received[0]
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-Switchboard-Signature"] == signature
    assert "Broken crown, in pain since this morning" in json.dumps(json.loads(body))
    ARTIFACTS.mkdir(exist_ok=True)

    await page.evaluate(SHOWN_ESCALATIONS)  # Dr Park decides for a second only: every status shown is kept
    await page.get_by_role("button", name="Escalate").click()
    escalation = page.get_by_role("status", name="escalation")
    await expect(escalation).to_contain_text("ringing Dr Lee")
    await page.screenshot(path=str(ARTIFACTS / "answering-pop.png"))
    await expect(escalation).to_contain_text("Dr Park answered", timeout=15_000)
    shown = await page.evaluate("() => window.shownEscalations")
    park = ["ringing Dr Park", "Dr Park picked up, deciding", "Dr Park answered"]
    assert [s for s in dict.fromkeys(shown) if "Dr Park" in s] == [f"Escalation: {s}" for s in park]
    await expect(escalation).to_contain_text("Dr Lee: no-answer")
    await expect(page.locator("#call-status")).to_have_text("call ended (transferred)")
    assert call in await box.channels()  # the caller is with Dr Park now
    await expect(page.locator("#log")).not_to_contain_text("invalid")  # every message met its schema

    # The message's case is linked to the caller's call once that is logged (it ends now).
    await box.hang_up_caller(call)
    await box.logged(call)

    async def linked() -> bool:
        return call in (await box.service.store.cases.get(case_id)).calls

    await wait_until_async(linked, what="the message's case linked to the call")


async def test_given_an_answering_desk_on_a_line_without_a_profile_then_it_may_still_take_a_message(
    sandbox: SandboxFactory, browser: Browser
) -> None:
    box = await sandbox({"olivia": phone("101")})
    page = await browser.new_page(viewport={"width": 1366, "height": 768})
    await sign_in(page, box, "olivia", role="answering")
    await page.click("#ready")
    await box.call("+14155550188", "18005550101")
    await expect(page.locator("#call-status")).to_contain_text("connected")
    await expect(page.get_by_role("region", name="answering service")).to_be_hidden()

    await page.keyboard.press("Alt+e")  # the line has no on-call chain: the server says so
    await expect(page.get_by_role("alert")).to_contain_text("no-on-call")
    await page.keyboard.press("Alt+m")
    form = page.get_by_role("form", name="take a message")
    await expect(form.get_by_label("Message", exact=True)).to_be_focused()
    await page.keyboard.type("Please send a brochure")
    await form.get_by_label("Caller name").fill("Pat Lane")
    await form.get_by_role("button", name="Take message").click()
    status = page.get_by_role("status", name="message status")
    await expect(status).to_have_text(
        re.compile(r"^Message taken: case #\d+$")
    )  # no webhook: nothing to notify
    pat = await box.service.store.find_by_number("+14155550188")
    assert pat is not None and pat.name == "Pat Lane"
