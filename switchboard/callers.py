"""Who is calling: the customer record for each live call, looked up once, as early as possible.

The lookup starts when the call arrives, so it is done by the time the agent's phone rings (the pop)
and is reused when the call is logged.
"""

from __future__ import annotations

import asyncio

from crm_core.model import CustomerCard
from crm_core.ports import CustomerDirectory
from routing.ids import CallId


class CallerCache:
    def __init__(self, directory: CustomerDirectory) -> None:
        self._directory = directory
        self._lookups: dict[CallId, asyncio.Task[CustomerCard | None]] = {}

    def prefetch(self, call: CallId, number: str | None) -> None:
        task = self._lookups.get(call)
        # A lookup that failed (store down) is started again rather than its failure served forever.
        if task is None or (task.done() and (task.cancelled() or task.exception() is not None)):
            self._lookups[call] = asyncio.create_task(self._find(number))

    async def customer(self, call: CallId, number: str | None) -> CustomerCard | None:
        if call not in self._lookups:
            # Never prefetched (a callback's leg), or the call is over and forgotten: look up without
            # keeping it, or a late question (a pop, an identification) would leave an entry for good.
            return await self._find(number)
        self.prefetch(call, number)  # starts a failed lookup again
        return await asyncio.shield(self._lookups[call])

    def peek(self, call: CallId) -> tuple[bool, CustomerCard | None]:
        task = self._lookups.get(call)
        if task is None or not task.done() or task.cancelled() or task.exception() is not None:
            return False, None
        return True, task.result()

    def forget(self, call: CallId) -> None:
        task = self._lookups.pop(call, None)
        if task is not None and not task.done():
            task.cancel()

    async def _find(self, number: str | None) -> CustomerCard | None:
        if number is None or not number.startswith("+"):
            return None  # withheld or not a dialable number: nobody to find
        return await self._directory.find_by_number(number)
