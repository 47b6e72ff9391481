"""Websocket protocol v1: JSON objects with a ``type``. Parsing is strict; building is pure.

Client -> server: ``login`` (join the ACD as the session's agent), ``ready``, ``pause {reason}``,
``logout``, ``ack {offer}``, ``extend-wrap-up {seconds}``.
Server -> client: ``hello``, ``state``, ``offer`` (the screen pop), ``offer-customer``, ``offer-withdrawn``,
``call-connected``, ``call-ended``, ``error``. See docs/console-protocol.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from agent_console.errors import BadMessage
from crm_core.accounts import Account
from crm_core.model import CustomerCard
from routing import commands as cmd
from routing.router import AgentView

VERSION = 1
MAX_MESSAGE_BYTES = 4096
MAX_REASON = 40  # the reason codes themselves are the plan's (config [routing].pause_reasons)

Message = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Login:
    pass


@dataclass(frozen=True, slots=True)
class Ready:
    pass


@dataclass(frozen=True, slots=True)
class Pause:
    reason: str


@dataclass(frozen=True, slots=True)
class Logout:
    pass


@dataclass(frozen=True, slots=True)
class Ack:
    offer: str


@dataclass(frozen=True, slots=True)
class ExtendWrapUp:
    seconds: int


ClientMessage = Login | Ready | Pause | Logout | Ack | ExtendWrapUp
MAX_EXTENSION_S = 3600

_FIELDS: dict[str, tuple[str, ...]] = {
    "login": (),
    "ready": (),
    "pause": ("reason",),
    "logout": (),
    "ack": ("offer",),
    "extend-wrap-up": ("seconds",),
}
_NUMBERS = frozenset({"seconds"})


def parse(raw: str) -> ClientMessage:
    if len(raw.encode()) > MAX_MESSAGE_BYTES:
        raise BadMessage(f"message longer than {MAX_MESSAGE_BYTES} bytes")
    try:
        data = json.loads(raw)
    except ValueError:
        raise BadMessage("not JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise BadMessage("a JSON object with a string 'type' is expected")
    kind = data["type"]
    if kind not in _FIELDS:
        raise BadMessage(f"unknown message type {kind!r}")
    expected = set(_FIELDS[kind])
    extra = set(data) - expected - {"type"}
    if extra:
        raise BadMessage(f"unknown fields for {kind!r}: {sorted(extra)}")
    for name in expected - _NUMBERS:
        value = data.get(name)
        if not isinstance(value, str) or not value or len(value) > 200:
            raise BadMessage(f"{kind!r} needs {name!r}: a non-empty string up to 200 characters")
    return _build(kind, data)


def _build(kind: str, data: dict[str, Any]) -> ClientMessage:
    if kind == "login":
        return Login()
    if kind == "pause":
        if not 0 < len(data["reason"]) <= MAX_REASON:
            raise BadMessage(f"pause reason must be 1 to {MAX_REASON} characters")
        return Pause(data["reason"])
    if kind == "ack":
        return Ack(data["offer"])
    if kind == "extend-wrap-up":
        seconds = data.get("seconds")
        if isinstance(seconds, bool) or not isinstance(seconds, int) or not 0 < seconds <= MAX_EXTENSION_S:
            raise BadMessage(f"'extend-wrap-up' needs 'seconds': a whole number from 1 to {MAX_EXTENSION_S}")
        return ExtendWrapUp(seconds)
    return Ready() if kind == "ready" else Logout()


_KINDS: dict[type, str] = {Login: "login", Ready: "ready", Pause: "pause", Logout: "logout", Ack: "ack",
                           ExtendWrapUp: "extend-wrap-up"}  # fmt: skip


def kind(message: ClientMessage) -> str:
    """The wire ``type`` of a parsed message (what ``access.CONSOLE_ACTIONS`` is keyed by)."""
    return _KINDS[type(message)]


# --- server -> client ---------------------------------------------------------------------------
def hello() -> Message:
    return {"type": "hello", "version": VERSION}


def state(view: AgentView) -> Message:
    return {"type": "state", "agent": view.agent, "state": str(view.state), "reason": view.reason,
            "since": view.since, "until": view.until, "call": view.call}  # fmt: skip


def state_changed(change: cmd.AgentStateChanged) -> Message:
    return {"type": "state", "agent": change.agent, "state": str(change.state), "reason": change.reason,
            "since": change.at, "until": change.until}  # fmt: skip


def offer(pop: cmd.PopScreen, customer: CustomerCard | None, customer_pending: bool = False) -> Message:
    return {
        "type": "offer",
        "customer_pending": customer_pending,
        "offer": pop.offer,
        "call": pop.call,
        "caller": {"number": pop.caller_number, "name": pop.caller_name},
        "customer": None if customer is None else _customer(customer),
        "line": {"id": pop.line, "name": pop.line_name},
        "did": pop.did,
        "source": pop.source,
        "queue": pop.queue,
        "waited_s": round(pop.waited_s, 3),
        "priority": pop.priority,
        "callback": pop.callback,
        "after_hours": pop.after_hours,
    }


def _customer(c: CustomerCard) -> Message:
    return {"id": c.id, "name": c.name, "company": c.company, "email": c.email, "tier": c.tier,
            "language": c.language, "phones": [{"number": p.e164, "kind": str(p.kind)} for p in c.phones],
            "account": None if c.account is None else _account(c.account)}  # fmt: skip


def _account(a: Account) -> Message:
    # Money as strings: JSON numbers would round a balance through binary floating point.
    return {"status": str(a.status), "balance": str(a.balance), "currency": a.currency,
            "credit_limit": str(a.credit_limit), "on_credit_hold": a.on_credit_hold,
            "last_payment_on": a.last_payment_on and a.last_payment_on.isoformat()}  # fmt: skip


def offer_customer(pop: cmd.PopScreen, customer: CustomerCard | None) -> Message:
    """The caller's record for a pop that went out before the store answered."""
    return {"type": "offer-customer", "offer": pop.offer, "call": pop.call,
            "customer": None if customer is None else _customer(customer)}  # fmt: skip


def offer_withdrawn(w: cmd.WithdrawOffer) -> Message:
    return {"type": "offer-withdrawn", "offer": w.offer, "call": w.call, "reason": w.reason}


def call_connected(c: cmd.CallConnected) -> Message:
    return {"type": "call-connected", "call": c.call, "at": c.at}


def call_ended(log: cmd.LogCall) -> Message:
    r = log.record
    return {"type": "call-ended", "call": r.call, "outcome": str(r.outcome), "hung_up_by": str(r.hung_up_by),
            "talk_s": round(r.talk_s, 3)}  # fmt: skip


def error(code: str, message: str) -> Message:
    return {"type": "error", "error": code, "message": message}
