"""The caller cache: one lookup per live call, and nothing kept for a call that is over."""

from __future__ import annotations

import asyncio
from typing import Any

from crm_core.domain.customers import Customer, Profile
from crm_core.domain.overview import Caller, CustomerCard, CustomerOverview
from routing.ids import CallId
from switchboard.callers import CallerCache
from tests.agent_console.fakes import EPOCH

JANE = CustomerCard(id=7, name="Jane Doe", company=None, email=None)
NUMBER = "+14155550123"


class CountingDirectory:
    def __init__(self) -> None:
        self.lookups = 0

    async def find_by_number(self, e164: str) -> CustomerCard | None:
        raise NotImplementedError  # the cache asks for every owner of the number

    async def find_all_by_number(self, e164: str, limit: int = 1000) -> tuple[CustomerCard, ...]:
        self.lookups += 1
        return (JANE,) if e164 == NUMBER else ()

    async def add_customer(self, *args: object, **kwargs: object) -> CustomerCard:
        raise NotImplementedError  # the cache only reads


async def test_given_a_prefetched_call_when_asked_twice_then_one_lookup_serves_both() -> None:
    directory = CountingDirectory()
    cache = CallerCache(directory)
    cache.prefetch(CallId("c1"), NUMBER)
    assert await cache.customer(CallId("c1"), NUMBER) == JANE
    assert await cache.customer(CallId("c1"), NUMBER) == JANE
    assert directory.lookups == 1
    assert cache.peek(CallId("c1")) == (True, (JANE,))


async def test_given_a_forgotten_call_when_asked_late_then_answered_but_nothing_is_kept() -> None:
    """A pop or an identification that comes after the call was logged must not leave an entry behind."""
    directory = CountingDirectory()
    cache = CallerCache(directory)
    cache.prefetch(CallId("c1"), NUMBER)
    await cache.customer(CallId("c1"), NUMBER)
    cache.forget(CallId("c1"))
    assert await cache.customer(CallId("c1"), NUMBER) == JANE
    assert cache.peek(CallId("c1")) == (False, None)
    assert directory.lookups == 2


class OverviewStore(CountingDirectory):
    def __init__(self) -> None:
        super().__init__()
        self.overviews = 0

    async def overview(self, customer_id: int, *, calls: int = 10, cases: int = 20, orders: int = 10) -> Any:
        self.overviews += 1
        assert (customer_id, calls, cases, orders) == (7, 5, 20, 5)
        return OVERVIEW


OVERVIEW = CustomerOverview(Customer.of(7, Profile(name="Jane Doe"), EPOCH, EPOCH), None, (), (), ())
MARY = CustomerOverview(
    Customer.of(8, Profile(name="Mary Major", tier="vip"), EPOCH, EPOCH), None, (), (), ()
)


async def test_given_a_known_caller_when_prefetched_then_the_360_is_read_once_for_the_pop() -> None:
    store = OverviewStore()
    cache = CallerCache(store, store)
    cache.prefetch(CallId("c1"), NUMBER)
    assert cache.peek_caller(CallId("c1")) == (False, None)  # not yet: never waits
    assert await cache.caller(CallId("c1"), NUMBER) == Caller(OVERVIEW, (JANE,))
    assert cache.peek_caller(CallId("c1")) == (True, Caller(OVERVIEW, (JANE,)))
    assert (store.lookups, store.overviews) == (1, 1)


async def test_given_an_unknown_caller_then_no_360() -> None:
    store = OverviewStore()
    cache = CallerCache(store, store)
    cache.prefetch(CallId("c1"), "+12125550100")
    assert await cache.caller(CallId("c1"), "+12125550100") == Caller(None)
    assert store.overviews == 0


async def test_given_a_live_call_when_a_customer_is_attached_then_the_pop_and_the_log_use_it() -> None:
    store = OverviewStore()
    cache = CallerCache(store, store)
    cache.prefetch(CallId("c1"), "+12125550100")
    cache.attach(CallId("c1"), MARY)
    assert cache.peek_caller(CallId("c1")) == (True, Caller(MARY))
    card = await cache.customer(CallId("c1"), "+12125550100")
    assert card is not None and (card.id, card.tier) == (8, "vip")
    cache.forget(CallId("c1"))
    cache.attach(CallId("c1"), MARY)  # over and forgotten: nothing is kept for it
    assert not cache.live(CallId("c1"))


class SlowStore(OverviewStore):
    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()

    async def find_all_by_number(self, e164: str, limit: int = 1000) -> tuple[CustomerCard, ...]:
        await self.release.wait()
        return await super().find_all_by_number(e164, limit)


async def test_given_a_question_waiting_when_the_call_is_forgotten_then_it_is_answered_not_cancelled() -> (
    None
):
    """The call is logged (and forgotten) while a take-message waits for the caller's record."""
    store = SlowStore()
    cache = CallerCache(store, store)
    cache.prefetch(CallId("c1"), NUMBER)
    waiting_360 = asyncio.create_task(cache.caller(CallId("c1"), NUMBER))
    waiting_card = asyncio.create_task(cache.customer(CallId("c1"), NUMBER))
    await asyncio.sleep(0)
    cache.forget(CallId("c1"))
    store.release.set()
    assert await asyncio.wait_for(waiting_360, 2) == Caller(OVERVIEW, (JANE,))
    assert await asyncio.wait_for(waiting_card, 2) == JANE
    assert not cache.live(CallId("c1"))


BEN = CustomerCard(id=8, name="Ben Ortiz", company="Ortiz & Park", email=None)
COLLEAGUES = tuple(
    CustomerCard(id=100 + n, name=f"Colleague {n}", company=None, email=None) for n in range(25)
)


class SharedLine(OverviewStore):
    """Jane and Ben share ``NUMBER``; 25 colleagues share the office's main line."""

    async def find_all_by_number(self, e164: str, limit: int = 1000) -> tuple[CustomerCard, ...]:
        self.lookups += 1
        found = {NUMBER: (JANE, BEN), "+12125550150": COLLEAGUES}.get(e164, ())
        return found[:limit]


async def test_given_a_shared_number_then_every_owner_offered_no_360_read_and_nobody_the_caller() -> None:
    store = SharedLine()
    cache = CallerCache(store, store)
    cache.prefetch(CallId("c1"), NUMBER)
    assert await cache.caller(CallId("c1"), NUMBER) == Caller(None, (JANE, BEN))
    assert await cache.customer(CallId("c1"), NUMBER) is None  # the call log names nobody unpicked
    assert await cache.matches(CallId("c1"), NUMBER) == (JANE, BEN)
    assert (store.lookups, store.overviews) == (1, 0)


async def test_given_more_owners_than_the_pop_lists_then_the_first_twenty_and_more_matches() -> None:
    store = SharedLine()
    cache = CallerCache(store, store)
    caller = await cache.caller(CallId("c1"), "+12125550150")
    assert (caller.matches, caller.more_matches) == (COLLEAGUES[:20], True)


async def test_given_a_shared_number_when_one_is_picked_then_the_caller_and_the_others_stay_offered() -> None:
    store = SharedLine()
    cache = CallerCache(store, store)
    cache.prefetch(CallId("c1"), NUMBER)
    await cache.caller(CallId("c1"), NUMBER)
    cache.attach(CallId("c1"), MARY)
    assert cache.peek_caller(CallId("c1")) == (True, Caller(MARY, (JANE, BEN)))
    card = await cache.customer(CallId("c1"), NUMBER)
    assert card is not None and card.id == 8
    assert cache.attached(CallId("c1")) == 8


async def test_given_a_restart_when_a_pick_was_kept_then_named_shows_it_and_the_others_stay_offered() -> None:
    """``Service.renamed``: the cache is empty after a restart; the router's books say who was picked."""
    store = SharedLine()  # Jane and Ben share the number; the agent had picked Jane (7)
    cache = CallerCache(store, store)
    await cache.named(CallId("c1"), NUMBER, 7)
    assert cache.peek_caller(CallId("c1")) == (True, Caller(OVERVIEW, (JANE, BEN)))
    assert cache.attached(CallId("c1")) == 7 and store.overviews == 1
    card = await cache.customer(CallId("c1"), NUMBER)
    assert card is not None and card.id == 7
