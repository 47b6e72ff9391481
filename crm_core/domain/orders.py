"""Orders and purchases: the history sales wants to see when a customer calls."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from crm_core.domain import validation
from crm_core.domain.errors import ValidationFailed


@dataclass(frozen=True, slots=True)
class NewOrder:
    ordered_on: date
    item: str
    quantity: int
    amount: Decimal  # the total charged, in the customer's account currency
    special_price: Decimal | None = None  # the agreed unit price, when it differs from the list price


@dataclass(frozen=True, slots=True, kw_only=True)
class Order:
    id: int
    customer_id: int
    ordered_on: date
    item: str
    quantity: int
    amount: Decimal
    special_price: Decimal | None
    created_at: datetime


def checked_order(order: NewOrder) -> NewOrder:
    if not isinstance(order.ordered_on, date) or isinstance(order.ordered_on, datetime):
        raise ValidationFailed("ordered_on", "must be a date")
    if isinstance(order.quantity, bool) or not isinstance(order.quantity, int) or order.quantity < 1:
        raise ValidationFailed("quantity", "must be a whole number of at least 1")
    if order.quantity > 2**31 - 1:
        raise ValidationFailed("quantity", "is too large")
    special = order.special_price
    if special is not None:
        special = validation.money("special_price", special)
        if special < 0:
            raise ValidationFailed("special_price", "must not be negative")
    return NewOrder(
        ordered_on=order.ordered_on,
        item=validation.text("item", order.item),
        quantity=order.quantity,
        amount=validation.money("amount", order.amount),
        special_price=special,
    )
