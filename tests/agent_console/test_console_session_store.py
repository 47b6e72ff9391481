"""``Sessions`` over a hand-written store: what reaches the store (a hash, never the id), the cache in
front of it, expiry, the throttled write-back of the last use, and a session found again after a restart."""

from __future__ import annotations

from agent_console.sessions import SESSION_IDLE_S, SESSION_MAX_S, SWEEP_EVERY_S, TOUCH_EVERY_S, Sessions
from crm_core.domain.sessions import StoredSession, key_of
from tests.agent_console.fakes import MemorySessionStore


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def sessions(store: MemorySessionStore, clock: Clock) -> Sessions:
    return Sessions(store, clock)


async def test_given_a_start_then_the_store_keeps_the_ids_hash_and_never_the_id() -> None:
    store, clock = MemorySessionStore(), Clock()
    session = await sessions(store, clock).start("alice")
    assert list(store.rows) == [key_of(session.id)]
    assert store.rows[key_of(session.id)] == StoredSession(key_of(session.id), "alice", 1_000.0, 1_000.0)
    assert key_of(session.id) != session.id and len(key_of(session.id)) == 64
    assert not any(session.id in repr(row) for row in store.rows.values())


async def test_given_a_started_session_when_looked_up_again_and_again_then_no_store_read() -> None:
    store, clock = MemorySessionStore(), Clock()
    kept = sessions(store, clock)
    session = await kept.start("alice")
    for _ in range(100):
        clock.now += 0.1
        found = await kept.get(session.id)
        assert found is not None and found.username == "alice"
    assert (store.reads, store.touches) == (0, 0)  # 10 s of use: under the write-back interval


async def test_given_a_restart_when_a_console_comes_back_then_its_session_is_found_in_the_store() -> None:
    store, clock = MemorySessionStore(), Clock()
    session = await sessions(store, clock).start("alice")
    clock.now += 3_600
    after_restart = sessions(store, clock)  # a new process: an empty cache over the same store
    found = await after_restart.get(session.id)
    assert found is not None and (found.username, found.started) == ("alice", 1_000.0)
    assert await after_restart.get(session.id) is found
    assert store.reads == 1  # once, then from the cache


async def test_given_an_unknown_or_missing_id_then_no_session() -> None:
    store, clock = MemorySessionStore(), Clock()
    kept = sessions(store, clock)
    await kept.start("alice")
    assert await kept.get("not-a-session") is None
    assert await kept.get(None) is None and await kept.get("") is None
    assert store.reads == 1  # the empty ids never reach the store


async def test_given_a_session_in_use_then_its_last_use_is_written_back_once_per_interval() -> None:
    store, clock = MemorySessionStore(), Clock()
    kept = sessions(store, clock)
    session = await kept.start("alice")
    key = key_of(session.id)
    for _ in range(59):  # a lookup a second for 59 s: nothing written
        clock.now += 1
        await kept.get(session.id)
    assert (store.touches, store.rows[key].last_used) == (0, 1_000.0)
    clock.now += 1  # 60 s after the start
    await kept.get(session.id)
    assert (store.touches, store.rows[key].last_used) == (1, 1_060.0)
    for _ in range(int(TOUCH_EVERY_S) * 3):
        clock.now += 1
        await kept.get(session.id)
    assert (store.touches, store.rows[key].last_used) == (4, 1_240.0)


async def test_given_an_idle_session_then_it_slides_while_used_and_expires_after_the_idle_time() -> None:
    store, clock = MemorySessionStore(), Clock()
    kept = sessions(store, clock)
    session = await kept.start("alice")
    clock.now += SESSION_IDLE_S - 1
    assert await kept.get(session.id) is not None  # used just in time: the idle time starts again
    clock.now += SESSION_IDLE_S - 1
    assert await kept.get(session.id) is not None
    clock.now += SESSION_IDLE_S + 1
    assert await kept.get(session.id) is None
    assert store.rows == {}  # the expired row went with it
    assert await sessions(store, clock).get(session.id) is None  # and a restart does not bring it back


async def test_given_a_session_in_constant_use_then_it_ends_at_the_maximum_age() -> None:
    store, clock = MemorySessionStore(), Clock()
    kept = sessions(store, clock)
    session = await kept.start("alice")
    while clock.now + 3_600 <= 1_000.0 + SESSION_MAX_S:
        clock.now += 3_600
        assert await kept.get(session.id) is not None
    clock.now = 1_000.0 + SESSION_MAX_S + 1
    assert await kept.get(session.id) is None
    assert store.rows == {}


async def test_given_a_stored_session_idle_too_long_when_found_after_a_restart_then_refused_and_dropped() -> (
    None
):
    store, clock = MemorySessionStore(), Clock()
    session = await sessions(store, clock).start("alice")
    clock.now += SESSION_IDLE_S + 1
    assert await sessions(store, clock).get(session.id) is None
    assert store.rows == {}


async def test_given_an_end_then_the_session_is_gone_from_the_cache_and_the_store() -> None:
    store, clock = MemorySessionStore(), Clock()
    kept = sessions(store, clock)
    alice, bob = await kept.start("alice"), await kept.start("bob")
    await kept.end(alice.id)
    await kept.end(None)  # no cookie: nothing to do
    assert await kept.get(alice.id) is None
    assert await sessions(store, clock).get(alice.id) is None
    assert list(store.rows) == [key_of(bob.id)]


async def test_given_expired_sessions_in_the_store_when_someone_signs_in_then_they_are_dropped() -> None:
    store, clock = MemorySessionStore(), Clock()
    kept = sessions(store, clock)
    old = await kept.start("alice")
    clock.now += SESSION_IDLE_S + TOUCH_EVERY_S + 1
    new = await kept.start("bob")
    assert list(store.rows) == [key_of(new.id)]
    assert await kept.get(old.id) is None


async def test_given_many_sign_ins_at_once_then_the_store_is_swept_once_per_interval() -> None:
    store, clock = MemorySessionStore(), Clock()
    kept = sessions(store, clock)
    for _ in range(200):  # a shift start
        clock.now += 0.2
        await kept.start("alice")
    assert store.sweeps == 1
    clock.now += SWEEP_EVERY_S
    await kept.get("not-a-session")
    await kept.start("bob")
    assert (store.sweeps, len(store.rows)) == (2, 201)


async def test_given_a_session_used_within_the_write_back_lag_when_swept_then_it_is_kept() -> None:
    # The store's last use lags by up to the interval: the sweep must not drop a session still alive.
    store, clock = MemorySessionStore(), Clock()
    kept = sessions(store, clock)
    session = await kept.start("alice")
    clock.now += TOUCH_EVERY_S - 1
    await kept.get(session.id)  # used, not yet written back
    clock.now = 1_000.0 + SESSION_IDLE_S + 1  # idle since the store's last use, not since the real one
    await kept.start("bob")
    assert key_of(session.id) in store.rows
    assert await kept.get(session.id) is not None


class EndDuringRead(MemorySessionStore):
    """A store whose first read of a key lets a logout of that session run to its end, as a read that
    was under way when the logout came."""

    def __init__(self) -> None:
        super().__init__()
        self.during_read: Sessions | None = None
        self.session_id = ""

    async def get(self, key: str) -> StoredSession | None:
        found = await super().get(key)
        if self.during_read is not None:
            ending, self.during_read = self.during_read, None
            await ending.end(self.session_id)
        return found


async def test_given_a_logout_while_a_lookup_reads_the_store_then_the_session_stays_ended() -> None:
    store, clock = EndDuringRead(), Clock()
    session = await sessions(store, clock).start("alice")
    after_restart = sessions(store, clock)
    store.during_read, store.session_id = after_restart, session.id
    assert await after_restart.get(session.id) is None  # it read the row before the logout removed it
    assert await after_restart.get(session.id) is None


class TouchFails(MemorySessionStore):
    """A store whose writes of a session's last use fail while ``failing``: a full connection pool, or
    SQLite's writer lock held past its timeout."""

    def __init__(self) -> None:
        super().__init__()
        self.failing = True

    async def touch(self, key: str, last_used: float) -> None:
        if self.failing:
            self.touches += 1
            raise TimeoutError("QueuePool limit of size 5 overflow 10 reached")
        await super().touch(key, last_used)


async def test_given_the_last_use_write_failing_when_looked_up_then_the_session_serves_and_retries() -> None:
    store, clock = TouchFails(), Clock()
    kept = sessions(store, clock)
    session = await kept.start("alice")
    clock.now += TOUCH_EVERY_S
    found = await kept.get(session.id)  # the write fails: the request is not failed with it
    assert found is not None and found.username == "alice"
    assert store.rows[key_of(session.id)].last_used == 1_000.0
    store.failing = False
    clock.now += 1
    assert await kept.get(session.id) is not None
    assert store.touches == 2  # tried again at the next use, not a write-back interval later
    assert store.rows[key_of(session.id)].last_used == clock.now
