"""The customer 360: everything an agent needs on one screen, read in one call and one snapshot."""

from __future__ import annotations

from dataclasses import dataclass

from crm_core.domain.accounts import Account
from crm_core.domain.cases import Case
from crm_core.domain.customers import Customer
from crm_core.domain.model import LoggedCall
from crm_core.domain.orders import Order


@dataclass(frozen=True, slots=True)
class CustomerOverview:
    customer: Customer  # with its phone numbers
    account: Account | None
    recent_calls: tuple[LoggedCall, ...]  # newest first
    open_cases: tuple[Case, ...]  # every status but closed, newest first
    recent_orders: tuple[Order, ...]  # newest order date first
