"""Writes finished calls to the call log, in order, without ever dropping one (and escalation attempts
to theirs, likewise: ``AttemptRecorder``).

The calls waiting when the writer comes round are written together, in one transaction of at most
``BATCH``: one commit a call made this writer the first part of the service to fall behind under load
(bench/README.md, ``service_ceiling.py``), and a batch costs little more than one call. A failed write
(database restarting, locked SQLite file) is retried with backoff, the whole batch; the router is never
held up by the store. ``written(call)`` lets a wrap-up that arrives before its call's record wait for
exactly that record, without polling.

Rows are written behind the router's journal (``WriteAhead``): a batch waits until the journal holds the
events that ended its calls. The journal writes every ``FLUSH_S`` (20 ms) while this writer starts at
once, so a row was most often stored first: a process killed between the two left a call logged as a
callback the caller chose, while the restarted router, missing that choice, still had the caller waiting
in line (a CI run of ``test_restart_kill_control.py`` caught it: the caller was never hung up, and the
callback never placed). Now the call log never says more than the journal does.
"""

from __future__ import annotations

import asyncio
import functools
from collections import Counter, OrderedDict
from collections.abc import Sequence
from datetime import UTC, datetime

import structlog

from crm_core.domain.calls import CallToLog
from crm_core.domain.escalations import Attempt, EscalationAttempts
from crm_core.domain.ports import CallLog
from routing import commands as cmd
from routing.ids import CallId
from switchboard.callers import CallerCache
from switchboard.journal import WriteAhead
from switchboard.practice import Classify, real_calls
from switchboard.retry import until_done

log = structlog.get_logger("recorder")
REMEMBER = 1000  # written call ids kept, so a late wrap-up need not ask the store
BATCH = 200  # calls a transaction at most: a bounded statement, and waiters told in good time


class CallRecorder:
    def __init__(
        self,
        call_log: CallLog,
        callers: CallerCache,
        retry_s: float = 0.5,
        practice: Classify = real_calls,
        behind: WriteAhead | None = None,
    ) -> None:
        self._log = call_log
        self._callers = callers
        self._practice = practice  # demo and training calls are logged marked (switchboard/practice.py)
        self._retry_s = retry_s
        self._behind = behind  # None: no journal (bench/journal_cost.py), nothing to wait for
        self._queue: asyncio.Queue[tuple[cmd.LogCall, int]] = asyncio.Queue()
        self._pending: Counter[CallId] = Counter()  # handed over, not yet written
        self._written: OrderedDict[CallId, None] = OrderedDict()
        self._waiters: dict[CallId, list[asyncio.Future[None]]] = {}

    def notice(self, command: cmd.LogCall) -> None:
        """The bus hands it every finished call (switchboard/command_table.py)."""
        self._pending[command.record.call] += 1
        # Handed over as the router handles the event that ended the call: the journal has recorded it.
        self._queue.put_nowait((command, 0 if self._behind is None else self._behind.mark()))

    async def replayed(self, records: Sequence[cmd.LogCall]) -> int:
        """Calls a restart's replay saw end: written unless the call log has them already (it has all
        but those that ended in the last moments before a crash), so a start after a long run without
        a snapshot does not write hundreds of rows again while calls are arriving. How many it queued."""
        logged = await self._log.logged({c.record.call for c in records})
        missing = [c for c in records if c.record.call not in logged]
        for command in missing:
            self.notice(command)
        return len(missing)

    def seen(self, call: CallId) -> bool:
        """Whether this process was handed ``call``'s record (written or still queued)."""
        return call in self._pending or call in self._written

    async def written(self, call: CallId, timeout_s: float) -> bool:
        """True once ``call``'s record is stored; waits up to ``timeout_s`` for one queued or yet to come."""
        if call in self._written and call not in self._pending:
            return True
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(call, []).append(waiter)
        try:
            async with asyncio.timeout(timeout_s):
                await waiter
            return True
        except TimeoutError:
            return False
        finally:
            waiting = self._waiters.get(call, [])
            if waiter in waiting:
                waiting.remove(waiter)
            if not waiting:
                self._waiters.pop(call, None)

    async def run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            if self._behind is not None:
                await self._behind.kept_through(max(mark for _, mark in batch))
            await self._write([command for command, _ in batch])
            for _ in batch:
                self._queue.task_done()

    async def flush(self) -> None:
        """Wait until every call handed over so far is stored."""
        await self._queue.join()

    async def _write(self, batch: list[cmd.LogCall]) -> None:
        async def attempt() -> frozenset[str]:
            calls = []
            for command in batch:
                record = command.record
                calls.append(CallToLog(record, await self._customer(command), self._practice(record)))
            return await self._log.record_many(calls)

        first = batch[0].record.call
        unlinked = await until_done(
            attempt, self._retry_s, log, "call.log-failed", call=first, calls=len(batch)
        )
        for record in (command.record for command in batch):
            self._callers.forget(record.call)
            self._stored(record.call)
            if record.call in unlinked:
                log.warning("call.customer-gone", call=record.call)  # deleted since the pop: logged without
            log.info("call.logged", call=record.call, outcome=str(record.outcome), agent=record.agent)

    async def _customer(self, command: cmd.LogCall) -> int | None:
        """The customer an agent named for the call, as the router kept it (it survives a restart and a
        failover), else the one this process's lookup found (the number's only owner)."""
        if command.customer is not None:
            return int(command.customer)
        found = await self._callers.customer(command.record.call, command.record.caller_number)
        return None if found is None else found.id

    def _stored(self, call: CallId) -> None:
        self._pending[call] -= 1
        if self._pending[call] <= 0:
            del self._pending[call]
        self._written[call] = None
        self._written.move_to_end(call)
        while len(self._written) > REMEMBER:
            self._written.popitem(last=False)
        for waiter in self._waiters.pop(call, []):
            if not waiter.done():
                waiter.set_result(None)


class AttemptRecorder:
    """Writes escalation attempts (the router's ``EscalationAttempt``) to the store, in order, retrying a
    failed write as ``CallRecorder`` does; the router is never held up by it."""

    def __init__(self, attempts: EscalationAttempts, retry_s: float = 0.5) -> None:
        self._attempts = attempts
        self._retry_s = retry_s
        self._queue: asyncio.Queue[Attempt] = asyncio.Queue()

    def notice(self, command: cmd.EscalationAttempt) -> None:
        self._queue.put_nowait(attempt_of(command))

    async def run(self) -> None:
        while True:
            attempt = await self._queue.get()
            await until_done(functools.partial(self._attempts.record, attempt), self._retry_s, log,
                             "escalation.attempt-log-failed", call=attempt.call)  # fmt: skip
            log.info("escalation.attempt", call=attempt.call, person=attempt.person, result=attempt.result)
            self._queue.task_done()

    async def flush(self) -> None:
        await self._queue.join()


def attempt_of(command: cmd.EscalationAttempt) -> Attempt:
    return Attempt(
        call=command.call,
        person=command.person,
        number=command.number,
        round=command.round,
        step=command.step,
        started_at=datetime.fromtimestamp(command.started_at, UTC),
        ended_at=datetime.fromtimestamp(command.ended_at, UTC),
        result=command.result,
    )
