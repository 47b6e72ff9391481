"""The consoles' sessions in the store, on SQLite and PostgreSQL: kept by key, a later use noted,
removed, and the expired ones dropped on either limit."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from crm_core.domain.sessions import StoredSession, key_of
from crm_core.sql.store import SqlStore


def stored(name: str, started: float, last_used: float | None = None) -> StoredSession:
    return StoredSession(key_of(f"id-of-{name}"), name, started, started if last_used is None else last_used)


async def test_given_a_session_added_then_it_reads_back_by_its_key_only(store: SqlStore) -> None:
    alice = stored("alice", 1_700_000_000.25)
    await store.sessions.add(alice)
    assert await store.sessions.get(alice.key) == alice
    assert await store.sessions.get("id-of-alice") is None  # the raw id is no key
    assert await store.sessions.get(key_of("id-of-bob")) is None


async def test_given_a_key_twice_then_the_second_add_is_refused_and_the_first_kept(store: SqlStore) -> None:
    alice = stored("alice", 100.0)
    await store.sessions.add(alice)
    with pytest.raises(IntegrityError):
        await store.sessions.add(stored("alice", 200.0))
    assert await store.sessions.get(alice.key) == alice


async def test_given_a_touch_then_only_that_session_shows_the_later_use(store: SqlStore) -> None:
    alice, bob = stored("alice", 100.0), stored("bob", 100.0)
    await store.sessions.add(alice)
    await store.sessions.add(bob)
    await store.sessions.touch(alice.key, 160.5)
    await store.sessions.touch(key_of("gone"), 170.0)  # no such row: nothing happens
    assert await store.sessions.get(alice.key) == StoredSession(alice.key, "alice", 100.0, 160.5)
    assert await store.sessions.get(bob.key) == bob


async def test_given_a_removal_then_that_session_is_gone_and_the_others_stay(store: SqlStore) -> None:
    alice, bob = stored("alice", 100.0), stored("bob", 100.0)
    await store.sessions.add(alice)
    await store.sessions.add(bob)
    await store.sessions.remove(alice.key)
    await store.sessions.remove(alice.key)  # twice: still no error
    assert (await store.sessions.get(alice.key), await store.sessions.get(bob.key)) == (None, bob)


async def test_given_sessions_idle_or_too_old_when_expiring_then_exactly_those_go(store: SqlStore) -> None:
    idle = stored("idle", 1_000.0, last_used=1_500.0)
    old = stored("old", 500.0, last_used=2_900.0)
    fresh = stored("fresh", 1_000.0, last_used=2_000.0)
    for session in (idle, old, fresh):
        await store.sessions.add(session)
    assert await store.sessions.expire(used_before=2_000.0, started_before=1_000.0) == 2
    assert [await store.sessions.get(s.key) for s in (idle, old, fresh)] == [None, None, fresh]
