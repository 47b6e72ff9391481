"""Who is calling: the customer records for each live call, looked up once, as early as possible.

The lookup starts when the call arrives, so it is done by the time the agent's phone rings (the pop)
and is reused when the call is logged. Two answers are kept per call: the cards of every customer
owning the caller's number (the call log, the identifier) and, from them, the ``Caller`` the pop shows:
the customer 360 when one customer owns the number (``CustomerView.overview``), else, when several share
it (an office's main line), their cards for the agent to pick from. The one an agent picks or attaches
replaces the lookup's answer for the call log and the pop.
"""

from __future__ import annotations

import asyncio
from typing import Any, TypeVar

from crm_core.domain.overview import Caller, CustomerCard, CustomerOverview
from crm_core.domain.ports import CustomerDirectory, CustomerView
from routing.ids import CallId

T = TypeVar("T")
CALLS, CASES, ORDERS = 5, 20, 5  # what the pop shows of the customer's history
MATCHES = 20  # customers sharing the caller's number the pop offers at most (the rest: search)

Cards = tuple[CustomerCard, ...]


class CallerCache:
    def __init__(self, directory: CustomerDirectory, view: CustomerView | None = None) -> None:
        self._directory = directory
        self._view = view
        self._lookups: dict[CallId, asyncio.Future[Cards]] = {}
        self._profiles: dict[CallId, asyncio.Future[Caller]] = {}
        self._attached: dict[CallId, CustomerCard] = {}  # call -> the customer an agent picked or attached

    def prefetch(self, call: CallId, number: str | None) -> None:
        task = self._lookups.get(call)
        # A lookup that failed (store down) is started again rather than its failure served forever.
        if task is None or _failed(task):
            self._lookups[call] = asyncio.ensure_future(self._find(number))
        profile = self._profiles.get(call)
        if profile is None or _failed(profile):
            self._profiles[call] = asyncio.ensure_future(self._caller(self._lookups[call]))

    async def matches(self, call: CallId, number: str | None) -> Cards:
        """Every customer owning the caller's number (up to one more than ``MATCHES``), most recently
        updated first."""
        if call not in self._lookups:
            # Never prefetched (a callback's leg), or the call is over and forgotten: look up without
            # keeping it, or a late question (a pop, an identification) would leave an entry for good.
            return await self._find(number)
        self.prefetch(call, number)  # starts a failed lookup again
        found = await _outcome(self._lookups[call])
        return found if found is not None else await self.matches(call, number)

    async def customer(self, call: CallId, number: str | None) -> CustomerCard | None:
        """The caller's customer: the one an agent picked or attached, else the number's only customer;
        None for an unknown caller, and for a number several share that nobody picked from."""
        attached = self._attached.get(call)
        if attached is not None:
            return attached
        found = await self.matches(call, number)
        return found[0] if len(found) == 1 else None

    async def caller(self, call: CallId, number: str | None) -> Caller:
        """What the pop shows of the caller (no 360 without a view to read it from)."""
        if call not in self._profiles:
            return await self._caller(asyncio.ensure_future(self._find(number)))
        self.prefetch(call, number)
        found = await _outcome(self._profiles[call])
        return found if found is not None else await self.caller(call, number)

    def peek(self, call: CallId) -> tuple[bool, Cards | None]:
        return _peek(self._lookups.get(call))

    def peek_caller(self, call: CallId) -> tuple[bool, Caller | None]:
        """(True, caller) when the lookup for ``call`` has finished, else (False, None); never waits."""
        return _peek(self._profiles.get(call))

    def attach(self, call: CallId, overview: CustomerOverview) -> None:
        """The agent says who the caller is (``attach-customer``, ``pick-customer``): the pop and the call
        log use it; the customers sharing the number stay on the pop, so the agent may pick again.

        Only for a live call (one prefetched and not yet logged), so nothing is kept after it ends.
        """
        if call not in self._lookups:
            return
        before: Caller | None = _peek(self._profiles.get(call))[1]
        shared = before if before is not None else Caller(None)
        self.forget(call)
        loop = asyncio.get_running_loop()
        cards: asyncio.Future[Cards] = loop.create_future()
        cards.set_result(shared.matches or (overview.card,))
        profile: asyncio.Future[Caller] = loop.create_future()
        profile.set_result(Caller(overview, shared.matches, shared.more_matches))
        self._lookups[call], self._profiles[call] = cards, profile
        self._attached[call] = overview.card

    async def named(self, call: CallId, number: str | None, customer_id: int) -> None:
        """After a restart: the customer an agent had named for the live ``call`` (the router kept it), as
        ``attach`` made it, with the customers sharing the number still on offer."""
        if self._view is None:
            return
        self.prefetch(call, number)
        await self.caller(call, number)  # the number's owners, for the pop's list
        overview = await self._view.overview(customer_id, calls=CALLS, cases=CASES, orders=ORDERS)
        self.attach(call, overview)

    def attached(self, call: CallId) -> int | None:
        """The customer an agent attached to the live ``call`` here, if one did."""
        card = self._attached.get(call)
        return None if card is None else card.id

    def live(self, call: CallId) -> bool:
        return call in self._lookups

    def forget(self, call: CallId) -> None:
        self._attached.pop(call, None)
        for found in (self._lookups.pop(call, None), self._profiles.pop(call, None)):
            if found is not None and not found.done():
                found.cancel()

    async def _find(self, number: str | None) -> Cards:
        if number is None or not number.startswith("+"):
            return ()  # withheld or not a dialable number: nobody to find
        return await self._directory.find_all_by_number(number, MATCHES + 1)

    async def _caller(self, lookup: asyncio.Future[Cards]) -> Caller:
        found = await asyncio.shield(lookup)
        shown, more = found[:MATCHES], len(found) > MATCHES
        if len(found) != 1 or self._view is None:
            return Caller(None, shown, more)
        customer = await self._view.overview(found[0].id, calls=CALLS, cases=CASES, orders=ORDERS)
        return Caller(customer, shown)


async def _outcome(task: asyncio.Future[T]) -> T | None:
    """``task``'s result, or None when ``forget`` cancelled it while we waited (the call was logged
    meanwhile): the caller then asks again, uncached. Our own cancellation still propagates."""
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if task.cancelled() and (current is None or not current.cancelling()):
            return None
        raise


def _failed(task: asyncio.Future[Any]) -> bool:
    return task.done() and (task.cancelled() or task.exception() is not None)


def _peek(task: asyncio.Future[T] | None) -> tuple[bool, T | None]:
    if task is None or _failed(task) or not task.done():
        return False, None
    return True, task.result()
