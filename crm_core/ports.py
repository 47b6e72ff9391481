"""What the rest of Switchboard may ask of the customer store, as Protocols.

Callers (the screen pop, the call logger, later the CRM UI) depend on these, never on ``SqlStore``, so a
hand-written fake stands in for the database in their tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from crm_core.model import CustomerCard, LoggedCall
from routing.records import CallRecord


class CustomerDirectory(Protocol):
    async def find_by_number(self, e164: str) -> CustomerCard | None:
        """The most recently updated customer owning this number, or None (also for a non-number)."""
        ...

    async def add_customer(
        self,
        name: str,
        phones: Sequence[tuple[str, str]],
        company: str | None = None,
        email: str | None = None,
        tier: str = "standard",
    ) -> CustomerCard:
        """Store a new customer; ``phones`` are (number as typed, kind) pairs.

        Numbers are normalised to E.164 with the store's default region. Raises ``InvalidPhoneNumber``
        or ``InvalidPhoneKind`` before writing anything.
        """
        ...


class CallLog(Protocol):
    async def record(self, record: CallRecord, customer_id: int | None) -> None:
        """Keep ``record``; recording the same call id again replaces the row rather than adding one.

        Raises ``CustomerNotFound`` when ``customer_id`` names no customer.
        """
        ...

    async def recent_calls(self, limit: int = 50, customer_id: int | None = None) -> list[LoggedCall]:
        """Up to ``limit`` calls, newest arrival first, optionally only one customer's."""
        ...

    async def get_call(self, call_id: str) -> LoggedCall | None: ...
