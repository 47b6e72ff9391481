"""Writes finished calls to the call log, in order, without ever dropping one.

A failed write (database restarting, locked SQLite file) is retried with backoff; the router is never
held up by the store.
"""

from __future__ import annotations

import asyncio

import structlog

from crm_core.ports import CallLog
from routing import commands as cmd
from routing.records import CallRecord
from switchboard.callers import CallerCache

log = structlog.get_logger("recorder")


class CallRecorder:
    def __init__(self, call_log: CallLog, callers: CallerCache, retry_s: float = 0.5) -> None:
        self._log = call_log
        self._callers = callers
        self._retry_s = retry_s
        self._queue: asyncio.Queue[CallRecord] = asyncio.Queue()

    def notice(self, command: cmd.Command) -> None:
        if isinstance(command, cmd.LogCall):
            self._queue.put_nowait(command.record)

    async def run(self) -> None:
        while True:
            record = await self._queue.get()
            await self._write(record)
            self._queue.task_done()

    async def flush(self) -> None:
        """Wait until every call handed over so far is stored."""
        await self._queue.join()

    async def _write(self, record: CallRecord) -> None:
        delay = self._retry_s
        while True:
            try:
                customer = await self._callers.customer(record.call, record.caller_number)
                await self._log.record(record, None if customer is None else customer.id)
                break
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("call.log-failed", call=record.call, retry_in_s=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
        self._callers.forget(record.call)
        log.info("call.logged", call=record.call, outcome=str(record.outcome), agent=record.agent)
