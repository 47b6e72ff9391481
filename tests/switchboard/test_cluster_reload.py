"""A follower's reload (``ClusterNode.reload``) on a store a leader recorded: the router gets the leader's
books, the consoles here are told what they were told when the whole reload ran on the loop at once, and
nothing reading the router meanwhile sees books other than the ones it had or the ones it gets."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from config.cluster import ClusterSettings
from config.settings import Settings
from crm_core.sql.migrate import upgrade_async
from crm_core.sql.store import SqlStore
from routing import events as ev
from routing import views
from routing.ids import AgentId, CallId, OfferId
from routing.router import Router
from switchboard import snapshot_codec
from switchboard.bootstrap import Service, build
from switchboard.cluster import node as node_module
from switchboard.cluster.node import ClusterNode
from switchboard.event_codec import decode
from switchboard.journal import Journal
from telephony.simulated import SimulatedPbx
from tests.integration.conftest import wait_until
from tests.switchboard.test_bootstrap import simulated_settings
from tests.switchboard.test_journal import DID, plan, state

AGENTS = [AgentId(f"a{n}") for n in range(1, 6)]
NOW = 500.0
NOWHERE = ClusterSettings(redis_url="redis://127.0.0.1:1", instance="t")  # a reload never asks Redis


def settings(url: str) -> Settings:
    """test_bootstrap's service on the simulated PBX, with test_journal's plan for five agents."""
    return dataclasses.replace(simulated_settings(Path(".")), database_url=url, plan=plan(*AGENTS))


def call(n: int, at: float, answered: bool, over: bool) -> list[ev.Event]:
    c, offer = CallId(f"c{n}"), OfferId(f"sb-c{n}-1")
    events: list[ev.Event] = [ev.CallArrived(c, DID, f"+1415555010{n}", None, at), ev.OfferRinging(offer, at)]
    events += [ev.OfferAnswered(offer, at + 1)] if answered else []
    return events + ([ev.CallerHungUp(c, at + 20)] if over else [])


@pytest.fixture
async def url(tmp_path: Path) -> str:
    found = f"sqlite+aiosqlite:///{tmp_path}/crm.db"
    await upgrade_async(found)
    return found


async def recorded(url: str) -> Router:
    """A leader's journal in the store: a snapshot with two calls over (their wrap-up forms kept) and one
    talking, then lines after it: another call talking, one ringing, one waiting. The leader's router."""
    store = SqlStore.open(url, "US")
    journal = Journal(store.journal, flush_s=0.001)
    writer = asyncio.create_task(journal.run())
    leader = Router(settings(url).plan)

    def handle(events: list[ev.Event]) -> None:
        for event in events:
            journal.record(event, leader)
            leader.handle(event)

    handle([e for a in AGENTS for e in (ev.AgentLoggedIn(a, 100.0), ev.AgentBecameReady(a, 100.0))])
    handle(call(1, 101, answered=True, over=True) + call(2, 102, answered=True, over=True))
    handle(call(3, 103, answered=True, over=False))
    journal.snapshot(leader, 110.0)
    handle(call(4, 111, answered=True, over=False) + call(5, 112, answered=False, over=False))
    handle(call(6, 113, answered=False, over=False))  # nobody is ready for it: it waits
    await journal.flush()
    writer.cancel()
    await store.close()
    return leader


@asynccontextmanager
async def built(url: str) -> AsyncIterator[Service]:
    """A service never started (a reload needs none of its tasks), closed as test_bootstrap's is."""
    service = await build(settings(url), pbx=SimulatedPbx, clock=lambda: NOW)
    try:
        yield service
    finally:
        await service.ari.close()
        await service.webhooks.close()
        await service.store.close()


@pytest.fixture
async def follower(url: str) -> AsyncIterator[Service]:
    async with built(url) as service:
        yield service


@pytest.fixture
async def reference(url: str) -> AsyncIterator[Service]:
    """The same store, its books put back as the reload did before it left the loop: loaded, replayed,
    and the consoles told all at once."""
    async with built(url) as service:
        yield service


async def reload_as_before(service: Service) -> None:
    kept = await service.store.journal.kept()
    assert kept.snapshot is not None
    router = service.router
    router.plan, router.book = snapshot_codec.loads(kept.snapshot.data)
    for line in kept.lines:
        router.handle(decode(line.event))
    service.hub.restate(router.restated(NOW))


def desks(service: Service) -> dict[AgentId, dict[str, object]]:
    """What a console joining now gets, per agent."""
    book = service.router.book
    return {a: service.hub.snapshot(views.agent_view(book, a), "agent") for a in AGENTS}


async def test_given_a_recorded_store_when_a_follower_reloads_then_books_and_consoles_are_as_before(
    url: str, follower: Service, reference: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(node_module, "RESTATE_SLICE", 2)  # this small floor restates in several slices
    leader = await recorded(url)
    assert len(leader.restated(NOW)) > 2 * node_module.RESTATE_SLICE
    seq = await ClusterNode(follower, NOWHERE).reload()
    await reload_as_before(reference)
    assert seq == 10 + 4 + 4 + 3 + 3 + 2 + 2  # the agents, c1 and c2 over, c3 and c4 talking, c5 and c6
    assert state(follower.router) == state(leader) == state(reference.router)
    assert follower.router.restated(NOW) == leader.restated(NOW)
    # Each pop's caller is looked up after it goes out (a customer_pending pop, then its customer): the
    # desks compare once both hubs have their answers.
    await wait_until(lambda: desks(follower) == desks(reference), timeout=5, what="the same desks")
    told = [d for d in desks(follower).values() if d.get("call") or d.get("wrap_up")]
    assert len(told) == 5  # two wrap-up forms (c1, c2), two calls talking (c3, c4), c5 ringing the fifth


async def test_given_a_follower_with_books_when_it_reloads_then_readers_see_the_old_books_or_the_new(
    url: str, follower: Service
) -> None:
    """Never a state in between (the empty books the reload used to start from, a snapshot without
    the lines after it): a reader on the loop, as the consoles and the API are, samples it meanwhile."""
    leader = await recorded(url)
    router = follower.router
    router.handle(ev.AgentLoggedIn(AGENTS[0], 50.0))  # what it had before: one agent signed in, no calls
    before, after = state(router), state(leader)
    seen: list[object] = []

    async def sample() -> None:
        while True:
            seen.append(state(router))
            await asyncio.sleep(0)

    sampler = asyncio.create_task(sample())
    await asyncio.sleep(0)
    await ClusterNode(follower, NOWHERE).reload()
    sampler.cancel()
    assert before != after and len(seen) > 2  # the loop went on meanwhile (the store's read, the restate)
    assert [s for s in seen if s not in (before, after)] == []
    assert seen[0] == before and state(router) == after
