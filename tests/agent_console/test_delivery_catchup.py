"""What a tab that joins is sent of the deliveries its console shows (agent_console/delivery_catchup.py),
against a hand-written store: which deliveries, with what detail, read together, never stale, and a store
that fails."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from typing import Any

from structlog.testing import capture_logs

from agent_console.delivery_catchup import DeliveryCatchUp, shown
from agent_console.forms import delivery
from crm_core.domain.deliveries import Channel, Delivery, DeliveryStatus
from routing.ids import AgentId, CallId, LineId

AT = dt.datetime(2026, 12, 7, 20, tzinfo=dt.UTC)
ALICE, BOB = AgentId("a1"), AgentId("a2")


def made(id: int, case: int, call: str, by: AgentId = ALICE, status: DeliveryStatus = DeliveryStatus.SENT,
         error: str | None = None, answer: str | None = "250 ok") -> Delivery:  # fmt: skip
    return Delivery(
        id=id, message_id=case, business=LineId("smith"), channel=Channel.EMAIL, recipient=f"d{id}@x.example",
        status=status, attempts=1, next_attempt_at=AT, last_error=error, answer=answer,
        content={"call": call, "taken_by": by, "case_id": case}, created_at=AT, updated_at=AT,
    )  # fmt: skip


class Store:
    """The store's ``of_calls``: answers ``rows`` for the calls asked (each ask recorded), once ``open``;
    raises ``failure`` if set."""

    def __init__(self, *rows: Delivery) -> None:
        self.rows = list(rows)
        self.asked: list[list[str]] = []
        self.open = asyncio.Event()
        self.open.set()
        self.failure: Exception | None = None

    async def of_calls(self, calls: Sequence[str]) -> list[Delivery]:
        self.asked.append(list(calls))
        await self.open.wait()
        if self.failure is not None:
            raise self.failure
        return [d for d in self.rows if d.content["call"] in calls]


class Tab:
    def __init__(self, agent: AgentId | None = ALICE) -> None:
        self.agent = agent
        self.got: list[dict[str, Any]] = []

    def send(self, message: dict[str, Any]) -> None:
        self.got.append(message)


def calls(*ids: str) -> list[CallId]:
    return [CallId(i) for i in ids]


def test_given_several_messages_and_agents_then_per_call_the_newest_message_this_agent_took() -> None:
    found = [
        made(1, 40, "c1"), made(2, 41, "c1"), made(3, 41, "c1"),  # message 41 on c1 replaced 40
        made(4, 42, "c1", by=BOB),  # Bob's, after a transfer: his console shows it, not hers
        made(5, 39, "c2"),  # her message on her wrap-up's call
        made(6, 50, "c3"),  # a call she no longer shows
    ]  # fmt: skip
    assert [d.id for d in shown(found, ALICE, calls("c1", "c2"))] == [2, 3, 5]
    assert [d.id for d in shown(found, BOB, calls("c1"))] == [4]
    assert shown(found, ALICE, calls("c9")) == []


async def test_given_a_tab_joins_showing_a_call_then_it_gets_each_delivery_as_the_store_has_it() -> None:
    failed = made(2, 41, "c1", status=DeliveryStatus.FAILED, error="550 no such mailbox", answer=None)
    retrying = made(3, 41, "c1", status=DeliveryStatus.QUEUED, error="421 try later", answer=None)
    store = Store(made(1, 41, "c1"), failed, retrying)
    catch_up, tab = DeliveryCatchUp(store, lambda: 0.0), Tab()
    catch_up.joined(tab, ALICE, calls("c1"))
    assert tab.got == []  # the read never holds the join: the statuses follow
    await catch_up.settled()
    assert tab.got == [
        delivery(store.rows[0], "250 ok"),
        delivery(failed, "550 no such mailbox"),
        delivery(retrying, "421 try later"),
    ]


async def test_given_no_call_on_screen_when_a_tab_joins_then_the_store_is_not_asked() -> None:
    store = Store()
    catch_up = DeliveryCatchUp(store, lambda: 0.0)
    catch_up.joined(Tab(), ALICE, [])
    await catch_up.settled()
    assert store.asked == []


async def test_given_a_change_told_live_during_the_read_then_the_read_does_not_send_it_again() -> None:
    old, other = made(1, 41, "c1", status=DeliveryStatus.QUEUED, answer=None), made(2, 41, "c1")
    store = Store(old, other)
    store.open.clear()
    catch_up, tab = DeliveryCatchUp(store, lambda: 0.0), Tab()
    catch_up.joined(tab, ALICE, calls("c1"))
    await asyncio.sleep(0)  # the read is under way
    catch_up.sent(ALICE, delivery(made(1, 41, "c1", status=DeliveryStatus.READ), "link opened"))
    catch_up.sent(BOB, delivery(made(2, 41, "c1", by=BOB), None))  # Bob's news: not Alice's tab's
    catch_up.sent(ALICE, {"type": "call-connected", "call": "c1", "at": 1.0})
    store.open.set()
    await catch_up.settled()
    assert tab.got == [delivery(other, "250 ok")]  # the queued one read would have undone the live read
    catch_up.sent(ALICE, delivery(old, None))  # nothing being read: nothing to remember


async def test_given_tabs_joining_together_then_their_calls_are_read_at_once_a_batch_at_a_time() -> None:
    store = Store(made(1, 41, "c1"), made(2, 42, "c2", by=BOB), made(3, 43, "c3"))
    catch_up = DeliveryCatchUp(store, lambda: 0.0, batch=2)
    alice, bob, alice_again = Tab(), Tab(BOB), Tab()
    catch_up.joined(alice, ALICE, calls("c1"))
    catch_up.joined(bob, BOB, calls("c2"))
    catch_up.joined(alice_again, ALICE, calls("c3", "c1"))  # past the batch: the next read
    await catch_up.settled()
    assert store.asked == [["c1", "c2"], ["c3", "c1"]]
    assert [m["delivery"] for m in alice.got] == [1]
    assert [m["delivery"] for m in bob.got] == [2]
    assert [m["delivery"] for m in alice_again.got] == [1, 3]
    catch_up.joined(alice, ALICE, calls("c1"))  # later: a read of its own
    await catch_up.settled()
    assert store.asked[2:] == [["c1"]]


async def test_given_a_store_that_fails_then_logged_once_a_minute_and_the_tabs_get_nothing() -> None:
    store = Store(made(1, 41, "c1"))
    store.failure = ConnectionRefusedError("the database is down")
    now = [1000.0]
    catch_up = DeliveryCatchUp(store, lambda: now[0], batch=1)
    tabs = [Tab(), Tab(), Tab()]
    with capture_logs() as logs:
        for tab in tabs:
            catch_up.joined(tab, ALICE, calls("c1"))
        await catch_up.settled()
        now[0] += 61
        store.failure = None
        catch_up.joined(tabs[0], ALICE, calls("c1"))
        await catch_up.settled()
    assert len(store.asked) == 4
    assert [(e["event"], e["tabs"]) for e in logs] == [("console.deliveries-read-failed", 1)]
    assert logs[0]["reason"] == "ConnectionRefusedError: the database is down"
    assert [len(t.got) for t in tabs] == [1, 0, 0]  # the store back: read again at the next join


async def test_given_the_tab_left_for_another_agent_when_the_read_comes_then_nothing_is_sent() -> None:
    store = Store(made(1, 41, "c1"))
    store.open.clear()
    catch_up, tab = DeliveryCatchUp(store, lambda: 0.0), Tab()
    catch_up.joined(tab, ALICE, calls("c1"))
    tab.agent = BOB  # a supervisor's tab that logged in as another agent meanwhile
    store.open.set()
    await catch_up.settled()
    assert tab.got == []
