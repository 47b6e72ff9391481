"""One strict parser per request body: JSON object in, the ``crm_core`` value the store takes out.

Types and field names are checked here; what the values may be (lengths, e-mail shape, phone numbers,
the case lifecycle) is the store's to check, so the rules live in one place.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, TypeVar

from agent_console.api.errors import invalid
from agent_console.api.fields import Fields
from crm_core.domain.accounts import AccountChanges, AccountStatus
from crm_core.domain.calls import WrapUp
from crm_core.domain.cases import CaseChanges, CaseStatus, NewCase, Priority
from crm_core.domain.customers import KEEP, CustomerChanges, CustomerDraft
from crm_core.domain.orders import NewOrder

PHONE_FIELDS = frozenset({"number", "kind"})
E = TypeVar("E", bound=StrEnum)


def customer_draft(body: Fields) -> CustomerDraft:
    draft = CustomerDraft(
        name=body.text("name"),
        phones=_phones(body) or (),
        company=body.optional_text("company"),
        email=body.optional_text("email"),
        language=body.optional_text("language"),
        tier=body.text("tier", "standard"),
        tags=body.text_list("tags"),
        notes=body.optional_text("notes"),
        external_id=body.optional_text("external_id"),
    )
    body.done()
    return draft


def customer_changes(body: Fields) -> CustomerChanges:
    phones = _phones(body)
    changes = CustomerChanges(
        name=body.required_change("name"),
        phones=KEEP if phones is None else phones,
        company=body.change("company"),
        email=body.change("email"),
        language=body.change("language"),
        tier=body.required_change("tier"),
        tags=body.text_list("tags") if "tags" in body else KEEP,
        notes=body.change("notes"),
        external_id=body.change("external_id"),
    )
    body.done()
    return changes


def _phones(body: Fields) -> list[tuple[str, str]] | None:
    """``[{"number": "(415) 555-0123", "kind": "mobile"}, ...]``; kind defaults to other."""
    if "phones" not in body:
        return None
    items: Any = body.required("phones")
    if not isinstance(items, list):
        raise invalid("phones", "must be a list of {number, kind} objects")
    pairs = []
    for item in items:
        if not isinstance(item, dict) or not set(item) <= PHONE_FIELDS or "number" not in item:
            raise invalid("phones", "each phone is an object with number and optional kind")
        number, kind = item["number"], item.get("kind", "other")
        if not isinstance(number, str) or not isinstance(kind, str):
            raise invalid("phones", "number and kind must be strings")
        pairs.append((number, kind))
    return pairs


def new_case(body: Fields) -> NewCase:
    case = NewCase(
        customer_id=body.integer("customer_id"),
        subject=body.text("subject"),
        description=body.text("description", ""),
        priority=_priority(body.text("priority", "normal")),
        owner=body.optional_text("owner"),
        due_at=body.instant("due_at"),
        calls=body.text_list("calls"),
    )
    body.done()
    return case


def case_changes(body: Fields) -> CaseChanges:
    status = body.required_change("status")
    priority = body.required_change("priority")
    changes = CaseChanges(
        subject=body.required_change("subject"),
        description=body.required_change("description"),
        status=KEEP if status is KEEP else _status(status),
        priority=KEEP if priority is KEEP else _priority(priority),
        owner=body.change("owner"),
        due_at=body.instant("due_at") if "due_at" in body else KEEP,
    )
    body.done()
    return changes


def comment(body: Fields) -> str:
    text = body.text("text")
    body.done()
    return text


def close(body: Fields) -> str | None:
    text = body.optional_text("comment")
    body.done()
    return text


def wrap_up(body: Fields) -> WrapUp:
    result = WrapUp(
        disposition=body.change("disposition"),
        agent_notes=body.change("agent_notes"),
        case_id=body.optional_int("case_id") if "case_id" in body else KEEP,
    )
    body.done()
    return result


def account_changes(body: Fields) -> AccountChanges:
    status = body.required_change("status")
    changes = AccountChanges(
        balance=body.money("balance") if "balance" in body else KEEP,
        currency=body.required_change("currency"),
        credit_limit=body.money("credit_limit") if "credit_limit" in body else KEEP,
        status=KEEP if status is KEEP else _account_status(status),
        last_payment_on=body.optional_day("last_payment_on") if "last_payment_on" in body else KEEP,
    )
    body.done()
    return changes


def new_order(body: Fields) -> NewOrder:
    order = NewOrder(
        ordered_on=body.day("ordered_on"),
        item=body.text("item"),
        quantity=body.integer("quantity"),
        amount=body.money("amount"),
        special_price=body.optional_money("special_price"),
    )
    body.done()
    return order


def _member(kind: type[E], field: str, value: str) -> E:
    try:
        return kind(value)
    except ValueError:
        *most, last = (member.value for member in kind)
        raise invalid(field, f"must be {', '.join(most)} or {last}") from None


def _account_status(value: str) -> AccountStatus:
    return _member(AccountStatus, "status", value)


def _status(value: str) -> CaseStatus:
    return _member(CaseStatus, "status", value)


def _priority(value: str) -> Priority:
    return _member(Priority, "priority", value)
