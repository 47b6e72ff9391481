"""Translation between table rows (``orm``) and domain values, kept apart from the queries.

Queries select the column tuples named here, so what a function reads and what the query fetched cannot
drift apart. Where a table's columns are a dataclass's fields, both the columns and the mapping follow
from the fields (``built``, ``field_values``), and only what differs (an enum's value, a column named
otherwise) is written out.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import fields
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Row

from crm_core.csv.customers import (
    CUSTOMER_FIELDS,
    CustomerValues,
    PackedRow,
    account_text,
    pack,
)
from crm_core.domain.accounts import Account, AccountStatus
from crm_core.domain.calls import LoggedCall, Practice, WrapUp
from crm_core.domain.cases import Case, CaseEvent, CaseEventKind, CaseStatus, FieldChange, Priority
from crm_core.domain.customers import Customer, Profile, search_text
from crm_core.domain.orders import Order
from crm_core.domain.overview import CustomerCard
from crm_core.domain.phones import PhoneKind, PhoneNumber
from crm_core.sql.orm import AccountRow, CallRow, CaseEventRow, CaseRow, CustomerRow, OrderRow, PhoneNumberRow
from routing.ids import CallId
from routing.records import CallRecord, EndReason, Outcome, Party

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

D = TypeVar("D", bound="DataclassInstance")


@functools.cache
def field_names(kind: type[DataclassInstance]) -> tuple[str, ...]:
    return tuple(field.name for field in fields(kind))


def built(kind: type[D], row: Any, /, **given: object) -> D:
    """A ``kind`` from the columns of ``row`` named as its fields; ``given`` has the others, or converts."""
    return kind(**{name: getattr(row, name) for name in field_names(kind) if name not in given}, **given)


def field_values(value: DataclassInstance) -> dict[str, object]:
    """Field name -> value, one level deep (``dataclasses.asdict`` would copy nested values too)."""
    return {name: getattr(value, name) for name in field_names(type(value))}


# A customer's own columns (its phones live in their own table), and its account's, in their fields' order.
CUSTOMER_COLUMNS = tuple(getattr(CustomerRow, name) for name in field_names(Customer) if name != "phones")
ACCOUNT_COLUMNS = tuple(getattr(AccountRow, name) for name in field_names(Account))
PHONE_COLUMNS = (PhoneNumberRow.customer_id, PhoneNumberRow.e164, PhoneNumberRow.kind)
ORDER_COLUMNS = tuple(OrderRow.__table__.c)
CASE_COLUMNS = tuple(CaseRow.__table__.c)
EVENT_COLUMNS = tuple(CaseEventRow.__table__.c)
CALL_COLUMNS = tuple(CallRow.__table__.c)


def customer(row: Row[Any], phones: tuple[PhoneNumber, ...]) -> Customer:
    return built(Customer, row, phones=phones, tags=tuple(row.tags))


def profile_columns(profile: Profile) -> dict[str, object]:
    """Column name -> value for the ``customers`` table (phones live in their own table); the same values
    a CSV import writes."""
    row = pack(0, profile, None)
    return {"external_id": row.external_id, **dict(zip(CUSTOMER_FIELDS, row.customer, strict=True))}


# A stored customer's columns as ``packed`` reads them.
PACKED_COLUMNS = (
    CustomerRow.id, CustomerRow.name, CustomerRow.company, CustomerRow.email, CustomerRow.language,
    CustomerRow.tier, CustomerRow.tags, CustomerRow.notes, CustomerRow.external_id, *ACCOUNT_COLUMNS,
)  # fmt: skip


def packed(row: Row[Any], phones: tuple[tuple[str, str], ...]) -> PackedRow:
    """The ``PACKED_COLUMNS`` of a stored customer (account outer-joined) and its (E.164, kind) numbers,
    as ``customer_csv.pack`` packs its profile and account: what an import row is compared with."""
    (_, name, company, email, language, tier, tags, notes, external_id, *money) = row
    values: CustomerValues = (name, company, email, language, tier, tags, notes,
                              search_text(name, company, email))  # fmt: skip
    balance, currency, limit, status, paid = money
    account = None if currency is None else account_text(balance, currency, limit, status, paid)
    return PackedRow(0, external_id, values, phones, account)


def phone(row: Row[Any]) -> PhoneNumber:
    return PhoneNumber(e164=row.e164, kind=PhoneKind(row.kind))


def account(row: Row[Any]) -> Account | None:
    """``None`` when the row came from an outer join that found no account."""
    if row.currency is None:
        return None
    return built(Account, row, status=AccountStatus(row.status))


def account_columns(value: Account) -> dict[str, object]:
    return field_values(value) | {"status": value.status.value}


def plain_card(rows: Sequence[Sequence[Any]]) -> CustomerCard:
    """The card from the lookup's rows (id, name, company, email, tier, language, the account columns,
    e164, kind; one per phone number), with values as SQLAlchemy returns them on either backend."""
    first = rows[0]
    (customer_id, name, company, email, tier, language, balance, currency, limit, status, paid) = first[:11]
    return CustomerCard(
        id=customer_id,
        name=name,
        company=company,
        email=email,
        tier=tier,
        phones=tuple(PhoneNumber(row[11], PhoneKind(row[12])) for row in rows if row[11] is not None),
        language=language,
        account=None
        if currency is None
        else Account(
            balance=balance,
            currency=currency,
            credit_limit=limit,
            status=AccountStatus(status),
            last_payment_on=paid,
        ),
    )


def order(row: Row[Any]) -> Order:
    return built(Order, row)


def case(row: Row[Any], calls: tuple[CallId, ...]) -> Case:
    return built(Case, row, status=CaseStatus(row.status), priority=Priority(row.priority), calls=calls)


def case_event(row: Row[Any]) -> CaseEvent:
    changes = () if row.changes is None else tuple(FieldChange(*item) for item in json.loads(row.changes))
    return built(CaseEvent, row, kind=CaseEventKind(row.kind), changes=changes)


def changes_json(changes: tuple[FieldChange, ...]) -> str | None:
    if not changes:
        return None
    return json.dumps([[c.field, c.old, c.new] for c in changes], ensure_ascii=False)


# The ``calls`` table named four of its columns before ``CallRecord`` named its fields.
_CALL_COLUMN = {"call": "call_id", "line": "line_id", "queue": "queue_id", "agent": "agent_id"}
# A record's ``training`` mark is kept as the ``practice`` column's ``training`` (``SqlCalls.record`` is given
# it by the recorder's ``Classify``): a call read back has it in ``LoggedCall.practice``, not in its record.
_RECORD_COLUMNS = tuple(
    (name, _CALL_COLUMN.get(name, name)) for name in field_names(CallRecord) if name != "training"
)
_INSTANTS = ("arrived_at", "answered_at", "ended_at")  # Unix seconds in the record, datetimes in the table
_ENUMS = {"outcome": Outcome, "hung_up_by": Party}
_MAYBE_ENUMS = {"end_reason": EndReason}  # None where the record has none
# Set by the agent's wrap-up, never by recording the call (which may happen again, after it); a practice
# mark is written only where given (``SqlCalls.record``), so recording a call again keeps it.
_NOT_RECORDED = frozenset({"record", "practice", *field_names(WrapUp)})


def call_columns(call: LoggedCall) -> dict[str, object]:
    """Column name -> value for the ``calls`` table, as the router reports a call.

    The wrap-up columns are left out on purpose: recording a call again must not erase them.
    """
    record = call.record
    columns = {column: getattr(record, name) for name, column in _RECORD_COLUMNS}
    columns |= {name: getattr(call, name) for name in _INSTANTS}
    columns |= {name: getattr(record, name).value for name in _ENUMS}
    columns |= {
        name: None if (value := getattr(record, name)) is None else value.value for name in _MAYBE_ENUMS
    }
    return columns | {
        name: getattr(call, name) for name in field_names(LoggedCall) if name not in _NOT_RECORDED
    }


def logged_call(row: Row[Any] | CallRow) -> LoggedCall:
    values = {name: getattr(row, column) for name, column in _RECORD_COLUMNS}
    values |= {name: None if values[name] is None else values[name].timestamp() for name in _INSTANTS}
    values |= {name: kind(values[name]) for name, kind in _ENUMS.items()}
    values |= {
        name: None if values[name] is None else kind(values[name]) for name, kind in _MAYBE_ENUMS.items()
    }
    values["after_hours"] = bool(values["after_hours"])
    practice = None if row.practice is None else Practice(row.practice)
    return built(LoggedCall, row, record=CallRecord(**values), practice=practice)
