"""Argon2 in its worker process (``crm_core.sql.password_worker``): away from this process, at a lower
priority, one process for all the work, started again when it dies, and gone after ``close``."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator

import pytest

from crm_core.domain import passwords
from crm_core.sql.engine import open_engine
from crm_core.sql.password_worker import NICE, PasswordWorker
from crm_core.sql.store import SqlStore

PASSWORD = "correct horse battery"


@pytest.fixture
async def worker() -> AsyncIterator[PasswordWorker]:
    made = PasswordWorker()
    yield made
    await made.close()


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


async def test_given_work_then_it_runs_in_another_process_at_a_lower_priority(worker: PasswordWorker) -> None:
    pid, niceness = await worker.whereabouts()
    assert pid != os.getpid()
    assert niceness == min(19, os.nice(0) + NICE)


async def test_given_a_hash_then_only_its_password_verifies_and_nobody_never_does(
    worker: PasswordWorker,
) -> None:
    hashed = await worker.hash(PASSWORD)
    assert hashed.startswith("$argon2id$") and passwords.verify(hashed, PASSWORD)  # a real argon2 hash
    assert await worker.verify(hashed, PASSWORD)
    assert not await worker.verify(hashed, "wrong password")
    assert not await worker.verify("not a hash", PASSWORD)
    assert not await worker.verify_nobody(PASSWORD)


async def test_given_checks_at_once_then_one_process_does_them_all(worker: PasswordWorker) -> None:
    hashed = await worker.hash(PASSWORD)
    results = await asyncio.gather(*(worker.verify(hashed, PASSWORD) for _ in range(4)), worker.whereabouts())
    assert results[:4] == [True] * 4
    assert results[4] == await worker.whereabouts()


async def test_given_the_worker_killed_then_the_next_check_gets_a_new_one(worker: PasswordWorker) -> None:
    first, _ = await worker.whereabouts()
    os.kill(first, signal.SIGKILL)
    hashed = passwords.hash_password(PASSWORD)
    assert await worker.verify(hashed, PASSWORD)
    second, _ = await worker.whereabouts()
    assert second != first


async def test_given_close_then_the_process_is_gone_and_a_later_check_starts_one_again(
    worker: PasswordWorker,
) -> None:
    first, _ = await worker.whereabouts()
    await worker.close()
    assert gone(first)
    second, _ = await worker.whereabouts()
    assert second != first and not gone(second)


async def test_given_the_thread_baseline_then_the_work_stays_in_this_process() -> None:
    threads = PasswordWorker(separate_process=False)
    assert (await threads.whereabouts())[0] == os.getpid()
    assert await threads.verify(await threads.hash(PASSWORD), PASSWORD)


class RecordingWorker(PasswordWorker):
    def __init__(self) -> None:
        super().__init__(separate_process=False)
        self.calls: list[str] = []

    async def verify(self, stored_hash: str, password: str) -> bool:
        self.calls.append("verify")
        return await super().verify(stored_hash, password)

    async def verify_nobody(self, password: str) -> bool:
        self.calls.append("verify_nobody")
        return await super().verify_nobody(password)


async def test_given_an_unknown_username_when_checked_then_it_costs_a_check_like_a_known_one(
    database_url: str,
) -> None:
    # Constant work: what a refusal takes does not tell whether the username exists.
    recording = RecordingWorker()
    store = SqlStore(open_engine(database_url), "US", passwords=recording)
    try:
        await store.users.add("sam", PASSWORD, "supervisor")
        assert await store.users.check("nobody", PASSWORD) is None
        assert await store.users.check("sam", "wrong password") is None
    finally:
        await store.close()
    assert recording.calls == ["verify_nobody", "verify"]


async def test_given_the_store_closed_then_its_password_worker_is_gone(database_url: str) -> None:
    store = SqlStore.open(database_url, "US")
    await store.users.add("sam", PASSWORD, "supervisor")
    assert await store.users.check("sam", PASSWORD) is not None
    pid, _ = await store.passwords.whereabouts()
    await store.close()
    assert gone(pid)


CRASHING_PARENT = """
import asyncio
from crm_core.sql.password_worker import PasswordWorker

async def main() -> None:
    worker = PasswordWorker()  # held: a pool collected as garbage ends its worker itself
    pid, _ = await worker.whereabouts()
    print(pid, flush=True)
    await asyncio.sleep(60)

if __name__ == "__main__":
    asyncio.run(main())
"""


async def test_given_its_parent_killed_then_the_worker_ends_too() -> None:
    parent = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CRASHING_PARENT, stdout=asyncio.subprocess.PIPE
    )
    assert parent.stdout is not None
    worker_pid = int(await asyncio.wait_for(parent.stdout.readline(), 30))
    assert not gone(worker_pid)
    parent.send_signal(signal.SIGKILL)  # a crash: nothing of the parent's runs
    await parent.wait()
    for _ in range(100):
        if gone(worker_pid) or _zombie(worker_pid):
            break
        await asyncio.sleep(0.05)
    assert gone(worker_pid) or _zombie(worker_pid)


def _zombie(pid: int) -> bool:
    """Ended, not yet reaped by the process that adopted it."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True
