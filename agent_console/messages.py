"""Websocket protocol v2, the server's side: the messages the console sends, built by pure functions.

Each builder's output matches its schema in agent_console/schemas/server/ (the tests check every one).
``Floor`` is what the messages need from the configuration: the plan, the region phone numbers are
shown in, the disposition codes and the lines' answering profiles.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from crm_core.domain.accounts import Account
from crm_core.domain.calls import LoggedCall
from crm_core.domain.overview import Caller, CustomerCard, CustomerOverview
from crm_core.domain.phones import PhoneNumber, display
from routing import commands as cmd
from routing.forms import FormBook
from routing.ids import AgentId, LineId
from routing.plan import Plan
from routing.views import AgentView

VERSION = 2
RECENT = 5  # calls and orders the pop shows

Message = dict[str, Any]


class Answering(Protocol):
    """A line's answering profile (``config.answering.Answering`` is one)."""

    @property
    def greeting(self) -> str: ...
    @property
    def script(self) -> str: ...
    @property
    def instructions(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Floor:
    plan: Plan = field(default_factory=Plan)
    region: str = "US"
    disposition_codes: tuple[str, ...] = (
        "sale", "support", "complaint", "wrong-number", "no-action", "message-taken",
    )  # fmt: skip
    answering: Mapping[LineId, Answering] = field(default_factory=dict)
    forms: Mapping[LineId, FormBook] = field(default_factory=dict)  # message forms (agent_console/forms.py)


def hello() -> Message:
    return {"type": "hello", "version": VERSION}


def state_changed(change: cmd.AgentStateChanged) -> Message:
    return {"type": "state", "agent": change.agent, "state": str(change.state), "reason": change.reason,
            "since": change.at, "until": change.until}  # fmt: skip


def offer(pop: cmd.PopScreen, caller: Caller | None, floor: Floor, pending: bool = False) -> Message:
    """The pop; ``caller`` None while the lookup is pending (``pending``) or when it failed."""
    return {
        "type": "offer",
        "customer_pending": pending,
        "offer": pop.offer,
        "call": pop.call,
        "caller": {
            "number": pop.caller_number,
            "name": pop.caller_name,
            "display": display(pop.caller_number, floor.region),
        },
        **customer_fields(caller, floor.region),
        "line": {"id": pop.line, "name": pop.line_name},
        "did": pop.did,
        "source": pop.source,
        "queue": pop.queue,
        "waited_s": round(pop.waited_s, 3),
        "priority": pop.priority,
        "callback": pop.callback,
        "after_hours": pop.after_hours,
        "business": business(pop.line, floor),
    }


def business(line: LineId, floor: Floor) -> Message | None:
    profile = floor.answering.get(line)
    known = floor.plan.lines.get(line)
    if profile is None or known is None:
        return None
    # Who an escalation rings, in order: the line's on-call chain, else its after-hours chain (as the
    # router does for EscalationRequested).
    on_call = [step.name for step in known.on_call or known.after_hours.chain]
    return {"line": line, "name": known.name, "greeting": profile.greeting, "script": profile.script,
            "instructions": profile.instructions, "on_call": on_call}  # fmt: skip


def customer_fields(caller: Caller | None, region: str) -> Message:
    """``customer``: the caller's 360 or null; ``matches``: when several customers share the caller's
    number, each one's card (most recently updated first) for the agent to pick from, else [];
    ``more_matches``: more share it than ``matches`` lists."""
    if caller is None:
        return {"customer": None, "matches": [], "more_matches": False}
    customer = None if caller.customer is None else customer_360(caller.customer, region)
    cards = [match(card, region) for card in caller.matches] if caller.shared else []
    return {"customer": customer, "matches": cards, "more_matches": caller.more_matches}


def match(card: CustomerCard, region: str) -> Message:
    """One of the customers sharing the caller's number, as the pop offers them to pick from."""
    return {"id": card.id, "name": card.name, "company": card.company, "email": card.email,
            "tier": card.tier, "language": card.language, "phones": _phones(card.phones, region),
            "account": None if card.account is None else _account(card.account)}  # fmt: skip


def _phones(phones: tuple[PhoneNumber, ...], region: str) -> list[Message]:
    return [{"number": p.e164, "display": display(p.e164, region) or p.e164, "kind": str(p.kind)}
            for p in phones]  # fmt: skip


def customer_360(o: CustomerOverview, region: str) -> Message:
    c = o.customer
    currency = None if o.account is None else o.account.currency
    return {
        "id": c.id, "name": c.name, "company": c.company, "email": c.email, "tier": c.tier,
        "language": c.language, "tags": list(c.tags), "notes": c.notes,
        "phones": _phones(c.phones, region),
        "account": None if o.account is None else _account(o.account),
        "recent_calls": [logged_call(call) for call in o.recent_calls[:RECENT]],
        "open_cases": [{"id": k.id, "subject": k.subject, "status": str(k.status),
                        "priority": str(k.priority), "due_at": k.due_at and k.due_at.isoformat()}
                       for k in o.open_cases],
        "recent_orders": [{"ordered_on": r.ordered_on.isoformat(), "item": r.item, "quantity": r.quantity,
                           "amount": str(r.amount), "currency": currency} for r in o.recent_orders[:RECENT]],
    }  # fmt: skip


def logged_call(call: LoggedCall) -> Message:
    r = call.record
    return {"call": r.call, "arrived_at": call.arrived_at.isoformat(), "line": r.line,
            "source": r.source, "outcome": str(r.outcome), "agent": r.agent,
            "disposition": call.disposition, "notes": call.agent_notes}  # fmt: skip


def _account(a: Account) -> Message:
    # Money as strings: JSON numbers would round a balance through binary floating point.
    return {"status": str(a.status), "balance": str(a.balance), "currency": a.currency,
            "credit_limit": str(a.credit_limit), "on_credit_hold": a.on_credit_hold,
            "last_payment_on": a.last_payment_on and a.last_payment_on.isoformat()}  # fmt: skip


def offer_customer(pop: cmd.PopScreen, shown: Message) -> Message:
    """The caller's record for a pop that went out before the store answered, or picked or attached
    later: the ``customer``, ``matches`` and ``more_matches`` of ``shown``, the offer as it stands."""
    return {"type": "offer-customer", "offer": pop.offer, "call": pop.call, "customer": shown["customer"],
            "matches": shown["matches"], "more_matches": shown["more_matches"]}  # fmt: skip


def offer_withdrawn(w: cmd.WithdrawOffer) -> Message:
    return {"type": "offer-withdrawn", "offer": w.offer, "call": w.call, "reason": w.reason}


def call_connected(c: cmd.CallConnected) -> Message:
    return {"type": "call-connected", "call": c.call, "at": c.at}


def call_ended(log: cmd.LogCall) -> Message:
    """``call`` is the caller's call; ``logged_as`` the record's own id, the one a wrap-up names."""
    r = log.record
    return {"type": "call-ended", "call": r.part_of or r.call, "logged_as": r.call, "outcome": str(r.outcome),
            "hung_up_by": str(r.hung_up_by), "talk_s": round(r.talk_s, 3)}  # fmt: skip


def call_held(h: cmd.CallHeld) -> Message:
    return {"type": "call-held", "call": h.call, "held": h.held, "at": h.at}


def escalation(e: cmd.EscalationUpdate) -> Message:
    return {"type": "escalation", "call": e.call, "status": str(e.status), "person": e.person,
            "attempts": [{"person": p, "result": r} for p, r in e.attempts], "at": e.at}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Directory:
    """The queues and agents a console may transfer to, as every snapshot lists them: built once per
    plan, not per console (5,000 agents: 1-3 ms a snapshot, and a failover reconnects 1,667 consoles at
    once). Shared by every snapshot, so never changed in place."""

    plan: Plan
    queues: list[dict[str, str]]
    agents: list[dict[str, str]]


_directory: list[Directory] = []  # the last plan's: plans change rarely, and only the current one matters


def directory(plan: Plan) -> Directory:
    if not _directory or _directory[0].plan is not plan:
        _directory[:] = [Directory(
            plan, queues=[{"id": q.id, "name": q.name} for q in plan.queues.values()],
            agents=[{"id": a.id, "name": a.name} for a in plan.agents.values()],
        )]  # fmt: skip
    return _directory[0]


def snapshot(
    view: AgentView, role: str, floor: Floor, call: Message | None, wrap_up: Message | None
) -> Message:
    plan = floor.plan
    agent = plan.agents.get(AgentId(view.agent))
    return {
        "type": "snapshot", "agent": view.agent, "name": view.agent if agent is None else agent.name,
        "role": role, "mode": "answering" if role == "answering" else "agent",
        "state": str(view.state), "reason": view.reason, "since": view.since, "until": view.until,
        "pause_reasons": list(plan.pause_reasons), "disposition_codes": list(floor.disposition_codes),
        "queues": directory(plan).queues, "agents": directory(plan).agents,
        "call": call, "wrap_up": wrap_up,
    }  # fmt: skip


def wrap_up_saved(
    call: str,
    disposition: str,
    notes: str,
    case_id: int | None,
    callback: Message | None,
    recent: list[LoggedCall],
) -> Message:
    return {"type": "wrap-up-saved", "call": call, "disposition": disposition, "notes": notes,
            "case_id": case_id, "callback": callback,
            "recent_calls": [logged_call(c) for c in recent]}  # fmt: skip


def message_taken(call: str, case_id: int, urgent: bool, notify: bool) -> Message:
    return {"type": "message-taken", "call": call, "case_id": case_id, "urgent": urgent,
            "notify": "pending" if notify else "none"}  # fmt: skip


def message_notified(call: str, case_id: int, ok: bool, attempts: int, error: str | None) -> Message:
    return {"type": "message-notified", "call": call, "case_id": case_id, "ok": ok, "attempts": attempts,
            "error": error}  # fmt: skip


def error(code: str, message: str) -> Message:
    return {"type": "error", "error": code, "message": message}
