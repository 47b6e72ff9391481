"""What an agent sees of a customer: the screen pop's card (who is calling, may they order on account)
and the customer 360 (everything an agent needs on one screen, read in one call and one snapshot)."""

from __future__ import annotations

from dataclasses import dataclass

from crm_core.domain.accounts import Account
from crm_core.domain.calls import LoggedCall
from crm_core.domain.cases import Case
from crm_core.domain.customers import Customer
from crm_core.domain.orders import Order
from crm_core.domain.phones import PhoneNumber

MAX_MATCHES = 1000  # the customers sharing one number a lookup returns at most


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomerCard:
    """What a screen pop shows about the caller: who it is and whether they may order on account."""

    id: int
    name: str
    company: str | None
    email: str | None
    tier: str = "standard"
    phones: tuple[PhoneNumber, ...] = ()
    language: str | None = None
    account: Account | None = None  # None: the business keeps no account for this customer


@dataclass(frozen=True, slots=True)
class CustomerOverview:
    customer: Customer  # with its phone numbers
    account: Account | None
    recent_calls: tuple[LoggedCall, ...]  # newest first
    open_cases: tuple[Case, ...]  # every status but closed, newest first
    recent_orders: tuple[Order, ...]  # newest order date first

    @property
    def card(self) -> CustomerCard:
        """What a screen pop shows of this customer."""
        c = self.customer
        return CustomerCard(
            id=c.id,
            name=c.name,
            company=c.company,
            email=c.email,
            tier=c.tier,
            phones=c.phones,
            language=c.language,
            account=self.account,
        )


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling, as the screen pop shows it: ``customer``, the 360 of the caller when the store can
    tell (the number's only customer, or the one an agent picked or attached), and ``matches``, every
    customer owning the number (most recently updated first) when several share it (an office's main
    line), so the agent can ask and pick; ``more_matches``: more share it than ``matches`` holds."""

    customer: CustomerOverview | None
    matches: tuple[CustomerCard, ...] = ()
    more_matches: bool = False

    @property
    def shared(self) -> bool:
        return len(self.matches) > 1
