"""Users in the store, on SQLite and PostgreSQL: hashed passwords, unique names, disabling, sign-in."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from crm_core.domain.errors import ValidationFailed
from crm_core.domain.users import DuplicateUsername, Role, Standing, UserNotFound
from crm_core.sql.engine import open_engine
from crm_core.sql.orm import UserRow
from crm_core.sql.store import SqlStore

PASSWORD = "correct horse battery"


async def test_given_a_new_agent_when_added_then_listed_and_password_stored_only_as_argon2(
    store: SqlStore, database_url: str
) -> None:
    user = await store.users.add(" Alice ", PASSWORD, "agent", agent="a1", name="Alice A.")

    assert (user.username, user.name, user.role, user.agent, user.disabled) == (
        "alice", "Alice A.", Role.AGENT, "a1", False
    )  # fmt: skip
    assert [u.username for u in await store.users.list()] == ["alice"]
    engine = open_engine(database_url)
    async with engine.connect() as connection:
        stored = await connection.scalar(select(UserRow.password_hash))
    await engine.dispose()
    assert stored is not None and stored.startswith("$argon2id$") and PASSWORD not in stored


async def test_given_a_user_when_checking_passwords_then_only_theirs_and_only_while_enabled(
    store: SqlStore,
) -> None:
    await store.users.add("sam", PASSWORD, "supervisor")

    assert (await store.users.check("SAM", PASSWORD)) is not None
    assert await store.users.check("sam", "wrong password") is None
    assert await store.users.check("nobody", PASSWORD) is None
    await store.users.set_password("sam", "another password")
    assert await store.users.check("sam", PASSWORD) is None
    await store.users.disable("sam")
    assert await store.users.check("sam", "another password") is None
    assert (await store.users.require("sam")).disabled


async def test_given_an_existing_username_when_added_again_then_conflict(store: SqlStore) -> None:
    await store.users.add("alice", PASSWORD, "admin")
    with pytest.raises(DuplicateUsername):
        await store.users.add("ALICE", PASSWORD, "admin")


@pytest.mark.parametrize(
    ("username", "password", "role", "agent", "field"),
    [
        ("bad name", PASSWORD, "agent", "a1", "username"),
        ("alice", "short", "agent", "a1", "password"),
        ("alice", PASSWORD, "janitor", "a1", "role"),
        ("alice", PASSWORD, "answering", None, "agent"),
    ],
)
async def test_given_invalid_input_when_adding_then_refused_naming_the_field(
    store: SqlStore, username: str, password: str, role: str, agent: str | None, field: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        await store.users.add(username, password, role, agent=agent)
    assert refused.value.field == field
    assert await store.users.list() == []


async def test_given_no_such_user_when_changed_then_not_found(store: SqlStore) -> None:
    with pytest.raises(UserNotFound):
        await store.users.disable("ghost")
    with pytest.raises(UserNotFound):
        await store.users.set_password("ghost", PASSWORD)


async def test_given_users_when_one_is_disabled_then_standings_since_its_change_name_only_them(
    store: SqlStore,
) -> None:
    await store.users.add("alice", PASSWORD, "agent", agent="a1")
    bob = await store.users.add("bob", PASSWORD, "supervisor")
    assert await store.users.standings(since=bob.updated_at) == [  # at: included
        Standing("bob", Role.SUPERVISOR, False, bob.updated_at)
    ]
    await store.users.disable("alice")
    alice = await store.users.require("alice")
    assert alice.updated_at > bob.updated_at
    assert await store.users.standings(since=alice.updated_at) == [
        Standing("alice", Role.AGENT, True, alice.updated_at)
    ]
    assert await store.users.standings(since=alice.updated_at + timedelta(microseconds=1)) == []
    everyone = await store.users.standings()
    assert sorted(s.username for s in everyone) == ["alice", "bob"]
    assert all(s.updated_at.tzinfo is not None for s in everyone)
