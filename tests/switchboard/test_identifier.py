"""Caller identification against the real SQLite store: the router always gets an answer, quickly."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from config.settings import load
from crm_core.domain.calls import LoggedCall
from crm_core.domain.overview import CustomerCard
from crm_core.sql.migrate import upgrade_async
from crm_core.sql.store import SqlStore
from routing import commands as cmd
from routing import events as ev
from routing.ids import AgentId, CallId, LineId, QueueId
from routing.records import CallRecord, Outcome, Party
from routing.states import CallState
from switchboard.bootstrap import build, normaliser
from switchboard.callers import CallerCache
from switchboard.identifier import CallerIdentifier

ROOT = Path(__file__).resolve().parents[2]
ANN = "+14155550123"
NOW = 1_800_000_000.0
EMPTY = ev.CallerIdentified(CallId("c1"), None, None, None, NOW)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqlStore]:
    url = f"sqlite+aiosqlite:///{tmp_path}/switchboard.db"
    await upgrade_async(url)
    opened = SqlStore.open(url, "US")
    try:
        yield opened
    finally:
        await opened.close()


def answered(call: str, agent: str, ended_at: float, number: str = ANN) -> CallRecord:
    return CallRecord(
        call=CallId(call),
        did="+18005550101",
        source="radio",
        line=LineId("acme"),
        line_name="Acme",
        queue=QueueId("acme"),
        caller_number=number,
        caller_name=None,
        agent=AgentId(agent),
        arrived_at=ended_at - 100,
        answered_at=ended_at - 90,
        ended_at=ended_at,
        outcome=Outcome.ANSWERED,
        hung_up_by=Party.CALLER,
        offers=1,
    )


class Answers:
    """Collects what the identifier submits to the router."""

    def __init__(self) -> None:
        self.events: list[ev.Event] = []

    def submit(self, event: ev.Event) -> None:
        self.events.append(event)


async def identify(identifier: CallerIdentifier, answers: Answers, number: str) -> ev.Event:
    identifier.notice(cmd.IdentifyCaller(CallId("c1"), number))
    await asyncio.wait_for(identifier.idle(), 5)
    [answer] = answers.events
    return answer


async def test_given_a_vip_who_called_before_when_identified_then_tier_last_agent_and_when(
    store: SqlStore,
) -> None:
    ann = await store.add_customer("Ann", [(ANN, "mobile")], tier="vip")
    await store.record(answered("old", "1001", NOW - 7200), ann.id)
    await store.record(answered("new", "1002", NOW - 600), ann.id)
    answers = Answers()
    identifier = CallerIdentifier(CallerCache(store), store, answers.submit, lambda: NOW)
    assert await identify(identifier, answers, ANN) == ev.CallerIdentified(
        CallId("c1"), "vip", AgentId("1002"), NOW - 600, NOW
    )


async def test_given_an_unknown_number_with_history_when_identified_then_no_tier_but_the_last_agent(
    store: SqlStore,
) -> None:
    await store.record(answered("new", "1002", NOW - 600), None)
    answers = Answers()
    identifier = CallerIdentifier(CallerCache(store), store, answers.submit, lambda: NOW)
    assert await identify(identifier, answers, ANN) == ev.CallerIdentified(
        CallId("c1"), None, AgentId("1002"), NOW - 600, NOW
    )


async def test_given_a_shared_number_when_identified_then_the_newest_owners_tier_and_the_numbers_last_agent(
    store: SqlStore,
) -> None:
    """Nobody has picked yet: the number's history, not one colleague's (Bo's call from his mobile)."""
    await store.add_customer("Ann", [(ANN, "office")])
    bo = await store.add_customer("Bo", [(ANN, "office"), ("+14155550199", "mobile")], tier="vip")
    await store.record(answered("office", "1001", NOW - 7200), None)
    await store.record(answered("mobile", "1002", NOW - 600, "+14155550199"), bo.id)
    answers = Answers()
    identifier = CallerIdentifier(CallerCache(store), store, answers.submit, lambda: NOW)
    assert await identify(identifier, answers, ANN) == ev.CallerIdentified(
        CallId("c1"), "vip", AgentId("1001"), NOW - 7200, NOW
    )


@pytest.mark.parametrize("number", ["+19995550000", "anonymous"])
async def test_given_a_caller_nobody_knows_when_identified_then_an_empty_answer(
    store: SqlStore, number: str
) -> None:
    answers = Answers()
    identifier = CallerIdentifier(CallerCache(store), store, answers.submit, lambda: NOW)
    assert await identify(identifier, answers, number) == ev.CallerIdentified(
        CallId("c1"), None, None, None, NOW
    )


class BrokenStore:
    async def find_by_number(self, e164: str) -> CustomerCard | None:
        raise ConnectionError("database restarting")

    async def find_all_by_number(self, e164: str, limit: int = 1000) -> tuple[CustomerCard, ...]:
        raise ConnectionError("database restarting")

    async def last_answered_call(self, e164: str | None, customer_id: int | None = None) -> LoggedCall | None:
        raise ConnectionError("database restarting")


class StuckStore(BrokenStore):
    async def find_all_by_number(self, e164: str, limit: int = 1000) -> tuple[CustomerCard, ...]:
        await asyncio.sleep(3600)
        return ()


@pytest.mark.parametrize("broken", [BrokenStore, StuckStore])
async def test_given_a_store_that_fails_or_hangs_when_identified_then_an_empty_answer_still_comes(
    broken: type[BrokenStore],
) -> None:
    store = broken()
    answers = Answers()
    identifier = CallerIdentifier(CallerCache(store), store, answers.submit, lambda: NOW, timeout_s=0.05)
    assert await identify(identifier, answers, ANN) == ev.CallerIdentified(
        CallId("c1"), None, None, None, NOW
    )


async def test_given_the_shipped_config_when_a_vip_calls_then_the_service_identifies_them(
    store: SqlStore, tmp_path: Path
) -> None:
    settings = load(ROOT / "config" / "switchboard.toml", normaliser, env={})
    monday_10am = dt.datetime(2026, 11, 23, 10, tzinfo=dt.timezone(dt.timedelta(hours=-5))).timestamp()
    await store.add_customer("Ann", [(ANN, "mobile")], tier="vip")
    unused = dataclasses.replace(settings, database_url="unused")
    service = await build(unused, store=store, clock=lambda: monday_10am)
    seen: list[ev.Event] = []
    service.loop.observers.append(seen.append)
    runner = asyncio.create_task(service.loop.run())
    try:
        service.loop.submit(ev.CallArrived(CallId("c1"), "+18005550101", ANN, None, monday_10am))
        for _ in range(200):
            if service.router.call_state(CallId("c1")) is CallState.WAITING:
                break
            await asyncio.sleep(0.01)
        # The router's own identify timeout never fires (its clock stands still): the answer moved the call.
        assert service.router.call_state(CallId("c1")) is CallState.WAITING
        assert any(isinstance(e, ev.CallerIdentified) and e.tier == "vip" for e in seen)
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)
        await service.identifier.idle()
        await service.ari.close()
