"""A customer's account with the business: what an agent needs to see when the customer calls to order.

Money is ``Decimal`` with two places, stored as ``Numeric(14, 2)``, never a float.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from crm_core import validation
from crm_core.errors import ValidationFailed


class AccountStatus(enum.StrEnum):
    OK = "ok"
    OVERDUE = "overdue"
    ON_HOLD = "on-hold"  # credit hold: take no new order on account


@dataclass(frozen=True, slots=True)
class Account:
    balance: Decimal  # what the customer owes (positive) or has in credit (negative)
    currency: str  # ISO 4217, upper case
    credit_limit: Decimal = Decimal("0.00")
    status: AccountStatus = AccountStatus.OK
    last_payment_on: date | None = None

    @property
    def on_credit_hold(self) -> bool:
        return self.status is AccountStatus.ON_HOLD


def checked_account(account: Account) -> Account:
    """``account`` with its fields validated and normalised (money to two places, currency upper case)."""
    try:
        status = AccountStatus(account.status)
    except ValueError:
        raise ValidationFailed("account_status", "must be ok, overdue or on-hold") from None
    if account.last_payment_on is not None and not isinstance(account.last_payment_on, date):
        raise ValidationFailed("last_payment_date", "must be a date")
    credit_limit = validation.money("credit_limit", account.credit_limit)
    if credit_limit < 0:
        raise ValidationFailed("credit_limit", "must not be negative")
    return Account(
        balance=validation.money("balance", account.balance),
        currency=validation.currency(account.currency),
        credit_limit=credit_limit,
        status=status,
        last_payment_on=account.last_payment_on,
    )
