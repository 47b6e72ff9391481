"""Several instances share the sessions' store, each with its own cache: a session in use on one is not
ended as idle by another whose cached last use is old."""

from __future__ import annotations

from agent_console.sessions import Sessions
from crm_core.domain.sessions import key_of
from tests.agent_console.fakes import MemorySessionStore

HOUR = 3600.0


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


async def test_given_a_session_used_on_another_instance_then_this_one_does_not_end_it_as_idle() -> None:
    store, clock = MemorySessionStore(), Clock()
    a, b = Sessions(store, clock, idle_s=8 * HOUR), Sessions(store, clock, idle_s=8 * HOUR)
    session = await a.start("alice")
    assert await b.get(session.id) is not None  # the console on b first
    for _ in range(9):  # then in use on a for nine hours
        clock.now += HOUR
        assert await a.get(session.id) is not None
    clock.now += 60
    assert await b.get(session.id) is not None  # back on b: still signed in
    assert store.rows  # and the store still keeps it


async def test_given_a_session_idle_everywhere_then_it_still_ends() -> None:
    store, clock = MemorySessionStore(), Clock()
    a, b = Sessions(store, clock, idle_s=8 * HOUR), Sessions(store, clock, idle_s=8 * HOUR)
    session = await a.start("alice")
    assert await b.get(session.id) is not None
    clock.now += 9 * HOUR
    assert await b.get(session.id) is None
    assert await a.get(session.id) is None and not store.rows


async def test_given_an_end_then_the_others_are_told_its_key_and_forget_it_with_its_sockets() -> None:
    store, clock = MemorySessionStore(), Clock()
    a, b = Sessions(store, clock), Sessions(store, clock)
    session = await a.start("alice")
    assert await b.get(session.id) is not None  # cached on b
    told: list[str] = []
    closed: list[str] = []

    async def tell(key: str) -> None:
        told.append(key)

    a.tell_others.append(tell)
    b.on_end.append(closed.append)
    await a.end(session.id)
    assert told == [key_of(session.id)]  # the store's key, never the id the cookie carries
    assert await b.get(session.id) is not None  # b's cache, not told yet
    assert b.forget(told[0]) and closed == [session.id]
    assert await b.get(session.id) is None
    assert not b.forget(told[0])  # forgotten once
