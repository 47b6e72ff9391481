"""What to do: the router's output. Frozen, imperative; the shells carry them out."""

from __future__ import annotations

from dataclasses import dataclass

from routing.ids import AgentId, BridgeId, CallId, LineId, OfferId, QueueId
from routing.records import CallRecord
from routing.states import AgentState


# --- for the PBX (telephony/) -------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class AnswerCall:
    """Answer the caller and start hold music."""

    call: CallId


@dataclass(frozen=True, slots=True)
class RejectCall:
    call: CallId
    reason: str


@dataclass(frozen=True, slots=True)
class OfferCall:
    """Ring the agent's endpoint on a new leg whose channel id is ``offer``."""

    offer: OfferId
    call: CallId
    agent: AgentId
    endpoint: str
    timeout_s: float
    caller_number: str | None


@dataclass(frozen=True, slots=True)
class CancelOffer:
    offer: OfferId
    call: CallId


@dataclass(frozen=True, slots=True)
class BridgeCall:
    call: CallId
    offer: OfferId
    bridge: BridgeId


@dataclass(frozen=True, slots=True)
class EndCall:
    """Hang up what is left of a call (the other side already hung up) and remove its bridge."""

    call: CallId
    channels: tuple[str, ...]
    bridge: BridgeId | None


# --- for consoles and the store -----------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PopScreen:
    """The agent's phone is ringing with this call: show who it is."""

    agent: AgentId
    call: CallId
    offer: OfferId
    caller_number: str | None
    caller_name: str | None
    did: str
    source: str
    line: LineId
    line_name: str
    queue: QueueId
    waited_s: float


@dataclass(frozen=True, slots=True)
class WithdrawOffer:
    """The ringing offer went away without being answered (caller hung up, ring timed out)."""

    agent: AgentId
    call: CallId
    offer: OfferId
    reason: str


@dataclass(frozen=True, slots=True)
class CallConnected:
    agent: AgentId
    call: CallId
    at: float


@dataclass(frozen=True, slots=True)
class AgentStateChanged:
    agent: AgentId
    state: AgentState
    reason: str | None
    at: float


@dataclass(frozen=True, slots=True)
class LogCall:
    record: CallRecord


PbxCommand = AnswerCall | RejectCall | OfferCall | CancelOffer | BridgeCall | EndCall
NoticeCommand = PopScreen | WithdrawOffer | CallConnected | AgentStateChanged | LogCall
Command = PbxCommand | NoticeCommand
