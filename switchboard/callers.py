"""Who is calling: the customer record for each live call, looked up once, as early as possible.

The lookup starts when the call arrives, so it is done by the time the agent's phone rings (the pop)
and is reused when the call is logged. Two answers are kept per call: the card (who it is: the call
log, the identifier) and, from it, the customer 360 the pop shows (``CustomerView.overview``).
"""

from __future__ import annotations

import asyncio
from typing import Any, TypeVar

from crm_core.domain.overview import CustomerCard, CustomerOverview
from crm_core.domain.ports import CustomerDirectory, CustomerView
from routing.ids import CallId

T = TypeVar("T")
CALLS, CASES, ORDERS = 5, 20, 5  # what the pop shows of the customer's history


class CallerCache:
    def __init__(self, directory: CustomerDirectory, view: CustomerView | None = None) -> None:
        self._directory = directory
        self._view = view
        self._lookups: dict[CallId, asyncio.Future[CustomerCard | None]] = {}
        self._profiles: dict[CallId, asyncio.Future[CustomerOverview | None]] = {}
        self._attached: dict[CallId, int] = {}  # call -> customer id an agent attached

    def prefetch(self, call: CallId, number: str | None) -> None:
        task = self._lookups.get(call)
        # A lookup that failed (store down) is started again rather than its failure served forever.
        if task is None or _failed(task):
            self._lookups[call] = asyncio.ensure_future(self._find(number))
        profile = self._profiles.get(call)
        if profile is None or _failed(profile):
            self._profiles[call] = asyncio.ensure_future(self._overview(self._lookups[call]))

    async def customer(self, call: CallId, number: str | None) -> CustomerCard | None:
        if call not in self._lookups:
            # Never prefetched (a callback's leg), or the call is over and forgotten: look up without
            # keeping it, or a late question (a pop, an identification) would leave an entry for good.
            return await self._find(number)
        self.prefetch(call, number)  # starts a failed lookup again
        kept, found = await _outcome(self._lookups[call])
        return found if kept else await self.customer(call, number)

    async def overview(self, call: CallId, number: str | None) -> CustomerOverview | None:
        """The customer 360 of the caller (None: unknown caller, or no view to read it from)."""
        if call not in self._profiles:
            card = asyncio.ensure_future(self._find(number))
            return await self._overview(card)
        self.prefetch(call, number)
        kept, found = await _outcome(self._profiles[call])
        return found if kept else await self.overview(call, number)

    def peek(self, call: CallId) -> tuple[bool, CustomerCard | None]:
        return _peek(self._lookups.get(call))

    def peek_overview(self, call: CallId) -> tuple[bool, CustomerOverview | None]:
        """(True, 360) when the lookup for ``call`` has finished, else (False, None); never waits."""
        return _peek(self._profiles.get(call))

    def attach(self, call: CallId, overview: CustomerOverview) -> None:
        """The agent says who the caller is (``attach-customer``): the pop and the call log use it.

        Only for a live call (one prefetched and not yet logged), so nothing is kept after it ends.
        """
        if call not in self._lookups:
            return
        self.forget(call)
        loop = asyncio.get_running_loop()
        card: asyncio.Future[CustomerCard | None] = loop.create_future()
        card.set_result(overview.card)
        profile: asyncio.Future[CustomerOverview | None] = loop.create_future()
        profile.set_result(overview)
        self._lookups[call], self._profiles[call] = card, profile
        self._attached[call] = overview.card.id

    def attached(self, call: CallId) -> int | None:
        """The customer an agent attached to the live ``call`` here, if one did."""
        return self._attached.get(call)

    def live(self, call: CallId) -> bool:
        return call in self._lookups

    def forget(self, call: CallId) -> None:
        self._attached.pop(call, None)
        for found in (self._lookups.pop(call, None), self._profiles.pop(call, None)):
            if found is not None and not found.done():
                found.cancel()

    async def _find(self, number: str | None) -> CustomerCard | None:
        if number is None or not number.startswith("+"):
            return None  # withheld or not a dialable number: nobody to find
        return await self._directory.find_by_number(number)

    async def _overview(self, card: asyncio.Future[CustomerCard | None]) -> CustomerOverview | None:
        found = await asyncio.shield(card)
        if found is None or self._view is None:
            return None
        return await self._view.overview(found.id, calls=CALLS, cases=CASES, orders=ORDERS)


async def _outcome(task: asyncio.Future[T]) -> tuple[bool, T | None]:
    """(True, ``task``'s result), or (False, None) when ``forget`` cancelled it while we waited (the call
    was logged meanwhile): the caller then asks again, uncached. Our own cancellation still propagates."""
    try:
        return True, await asyncio.shield(task)
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if task.cancelled() and (current is None or not current.cancelling()):
            return False, None
        raise


def _failed(task: asyncio.Future[Any]) -> bool:
    return task.done() and (task.cancelled() or task.exception() is not None)


def _peek(task: asyncio.Future[T | None] | None) -> tuple[bool, T | None]:
    if task is None or _failed(task) or not task.done():
        return False, None
    return True, task.result()
