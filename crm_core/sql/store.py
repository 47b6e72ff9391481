"""``SqlStore``: the customer store on SQLite or PostgreSQL (SQLAlchemy asyncio), one object per process.

It implements the skeleton's ports itself (``CustomerDirectory``, ``CallLog``, ``CallerHistory``) and
hands out one part per concept, each implementing its own port:

    store.customers   SqlCustomers    create / get / update / delete / anonymise / search / overview
    store.accounts    SqlAccounts     the account, orders
    store.cases       SqlCases        open / update / comment / close / link_call / history / list
    store.calls       SqlCalls        record / wrap_up / query / export_csv
    store.customer_csv SqlCustomerCsv import_csv / export_csv
    store.users       SqlUsers        add / get / list / set_password / disable / check (sign-in)
    store.agent_states SqlAgentStates change / close_all / between (agent state intervals)
    store.reports     SqlReports      call and agent figures for a range of days (crm_core.domain.figures)
    store.supervisor_actions SqlSupervisorActions  record / recent (the supervisors' audit trail)
    store.journal     SqlJournal      append / save_snapshot / kept / forget (the router's, for restarts)
    store.sessions    SqlSessions     add / get / touch / remove / expire (the consoles' sign-ins)
    store.oncall      SqlOnCall       people, schedules, rotations, overrides and their audit (answering)
    store.escalations SqlEscalationAttempts  each on-call person rung for an escalated call, and the result
    store.deliveries  SqlDeliveries   enqueue / claim / record / change: the taken messages' delivery queue

Every query is built with SQLAlchemy expressions, so values always travel as bound parameters. The
store never migrates: whoever opens it runs ``crm_core.sql.migrate`` first, once, at startup.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from crm_core.domain import ports
from crm_core.domain.calls import CallToLog, LoggedCall, Practice
from crm_core.domain.customers import Profile
from crm_core.domain.overview import MAX_MATCHES, CustomerCard, CustomerOverview
from crm_core.domain.pagination import Page
from crm_core.domain.phones import phone_numbers
from crm_core.sql import overview
from crm_core.sql.accounts import SqlAccounts
from crm_core.sql.agent_states import SqlAgentStates
from crm_core.sql.calls import SqlCalls
from crm_core.sql.cases import SqlCases
from crm_core.sql.customer_csv import SqlCustomerCsv
from crm_core.sql.customers import SqlCustomers, insert_customer
from crm_core.sql.database import Database, utc_now
from crm_core.sql.deliveries import SqlDeliveries
from crm_core.sql.engine import open_engine
from crm_core.sql.escalations import SqlEscalationAttempts
from crm_core.sql.journal import SqlJournal
from crm_core.sql.oncall import SqlOnCall
from crm_core.sql.password_worker import PasswordWorker
from crm_core.sql.reports import SqlReports
from crm_core.sql.sessions import SqlSessions
from crm_core.sql.supervisor_actions import SqlSupervisorActions
from crm_core.sql.users import SqlUsers
from routing.records import CallRecord


class SqlStore:
    """Implements ``CustomerDirectory``, ``CallLog``, ``CallerHistory``; its parts implement the rest.

    ``region`` (ISO 3166 alpha-2) is how numbers typed without a country code are read. ``clock`` stamps
    every ``created_at``/``updated_at`` and case event; tests pass their own. ``passwords`` hashes and
    checks the users' passwords (by default in a worker process of its own, started on first use).
    """

    def __init__(
        self,
        engine: AsyncEngine,
        region: str,
        *,
        clock: Callable[[], datetime] = utc_now,
        passwords: PasswordWorker | None = None,
    ) -> None:
        self._db = Database(engine, region, clock)
        self._claim = self._db.dialect.instance_claim(engine)
        self.passwords = PasswordWorker() if passwords is None else passwords
        self.customers = SqlCustomers(self._db)
        self.accounts = SqlAccounts(self._db)
        self.cases = SqlCases(self._db)
        self.calls = SqlCalls(self._db)
        self.customer_csv = SqlCustomerCsv(self._db)
        self.users = SqlUsers(self._db, self.passwords)
        self.agent_states = SqlAgentStates(self._db)
        self.reports = SqlReports(self._db, self.agent_states)
        self.supervisor_actions = SqlSupervisorActions(self._db)
        self.journal = SqlJournal(self._db)
        self.sessions = SqlSessions(self._db)
        self.oncall = SqlOnCall(self._db)
        self.deliveries = SqlDeliveries(self._db)
        self.escalations = SqlEscalationAttempts(self._db)

    @classmethod
    def open(cls, url: str, region: str) -> SqlStore:
        """A store on ``url``; the schema must already be migrated (``crm_core.sql.migrate.upgrade``)."""
        return cls(open_engine(url), region)

    async def claim(self) -> None:
        """Claim the store for this service alone; raises ``StoreInUse`` when another one holds it
        (``crm_core.sql.instance``). ``close`` gives it back."""
        await self._claim.claim()

    async def close(self) -> None:
        await self._claim.release()
        await self.passwords.close()
        await self._db.close()

    async def find_by_number(self, e164: str) -> CustomerCard | None:
        # Normalising again is idempotent on E.164 and forgives a caller id that arrived as dialled.
        found = await overview.find_all_by_number(self._db, e164, limit=1)
        return found[0] if found else None

    async def find_all_by_number(self, e164: str, limit: int = MAX_MATCHES) -> tuple[CustomerCard, ...]:
        """Every customer owning the number, most recently updated first; see
        ``overview.find_all_by_number``."""
        return await overview.find_all_by_number(self._db, e164, limit)

    async def number_owners(
        self, e164: str, limit: int = MAX_MATCHES, cursor: str | None = None
    ) -> Page[CustomerCard]:
        """A page of them; see ``overview.number_owners``."""
        return await overview.number_owners(self._db, e164, limit, cursor)

    async def overview(
        self, customer_id: int, *, calls: int = 10, cases: int = 20, orders: int = 10
    ) -> CustomerOverview:
        """The customer 360; see ``overview.overview``."""
        return await overview.overview(self._db, customer_id, calls=calls, cases=cases, orders=orders)

    async def add_customer(
        self,
        name: str,
        phones: Sequence[tuple[str, str]],
        company: str | None = None,
        email: str | None = None,
        tier: str = "standard",
    ) -> CustomerCard:
        """The skeleton's add: stores the text as given (only phones are checked); ``customers.create``
        validates and normalises every field."""
        numbers = phone_numbers(phones, self._db.region)
        profile = Profile(name=name, company=company, email=email, tier=tier, phones=numbers)
        now = self._db.clock()
        async with self._db.engine.begin() as connection:
            customer_id = await insert_customer(connection, profile, now)
        return CustomerCard(
            id=customer_id, name=name, company=company, email=email, tier=tier, phones=numbers
        )

    async def record(
        self, record: CallRecord, customer_id: int | None, practice: Practice | None = None
    ) -> None:
        await self.calls.record(record, customer_id, practice)

    async def record_many(self, calls: Sequence[CallToLog]) -> frozenset[str]:
        return await self.calls.record_many(calls)

    async def recent_calls(self, limit: int = 50, customer_id: int | None = None) -> list[LoggedCall]:
        return await self.calls.recent(limit, customer_id)

    async def get_call(self, call_id: str) -> LoggedCall | None:
        return await self.calls.get(call_id)

    async def logged(self, call_ids: Collection[str]) -> set[str]:
        return await self.calls.logged(call_ids)

    async def last_answered_call(self, e164: str | None, customer_id: int | None = None) -> LoggedCall | None:
        return await self.calls.last_answered(e164, customer_id)


def _implements_the_ports(store: SqlStore) -> tuple[object, ...]:
    """Never called: mypy checks here that the store and its parts satisfy the Protocols in ``ports``."""
    directory: ports.CustomerDirectory = store
    log: ports.CallLog = store
    callers: ports.CallerHistory = store
    view: ports.CustomerView = store
    customers: ports.Customers = store.customers
    accounts: ports.Accounts = store.accounts
    cases: ports.Cases = store.cases
    history: ports.CallHistory = store.calls
    transfer: ports.CustomerTransfer = store.customer_csv
    states: ports.AgentStateLog = store.agent_states
    sessions: ports.SessionStore = store.sessions
    return directory, log, callers, view, customers, accounts, cases, history, transfer, states, sessions
