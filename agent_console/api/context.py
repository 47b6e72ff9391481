"""What the API is handed by the bootstrap: the store (as ports), the tokens and the number region."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from aiohttp import web

from crm_core import ports
from crm_core.model import CustomerCard
from crm_core.overview import CustomerOverview

DEFAULT_IMPORT_BYTES = 50 * 1024 * 1024


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

    async def find_by_number(self, e164: str) -> CustomerCard | None: ...

    async def overview(
        self, customer_id: int, *, calls: int = 10, cases: int = 20, orders: int = 10
    ) -> CustomerOverview: ...


@dataclass(frozen=True)
class ApiConfig:
    store: ApiStore
    tokens: Sequence[str]
    region: str  # how numbers without a country code are read (the by-number lookup)
    max_import_bytes: int = DEFAULT_IMPORT_BYTES


CONFIG = web.AppKey("api_config", ApiConfig)


def config(request: web.Request) -> ApiConfig:
    return request.app[CONFIG]


def store(request: web.Request) -> ApiStore:
    return request.app[CONFIG].store
