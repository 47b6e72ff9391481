"""The caller cache: one lookup per live call, and nothing kept for a call that is over."""

from __future__ import annotations

from crm_core.model import CustomerCard
from routing.ids import CallId
from switchboard.callers import CallerCache

JANE = CustomerCard(7, "Jane Doe", None, None)
NUMBER = "+14155550123"


class CountingDirectory:
    def __init__(self) -> None:
        self.lookups = 0

    async def find_by_number(self, e164: str) -> CustomerCard | None:
        self.lookups += 1
        return JANE if e164 == NUMBER else None

    async def add_customer(self, *args: object, **kwargs: object) -> CustomerCard:
        raise NotImplementedError  # the cache only reads


async def test_given_a_prefetched_call_when_asked_twice_then_one_lookup_serves_both() -> None:
    directory = CountingDirectory()
    cache = CallerCache(directory)
    cache.prefetch(CallId("c1"), NUMBER)
    assert await cache.customer(CallId("c1"), NUMBER) == JANE
    assert await cache.customer(CallId("c1"), NUMBER) == JANE
    assert directory.lookups == 1
    assert cache.peek(CallId("c1")) == (True, JANE)


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
