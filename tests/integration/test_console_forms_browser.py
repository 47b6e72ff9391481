"""Message forms and live delivery status in the answering console, in real headless Chromium, with a
real call from the Asterisk sandbox and a real SMTP server on loopback (aiosmtpd): the form the call type
needs is rendered, a wrong value is refused with the field's error and nothing stored, a valid message is
stored with its form, and its email delivery changes on screen from queued to sent as the worker sends it."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator
from email import message_from_bytes, policy
from email.message import Message

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from playwright.async_api import Browser, Page, expect

from config.answering import Answering
from config.deliveries import Deliveries, DeliveryRules, Rule, Smtp
from crm_core.domain.cases import Priority
from crm_core.domain.deliveries import DeliveryStatus
from routing.forms import FieldType, Form, FormBook, FormField
from tests.integration.conftest import ARTIFACTS, Sandbox, SandboxFactory
from tests.integration.test_console_answering_browser import DENTIST, DID, dentist_plan
from tests.integration.test_console_browser import sign_in

pytestmark = pytest.mark.asterisk

NEW_PATIENT = Form(
    name="new-patient", title="New patient", call_types=("new patient",),
    fields=(
        FormField(name="patient", label="Patient name", type=FieldType.NAME, required=True, max_length=80),
        FormField(name="dob", label="Date of birth", type=FieldType.DATE_OF_BIRTH, required=True),
        FormField(name="callback", label="Callback number", type=FieldType.PHONE, required=True),
        FormField(name="urgency", label="Urgency", type=FieldType.URGENCY, required=True,
                  choices=("routine", "urgent"), urgent=("urgent",)),
        FormField(name="notes", label="Notes", type=FieldType.TEXT),
    ),
)  # fmt: skip
GENERAL = Form(
    name="general", title="Message",
    fields=(FormField(name="note", label="What the caller wants", type=FieldType.TEXT, required=True),),
)  # fmt: skip
FRONT_DESK = "frontdesk@smile.example.com"


class HeldMailbox:
    """aiosmtpd's handler: takes each mail only once ``release`` is set, and keeps it."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.received: list[Message] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        await self.release.wait()
        content = envelope.content if isinstance(envelope.content, bytes) else b""
        self.received.append(message_from_bytes(content, policy=policy.default))
        return "250 2.0.0 queued as F1"


@pytest.fixture
async def mailbox() -> AsyncIterator[tuple[HeldMailbox, Smtp]]:
    box = HeldMailbox()
    server = await asyncio.get_running_loop().create_server(
        functools.partial(SMTP, box, hostname="sb-forms"), "127.0.0.1", 0
    )
    port = server.sockets[0].getsockname()[1]
    yield box, Smtp(host="127.0.0.1", port=port, sender="answering@example.com")
    box.release.set()
    server.close()
    await server.wait_closed()


async def on_a_call(
    sandbox: SandboxFactory, browser: Browser, smtp: Smtp, forms: FormBook | None = None
) -> tuple[Sandbox, Page]:
    """Olivia, answering in Chromium, on a call to the dentist, whose messages are emailed to the front
    desk through ``smtp`` (and take ``forms``, if any)."""
    rule = Rule(email=(FRONT_DESK,))
    profile = Answering(
        greeting="Smile Dental, answering service.", script="Ask why they call.", instructions=""
    )
    more: dict[str, object] = {
        "deliveries": Deliveries(rules={DENTIST: DeliveryRules(urgent=rule, routine=rule)}, smtp=smtp)
    }
    if forms is not None:
        more["forms"] = {DENTIST: forms}
    box = await sandbox({}, plan=dentist_plan(), answering={DENTIST: profile}, more=more)
    page = await browser.new_page(viewport={"width": 1366, "height": 900})
    await sign_in(page, box, "olivia", role="answering")
    await page.click("#ready")
    await expect(page.locator("#state")).to_have_text("ready")
    await box.call("+14155550177", DID)
    await expect(page.locator("#call-status")).to_contain_text("connected")
    return box, page


async def test_given_a_line_with_forms_when_a_message_is_taken_then_checked_stored_and_its_delivery_live(
    sandbox: SandboxFactory, browser: Browser, mailbox: tuple[HeldMailbox, Smtp]
) -> None:
    held, smtp = mailbox
    box, page = await on_a_call(sandbox, browser, smtp, FormBook((NEW_PATIENT, GENERAL), "America/New_York"))

    form = page.get_by_role("form", name="take a message")
    await expect(form.get_by_label("What the caller wants")).to_be_visible()  # no call type yet: General
    await expect(form.get_by_label("Message", exact=True)).to_be_hidden()  # the plain message gives way
    await form.get_by_label("Call type").select_option("new patient")
    await expect(form.get_by_role("group", name="New patient")).to_be_visible()
    await expect(form.locator("label[for=field-patient]")).to_have_text("Patient name *")
    await expect(form.locator("label[for=field-notes]")).to_have_text("Notes")  # optional: no mark
    assert await form.get_by_label("Date of birth").get_attribute("type") == "date"
    callback = form.get_by_role("textbox", name="Callback number")  # the plain message's is hidden
    assert await callback.get_attribute("type") == "tel"
    assert await form.get_by_label("Patient name").get_attribute("maxlength") == "80"

    await page.keyboard.press("Alt+m")  # take a message: the form's first field
    await expect(form.get_by_label("Patient name")).to_be_focused()
    await page.keyboard.type("Sam Lee")
    await form.get_by_label("Date of birth").fill("1990-04-01")
    await callback.fill("call me maybe")
    await form.get_by_label("Urgency").select_option("urgent")
    await form.get_by_role("button", name="Take message").click()
    await expect(form.locator("#error-callback")).to_have_text("'call me maybe' is not a phone number")
    await expect(callback).to_have_attribute("aria-invalid", "true")
    await expect(form.locator("#error-patient")).to_have_text("")
    assert (await box.service.store.cases.list()).items == ()  # refused: nothing stored

    await callback.fill("(415) 555-0177")
    await form.get_by_label("Notes").fill("Wants a first cleaning")
    await form.get_by_role("button", name="Take message").click()
    status = page.get_by_role("status", name="message status")
    await expect(status).to_contain_text("(urgent) — deliveries queued")
    await expect(form.locator("#error-callback")).to_have_text("")
    case_id = int((await status.inner_text()).split("case #")[1].split(" ")[0])
    case = await box.service.store.cases.get(case_id)
    assert case.priority is Priority.URGENT and case.subject.endswith("(New patient)")
    assert case.description == (
        "Form: New patient\nPatient name: Sam Lee\nDate of birth: 1990-04-01\nCallback number: +14155550177\n"
        "Urgency: urgent\nNotes: Wants a first cleaning"
    )

    deliveries = page.get_by_role("list", name="deliveries")
    await expect(deliveries).to_have_text(f"email to {FRONT_DESK}: queued")  # the mail server holds it
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "answering-form-queued.png"))
    held.release.set()
    await expect(deliveries).to_have_text(f"email to {FRONT_DESK}: sent", timeout=10_000)
    await page.screenshot(path=str(ARTIFACTS / "answering-form-sent.png"))
    [mail] = held.received
    assert mail["To"] == FRONT_DESK and "Patient name: Sam Lee" in mail.get_content()
    [row] = await box.service.store.deliveries.of_message(case_id)
    assert (row.status, row.answer) == (DeliveryStatus.SENT, "2.0.0 queued as F1")
    await expect(page.locator("#log")).not_to_contain_text("invalid")  # every message met its schema
