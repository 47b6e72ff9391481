"""Domain values as JSON: timestamps ISO 8601, money as decimal strings (never floats), enums by value."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from crm_core.domain.accounts import Account
from crm_core.domain.calls import LoggedCall
from crm_core.domain.cases import Case, CaseEvent
from crm_core.domain.customers import Customer, ImportSummary, RejectedLine, RowOutcome
from crm_core.domain.escalations import Attempt, counts
from crm_core.domain.orders import Order
from crm_core.domain.overview import CustomerCard, CustomerOverview
from crm_core.domain.pagination import Page
from crm_core.domain.phones import PhoneNumber

Json = dict[str, Any]


def _iso(value: datetime | date | None) -> str | None:
    return None if value is None else value.isoformat()


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def phones(numbers: tuple[PhoneNumber, ...]) -> list[Json]:
    return [{"number": phone.e164, "kind": phone.kind.value} for phone in numbers]


def customer(c: Customer) -> Json:
    return {
        "id": c.id, "name": c.name, "company": c.company, "email": c.email, "language": c.language,
        "tier": c.tier, "tags": list(c.tags), "notes": c.notes, "external_id": c.external_id,
        "phones": phones(c.phones), "created_at": _iso(c.created_at), "updated_at": _iso(c.updated_at),
        "anonymised_at": _iso(c.anonymised_at),
    }  # fmt: skip


def card(c: CustomerCard) -> Json:
    return {
        "id": c.id, "name": c.name, "company": c.company, "email": c.email, "tier": c.tier,
        "language": c.language, "phones": phones(c.phones), "account": account(c.account),
    }  # fmt: skip


def owners(found: Page[CustomerCard], next_link: str | None) -> Json:
    """``GET /customers/by-number``: the page's first owner's card (on the first page the most recently
    updated owner: what the lookup answered when it named one customer), ``matches``, the page's owners in
    that order, and where the next page is (``next_cursor``; ``next``, the same as a link), or null."""
    cards = found.items
    paging = {"next_cursor": found.next_cursor, "next": next_link}
    return {**card(cards[0]), "matches": [card(c) for c in cards], **paging}


def account(a: Account | None) -> Json | None:
    if a is None:
        return None
    return {
        "balance": _money(a.balance), "currency": a.currency, "credit_limit": _money(a.credit_limit),
        "status": a.status.value, "last_payment_on": _iso(a.last_payment_on),
        "on_credit_hold": a.on_credit_hold,
    }  # fmt: skip


def order(o: Order) -> Json:
    return {
        "id": o.id, "customer_id": o.customer_id, "ordered_on": _iso(o.ordered_on), "item": o.item,
        "quantity": o.quantity, "amount": _money(o.amount), "special_price": _money(o.special_price),
        "created_at": _iso(o.created_at),
    }  # fmt: skip


def case(c: Case) -> Json:
    return {
        "id": c.id, "customer_id": c.customer_id, "subject": c.subject, "description": c.description,
        "status": c.status.value, "priority": c.priority.value, "owner": c.owner, "due_at": _iso(c.due_at),
        "created_at": _iso(c.created_at), "updated_at": _iso(c.updated_at),
        "closed_at": _iso(c.closed_at), "calls": list(c.calls),
    }  # fmt: skip


def case_event(e: CaseEvent) -> Json:
    return {
        "id": e.id, "case_id": e.case_id, "at": _iso(e.at), "author": e.author, "kind": e.kind.value,
        "changes": [{"field": ch.field, "old": ch.old, "new": ch.new} for ch in e.changes],
        "comment": e.comment,
    }  # fmt: skip


def call(c: LoggedCall) -> Json:
    r = c.record
    return {
        "call_id": r.call, "did": r.did, "source": r.source, "line": r.line, "line_name": r.line_name,
        "queue": r.queue, "caller_number": r.caller_number, "caller_name": r.caller_name,
        "agent": r.agent, "arrived_at": _iso(c.arrived_at), "answered_at": _iso(c.answered_at),
        "ended_at": _iso(c.ended_at), "outcome": r.outcome.value, "hung_up_by": r.hung_up_by.value,
        "offers": r.offers, "wait_s": round(c.wait_s, 3), "talk_s": round(c.talk_s, 3),
        "customer_id": c.customer_id, "disposition": c.disposition, "agent_notes": c.agent_notes,
        "case_id": c.case_id, "priority": r.priority, "after_hours": r.after_hours, "on_call": r.on_call,
        "recording": r.recording, "callback_of": r.callback_of, "part_of": r.part_of,
        "end_reason": r.end_reason and r.end_reason.value,
    }  # fmt: skip


def logged_call(c: LoggedCall, attempts: Mapping[str, tuple[Attempt, ...]]) -> Json:
    """A call as the call log lists it: with its escalation's attempts and how many came to each result."""
    tried = attempts.get(c.record.call, ())
    return {
        **call(c),
        "escalation_attempts": [
            {"person": a.person, "number": a.number, "round": a.round, "step": a.step,
             "started_at": _iso(a.started_at), "ended_at": _iso(a.ended_at), "result": a.result}
            for a in tried
        ],
        "escalation_results": counts(tried),
    }  # fmt: skip


def overview(o: CustomerOverview) -> Json:
    return {
        "customer": customer(o.customer),
        "account": account(o.account),
        "recent_calls": [call(c) for c in o.recent_calls],
        "open_cases": [case(c) for c in o.open_cases],
        "recent_orders": [order(r) for r in o.recent_orders],
    }


def page(p: Page[Any], item: Any) -> Json:
    return {"items": [item(value) for value in p.items], "next_cursor": p.next_cursor}


class ImportAnswer:
    """An import's answer, gathered as the store tells of its lines: the first ``most`` rejected lines,
    and on a dry run the first ``most`` other lines' outcomes; the summary counts every line."""

    def __init__(self, most: int, dry_run: bool) -> None:
        self._most = most
        self._dry_run = dry_run
        self._rejected: list[Json] = []
        self._rows: list[Json] = []
        self._left_out = {"rejected": False, "lines": False}

    def rejected(self, rejected: RejectedLine) -> None:
        self._keep("rejected", self._rejected, {"line": rejected.line, "field": rejected.field,
                                                "reason": rejected.reason})  # fmt: skip

    def row(self, line: int, outcome: RowOutcome) -> None:
        self._keep("lines", self._rows, {"line": line, "outcome": outcome.value})

    def _keep(self, kind: str, kept: list[Json], item: Json) -> None:
        if len(kept) < self._most:
            kept.append(item)
        else:
            self._left_out[kind] = True

    def json(self, summary: ImportSummary) -> Json:
        result: Json = {
            "summary": {
                "lines": summary.lines, "inserted": summary.inserted, "updated": summary.updated,
                "unchanged": summary.unchanged, "rejected": summary.rejected,
            },
            "rejected": self._rejected,
            "rejected_truncated": self._left_out["rejected"],
            "dry_run": self._dry_run,
        }  # fmt: skip
        if self._dry_run:
            result |= {"lines": self._rows, "lines_truncated": self._left_out["lines"]}
        return result
