"""Websocket protocol v2, the browser's side: JSON objects with a ``type``, read strictly.

Every client message is checked against its JSON Schema (``contract``) after the size check, then
turned into one of the frozen dataclasses below. What the server sends is built in ``messages``.
See docs/console-protocol.md and agent_console/schemas/.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from agent_console import contract
from agent_console.errors import BadMessage

VERSION = 2
MAX_MESSAGE_BYTES = 16384


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


@dataclass(frozen=True, slots=True)
class HangUp:
    pass


@dataclass(frozen=True, slots=True)
class Hold:
    pass


@dataclass(frozen=True, slots=True)
class Resume:
    pass


@dataclass(frozen=True, slots=True)
class Transfer:
    to: Literal["queue", "agent", "number"]
    target: str


@dataclass(frozen=True, slots=True)
class Escalate:
    pass


@dataclass(frozen=True, slots=True)
class NewCaseRequest:
    subject: str
    priority: str


@dataclass(frozen=True, slots=True)
class CaseUpdateRequest:
    id: int
    status: str
    comment: str


@dataclass(frozen=True, slots=True)
class WrapUp:
    call: str
    disposition: str
    notes: str
    case: NewCaseRequest | CaseUpdateRequest | None
    callback_at: datetime | None


@dataclass(frozen=True, slots=True)
class TakeMessage:
    call: str
    urgent: bool
    message: str
    caller_name: str | None
    callback_number: str | None


@dataclass(frozen=True, slots=True)
class AttachCustomer:
    call: str
    customer_id: int


@dataclass(frozen=True, slots=True)
class WatchWallboard:
    pass


@dataclass(frozen=True, slots=True)
class UnwatchWallboard:
    pass


@dataclass(frozen=True, slots=True)
class SetAgentState:
    """A supervisor's order for another agent: not-ready (with a pause reason) or logged out."""

    agent: str
    state: Literal["not-ready", "logged-out"]
    reason: str | None


@dataclass(frozen=True, slots=True)
class Supervise:
    """Listen to, whisper to or barge into ``agent``'s call on the supervisor's own phone."""

    agent: str
    mode: Literal["listen", "whisper", "barge"]


@dataclass(frozen=True, slots=True)
class StopSupervising:
    pass


@dataclass(frozen=True, slots=True)
class MoveCall:
    """A waiting call to another queue."""

    call: str
    queue: str


@dataclass(frozen=True, slots=True)
class CallToFront:
    """A waiting call to the front of its queue."""

    call: str


ClientMessage = (
    Login | Ready | Pause | Logout | Ack | ExtendWrapUp | HangUp | Hold | Resume | Transfer | Escalate
    | WrapUp | TakeMessage | AttachCustomer | WatchWallboard | UnwatchWallboard | SetAgentState
    | Supervise | StopSupervising | MoveCall | CallToFront
)  # fmt: skip
# Messages about the floor, not the sender's own desk: they need no ``login`` (``supervise`` and
# ``stop-supervising`` need the agent id whose phone the supervisor uses, not a logged-in desk).
SUPERVISOR_KINDS = frozenset({
    "watch-wallboard", "unwatch-wallboard", "set-agent-state", "supervise", "stop-supervising",
    "move-call", "call-to-front",
})  # fmt: skip

_KINDS: dict[type, str] = {
    Login: "login", Ready: "ready", Pause: "pause", Logout: "logout", Ack: "ack",
    ExtendWrapUp: "extend-wrap-up",
    HangUp: "hang-up", Hold: "hold", Resume: "resume", Transfer: "transfer", Escalate: "escalate",
    WrapUp: "wrap-up", TakeMessage: "take-message", AttachCustomer: "attach-customer",
    WatchWallboard: "watch-wallboard", UnwatchWallboard: "unwatch-wallboard",
    SetAgentState: "set-agent-state", Supervise: "supervise", StopSupervising: "stop-supervising",
    MoveCall: "move-call", CallToFront: "call-to-front",
}  # fmt: skip
KINDS = frozenset(_KINDS.values())


def parse(raw: str) -> ClientMessage:
    """One client message, or ``BadMessage`` saying what is wrong with it."""
    if len(raw.encode("utf-8", "surrogatepass")) > MAX_MESSAGE_BYTES:
        raise BadMessage(f"message longer than {MAX_MESSAGE_BYTES} bytes")
    data = _decode(raw)
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise BadMessage("a JSON object with a string 'type' is expected")
    kind = data["type"]
    if kind not in KINDS:
        raise BadMessage(f"unknown message type {kind[:40]!r}")
    problem = contract.client_problem(kind, data)
    if problem is not None:
        raise BadMessage(problem)
    return _build(kind, data)


def _decode(raw: str) -> Any:
    try:
        data = json.loads(raw, parse_constant=_no_constant)
        json.dumps(data, ensure_ascii=False).encode()  # a lone surrogate ("\ud800") is not text
    except (ValueError, RecursionError, UnicodeError):
        raise BadMessage("not JSON (or not UTF-8 text, or nested too deeply)") from None
    return data


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _build(kind: str, data: dict[str, Any]) -> ClientMessage:
    simple: dict[str, ClientMessage] = {"login": Login(), "ready": Ready(), "logout": Logout(),
                                        "hang-up": HangUp(), "hold": Hold(), "resume": Resume(),
                                        "escalate": Escalate(), "watch-wallboard": WatchWallboard(),
                                        "unwatch-wallboard": UnwatchWallboard(),
                                        "stop-supervising": StopSupervising()}  # fmt: skip
    if kind in simple:
        return simple[kind]
    match kind:
        case "pause":
            return Pause(data["reason"])
        case "ack":
            return Ack(data["offer"])
        case "extend-wrap-up":
            return ExtendWrapUp(data["seconds"])
        case "transfer":
            return Transfer(data["to"], data["target"])
        case "wrap-up":
            return _wrap_up(data)
        case "set-agent-state":
            return _set_agent_state(data)
        case "supervise":
            return Supervise(data["agent"], data["mode"])
        case "move-call":
            return MoveCall(data["call"], data["queue"])
        case "call-to-front":
            return CallToFront(data["call"])
        case "take-message":
            return TakeMessage(data["call"], data["urgent"], data["message"], data["caller_name"],
                               data["callback_number"])  # fmt: skip
    return AttachCustomer(data["call"], data["customer_id"])


def _set_agent_state(data: dict[str, Any]) -> SetAgentState:
    if data["state"] == "not-ready" and data["reason"] is None:
        raise BadMessage("'set-agent-state': not-ready needs a reason (one of the plan's pause reasons)")
    if data["state"] == "logged-out" and data["reason"] is not None:
        raise BadMessage("'set-agent-state': logged-out takes no reason (send null)")
    return SetAgentState(data["agent"], data["state"], data["reason"])


def _wrap_up(data: dict[str, Any]) -> WrapUp:
    case = data["case"]
    request: NewCaseRequest | CaseUpdateRequest | None = None
    if case is not None and case["action"] == "create":
        request = NewCaseRequest(case["subject"], case["priority"])
    elif case is not None:
        request = CaseUpdateRequest(case["id"], case["status"], case["comment"])
    callback_at = None
    if data["callback_at"] is not None:
        try:
            callback_at = datetime.fromisoformat(data["callback_at"])
        except ValueError:
            raise BadMessage("'wrap-up': callback_at must be an ISO 8601 date and time") from None
        if callback_at.tzinfo is None:
            raise BadMessage("'wrap-up': callback_at needs a UTC offset (e.g. +00:00)")
    return WrapUp(data["call"], data["disposition"], data["notes"], request, callback_at)


def kind(message: ClientMessage) -> str:
    """The wire ``type`` of a parsed message (what ``access.CONSOLE_ACTIONS`` is keyed by)."""
    return _KINDS[type(message)]
