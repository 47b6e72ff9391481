"""A console that reconnects gets its delivery statuses at once (issue 15), over the websocket of the real
app on a real store (SQLite): the message's deliveries are queued by the real planner, changed in the store
while the agent's tab is away, and a tab that joins gets them as they are now after its snapshot, for as
long as its console shows the call (live, in wrap-up, over until the next ring); a store that cannot be
read leaves the join as it was."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from structlog.testing import capture_logs

from agent_console.forms import DeliveryFeed
from config.deliveries import DeliveryRules, Rule
from crm_core.domain.deliveries import Delivery, DeliveryStatus
from crm_core.domain.users import Role
from crm_core.sql.engine import open_engine
from crm_core.sql.store import SqlStore
from routing.ids import AgentId
from switchboard.deliveries import MessagePlanner
from tests.agent_console.fakes import FakeUsers, user
from tests.agent_console.harness import SMITH, Console, make_console, next_of, ready
from tests.agent_console.test_console_forms import SMITH_DID, on_a_call
from tests.moving_clock import Clock
from tests.switchboard.delivery_rig import open_store

DESK = "desk@smith.example"
USERS = (user("alice", Role.AGENT, "a1"), user("bob", Role.AGENT, "a2"))


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path}/catchup.db"


@pytest.fixture
async def store(url: str) -> AsyncIterator[SqlStore]:
    opened = await open_store(url, Clock())
    yield opened
    await opened.close()


@pytest.fixture
async def console(store: SqlStore) -> AsyncIterator[Console]:
    told: list[Callable[[Delivery, str | None], None]] = []  # the hub's feed, once the hub is made
    rule = Rule(email=(DESK,))
    planner = MessagePlanner(
        {SMITH: DeliveryRules(urgent=rule, routine=rule)}, store.deliveries, store.oncall, {},
        lambda: datetime(2026, 12, 7, 20, tzinfo=UTC), lambda: None, watch=lambda d, why: told[0](d, why),
    )  # fmt: skip
    async with make_console(FakeUsers(*USERS), store, notifier=planner) as c:
        told.append(DeliveryFeed(c.hub).changed)
        yield c


async def message_taken(console: Console) -> tuple[Any, dict[str, Any]]:
    """Alice on a call to Dr. Smith's line takes a message: its email delivery queued, live on her tab."""
    ws = await on_a_call(console)
    await ws.send_json({"type": "take-message", "call": "c1", "urgent": True, "message": "Call back tonight",
                        "caller_name": None, "callback_number": None, "call_type": None, "form": None,
                        "values": None})  # fmt: skip
    taken = await next_of(ws, "message-taken")
    queued = await next_of(ws, "delivery")
    assert (queued["case_id"], queued["status"], queued["call"]) == (taken["case_id"], "queued", "c1")
    return ws, queued


async def no_delivery(tab: Any) -> None:
    """Nothing about deliveries comes to ``tab`` (a pop's late customer may)."""
    with pytest.raises(TimeoutError):
        while True:
            assert (await tab.receive_json(timeout=0.3))["type"] != "delivery"


async def test_given_a_delivery_changed_while_the_tab_was_away_when_a_tab_joins_then_it_gets_it_as_it_is_now(
    console: Console, store: SqlStore
) -> None:
    ws, queued = await message_taken(console)
    await ws.close()  # a network blip, a reload: the tab is away
    await store.deliveries.change(queued["delivery"], DeliveryStatus.SENT, "250 ok")  # no live news of it
    await store.deliveries.change(queued["delivery"], DeliveryStatus.READ, "link opened")
    tab = await console.ws()
    assert tab.snapshot["call"]["offer"]["call"] == "c1"  # the snapshot first, as before
    now = await next_of(tab, "delivery")
    assert {k: now[k] for k in ("call", "case_id", "delivery", "recipient", "status", "attempts")} == {
        "call": "c1", "case_id": queued["case_id"], "delivery": queued["delivery"], "recipient": DESK,
        "status": "read", "attempts": 0,
    }  # fmt: skip
    await no_delivery(tab)


async def test_given_the_call_over_and_wrapped_up_then_a_tab_still_gets_them_until_the_next_ring(
    console: Console, store: SqlStore
) -> None:
    ws, queued = await message_taken(console)
    console.hang_up()
    ended = await next_of(ws, "call-ended")
    assert (await console.ws()).snapshot["wrap_up"]["call"] == "c1"  # in wrap-up: its deliveries come
    await ws.send_json({"type": "wrap-up", "call": ended["logged_as"], "disposition": "sale", "notes": "",
                        "case": None, "callback_at": None})  # fmt: skip
    await next_of(ws, "wrap-up-saved")
    await store.deliveries.change(queued["delivery"], DeliveryStatus.FAILED, "bounced")

    tab = await console.ws()  # the page still shows the call, over, with its message, until the next ring
    assert (tab.snapshot["call"], tab.snapshot["wrap_up"]) == (None, None)
    assert (await next_of(tab, "delivery"))["status"] == "failed"

    console.ring("+12125550100", SMITH_DID, call="c2")
    await next_of(tab, "offer")
    await no_delivery(await console.ws())  # c2's pop replaced c1: nothing of c1's message now


async def test_given_another_agents_tab_when_it_joins_then_none_of_alices_deliveries(
    console: Console,
) -> None:
    await message_taken(console)
    console.client.session.cookie_jar.clear()
    assert (await console.sign_in("bob"))[0] == 200
    await no_delivery(await console.ws())


async def test_given_a_store_that_cannot_be_read_when_a_tab_joins_then_it_joins_and_the_failure_is_logged(
    console: Console, url: str
) -> None:
    ws, _ = await message_taken(console)
    await ws.close()
    other = open_engine(url)  # the store away: its deliveries cannot be read
    async with other.begin() as connection:
        await connection.execute(text("ALTER TABLE deliveries RENAME TO deliveries_away"))
    await other.dispose()
    with capture_logs() as logs:
        tab = await console.ws()
        assert tab.snapshot["call"]["offer"]["call"] == "c1"
        await no_delivery(tab)
        await asyncio.sleep(0)
    assert [e["event"] for e in logs if e["log_level"] == "warning"] == ["console.deliveries-read-failed"]


async def test_given_a_ring_withdrawn_unanswered_then_the_console_shows_no_call_and_nothing_is_read(
    console: Console,
) -> None:
    ws = await console.ws()
    await ready(ws)
    console.ring("+12125550100", SMITH_DID)
    await next_of(ws, "offer")
    assert console.hub.shown_calls(AgentId("a1")) == ["c1"]
    console.hang_up()  # the caller gives up while it rings: the page drops the pop
    await next_of(ws, "offer-withdrawn")
    assert console.hub.shown_calls(AgentId("a1")) == []
