"""A customer's account with the business: what an agent needs to see when the customer calls to order.

Money is ``Decimal`` with two places, stored as ``Numeric(14, 2)``, never a float.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from crm_core.domain import validation
from crm_core.domain.customers import KEEP, Keep
from crm_core.domain.errors import ValidationFailed


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


@dataclass(frozen=True, slots=True)
class AccountChanges:
    """A partial change of an account: ``KEEP`` leaves a field as it is; ``last_payment_on`` may be erased."""

    balance: Decimal | Keep = KEEP
    currency: str | Keep = KEEP
    credit_limit: Decimal | Keep = KEEP
    status: AccountStatus | Keep = KEEP
    last_payment_on: date | Keep | None = KEEP


def changed_account(current: Account | None, changes: AccountChanges) -> Account:
    """``current`` with ``changes`` applied and checked. A customer without an account gets one only when
    the changes say what it holds: a balance and a currency are never guessed.
    """
    if current is None:
        for field in ("balance", "currency"):
            if getattr(changes, field) is KEEP:
                raise ValidationFailed(field, "is required to open an account")
        current = Account(balance=Decimal(0), currency="XXX")
    wanted = {
        field: value
        for field in AccountChanges.__dataclass_fields__
        if (value := getattr(changes, field)) is not KEEP
    }
    return checked_account(replace(current, **wanted))
