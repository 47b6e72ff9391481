"""What the API is handed by the bootstrap: the store (as ports), the tokens, the number region, and the
reports' service targets and time zone."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol
from zoneinfo import ZoneInfo

from aiohttp import web

from crm_core.domain import ports
from crm_core.domain.deliveries import DeliveryLog
from crm_core.domain.escalations import EscalationAttempts
from crm_core.domain.figures import ServiceTarget
from crm_core.domain.oncall_ports import OnCallBook
from crm_core.domain.overview import MAX_MATCHES, CustomerCard, CustomerOverview
from crm_core.domain.pagination import Page
from crm_core.domain.reports import AgentReport, CallReport, Grouping

DEFAULT_IMPORT_BYTES = 50 * 1024 * 1024
UTC = ZoneInfo("UTC")
DEFAULT_TARGET = ServiceTarget()


class ReportSource(Protocol):
    """``SqlStore.reports``: the figures for a range of days (crm_core/sql/reports.py)."""

    async def calls(
        self, first_day: date, last_day: date, zone: ZoneInfo, grouping: Grouping, target: ServiceTarget
    ) -> CallReport: ...

    async def agents(self, first_day: date, last_day: date, zone: ZoneInfo) -> AgentReport: ...


class ApiStore(Protocol):
    """The parts of ``SqlStore`` the API uses; tests may hand in anything shaped like it."""

    @property
    def customers(self) -> ports.Customers: ...
    @property
    def accounts(self) -> ports.Accounts: ...
    @property
    def cases(self) -> ports.Cases: ...
    @property
    def calls(self) -> ports.CallHistory: ...
    @property
    def customer_csv(self) -> ports.CustomerTransfer: ...
    @property
    def reports(self) -> ReportSource: ...
    @property
    def oncall(self) -> OnCallBook: ...
    @property
    def deliveries(self) -> DeliveryLog: ...
    @property
    def escalations(self) -> EscalationAttempts: ...

    async def find_all_by_number(self, e164: str, limit: int = MAX_MATCHES) -> tuple[CustomerCard, ...]: ...
    async def number_owners(
        self, e164: str, limit: int = MAX_MATCHES, cursor: str | None = None
    ) -> Page[CustomerCard]: ...

    async def overview(
        self, customer_id: int, *, calls: int = 10, cases: int = 20, orders: int = 10
    ) -> CustomerOverview: ...


@dataclass(frozen=True)
class Reporting:
    """How the reports count: each queue's service target (``[queues.<id>.service_level]``), the default
    one (reports not grouped by queue, totals, queues without a target), and the center's time zone."""

    zone: ZoneInfo = UTC
    default_target: ServiceTarget = DEFAULT_TARGET
    targets: Mapping[str, ServiceTarget] = field(default_factory=dict)

    def target_of(self, queue: str) -> ServiceTarget:
        return self.targets.get(queue, self.default_target)


@dataclass(frozen=True)
class ApiConfig:
    store: ApiStore
    tokens: Sequence[str]
    region: str  # how numbers without a country code are read (the by-number lookup)
    max_import_bytes: int = DEFAULT_IMPORT_BYTES
    reporting: Reporting = Reporting()


CONFIG = web.AppKey("api_config", ApiConfig)


def config(request: web.Request) -> ApiConfig:
    return request.app[CONFIG]


def store(request: web.Request) -> ApiStore:
    return request.app[CONFIG].store
