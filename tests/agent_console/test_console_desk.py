"""After-call work over the websocket against a real store (SQLite): wrap-up, take-message, attach-customer.

The real caller cache, call-log writer and desk run behind the console, as the bootstrap wires them.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from crm_core.domain.calls import CallFilter, CallToLog, LoggedCall, Practice
from crm_core.domain.cases import CaseStatus, NewCase, Priority
from crm_core.domain.customers import CustomerDraft
from crm_core.domain.users import Role
from crm_core.sql.store import SqlStore
from routing import commands as cmd
from routing import events as ev
from routing.ids import AgentId, CallId
from routing.records import CallRecord, Outcome, Party
from switchboard.webhooks import Endpoint, LineWebhooks, Webhooks
from tests.agent_console.fakes import FakeUsers, user
from tests.agent_console.harness import (
    JANE_NUMBER,
    SMITH,
    Console,
    make_console,
    next_of,
    ready,
    restarted,
)
from tests.support import radio_call, sqlite_store
from tests.switchboard.hook_server import SECRET, hook_server

USERS = (user("alice", Role.AGENT, "a1"), user("bob", Role.AGENT, "a2"))
SMITH_DID = "+18005550201"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqlStore]:
    async with sqlite_store(tmp_path) as store:
        await store.customers.create(CustomerDraft(name="Jane Doe", phones=[(JANE_NUMBER, "mobile")]))
        yield store


@pytest.fixture
async def console(store: SqlStore) -> AsyncIterator[Console]:
    async with make_console(FakeUsers(*USERS), store, wait_s=0.5) as c:
        yield c


class GatedLog:
    """The store's call log, writing only once ``gate`` is set: the record comes after the wrap-up."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store
        self.gate = asyncio.Event()

    async def record(
        self, record: CallRecord, customer_id: int | None, practice: Practice | None = None
    ) -> None:
        await self.gate.wait()
        await self.store.record(record, customer_id, practice)

    async def record_many(self, calls: Sequence[CallToLog]) -> frozenset[str]:
        await self.gate.wait()
        return await self.store.record_many(calls)

    async def recent_calls(self, limit: int = 50, customer_id: int | None = None) -> list[LoggedCall]:
        return await self.store.recent_calls(limit, customer_id)

    async def get_call(self, call_id: str) -> LoggedCall | None:
        return await self.store.get_call(call_id)


async def finished_call(console: Console, caller: str | None = JANE_NUMBER, did: str = "+18005550101") -> Any:
    ws = await console.ws()
    await ready(ws)
    console.ring(caller, did)
    await next_of(ws, "offer")
    console.answer()
    await next_of(ws, "call-connected")
    console.hang_up()
    ended = await next_of(ws, "call-ended")
    assert ended["logged_as"] == "c1"
    return ws


def wrap_up(call: str = "c1", **fields: Any) -> dict[str, Any]:
    return {"type": "wrap-up", "call": call, "disposition": "sale", "notes": "ordered 3 valves", "case": None,
            "callback_at": None, **fields}  # fmt: skip


def take_message(call: str = "c1", **fields: Any) -> dict[str, Any]:
    return {"type": "take-message", "call": call, "urgent": True, "message": "Fever since noon, please call",
            "caller_name": None, "callback_number": None, "call_type": None, "form": None, "values": None,
            **fields}  # fmt: skip


async def bob(console: Console) -> Any:
    console.client.session.cookie_jar.clear()
    assert (await console.sign_in("bob"))[0] == 200
    return await console.ws()


# --- wrap-up ----------------------------------------------------------------------------------------
async def test_given_a_finished_call_when_wrapped_up_with_a_case_and_a_callback_then_saved_and_every_tab_told(
    console: Console, store: SqlStore
) -> None:
    ws = await finished_call(console)
    other_tab = await console.ws()
    assert other_tab.snapshot["wrap_up"]["call"] == "c1"
    await ws.send_json(wrap_up(case={"action": "create", "subject": "Valve order", "priority": "high"},
                               callback_at="2026-12-01T10:00:00-05:00"))  # fmt: skip
    saved = await next_of(ws, "wrap-up-saved")
    assert await next_of(other_tab, "wrap-up-saved") == saved
    logged = await store.get_call("c1")
    assert logged is not None and (logged.disposition, logged.agent_notes) == ("sale", "ordered 3 valves")
    assert saved["case_id"] == logged.case_id
    case = await store.cases.get(saved["case_id"])
    assert (case.subject, case.priority, case.owner, case.calls) == (
        "Valve order",
        Priority.HIGH,
        "a1",
        ("c1",),
    )
    callback = await store.cases.get(saved["callback"]["case_id"])
    assert (callback.subject, callback.status, callback.owner) == ("Call back", CaseStatus.OPEN, "a1")
    assert callback.due_at is not None and callback.due_at.isoformat() == "2026-12-01T15:00:00+00:00"
    assert saved["recent_calls"][0]["call"] == "c1" and saved["recent_calls"][0]["disposition"] == "sale"
    assert (await console.ws()).snapshot["wrap_up"] is None  # done: a new tab has nothing left to wrap


async def test_given_an_open_case_when_the_wrap_up_closes_it_then_closed_commented_and_linked(
    console: Console, store: SqlStore
) -> None:
    case = await store.cases.open(NewCase(customer_id=1, subject="Leaking valve"))
    ws = await finished_call(console)
    await ws.send_json(
        wrap_up(case={"action": "update", "id": case.id, "status": "closed", "comment": "fixed"})
    )
    saved = await next_of(ws, "wrap-up-saved")
    closed = await store.cases.get(case.id)
    assert (saved["case_id"], closed.status, closed.calls) == (case.id, CaseStatus.CLOSED, ("c1",))
    assert (await store.cases.history(case.id))[-2].comment == "fixed"


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"disposition": "bribe"}, "unknown-disposition"),
        ({"case": {"action": "update", "id": 999, "status": "open", "comment": ""}}, "not-found"),
        ({"call": "c404"}, "unknown-call"),
        # a value the schema lets through and the store refuses
        ({"case": {"action": "create", "subject": "Valve\u0000order", "priority": "high"}}, "invalid-input"),
    ],
)
async def test_given_a_bad_wrap_up_then_refused_and_nothing_written(
    console: Console, store: SqlStore, fields: dict[str, Any], code: str
) -> None:
    ws = await finished_call(console)
    assert console.recorder is not None and await console.recorder.written(CallId("c1"), 5)
    await ws.send_json(wrap_up(**fields))
    assert (await next_of(ws, "error"))["error"] == code
    logged = await store.get_call("c1")
    assert logged is not None and logged.disposition is None
    assert (await store.cases.list()).items == ()


async def test_given_a_closed_case_when_the_wrap_up_changes_it_then_conflict_and_nothing_written(
    console: Console, store: SqlStore
) -> None:
    case = await store.cases.open(NewCase(customer_id=1, subject="Leaking valve"))
    await store.cases.close(case.id, author="a1")
    ws = await finished_call(console)
    assert console.recorder is not None and await console.recorder.written(CallId("c1"), 5)
    await ws.send_json(wrap_up(case={"action": "update", "id": case.id, "status": "pending", "comment": "x"}))
    assert (await next_of(ws, "error"))["error"] == "conflict"
    logged = await store.get_call("c1")
    assert logged is not None and logged.disposition is None
    assert (await store.cases.get(case.id)).status is CaseStatus.CLOSED


async def test_given_another_agents_call_when_wrapping_it_up_then_not_your_call(
    console: Console, store: SqlStore
) -> None:
    await finished_call(console)
    ws = await bob(console)
    await ws.send_json(wrap_up())
    assert (await next_of(ws, "error"))["error"] == "not-your-call"
    for message in (take_message(), {"type": "attach-customer", "call": "c1", "customer_id": 1}):
        await ws.send_json(message)
        assert (await next_of(ws, "error"))["error"] == "not-your-call"
    logged = await store.get_call("c1")
    assert logged is not None and logged.disposition is None


async def test_given_a_wrap_up_before_the_call_log_has_the_call_then_it_waits_for_that_record(
    store: SqlStore,
) -> None:
    gated = GatedLog(store)
    async with make_console(FakeUsers(*USERS), store, call_log=gated) as console:
        ws = await finished_call(console)
        await ws.send_json(wrap_up())
        await asyncio.sleep(0.2)  # the test's own pause: the wrap-up is waiting now
        assert await store.get_call("c1") is None
        gated.gate.set()
        saved = await next_of(ws, "wrap-up-saved")
        logged = await store.get_call("c1")
        assert saved["call"] == "c1" and logged is not None and logged.disposition == "sale"


async def test_given_a_call_log_that_never_writes_when_wrapping_up_then_unknown_call_after_the_bounded_wait(
    store: SqlStore,
) -> None:
    async with make_console(FakeUsers(*USERS), store, call_log=GatedLog(store), wait_s=0.3) as console:
        ws = await finished_call(console)
        await ws.send_json(wrap_up())
        assert (await next_of(ws, "error"))["error"] == "unknown-call"
        await ws.send_json({"type": "ready"})  # the console goes on
        await ws.send_json({"type": "nonsense"})
        assert (await next_of(ws, "error"))["error"] == "bad-message"


class BrokenCases:
    """A case store that fails mid-request, as a database going away would."""

    def __getattr__(self, name: str) -> Any:
        async def fail(*args: Any, **kwargs: Any) -> Any:
            raise ConnectionError("database went away")

        return fail


async def test_given_a_failing_store_when_wrapping_up_then_store_unavailable_and_the_call_log_untouched(
    console: Console, store: SqlStore
) -> None:
    assert console.desk is not None
    console.desk.store = dataclasses.replace(console.desk.store, cases=BrokenCases())  # type: ignore[arg-type]
    ws = await finished_call(console)
    await ws.send_json(wrap_up(case={"action": "create", "subject": "x", "priority": "low"}))
    assert (await next_of(ws, "error"))["error"] == "store-unavailable"
    logged = await store.get_call("c1")
    assert logged is not None and (logged.disposition, logged.case_id) == (None, None)


async def test_given_a_transferred_stretch_when_wrapped_up_under_its_log_id_then_saved(
    console: Console, store: SqlStore
) -> None:
    ws = await console.ws()
    await ready(ws)
    console.ring()
    await next_of(ws, "offer")
    console.answer()
    await next_of(ws, "call-connected")
    stretch = radio_call(
        "c1~1",
        caller_number=JANE_NUMBER,
        agent=AgentId("a1"),
        arrived_at=1000.0,
        answered_at=1001.0,
        ended_at=1020.0,
        outcome=Outcome.TRANSFERRED,
        hung_up_by=Party.AGENT,
        offers=1,
        part_of=CallId("c1"),
    )
    console.bus.publish(cmd.LogCall(stretch))  # what the router does when the agent transfers (branch calls)
    ended = await next_of(ws, "call-ended")
    await ws.send_json(wrap_up(call=ended["logged_as"]))
    saved = await next_of(ws, "wrap-up-saved")
    logged = await store.get_call("c1~1")
    assert saved["call"] == "c1~1" and logged is not None and logged.disposition == "sale"


# --- after a restart ---------------------------------------------------------------------------------
@contextlib.asynccontextmanager
async def after_a_restart(before: Console, store: SqlStore) -> AsyncIterator[tuple[Console, Any]]:
    """``before`` started again on the same store, and a console of a1's that comes back to it."""
    assert before.recorder is not None and await before.recorder.written(CallId("c1"), 2)
    async with make_console(FakeUsers(*USERS), store, wait_s=0.5) as after:
        restarted(before, after)
        yield after, await after.ws()


async def test_given_a_form_restated_after_a_restart_when_wrapped_up_then_saved_on_its_row_and_gone(
    console: Console, store: SqlStore
) -> None:
    await finished_call(console)
    async with after_a_restart(console, store) as (after, ws):
        assert ws.snapshot["wrap_up"]["call"] == "c1"
        await ws.send_json(wrap_up(case={"action": "create", "subject": "Valve order", "priority": "high"}))
        saved = await next_of(ws, "wrap-up-saved")
        logged = await store.get_call("c1")
        assert logged is not None and (logged.disposition, logged.agent_notes) == ("sale", "ordered 3 valves")
        assert saved["case_id"] == logged.case_id is not None
        assert ev.WrapUpSaved(AgentId("a1"), CallId("c1"), 1000.0) in after.ask.events
        assert after.loop.router.restated(1000.0) == []  # a further restart brings the form back no more
        assert (await after.ws()).snapshot["wrap_up"] is None


async def test_given_a_form_restated_after_a_restart_when_a_customer_is_attached_then_its_row_names_them(
    console: Console, store: SqlStore
) -> None:
    await finished_call(console, "+12125550100")
    async with after_a_restart(console, store) as (_, ws):
        # Restated while no tab was here: the form comes back pending, and the caller's record (nobody
        # owns the number) follows once the tab has joined.
        assert ws.snapshot["wrap_up"]["offer"]["customer_pending"] is True
        assert (await next_of(ws, "offer-customer"))["customer"] is None
        await ws.send_json({"type": "attach-customer", "call": "c1", "customer_id": 1})
        assert (await next_of(ws, "offer-customer"))["customer"]["id"] == 1
        logged = await store.get_call("c1")
        assert logged is not None and logged.customer_id == 1
        await ws.send_json(wrap_up(callback_at="2026-12-01T10:00:00-05:00"))  # needs the customer
        assert (await next_of(ws, "wrap-up-saved"))["callback"] is not None


async def test_given_a_form_restated_after_a_restart_when_a_message_is_taken_then_the_case_is_linked_at_once(
    console: Console, store: SqlStore
) -> None:
    await finished_call(console)
    async with after_a_restart(console, store) as (_, ws):
        await ws.send_json(take_message())
        taken = await next_of(ws, "message-taken")
        assert (await store.cases.get(taken["case_id"])).calls == ("c1",)


# --- take-message -----------------------------------------------------------------------------------
async def test_given_a_known_caller_on_an_answering_line_when_a_message_is_taken_then_an_urgent_case_linked(
    console: Console, store: SqlStore
) -> None:
    ws = await console.ws()
    await ready(ws)
    console.ring(JANE_NUMBER, SMITH_DID)
    offer = await next_of(ws, "offer")
    assert offer["business"] == {
        "line": "smith", "name": "Dr. Smith's office", "greeting": "Dr. Smith's office, good evening.",
        "script": "Ask for name\nAsk for number", "instructions": "Chest pain: 911",
        "on_call": ["Dr. Smith", "Dr. Jones"],
    }  # fmt: skip
    assert offer["caller"]["display"] == "(415) 555-0123"
    console.answer()
    await next_of(ws, "call-connected")
    await ws.send_json(take_message())
    taken = await next_of(ws, "message-taken")
    assert (taken["call"], taken["urgent"], taken["notify"]) == ("c1", True, "none")
    case = await store.cases.get(taken["case_id"])
    assert (case.customer_id, case.priority, case.owner) == (1, Priority.URGENT, "line:smith")
    assert "Fever since noon" in case.description and case.calls == ()
    console.hang_up()
    await next_of(ws, "call-ended")
    assert console.desk is not None
    await asyncio.wait_for(console.desk.idle(), 5)  # linked once the call log has the call
    assert (await store.cases.get(case.id)).calls == ("c1",)


async def test_given_an_unknown_caller_when_a_message_is_taken_then_a_customer_is_created_for_the_line(
    console: Console, store: SqlStore
) -> None:
    ws = await finished_call(console, "+12125550100", SMITH_DID)
    await ws.send_json(take_message(urgent=False, caller_name="Mary Major", callback_number="646 555 0199"))
    taken = await next_of(ws, "message-taken")
    case = await store.cases.get(taken["case_id"])
    customer = await store.customers.get(case.customer_id)
    assert (customer.name, customer.tags) == ("Mary Major", ("line:smith",))
    assert [p.e164 for p in customer.phones] == ["+16465550199"]
    assert (case.priority, case.calls) == (Priority.NORMAL, ("c1",))


async def test_given_a_withheld_unknown_caller_when_a_message_is_taken_then_an_unknown_caller_record(
    console: Console, store: SqlStore
) -> None:
    ws = await finished_call(console, None, SMITH_DID)
    await ws.send_json(take_message())
    taken = await next_of(ws, "message-taken")
    customer = await store.customers.get((await store.cases.get(taken["case_id"])).customer_id)
    assert (customer.name, customer.phones) == ("Unknown caller", ())


async def test_given_a_bad_callback_number_when_taking_a_message_then_bad_number_and_nothing_written(
    console: Console, store: SqlStore
) -> None:
    ws = await finished_call(console, "+12125550100", SMITH_DID)
    await ws.send_json(take_message(callback_number="call me maybe"))
    assert (await next_of(ws, "error"))["error"] == "bad-number"
    assert (await store.cases.list()).items == ()
    assert len((await store.customers.search()).items) == 1  # only Jane


# --- attach-customer --------------------------------------------------------------------------------
async def test_given_an_unknown_caller_when_the_agent_attaches_a_customer_then_every_tab_and_the_log_know(
    console: Console, store: SqlStore
) -> None:
    ws = await console.ws()
    await ready(ws)
    console.ring("+12125550100")
    offer = await next_of(ws, "offer")
    assert offer["customer"] is None
    console.answer()
    await next_of(ws, "call-connected")
    other = await console.ws()
    await ws.send_json({"type": "attach-customer", "call": "c1", "customer_id": 1})
    attached = await customer_shown(ws)
    assert await customer_shown(other) == attached
    assert (attached["offer"], attached["customer"]["name"]) == (offer["offer"], "Jane Doe")
    assert (await console.ws()).snapshot["call"]["offer"]["customer"]["id"] == 1
    console.hang_up()
    await next_of(ws, "call-ended")
    page = await _calls_of(store, 1)
    assert [c.record.call for c in page] == ["c1"]


async def test_given_a_logged_call_when_a_customer_is_attached_then_the_log_is_relinked_keeping_the_wrap_up(
    console: Console, store: SqlStore
) -> None:
    ws = await finished_call(console, "+12125550100")
    await ws.send_json(wrap_up())
    await next_of(ws, "wrap-up-saved")
    await ws.send_json({"type": "attach-customer", "call": "c1", "customer_id": 1})
    assert (await next_of(ws, "offer-customer"))["customer"]["id"] == 1
    logged = await store.get_call("c1")
    assert logged is not None and (logged.customer_id, logged.disposition) == (1, "sale")


async def test_given_an_unknown_customer_when_attaching_then_not_found(console: Console) -> None:
    ws = await finished_call(console, "+12125550100")
    await ws.send_json({"type": "attach-customer", "call": "c1", "customer_id": 4242})
    assert (await next_of(ws, "error"))["error"] == "not-found"
    await ws.send_json({"type": "attach-customer", "call": "c77", "customer_id": 1})
    assert (await next_of(ws, "error"))["error"] == "unknown-call"


async def customer_shown(ws: Any) -> dict[str, Any]:
    """The next ``offer-customer`` naming a customer (the pop's own follow-up for an unknown caller,
    ``customer: null``, may come first)."""
    while True:
        message = await next_of(ws, "offer-customer")
        if message["customer"] is not None:
            return message


async def _calls_of(store: SqlStore, customer_id: int) -> list[LoggedCall]:
    for _ in range(100):
        page = await store.calls.query(CallFilter(customer_id=customer_id))
        if page.items:
            return list(page.items)
        await asyncio.sleep(0.02)  # the test waits for the asynchronous call-log writer
    return []


async def test_given_a_line_with_a_webhook_when_a_message_is_taken_then_posted_signed_and_every_tab_told(
    store: SqlStore,
) -> None:
    webhooks = Webhooks(timeout_s=2, backoff_s=0.01)
    async with hook_server([500, 200]) as hook:
        notifier = LineWebhooks(webhooks, {SMITH: Endpoint(hook.url, SECRET)})
        async with make_console(FakeUsers(*USERS), store, notifier=notifier) as console:
            ws = await finished_call(console, JANE_NUMBER, SMITH_DID)
            other = await console.ws()
            await ws.send_json(take_message(callback_number="+1 415 555 0188"))
            taken = await next_of(ws, "message-taken")
            assert taken["notify"] == "pending"
            notified = await next_of(ws, "message-notified")
            assert await next_of(other, "message-notified") == notified
    await webhooks.close()
    assert notified == {"type": "message-notified", "call": "c1", "case_id": taken["case_id"], "ok": True,
                        "attempts": 2, "error": None}  # fmt: skip
    body = hook.received[-1]
    assert hook.signatures_ok == [True, True]
    assert {k: body[k] for k in body if k != "taken_at"} == {
        "line": "smith", "line_name": "Dr. Smith's office", "case_id": taken["case_id"], "call": "c1",
        "urgent": True, "caller_name": None, "callback_number": "+14155550188",
        "message": "Fever since noon, please call", "taken_by": "a1",
    }  # fmt: skip
    assert body["taken_at"].endswith("+00:00")
