"""Websocket protocol v2, the browser's side: JSON objects with a ``type``, read strictly.

``KINDS`` is the one registry of the types a client may send: each entry names its dataclass (a
``ClientMessage``), the ``access`` action whose roles may send it and, where the dataclass is not its
JSON object's fields one for one, how to build it. The access table (``access.CONSOLE_ACTIONS``), the
dispatch (``dispatch.HANDLERS``, one handler per dataclass) and the JSON Schemas
(agent_console/schemas/client/<type>.json) follow it, and tests/agent_console/test_console_kinds.py holds
them to it. A new type is its dataclass, its entry here, its handler and its schema file.

Every client message is checked against its JSON Schema (``contract``) after the size check, then
turned into its dataclass. What the server sends is built in ``messages``. See docs/console-protocol.md.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import Field, dataclass, fields
from datetime import datetime
from typing import Any, ClassVar, Generic, Literal, TypeVar

from agent_console import contract
from agent_console.errors import BadMessage

VERSION = 2
MAX_MESSAGE_BYTES = 16384
Json = dict[str, Any]


class ClientMessage:
    """A message a client may send: every subclass is a frozen dataclass with its entry in ``KINDS``."""

    __slots__ = ()
    __dataclass_fields__: ClassVar[dict[str, Field[Any]]]


@dataclass(frozen=True, slots=True)
class Login(ClientMessage):
    pass


@dataclass(frozen=True, slots=True)
class Ready(ClientMessage):
    pass


@dataclass(frozen=True, slots=True)
class Pause(ClientMessage):
    reason: str


@dataclass(frozen=True, slots=True)
class Logout(ClientMessage):
    pass


@dataclass(frozen=True, slots=True)
class Ack(ClientMessage):
    offer: str


@dataclass(frozen=True, slots=True)
class ExtendWrapUp(ClientMessage):
    seconds: int


@dataclass(frozen=True, slots=True)
class HangUp(ClientMessage):
    pass


@dataclass(frozen=True, slots=True)
class Hold(ClientMessage):
    pass


@dataclass(frozen=True, slots=True)
class Resume(ClientMessage):
    pass


@dataclass(frozen=True, slots=True)
class Transfer(ClientMessage):
    to: Literal["queue", "agent", "number"]
    target: str


@dataclass(frozen=True, slots=True)
class Escalate(ClientMessage):
    pass


@dataclass(frozen=True, slots=True)
class ConnectCaller(ClientMessage):
    """A warm patch: the agent has announced the caller to the on-call person; connect them."""


@dataclass(frozen=True, slots=True)
class BackToCaller(ClientMessage):
    """A warm patch: the agent takes the caller back instead; the on-call person is hung up."""


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
class WrapUp(ClientMessage):
    call: str
    disposition: str
    notes: str
    case: NewCaseRequest | CaseUpdateRequest | None
    callback_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class TakeMessage(ClientMessage):
    """A message for the business: the plain one (``message``, ``urgent``, the caller's name and number),
    or, where the line has message forms, the ``form`` shown for ``call_type`` filled in (``values``)."""

    call: str
    urgent: bool
    message: str
    caller_name: str | None
    callback_number: str | None
    call_type: str | None = None
    form: str | None = None
    values: Mapping[str, object] | None = None


@dataclass(frozen=True, slots=True)
class MessageForm(ClientMessage):
    """Which message form ``call`` takes for ``call_type`` (null: the agent picked none)."""

    call: str
    call_type: str | None


@dataclass(frozen=True, slots=True)
class AttachCustomer(ClientMessage):
    call: str
    customer_id: int


@dataclass(frozen=True, slots=True)
class PickCustomer(ClientMessage):
    """The caller is this one of the customers sharing their number that the pop offered."""

    call: str
    customer_id: int


@dataclass(frozen=True, slots=True)
class WatchWallboard(ClientMessage):
    pass


@dataclass(frozen=True, slots=True)
class UnwatchWallboard(ClientMessage):
    pass


@dataclass(frozen=True, slots=True)
class SetAgentState(ClientMessage):
    """A supervisor's order for another agent: not-ready (with a pause reason) or logged out."""

    agent: str
    state: Literal["not-ready", "logged-out"]
    reason: str | None


@dataclass(frozen=True, slots=True)
class Supervise(ClientMessage):
    """Listen to, whisper to or barge into ``agent``'s call on the supervisor's own phone."""

    agent: str
    mode: Literal["listen", "whisper", "barge"]


@dataclass(frozen=True, slots=True)
class StopSupervising(ClientMessage):
    pass


@dataclass(frozen=True, slots=True)
class MoveCall(ClientMessage):
    """A waiting call to another queue."""

    call: str
    queue: str


@dataclass(frozen=True, slots=True)
class CallToFront(ClientMessage):
    """A waiting call to the front of its queue."""

    call: str


M = TypeVar("M", bound=ClientMessage)


@dataclass(frozen=True, slots=True)
class Kind(Generic[M]):
    message: type[M]
    action: str  # the ``access.PERMISSIONS`` action whose roles may send it
    build: Callable[[Json], M] | None = None  # None: each field is the JSON object's key of its name

    def read(self, data: Json) -> M:
        if self.build is not None:
            return self.build(data)
        return self.message(**{f.name: data[f.name] for f in fields(self.message)})


def _set_agent_state(data: Json) -> SetAgentState:
    if data["state"] == "not-ready" and data["reason"] is None:
        raise BadMessage("'set-agent-state': not-ready needs a reason (one of the plan's pause reasons)")
    if data["state"] == "logged-out" and data["reason"] is not None:
        raise BadMessage("'set-agent-state': logged-out takes no reason (send null)")
    return SetAgentState(data["agent"], data["state"], data["reason"])


def _wrap_up(data: Json) -> WrapUp:
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


ACD, CALL, DESK, FLOOR = "console.acd", "console.call", "console.desk", "console.supervise"
KINDS: dict[str, Kind[Any]] = {
    "login": Kind(Login, ACD),
    "ready": Kind(Ready, ACD),
    "pause": Kind(Pause, ACD),
    "logout": Kind(Logout, ACD),
    "ack": Kind(Ack, ACD),
    "extend-wrap-up": Kind(ExtendWrapUp, ACD),
    "hang-up": Kind(HangUp, CALL),
    "hold": Kind(Hold, CALL),
    "resume": Kind(Resume, CALL),
    "transfer": Kind(Transfer, CALL),
    "escalate": Kind(Escalate, CALL),
    "connect-caller": Kind(ConnectCaller, CALL),
    "back-to-caller": Kind(BackToCaller, CALL),
    "wrap-up": Kind(WrapUp, DESK, _wrap_up),
    "take-message": Kind(TakeMessage, DESK),
    "message-form": Kind(MessageForm, DESK),
    "attach-customer": Kind(AttachCustomer, DESK),
    "pick-customer": Kind(PickCustomer, DESK),
    "watch-wallboard": Kind(WatchWallboard, FLOOR),
    "unwatch-wallboard": Kind(UnwatchWallboard, FLOOR),
    "set-agent-state": Kind(SetAgentState, FLOOR, _set_agent_state),
    "supervise": Kind(Supervise, FLOOR),
    "stop-supervising": Kind(StopSupervising, FLOOR),
    "move-call": Kind(MoveCall, FLOOR),
    "call-to-front": Kind(CallToFront, FLOOR),
}
_NAMES = {entry.message: name for name, entry in KINDS.items()}


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
    message: ClientMessage = KINDS[kind].read(data)
    return message


def _decode(raw: str) -> Any:
    try:
        data = json.loads(raw, parse_constant=_no_constant)
        json.dumps(data, ensure_ascii=False).encode()  # a lone surrogate ("\ud800") is not text
    except (ValueError, RecursionError, UnicodeError):
        raise BadMessage("not JSON (or not UTF-8 text, or nested too deeply)") from None
    return data


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def kind(message: ClientMessage) -> str:
    """The wire ``type`` of a parsed message."""
    return _NAMES[type(message)]


def action(message: ClientMessage) -> str:
    """What ``access`` calls sending ``message``: its roles may send it."""
    return KINDS[kind(message)].action
