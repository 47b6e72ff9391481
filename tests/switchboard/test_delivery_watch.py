"""The delivery worker's hook: each delivery queued, sent, failed or read is told to the watchers (the
consoles), with the row as the store now holds it; a watcher that raises stops nobody."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from agent_console.message_links import MessageLinks, token
from config.deliveries import DeliveryRules, Rule
from crm_core.domain.deliveries import Delivery, DeliveryStatus
from crm_core.sql.store import SqlStore
from routing.ids import LineId
from switchboard.deliveries import MessagePlanner, Watchers
from tests.moving_clock import Clock
from tests.switchboard.delivery_rig import SECRET, open_store, smtp_server, worker

SMITH = LineId("smith")
PAYLOAD: dict[str, object] = {
    "line": "smith", "line_name": "Dr. Smith's office", "case_id": 41, "call": "c1", "urgent": False,
    "caller_name": "Ann", "callback_number": "+14155550123", "message": "Refill", "taken_by": "1002",
}  # fmt: skip


class Heard:
    """A watcher that keeps what it hears."""

    def __init__(self) -> None:
        self.changes: list[tuple[int, DeliveryStatus, int, str | None]] = []

    def __call__(self, delivery: Delivery, detail: str | None) -> None:
        self.changes.append((delivery.id, delivery.status, delivery.attempts, detail))


def deaf(delivery: Delivery, detail: str | None) -> None:
    raise RuntimeError("a broken console")


class NoOnCall:
    async def schedule(self, business: LineId, *, at: object = None) -> object:
        raise AssertionError("these rules name nobody on call")

    async def person(self, business: LineId, person_id: int) -> object:
        raise AssertionError("these rules name nobody on call")


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[tuple[SqlStore, Clock]]:
    """A store on a SQLite file, on a clock the test moves."""
    clock = Clock()
    store = await open_store(f"sqlite+aiosqlite:///{tmp_path}/watch.db", clock)
    yield store, clock
    await store.close()


def planner(store: SqlStore, clock: Clock, watchers: Watchers, rule: Rule) -> MessagePlanner:
    rules = {SMITH: DeliveryRules(urgent=rule, routine=rule)}
    return MessagePlanner(rules, store.deliveries, NoOnCall(), {}, clock, lambda: None, None, watchers)  # type: ignore[arg-type]


async def test_given_a_message_when_queued_sent_and_read_then_the_watchers_hear_each_status(
    rig: tuple[SqlStore, Clock],
) -> None:
    store, clock = rig
    heard, watchers = Heard(), Watchers()
    watchers.add(deaf)  # raises: logged, and the next watcher still hears
    watchers.add(heard)
    rule = Rule(email=("frontdesk@example.com", "nobody@example.com"))
    async with smtp_server() as (box, smtp):
        box.refuse.add("nobody@example.com")
        queued, problems = await planner(store, clock, watchers, rule).queue_message(SMITH, PAYLOAD)
        assert problems == [] and len(queued) == 2
        good, bad = sorted(queued, key=lambda d: d.recipient != "frontdesk@example.com")
        assert heard.changes == [(d.id, DeliveryStatus.QUEUED, 0, None) for d in queued]
        assert await worker(store, clock, smtp=smtp, watch=watchers).drain_once() == 2
    after = {change[0]: change for change in heard.changes[2:]}
    assert after[good.id] == (good.id, DeliveryStatus.SENT, 1, "2.0.0 queued as T1")
    assert after[bad.id][1:3] == (DeliveryStatus.FAILED, 1)
    assert "no such mailbox" in str(after[bad.id][3])  # the mail server's answer

    app = web.Application()
    MessageLinks(store.deliveries, SECRET, watch=watchers).add_to(app)
    async with TestClient(TestServer(app)) as client:
        assert (await client.get(f"/m/{token(SECRET, good.id)}")).status == 200
        assert (await client.get(f"/m/{token(SECRET, good.id)}")).status == 200  # read already: no news
    assert heard.changes[4:] == [(good.id, DeliveryStatus.READ, 1, "link opened")]


async def test_given_a_retry_then_the_watchers_hear_it_stays_queued_with_the_error(
    rig: tuple[SqlStore, Clock],
) -> None:
    store, clock = rig
    from config.deliveries import Smtp

    heard, watchers = Heard(), Watchers()
    watchers.add(heard)
    await planner(store, clock, watchers, Rule(email=("frontdesk@example.com",))).queue_message(
        SMITH, PAYLOAD
    )
    closed = Smtp(host="127.0.0.1", port=9, sender="answering@example.com")  # nothing listens on port 9
    assert await worker(store, clock, smtp=closed, watch=watchers).drain_once() == 1
    [(_, status, attempts, detail)] = heard.changes[1:]
    assert (status, attempts) == (DeliveryStatus.QUEUED, 1) and detail
