"""The two reads an agent waits for: the screen pop's caller-number lookup and the customer 360.

Both are prebuilt statements with bound parameters (compiled once, cached by SQLAlchemy) run on one
connection, synchronously (``Database.read``, ``read_here``): the awaits of an async driver cost more than
the queries. The lookup is one indexed query: the customers owning the number are chosen in a subquery on
``phone_numbers.e164`` (several share an office's main line) and returned with their accounts and every
one of their numbers, one row per number, most recently updated customer first; on a SQLite file it runs
in place, on the caller's thread. The 360 is five queries in one trip.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, Select, and_, bindparam, or_, select
from sqlalchemy.orm import aliased

from crm_core.domain import validation
from crm_core.domain.cases import CaseStatus
from crm_core.domain.errors import CustomerNotFound, InvalidCursor
from crm_core.domain.overview import MAX_MATCHES, CustomerCard, CustomerOverview
from crm_core.domain.pagination import Page, decode_cursor, page
from crm_core.domain.phones import normalise
from crm_core.sql.cases import cases_calls_query, linked_calls
from crm_core.sql.database import Database
from crm_core.sql.orm import AccountRow, CallRow, CaseRow, CustomerRow, OrderRow, PhoneNumberRow
from crm_core.sql.rows import (
    ACCOUNT_COLUMNS,
    CALL_COLUMNS,
    CASE_COLUMNS,
    CUSTOMER_COLUMNS,
    ORDER_COLUMNS,
    account,
    case,
    customer,
    logged_call,
    order,
    phone,
    plain_card,
)

MAX_OVERVIEW_ROWS = 100

_matched = aliased(PhoneNumberRow)
_NEWEST_FIRST = (CustomerRow.updated_at.desc(), CustomerRow.id.desc())
NUMBER_OWNERS = "number-owners"  # the list a lookup's cursor belongs to (crm_core/domain/pagination.py)


def _owners(after: bool) -> Select[Any]:
    """The customers owning ``:e164``, newest first, ``:limit`` of them; ``after``: past the one updated at
    ``:updated`` with id ``:id`` in that order (the last of the previous page)."""
    owners = select(CustomerRow.id).join(_matched, _matched.customer_id == CustomerRow.id)
    owners = owners.where(_matched.e164 == bindparam("e164"))
    if after:
        updated = bindparam("updated", type_=CustomerRow.updated_at.type)
        earlier = CustomerRow.updated_at < updated
        owners = owners.where(
            or_(earlier, and_(CustomerRow.updated_at == updated, CustomerRow.id < bindparam("id")))
        )
    return owners.order_by(*_NEWEST_FIRST).limit(bindparam("limit"))


def _cards(owners: Select[Any]) -> Select[Any]:
    """Each owner's card, one row per phone number, its ``updated_at`` last (a cursor's key)."""
    return (
        select(
            CustomerRow.id,
            CustomerRow.name,
            CustomerRow.company,
            CustomerRow.email,
            CustomerRow.tier,
            CustomerRow.language,
            *ACCOUNT_COLUMNS,
            PhoneNumberRow.e164,
            PhoneNumberRow.kind,
            CustomerRow.updated_at,
        )
        .select_from(CustomerRow)
        .outerjoin(AccountRow, AccountRow.customer_id == CustomerRow.id)
        .outerjoin(PhoneNumberRow, PhoneNumberRow.customer_id == CustomerRow.id)
        .where(CustomerRow.id.in_(owners))
        .order_by(*_NEWEST_FIRST, PhoneNumberRow.id)
    )


_CARD = _cards(_owners(after=False))
_CARD_AFTER = _cards(_owners(after=True))
_PROFILE = (
    select(*CUSTOMER_COLUMNS, *ACCOUNT_COLUMNS, PhoneNumberRow.e164, PhoneNumberRow.kind)
    .select_from(CustomerRow)
    .outerjoin(AccountRow, AccountRow.customer_id == CustomerRow.id)
    .outerjoin(PhoneNumberRow, PhoneNumberRow.customer_id == CustomerRow.id)
    .where(CustomerRow.id == bindparam("customer_id"))
    .order_by(PhoneNumberRow.id)
)
_CALLS = (
    select(*CALL_COLUMNS)
    .where(CallRow.customer_id == bindparam("customer_id"))
    .order_by(CallRow.arrived_at.desc(), CallRow.call_id.desc())
    .limit(bindparam("calls"))
)
_OPEN_CASES = (
    select(*CASE_COLUMNS)
    .where(CaseRow.customer_id == bindparam("customer_id"), CaseRow.status != CaseStatus.CLOSED.value)
    .order_by(CaseRow.id.desc())
    .limit(bindparam("cases"))
)
_ORDERS = (
    select(*ORDER_COLUMNS)
    .where(OrderRow.customer_id == bindparam("customer_id"))
    .order_by(OrderRow.ordered_on.desc(), OrderRow.id.desc())
    .limit(bindparam("orders"))
)


async def find_all_by_number(db: Database, number: str, limit: int = MAX_MATCHES) -> tuple[CustomerCard, ...]:
    """Every customer owning ``number`` (any format), most recently updated first, at most ``limit``
    (1..``MAX_MATCHES``, else ``ValidationFailed``); none for a non-number."""
    validation.limit(limit, MAX_MATCHES)
    e164 = normalise(number, db.region)
    if e164 is None:
        return ()
    rows = await db.read_here(
        functools.partial(_card_rows, query=_CARD, values={"e164": e164, "limit": limit})
    )
    return tuple(plain_card(owned) for owned in _by_customer(rows))


async def number_owners(
    db: Database, number: str, limit: int = MAX_MATCHES, cursor: str | None = None
) -> Page[CustomerCard]:
    """One page of the customers owning ``number``, in ``find_all_by_number``'s order: ``limit`` of them
    (1..``MAX_MATCHES``), after the page whose ``next_cursor`` is ``cursor``. Raises ``ValidationFailed``
    or ``InvalidCursor``. A customer changed between two pages moves to the first (changes go first), so
    a client paging meanwhile may not see it again; one added shows on the first page too."""
    validation.limit(limit, MAX_MATCHES)
    e164 = normalise(number, db.region)
    if e164 is None:
        return Page((), None)
    values: dict[str, object] = {"e164": e164, "limit": limit + 1}
    query = _CARD
    if cursor is not None:
        updated, after_id = decode_cursor(cursor, NUMBER_OWNERS, (str, int))
        values |= {"updated": _instant(str(updated), cursor), "id": after_id}
        query = _CARD_AFTER
    rows = await db.read_here(functools.partial(_card_rows, query=query, values=values))
    runs = _by_customer(rows)
    cards = [(plain_card(owned), owned[0][-1]) for owned in runs]
    found = page(cards, limit, NUMBER_OWNERS, lambda c: (c[1].isoformat(), c[0].id))
    return Page(tuple(card for card, _ in found.items), found.next_cursor)


def _instant(text: str, cursor: str) -> datetime:
    """The aware instant a cursor of ours carries; anything else is not one of our cursors."""
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidCursor(cursor) from None
    if at.tzinfo is None:
        raise InvalidCursor(cursor)
    return at


def _card_rows(connection: Connection, query: Select[Any], values: dict[str, object]) -> list[Row[Any]]:
    return list(connection.execute(query, values))


def _by_customer(rows: list[Row[Any]]) -> list[list[Row[Any]]]:
    """The rows split into one run per customer (a customer's rows are adjacent: the order says so)."""
    runs: list[list[Row[Any]]] = []
    for row in rows:
        if runs and runs[-1][0][0] == row[0]:
            runs[-1].append(row)
        else:
            runs.append([row])
    return runs


async def overview(
    db: Database, customer_id: int, *, calls: int = 10, cases: int = 20, orders: int = 10
) -> CustomerOverview:
    """Profile, phones, account, the last ``calls`` calls, up to ``cases`` open cases and the last
    ``orders`` orders, in one snapshot. Raises ``CustomerNotFound`` or ``ValidationFailed`` (a count
    outside 1..100)."""
    for count in (calls, cases, orders):
        validation.limit(count, MAX_OVERVIEW_ROWS)
    # Five queries in one trip (``Database.read``): on SQLite a quarter of the latency of awaiting each.
    return await db.read(functools.partial(_overview, customer_id=customer_id, counts=(calls, cases, orders)))


def _overview(connection: Connection, customer_id: int, counts: tuple[int, int, int]) -> CustomerOverview:
    calls, cases, orders = counts
    profile_rows = list(connection.execute(_PROFILE, {"customer_id": customer_id}))
    if not profile_rows:
        raise CustomerNotFound(customer_id)
    call_rows = connection.execute(_CALLS, {"customer_id": customer_id, "calls": calls})
    case_rows = list(connection.execute(_OPEN_CASES, {"customer_id": customer_id, "cases": cases}))
    order_rows = connection.execute(_ORDERS, {"customer_id": customer_id, "orders": orders})
    ids = [row.id for row in case_rows]
    linked = linked_calls(connection.execute(cases_calls_query(ids))) if ids else {}
    first = profile_rows[0]
    return CustomerOverview(
        customer=customer(first, tuple(phone(row) for row in profile_rows if row.e164 is not None)),
        account=account(first),
        recent_calls=tuple(logged_call(row) for row in call_rows),
        open_cases=tuple(case(row, linked.get(row.id, ())) for row in case_rows),
        recent_orders=tuple(order(row) for row in order_rows),
    )
