"""Translation between table rows (``orm``) and domain values, kept apart from the queries.

Queries select the column tuples named here, so what a function reads and what the query fetched cannot
drift apart.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row

from crm_core.csv.customers import (
    CUSTOMER_FIELDS,
    CustomerValues,
    PackedRow,
    account_text,
    pack,
)
from crm_core.domain.accounts import Account, AccountStatus
from crm_core.domain.calls import LoggedCall
from crm_core.domain.cases import Case, CaseEvent, CaseEventKind, CaseStatus, FieldChange, Priority
from crm_core.domain.customers import Customer, Profile, search_text
from crm_core.domain.orders import Order
from crm_core.domain.overview import CustomerCard
from crm_core.domain.phones import PhoneKind, PhoneNumber
from crm_core.sql.orm import AccountRow, CallRow, CaseEventRow, CaseRow, CustomerRow, OrderRow, PhoneNumberRow
from routing.ids import AgentId, CallId, LineId, QueueId
from routing.records import Outcome, Party

CUSTOMER_COLUMNS = (
    CustomerRow.id,
    CustomerRow.name,
    CustomerRow.company,
    CustomerRow.email,
    CustomerRow.language,
    CustomerRow.tier,
    CustomerRow.tags,
    CustomerRow.notes,
    CustomerRow.external_id,
    CustomerRow.created_at,
    CustomerRow.updated_at,
    CustomerRow.anonymised_at,
)
ACCOUNT_COLUMNS = (
    AccountRow.balance,
    AccountRow.currency,
    AccountRow.credit_limit,
    AccountRow.status,
    AccountRow.last_payment_on,
)
PHONE_COLUMNS = (PhoneNumberRow.customer_id, PhoneNumberRow.e164, PhoneNumberRow.kind)
ORDER_COLUMNS = tuple(OrderRow.__table__.c)
CASE_COLUMNS = tuple(CaseRow.__table__.c)
EVENT_COLUMNS = tuple(CaseEventRow.__table__.c)
CALL_COLUMNS = tuple(CallRow.__table__.c)


def customer(row: Row[Any], phones: tuple[PhoneNumber, ...]) -> Customer:
    return Customer(
        id=row.id,
        name=row.name,
        company=row.company,
        email=row.email,
        language=row.language,
        tier=row.tier,
        tags=tuple(row.tags),
        notes=row.notes,
        external_id=row.external_id,
        phones=phones,
        created_at=row.created_at,
        updated_at=row.updated_at,
        anonymised_at=row.anonymised_at,
    )


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
    return Account(
        balance=row.balance,
        currency=row.currency,
        credit_limit=row.credit_limit,
        status=AccountStatus(row.status),
        last_payment_on=row.last_payment_on,
    )


def account_columns(value: Account) -> dict[str, object]:
    return {
        "balance": value.balance,
        "currency": value.currency,
        "credit_limit": value.credit_limit,
        "status": value.status.value,
        "last_payment_on": value.last_payment_on,
    }


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
    return Order(
        id=row.id,
        customer_id=row.customer_id,
        ordered_on=row.ordered_on,
        item=row.item,
        quantity=row.quantity,
        amount=row.amount,
        special_price=row.special_price,
        created_at=row.created_at,
    )


def case(row: Row[Any], calls: tuple[CallId, ...]) -> Case:
    return Case(
        id=row.id,
        customer_id=row.customer_id,
        subject=row.subject,
        description=row.description,
        status=CaseStatus(row.status),
        priority=Priority(row.priority),
        owner=row.owner,
        due_at=row.due_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
        closed_at=row.closed_at,
        calls=calls,
    )


def case_event(row: Row[Any]) -> CaseEvent:
    changes = () if row.changes is None else tuple(FieldChange(*item) for item in json.loads(row.changes))
    return CaseEvent(
        id=row.id,
        case_id=row.case_id,
        at=row.at,
        author=row.author,
        kind=CaseEventKind(row.kind),
        changes=changes,
        comment=row.comment,
    )


def changes_json(changes: tuple[FieldChange, ...]) -> str | None:
    if not changes:
        return None
    return json.dumps([[c.field, c.old, c.new] for c in changes], ensure_ascii=False)


def call_columns(call: LoggedCall) -> dict[str, object]:
    """Column name -> value for the ``calls`` table, as the router reports a call.

    The wrap-up columns are left out on purpose: recording a call again must not erase them.
    """
    return {
        "call_id": call.call,
        "did": call.did,
        "source": call.source,
        "line_id": call.line,
        "line_name": call.line_name,
        "queue_id": call.queue,
        "caller_number": call.caller_number,
        "caller_name": call.caller_name,
        "customer_id": call.customer_id,
        "agent_id": call.agent,
        "arrived_at": call.arrived_at,
        "answered_at": call.answered_at,
        "ended_at": call.ended_at,
        "wait_s": call.wait_s,
        "talk_s": call.talk_s,
        "outcome": call.outcome.value,
        "hung_up_by": call.hung_up_by.value,
        "offers": call.offers,
        "priority": call.priority,
        "after_hours": call.after_hours,
        "on_call": call.on_call,
        "recording": call.recording,
        "callback_of": call.callback_of,
        "part_of": call.part_of,
    }


def logged_call(row: Row[Any] | CallRow) -> LoggedCall:
    return LoggedCall(
        call=CallId(row.call_id),
        did=row.did,
        source=row.source,
        line=None if row.line_id is None else LineId(row.line_id),
        line_name=row.line_name,
        queue=None if row.queue_id is None else QueueId(row.queue_id),
        caller_number=row.caller_number,
        caller_name=row.caller_name,
        agent=None if row.agent_id is None else AgentId(row.agent_id),
        arrived_at=row.arrived_at,
        answered_at=row.answered_at,
        ended_at=row.ended_at,
        outcome=Outcome(row.outcome),
        hung_up_by=Party(row.hung_up_by),
        offers=row.offers,
        wait_s=row.wait_s,
        talk_s=row.talk_s,
        customer_id=row.customer_id,
        disposition=row.disposition,
        agent_notes=row.agent_notes,
        case_id=row.case_id,
        priority=row.priority,
        after_hours=bool(row.after_hours),
        on_call=row.on_call,
        recording=row.recording,
        callback_of=None if row.callback_of is None else CallId(row.callback_of),
        part_of=None if row.part_of is None else CallId(row.part_of),
    )
