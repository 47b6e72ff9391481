"""Message forms over the websocket against a real store (SQLite): the console asks which form a call
takes, a submitted message is checked against it (refused per field, nothing stored), and a valid one is
filed with its form's name and values before the business is notified; each delivery's changes reach the
agent who took the message."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from agent_console.desk import Notified
from agent_console.forms import DeliveryFeed
from crm_core.domain.cases import Priority
from crm_core.domain.deliveries import Channel, Delivery, DeliveryStatus
from crm_core.domain.users import Role
from crm_core.sql.store import SqlStore
from routing.forms import FieldType, Form, FormBook, FormField, Window
from routing.ids import LineId
from tests.agent_console.fakes import FakeUsers, user
from tests.agent_console.harness import FLOOR, SMITH, Console, make_console, next_of, ready
from tests.moving_clock import Clock
from tests.switchboard.delivery_rig import open_store

USERS = (user("alice", Role.AGENT, "a1"),)
SMITH_DID = "+18005550201"
NY_EVENING = dt.datetime(2026, 12, 7, 19, 30, tzinfo=dt.timezone(dt.timedelta(hours=-5))).timestamp()
NY_MORNING = NY_EVENING + 15 * 3600  # Tuesday 10:30: office hours
MEDICAL = Form(
    name="after-hours-medical", title="After-hours medical", call_types=("after-hours medical",),
    windows=(Window(frozenset(range(5)), dt.time(17), dt.time(9)),),
    fields=(
        FormField(name="patient", label="Patient name", type=FieldType.NAME, required=True, max_length=50),
        FormField(name="dob", label="Date of birth", type=FieldType.DATE_OF_BIRTH, required=True),
        FormField(name="callback", label="Callback number", type=FieldType.PHONE, required=True),
        FormField(name="symptoms", label="Symptoms", type=FieldType.TEXT),
        FormField(name="urgency", label="Urgency", type=FieldType.URGENCY, required=True,
                  choices=("routine", "urgent"), urgent=("urgent",)),
    ),
)  # fmt: skip
GENERAL = Form(
    name="general", title="Message",
    fields=(FormField(name="note", label="Message", type=FieldType.TEXT, required=True),),
)  # fmt: skip
BOOK = FormBook((MEDICAL, GENERAL), "America/New_York")
GOOD = {"patient": "Jane Doe", "dob": "1980-02-29", "callback": "(415) 555-0123", "symptoms": "Fever 39.5",
        "urgency": "urgent"}  # fmt: skip


class RecordingNotifier:
    """The desk's notifier: says the line is configured and keeps each payload."""

    def __init__(self) -> None:
        self.payloads: list[dict[str, Any]] = []

    def configured(self, line: LineId) -> bool:
        return True

    async def notify(self, line: LineId, payload: dict[str, Any]) -> Notified:
        self.payloads.append(payload)
        return Notified(True, 0, None)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqlStore]:
    opened = await open_store(f"sqlite+aiosqlite:///{tmp_path}/forms.db", Clock())
    yield opened
    await opened.close()


@pytest.fixture
def notifier() -> RecordingNotifier:
    return RecordingNotifier()


@pytest.fixture
async def console(store: SqlStore, notifier: RecordingNotifier) -> AsyncIterator[Console]:
    async with make_console(FakeUsers(*USERS), store, notifier=notifier, wait_s=0.5) as c:
        c.hub.floor = dataclasses.replace(FLOOR, forms={SMITH: BOOK})
        c.now[0] = NY_EVENING
        yield c


async def on_a_call(console: Console, did: str = SMITH_DID) -> Any:
    ws = await console.ws()
    await ready(ws)
    console.ring("+12125550100", did)
    await next_of(ws, "offer")
    console.answer()
    await next_of(ws, "call-connected")
    return ws


def form_message(call_type: str | None = "after-hours medical", form: str | None = MEDICAL.name,
                 values: dict[str, Any] | None = None) -> dict[str, Any]:  # fmt: skip
    return {"type": "take-message", "call": "c1", "urgent": False, "message": "", "caller_name": None,
            "callback_number": None, "call_type": call_type, "form": form,
            "values": GOOD if values is None else values}  # fmt: skip


async def nothing_stored(store: SqlStore) -> None:
    assert (await store.cases.list()).items == ()
    assert (await store.customers.search()).items == ()


async def test_given_a_call_type_when_the_console_asks_then_the_form_open_now_for_it(
    console: Console,
) -> None:
    ws = await on_a_call(console)
    await ws.send_json({"type": "message-form", "call": "c1", "call_type": "after-hours medical"})
    shown = await next_of(ws, "message-form")
    assert (shown["call"], shown["call_type"], shown["call_types"]) == ("c1", "after-hours medical",
                                                                        ["after-hours medical"])  # fmt: skip
    assert shown["form"]["name"] == "after-hours-medical" and shown["form"]["title"] == "After-hours medical"
    assert shown["form"]["fields"][0] == {"name": "patient", "label": "Patient name", "type": "name",
                                          "required": True, "max_length": 50, "choices": []}  # fmt: skip
    assert shown["form"]["fields"][4]["choices"] == ["routine", "urgent"]
    await ws.send_json({"type": "message-form", "call": "c1", "call_type": None})
    assert (await next_of(ws, "message-form"))["form"]["name"] == "general"


async def test_given_office_hours_then_the_after_hours_form_is_not_chosen(console: Console) -> None:
    console.now[0] = NY_MORNING
    ws = await on_a_call(console)
    await ws.send_json({"type": "message-form", "call": "c1", "call_type": "after-hours medical"})
    assert (await next_of(ws, "message-form"))["form"]["name"] == "general"


async def test_given_a_line_without_forms_then_no_form_and_no_call_types(console: Console) -> None:
    ws = await on_a_call(console, "+18005550101")
    await ws.send_json({"type": "message-form", "call": "c1", "call_type": None})
    shown = await next_of(ws, "message-form")
    assert (shown["form"], shown["call_types"]) == (None, [])


async def test_given_wrong_values_when_submitted_then_refused_per_field_and_nothing_stored(
    console: Console, store: SqlStore, notifier: RecordingNotifier
) -> None:
    ws = await on_a_call(console)
    bad = {"patient": "", "dob": "31/12/1980", "callback": "call me maybe", "urgency": "whenever", "x": "1"}
    await ws.send_json(form_message(values=bad))
    refused = await next_of(ws, "message-refused")
    assert (refused["call"], refused["form"]) == ("c1", "after-hours-medical")
    assert refused["errors"] == [
        {"field": "patient", "error": "required"},
        {"field": "dob", "error": "'31/12/1980' is not a date (YYYY-MM-DD)"},
        {"field": "callback", "error": "'call me maybe' is not a phone number"},
        {"field": "urgency", "error": "one of: routine, urgent"},
        {"field": "x", "error": "not a field of the form 'After-hours medical'"},
    ]
    await nothing_stored(store)
    assert notifier.payloads == []


async def test_given_a_value_of_the_wrong_type_then_the_schema_refuses_the_message(
    console: Console, store: SqlStore
) -> None:
    ws = await on_a_call(console)
    await ws.send_json(form_message(values={**GOOD, "dob": 19800229}))
    error = await next_of(ws, "error")
    assert error["error"] == "bad-message" and "values" in error["message"]
    await nothing_stored(store)


async def test_given_valid_values_then_filed_with_the_forms_name_and_values_before_the_business_is_told(
    console: Console, store: SqlStore, notifier: RecordingNotifier
) -> None:
    ws = await on_a_call(console)
    await ws.send_json(form_message())
    taken = await next_of(ws, "message-taken")
    assert (taken["urgent"], taken["notify"]) == (True, "pending")  # the urgency field said urgent
    case = await store.cases.get(taken["case_id"])
    assert case.subject == "URGENT message for Dr. Smith's office (After-hours medical)"
    assert case.priority is Priority.URGENT
    assert case.description == (
        "Form: After-hours medical\nPatient name: Jane Doe\nDate of birth: 1980-02-29\n"
        "Callback number: +14155550123\nSymptoms: Fever 39.5\nUrgency: urgent"
    )
    customer = await store.customers.get(case.customer_id)  # a new one: the form's name and number
    assert (customer.name, [p.e164 for p in customer.phones]) == ("Jane Doe", ["+14155550123"])
    await next_of(ws, "message-notified")
    [payload] = notifier.payloads
    assert (payload["form"], payload["call_type"]) == ("after-hours-medical", "after-hours medical")
    assert payload["case_id"] == case.id
    assert payload["values"] == {**GOOD, "callback": "+14155550123"}
    assert payload["caller_name"] == "Jane Doe" and payload["callback_number"] == "+14155550123"
    assert payload["message"] == case.description


async def test_given_the_form_shown_when_the_clock_crosses_its_window_then_the_message_still_takes_it(
    console: Console, store: SqlStore
) -> None:
    console.now[0] = NY_MORNING - 100 * 60  # Tuesday 08:50: the evening's window ends at 09:00
    ws = await on_a_call(console)
    await ws.send_json({"type": "message-form", "call": "c1", "call_type": "after-hours medical"})
    assert (await next_of(ws, "message-form"))["form"]["name"] == "after-hours-medical"
    console.now[0] += 20 * 60
    await ws.send_json(form_message())
    assert (await next_of(ws, "message-taken"))["case_id"] > 0


async def test_given_another_form_than_the_calls_then_refused_naming_the_right_one(
    console: Console, store: SqlStore
) -> None:
    ws = await on_a_call(console)
    await ws.send_json(form_message(call_type=None))
    refused = await next_of(ws, "message-refused")
    assert refused["errors"] == [{"field": "form", "error": "this call takes the form 'Message'"}]
    await ws.send_json(form_message(form=None, values={}))
    assert (await next_of(ws, "message-refused"))["errors"] == [
        {"field": "form", "error": "this call takes the form 'After-hours medical'"}
    ]
    await nothing_stored(store)


async def test_given_a_line_without_forms_then_a_form_is_refused_and_a_blank_plain_message_too(
    console: Console, store: SqlStore
) -> None:
    ws = await on_a_call(console, "+18005550101")
    await ws.send_json(form_message())
    assert (await next_of(ws, "message-refused"))["errors"] == [
        {"field": "form", "error": "this call takes no form now: take a plain message"}
    ]
    await ws.send_json(
        form_message(call_type=None, form=None, values=None) | {"values": None, "message": " "}
    )
    refused = await next_of(ws, "message-refused")
    assert (refused["form"], refused["errors"]) == (None, [{"field": "message", "error": "required"}])
    await nothing_stored(store)


async def test_given_a_delivery_changes_then_the_agent_who_took_the_message_sees_it(console: Console) -> None:
    ws = await console.ws()
    at = dt.datetime(2026, 12, 7, 20, tzinfo=dt.UTC)
    delivery = Delivery(
        id=5, message_id=41, business=SMITH, channel=Channel.EMAIL, recipient="frontdesk@example.com",
        status=DeliveryStatus.FAILED, attempts=2, next_attempt_at=at, last_error="550 no such mailbox",
        answer=None, content={"call": "c1", "taken_by": "a1"}, created_at=at, updated_at=at,
    )  # fmt: skip
    feed = DeliveryFeed(console.hub)
    feed.changed(delivery, "550 5.1.1 no such mailbox")
    feed.changed(dataclasses.replace(delivery, content={"taken_by": "a2"}), None)  # Bob's: not Alice's
    assert await next_of(ws, "delivery") == {
        "type": "delivery", "call": "c1", "case_id": 41, "delivery": 5, "channel": "email",
        "recipient": "frontdesk@example.com", "status": "failed", "attempts": 2,
        "detail": "550 5.1.1 no such mailbox", "at": "2026-12-07T20:00:00+00:00",
    }  # fmt: skip
    with pytest.raises(TimeoutError):
        await ws.receive_json(timeout=0.3)
