"""What the rest of Switchboard may ask of the customer store, as Protocols.

Callers (the screen pop, the call logger, the HTTP API and the command line) depend on these, never on
``SqlStore``, so a hand-written fake stands in for the database in their tests. ``SqlStore`` implements
``CustomerDirectory``, ``CallLog`` and ``CallerHistory``; its parts implement the rest
(``store.customers`` is ``Customers``, ``store.accounts`` is ``Accounts``, ``store.cases`` is ``Cases``,
``store.calls`` is ``CallHistory``, ``store.customer_csv`` is ``CustomerTransfer``,
``store.agent_states`` is ``AgentStateLog``, ``store.sessions`` is ``SessionStore``). Every method raises
only the ``CrmError`` subclasses its docstring in ``crm_core.sql`` names, and never writes part of a
request.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Collection, Iterable, Sequence
from datetime import datetime
from typing import Protocol

from crm_core.domain.accounts import Account, AccountChanges
from crm_core.domain.agent_states import AgentInterval, StateChange
from crm_core.domain.calls import CallFilter, CallToLog, LoggedCall, Practice, WrapUp
from crm_core.domain.cases import Case, CaseChanges, CaseEvent, CaseStatus, NewCase
from crm_core.domain.customers import (
    Customer,
    CustomerChanges,
    CustomerDraft,
    ImportSummary,
    RejectedLine,
    RowOutcome,
)
from crm_core.domain.import_mapping import ImportMapping
from crm_core.domain.orders import NewOrder, Order
from crm_core.domain.overview import MAX_MATCHES, CustomerCard, CustomerOverview
from crm_core.domain.pagination import Page
from crm_core.domain.sessions import StoredSession
from routing.records import CallRecord


class CustomerDirectory(Protocol):
    async def find_by_number(self, e164: str) -> CustomerCard | None:
        """The most recently updated customer owning this number, or None (also for a non-number)."""
        ...

    async def find_all_by_number(self, e164: str, limit: int = MAX_MATCHES) -> tuple[CustomerCard, ...]:
        """Every customer owning this number (several share an office's main line), most recently
        updated first, at most ``limit``; none for a non-number. Raises ``ValidationFailed`` for a
        ``limit`` outside 1..``MAX_MATCHES``."""
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
    async def record(
        self, record: CallRecord, customer_id: int | None, practice: Practice | None = None
    ) -> None:
        """Keep ``record``; recording the same call id again replaces the row rather than adding one
        (its practice mark kept unless ``practice`` gives one).

        Raises ``CustomerNotFound`` when ``customer_id`` names no customer.
        """
        ...

    async def record_many(self, calls: Sequence[CallToLog]) -> frozenset[str]:
        """Keep every call of ``calls`` in one transaction, as ``record`` would one at a time, except that
        a call whose customer no longer exists (deleted since the caller was matched) is kept without one:
        a finished call is never refused. The ids of the calls kept so, without their customer."""
        ...

    async def recent_calls(self, limit: int = 50, customer_id: int | None = None) -> list[LoggedCall]:
        """Up to ``limit`` calls, newest arrival first, optionally only one customer's."""
        ...

    async def get_call(self, call_id: str) -> LoggedCall | None: ...

    async def logged(self, call_ids: Collection[str]) -> set[str]:
        """Which of ``call_ids`` have a row."""
        ...


class CallerHistory(Protocol):
    async def last_answered_call(self, e164: str | None, customer_id: int | None = None) -> LoggedCall | None:
        """The latest answered call (by end time) from this number or this customer, or None."""
        ...


class Customers(Protocol):
    async def create(self, draft: CustomerDraft, account: Account | None = None) -> Customer: ...
    async def get(self, customer_id: int) -> Customer: ...
    async def update(self, customer_id: int, changes: CustomerChanges) -> Customer: ...
    async def delete(self, customer_id: int) -> None: ...
    async def anonymise(self, customer_id: int) -> Customer: ...

    async def search(
        self, text: str = "", *, limit: int = 50, cursor: str | None = None, include_anonymised: bool = False
    ) -> Page[Customer]: ...


class CustomerView(Protocol):
    async def overview(
        self, customer_id: int, *, calls: int = 10, cases: int = 20, orders: int = 10
    ) -> CustomerOverview: ...


class Accounts(Protocol):
    async def get(self, customer_id: int) -> Account | None: ...
    async def set(self, customer_id: int, value: Account) -> Account: ...
    async def update(self, customer_id: int, changes: AccountChanges) -> Account: ...
    async def remove(self, customer_id: int) -> None: ...
    async def add_order(self, customer_id: int, new: NewOrder) -> Order: ...

    async def orders(
        self, customer_id: int, *, limit: int = 50, cursor: str | None = None
    ) -> Page[Order]: ...


class Cases(Protocol):
    async def open(self, new: NewCase, author: str | None = None) -> Case: ...
    async def get(self, case_id: int) -> Case: ...
    async def update(self, case_id: int, changes: CaseChanges, author: str | None = None) -> Case: ...
    async def comment(self, case_id: int, text: str, author: str | None = None) -> CaseEvent: ...
    async def close(self, case_id: int, author: str | None = None, comment: str | None = None) -> Case: ...
    async def link_call(self, case_id: int, call_id: str, author: str | None = None) -> Case: ...
    async def history(self, case_id: int) -> list[CaseEvent]: ...

    async def list(
        self,
        *,
        customer_id: int | None = None,
        status: CaseStatus | None = None,
        owner: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[Case]: ...


class CallHistory(Protocol):
    async def get(self, call_id: str) -> LoggedCall | None: ...

    async def wrap_up(self, call_id: str, wrap_up: WrapUp) -> LoggedCall: ...

    async def query(
        self, where: CallFilter = ..., *, limit: int = 50, cursor: str | None = None
    ) -> Page[LoggedCall]: ...

    def export_csv(self, where: CallFilter = ...) -> AsyncIterator[str]: ...


class CustomerTransfer(Protocol):
    async def import_csv(
        self,
        lines: Iterable[str],
        *,
        on_rejected: Callable[[RejectedLine], object] | None = None,
        on_row: Callable[[int, RowOutcome], object] | None = None,
        mapping: ImportMapping = ...,
        dry_run: bool = False,
        batch_size: int = 1_000,
        chunk_size: int = 1_000,
        worker_process: bool = True,
    ) -> ImportSummary: ...

    def export_csv(self, *, chunk: int = 1_000) -> AsyncIterator[str]: ...


class AgentStateLog(Protocol):
    async def change(
        self, agent: str, state: str, reason: str | None, at: datetime, ring_ended: str | None = None
    ) -> None: ...

    async def change_many(self, changes: Sequence[StateChange]) -> None: ...

    async def close_all(self, at: datetime) -> int: ...

    async def between(
        self, since: datetime, until: datetime, agents: Sequence[str] | None = None
    ) -> list[AgentInterval]: ...


class SessionStore(Protocol):
    """The console's sessions (``domain.sessions``), looked up by key, the hash of the session id."""

    async def add(self, session: StoredSession) -> None: ...

    async def get(self, key: str) -> StoredSession | None: ...

    async def touch(self, key: str, last_used: float) -> None:
        """Note a later use; a key no longer kept is left alone."""
        ...

    async def remove(self, key: str) -> None: ...

    async def kept(self, keys: Collection[str]) -> set[str]:
        """Which of ``keys`` are still kept (another process may have ended some)."""
        ...

    async def expire(self, *, used_before: float, started_before: float) -> int:
        """Drop the sessions last used before ``used_before`` or started before ``started_before``;
        how many went."""
        ...
