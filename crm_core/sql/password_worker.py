"""Argon2 work away from the routing process: in one worker process, one hash at a time, at a lower
CPU priority.

An argon2id check with argon2-cffi's defaults takes about 0.17 s of one core (and 64 MiB). In threads
(``asyncio.to_thread``), 60 sign-ins at a shift start kept both cores of the machine busy, and the event
loop that routes calls waited for a core: ring latency p99 went from 13 ms to 1.6 s. A single worker
process can take at most one core, and its lowered priority (``os.nice``) lets the scheduler run the
routing process first whenever both want the same core. Sign-ins queue instead, about five a second on
this machine: at a shift start the last of 200 waits tens of seconds, and no caller waits for any.

Unknown usernames take their turn in the same queue with the same work (``passwords.verify_nobody``), so
the time a refusal takes still does not tell whether the username exists.

The process starts on the first hash or check (so ``switchboard users list`` never starts one), is
started again if it dies, and ends with ``close`` (``SqlStore.close``, which ``Service.stop`` calls).
It is spawned, not forked: the parent has threads (aiosqlite's), which a fork would copy mid-flight.
A spawned process imports the parent's main module (as ``__mp_main__``), so a script that checks
passwords must keep its work under ``if __name__ == "__main__"``, as ``switchboard`` and the benches do;
without that guard the worker dies at its start and the check fails (``BrokenProcessPool``).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.process import BaseProcess
from typing import TypeVar

from crm_core.domain import passwords

T = TypeVar("T")
PARENT_CHECK_S = 0.5
NICE = 10  # a tenth of a core's weight against the routing process; 19 could starve sign-ins on a busy box


class PasswordWorker:
    """``separate_process=False`` hashes in threads, as before: only for bench/signin_burst.py's baseline."""

    def __init__(self, *, separate_process: bool = True, nice: int = NICE) -> None:
        self._separate_process = separate_process
        self._nice = nice
        self._pool: ProcessPoolExecutor | None = None

    async def hash(self, password: str) -> str:
        return await self._run(passwords.hash_password, password)

    async def verify(self, stored_hash: str, password: str) -> bool:
        return await self._run(passwords.verify, stored_hash, password)

    async def verify_nobody(self, password: str) -> bool:
        return await self._run(passwords.verify_nobody, password)

    async def whereabouts(self) -> tuple[int, int]:
        """The process id and niceness that the work runs with (for tests)."""
        return await self._run(_whereabouts)

    async def close(self) -> None:
        """End the worker at once. It holds nothing to keep, and a worker left to end by itself spends
        0.4 s tearing down the modules it imported (the parent's main module among them): that was
        most of the time a SIGTERMed service took to exit."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        workers = list(pool._processes.values())  # the pool's own handles; it has no public way to end them
        pool.shutdown(wait=False, cancel_futures=True)
        for worker in workers:
            worker.terminate()
        await asyncio.to_thread(_joined, workers)

    async def _run(self, work: Callable[..., T], *args: str) -> T:
        if not self._separate_process:
            return await asyncio.to_thread(work, *args)
        loop = asyncio.get_running_loop()
        pool = self._started()
        try:
            return await loop.run_in_executor(pool, work, *args)
        except BrokenProcessPool:
            # The worker died (killed, out of memory): a new one does this work; a second death is news.
            if self._pool is pool:  # not yet replaced by another caller that saw the same death
                self._pool = None
                pool.shutdown(wait=False)
            return await loop.run_in_executor(self._started(), work, *args)

    def _started(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                initializer=_worker_started, initargs=(self._nice,),
            )  # fmt: skip
        return self._pool


def _worker_started(nice: int) -> None:
    """In the worker: lower its priority, and end it when its parent is gone. A parent that is SIGKILLed
    (a crash) closes nothing, and the pool's queue does not tell the worker: without this, each crash
    left a worker of 80 MiB behind for good."""
    os.nice(nice)
    passwords.nobody()  # made now, before the first check it would otherwise lengthen
    parent = os.getppid()
    threading.Thread(target=_end_with, args=(parent,), name="parent-watch", daemon=True).start()


def _end_with(parent: int) -> None:
    while os.getppid() == parent:  # an orphan is adopted by another process (init, a subreaper)
        time.sleep(PARENT_CHECK_S)
    os._exit(0)


def _joined(workers: Sequence[BaseProcess]) -> None:
    for worker in workers:
        worker.join()


def _whereabouts() -> tuple[int, int]:
    return os.getpid(), os.nice(0)
