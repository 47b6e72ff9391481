"""The login throttle under a burst of parallel guesses: attempts are counted when they start, not when
their (slow) password check ends, so sending guesses at once gains a guesser nothing."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import pytest

from agent_console.login_throttle import THROTTLE_FAILURES
from crm_core.domain.users import Role, User
from tests.agent_console.fakes import PASSWORD, FakeUsers, user
from tests.agent_console.harness import Console, make_console


class SlowUsers(FakeUsers):
    """``FakeUsers`` whose checks take time, as the password worker's do (about 0.17 s each, queued);
    with ``held``, every check waits until the test sets ``release``. Counts the checks begun, and sets
    ``limit_checked`` when the throttle's limit of them have begun."""

    def __init__(self, *users: User, check_s: float = 0.05, held: bool = False) -> None:
        super().__init__(*users)
        self.check_s = check_s
        self.held = held
        self.release = asyncio.Event()
        self.checks = 0
        self.limit_checked = asyncio.Event()

    async def check(self, username: str, password: str) -> User | None:
        self.checks += 1
        if self.checks >= THROTTLE_FAILURES:
            self.limit_checked.set()
        if self.held:
            await self.release.wait()
        await asyncio.sleep(self.check_s)
        return await super().check(username, password)


@pytest.fixture
async def slow() -> AsyncIterator[Console]:
    async with make_console(SlowUsers(user("alice", Role.AGENT, "a1"))) as c:
        yield c


async def _burst(console: Console, passwords: list[str]) -> list[int]:
    signed = await asyncio.gather(*(console.sign_in("alice", p) for p in passwords))
    return [status for status, _ in signed]


async def test_given_a_slow_check_when_200_wrong_guesses_arrive_at_once_then_all_beyond_the_limit_get_429(
    slow: Console,
) -> None:
    statuses = await _burst(slow, [f"guess {n}" for n in range(200)])
    assert Counter(statuses) == {401: THROTTLE_FAILURES, 429: 200 - THROTTLE_FAILURES}
    assert isinstance(slow.users, SlowUsers) and slow.users.checks == THROTTLE_FAILURES


async def test_given_wrong_guesses_still_being_checked_when_the_right_password_follows_then_429(
    slow: Console,
) -> None:
    users = slow.users
    assert isinstance(users, SlowUsers)
    users.held = True
    wrong = asyncio.ensure_future(_burst(slow, [f"guess {n}" for n in range(29)]))
    await asyncio.wait_for(users.limit_checked.wait(), 5)  # the limit's worth of guesses, checks unfinished
    right = asyncio.ensure_future(slow.sign_in("alice", PASSWORD))
    await asyncio.wait([right], timeout=1)  # refused at once, or (unthrottled) held in its check
    users.release.set()
    status, body = await right
    assert (status, body["error"]) == (429, "login-throttled")
    assert Counter(await wrong) == {401: THROTTLE_FAILURES, 429: 29 - THROTTLE_FAILURES}


async def test_given_one_place_left_when_two_right_passwords_arrive_at_once_then_one_waits_its_turn(
    slow: Console,
) -> None:
    for _ in range(THROTTLE_FAILURES - 1):
        assert (await slow.sign_in("alice", "wrong password"))[0] == 401
    assert Counter(s for s, _ in await asyncio.gather(slow.sign_in(), slow.sign_in())) == {200: 1, 429: 1}
    assert (await slow.sign_in())[0] == 200  # a success gives its place back
    assert (await slow.sign_in("alice", "wrong password"))[0] == 401
    assert (await slow.sign_in())[0] == 429


async def test_given_a_shift_start_when_60_agents_sign_in_at_once_from_one_address_then_all_do() -> None:
    staff = [user(f"agent{n}", Role.AGENT, f"a{n}") for n in range(60)]
    async with make_console(SlowUsers(*staff, check_s=0.01)) as office:
        signed = await asyncio.gather(*(office.sign_in(f"agent{n}", PASSWORD) for n in range(60)))
    assert Counter(status for status, _ in signed) == {200: 60}


async def test_given_guesses_at_many_accounts_from_one_address_then_the_address_is_stopped_at_the_limit() -> (
    None
):
    staff = [user(f"agent{n}", Role.AGENT, f"a{n}") for n in range(20)]
    async with make_console(SlowUsers(*staff, check_s=0.01)) as office:
        for n in range(THROTTLE_FAILURES):  # one wrong guess each at five accounts, one after another
            assert (await office.sign_in(f"agent{n}", "wrong password"))[0] == 401
        signed = await asyncio.gather(*(office.sign_in(f"agent{n}", "guess") for n in range(5, 20)))
    assert Counter(status for status, _ in signed) == {429: 15}  # the address, not the accounts, is spent
