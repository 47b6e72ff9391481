"""A user's sessions in the store, on SQLite and PostgreSQL: listed, ended all at once, and which keys of
many are still kept (the console's check for sessions ended by another process)."""

from __future__ import annotations

from crm_core.domain.sessions import StoredSession, key_of
from crm_core.sql.store import SqlStore


def stored(name: str, n: int, started: float) -> StoredSession:
    return StoredSession(key_of(f"{name}-{n}"), name, started, started + 1)


async def test_given_two_users_sessions_then_each_lists_its_own_oldest_first_and_ends_its_own(
    store: SqlStore,
) -> None:
    later, earlier, bobs = stored("alice", 1, 200.0), stored("alice", 2, 100.0), stored("bob", 1, 150.0)
    for session in (later, earlier, bobs):
        await store.sessions.add(session)
    assert await store.sessions.of_user("alice") == [earlier, later]
    assert await store.sessions.remove_user("alice") == sorted([later.key, earlier.key])
    assert await store.sessions.of_user("alice") == []
    assert await store.sessions.of_user("bob") == [bobs]
    assert await store.sessions.remove_user("alice") == []


async def test_given_more_keys_than_one_query_takes_then_kept_names_exactly_those_still_held(
    store: SqlStore,
) -> None:
    held = [stored("alice", n, 100.0) for n in range(1200)]
    for session in held:
        await store.sessions.add(session)
    await store.sessions.remove(held[700].key)
    asked = [s.key for s in held] + [key_of("never-held")]
    assert await store.sessions.kept(asked) == {s.key for s in held} - {held[700].key}
    assert await store.sessions.kept([]) == set()
