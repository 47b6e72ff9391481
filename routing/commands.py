"""What to do: the router's output. Frozen, imperative; the shells carry them out."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from routing.events import SupervisionMode
from routing.ids import AgentId, BridgeId, CallId, LineId, OfferId, QueueId, SupervisorLegId
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


@dataclass(frozen=True, slots=True, kw_only=True)
class OfferCall:
    """Ring an endpoint on a new leg whose channel id is ``offer``: an agent's phone, or (``agent`` None)
    an on-call person's number."""

    offer: OfferId
    call: CallId
    agent: AgentId | None
    endpoint: str
    timeout_s: float
    caller_number: str | None


@dataclass(frozen=True, slots=True)
class CancelOffer:
    offer: OfferId
    call: CallId


@dataclass(frozen=True, slots=True)
class PromptOnCall:
    """An on-call person picked up ``offer``: tell them who the call is for (the number the caller
    dialled, ``did``: the business) and who calls (``caller_number``, None if withheld), and that 1
    accepts. The key comes back as ``LegKeyPressed``."""

    offer: OfferId
    call: CallId
    did: str
    caller_number: str | None


@dataclass(frozen=True, slots=True)
class ConsultOnCall:
    """A warm patch: the on-call person who accepted on ``offer`` joins the agent in the call's ``bridge``
    (their prompt stops); the caller stays on hold until the agent connects them or takes them back."""

    offer: OfferId
    call: CallId
    bridge: BridgeId


@dataclass(frozen=True, slots=True)
class BridgeCall:
    call: CallId
    offer: OfferId
    bridge: BridgeId


# The farewells an ``EndCall`` plays: symbolic prompt names, which telephony/ maps to sound files.
GOODBYE, CLOSED, CALLBACK_CONFIRMED = "goodbye", "closed", "callback-confirmed"


@dataclass(frozen=True, slots=True)
class EndCall:
    """Hang up what is left of a call (the other side already hung up) and remove its bridge.

    With ``farewell`` (a sound name), the caller hears it before the hangup."""

    call: CallId
    channels: tuple[str, ...]
    bridge: BridgeId | None
    farewell: str | None = None


@dataclass(frozen=True, slots=True)
class AnnouncePosition:
    """Tell the waiting caller their place in line and the expected wait, then back to hold music."""

    call: CallId
    position: int
    expected_wait_s: float


@dataclass(frozen=True, slots=True)
class OfferCallbackChoice:
    """Tell the waiting caller they can press 1 to be called back; the key comes back as an event."""

    call: CallId


@dataclass(frozen=True, slots=True)
class TakeMessage:
    """Stop hold music, prompt for a message and record it as ``recording`` (at most ``max_s``)."""

    call: CallId
    recording: str
    max_s: float


@dataclass(frozen=True, slots=True)
class DialCustomer:
    """Place the callback: dial ``number`` on a new leg whose channel id is ``call``; the agent, already
    on ``offer``, waits for it."""

    call: CallId
    offer: OfferId
    number: str
    timeout_s: float


@dataclass(frozen=True, slots=True)
class HoldCall:
    """Take the caller out of ``bridge`` and play them hold music: the agent hears silence.

    For a hold, while an escalation rings, and when an agent lets go of the caller (a transfer)."""

    call: CallId
    bridge: BridgeId


@dataclass(frozen=True, slots=True)
class ResumeCall:
    """Stop the caller's hold music and put them back in ``bridge``, with the agent still in it."""

    call: CallId
    bridge: BridgeId


@dataclass(frozen=True, slots=True)
class DropLeg:
    """Hang up ``leg`` (the agent who let go of a caller) and remove ``bridge``; the call goes on."""

    call: CallId
    leg: OfferId
    bridge: BridgeId


@dataclass(frozen=True, slots=True)
class DialNumber:
    """A transfer to an outside number: dial ``number`` through the outbound endpoint on a new leg whose
    channel id is ``offer``; it is reported like an agent leg (ringing, answered, ended, failed)."""

    offer: OfferId
    call: CallId
    number: str
    timeout_s: float
    caller_number: str | None


@dataclass(frozen=True, slots=True)
class RingSupervisor:
    """Ring the supervisor's phone (``endpoint``) on a new leg whose channel id is ``leg``; it is reported
    as ``SupervisorAnswered`` / ``SupervisorLegEnded``."""

    leg: SupervisorLegId
    call: CallId
    supervisor: AgentId
    endpoint: str
    timeout_s: float


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectSupervisor:
    """The supervisor answered: listen and whisper snoop on ``agent_leg`` (snoop channel id ``snoop``;
    spy both ways, whisper none or towards the agent) and bridge the snoop with ``leg`` in ``bridge``,
    the supervisor's own; barge (``snoop`` None) adds ``leg`` to ``bridge``, the call's mixing bridge."""

    leg: SupervisorLegId
    call: CallId
    agent_leg: OfferId
    mode: SupervisionMode
    bridge: BridgeId
    snoop: str | None


@dataclass(frozen=True, slots=True)
class DropSupervisor:
    """Hang up the snoop channel (if any) and the supervisor's leg, and remove the supervisor's own
    bridge (None for barge: the call's bridge is the call's)."""

    leg: SupervisorLegId
    call: CallId
    snoop: str | None
    bridge: BridgeId | None


# --- for the customer store ---------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class IdentifyCaller:
    """Look the caller up (tier, last agent, last call) and answer with ``CallerIdentified``."""

    call: CallId
    caller_number: str


# --- for consoles and the store -----------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
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
    priority: int = 0
    callback: bool = False  # the agent is calling the customer back
    after_hours: bool = False  # taken for a closed line: the answering service's script applies


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
    until: float | None = None  # when wrap-up or a timed pause ends by itself


@dataclass(frozen=True, slots=True)
class CallHeld:
    """The caller was put on hold (``held``) or taken off it; the console shows which."""

    agent: AgentId
    call: CallId
    held: bool
    at: float


class EscalationStatus(enum.StrEnum):
    RINGING = "ringing"  # ``person`` is being rung now; the caller is on hold
    PROMPTED = "prompted"  # ``person`` picked up and hears who the call is for: deciding, not yet accepted
    CONSULTING = "consulting"  # warm: ``person`` accepted and talks with the agent; the caller on hold
    CANCELLED = "cancelled"  # warm: the agent took the caller back (or ``person`` hung up on them)
    ANSWERED = "answered"  # ``person`` took the caller; the agent is out of the call
    FAILED = "failed"  # nobody answered; the caller is back with the agent


@dataclass(frozen=True, slots=True, kw_only=True)
class EscalationUpdate:
    """How an escalation to the line's on-call chain is going, for the agent who started it.

    ``attempts``: (person, what happened) for everyone rung so far, e.g. ("Dr. Smith", "no-answer").
    """

    agent: AgentId
    call: CallId
    status: EscalationStatus
    person: str | None
    attempts: tuple[tuple[str, str], ...]
    at: float


@dataclass(frozen=True, slots=True, kw_only=True)
class EscalationAttempt:
    """One person of an escalation's chain was tried, for the store (the call's attempts).

    ``result``: accepted, no-answer, busy, declined (a key other than 1), voicemail-or-no-key (picked up,
    no key in time), hung-up (picked up, hung up before a key), caller-hung-up, bridge-failed, lost, or
    ``failed: <why>`` (the leg could not be placed). ``round`` and ``step`` count from 1."""

    call: CallId
    person: str
    number: str
    round: int
    step: int
    started_at: float
    ended_at: float
    result: str


@dataclass(frozen=True, slots=True)
class SupervisionChanged:
    """``supervisor`` now supervises ``agent`` on ``call`` in ``mode`` (their phone is being rung or is
    connected), or, with ``mode`` None, no longer does."""

    supervisor: AgentId
    agent: AgentId
    call: CallId
    mode: SupervisionMode | None
    at: float


@dataclass(frozen=True, slots=True)
class TrainingChanged:
    """``agent`` is in training, offered ``per_minute`` practice callers (the shell places them), since
    ``by`` said so; with ``per_minute`` None, no longer."""

    agent: AgentId
    per_minute: float | None
    by: str
    at: float


@dataclass(frozen=True, slots=True)
class LogCall:
    record: CallRecord
    customer: str | None = None  # the customer an agent named for the call (``CustomerNamed``)


PbxCommand = (
    AnswerCall
    | RejectCall
    | OfferCall
    | CancelOffer
    | PromptOnCall
    | ConsultOnCall
    | BridgeCall
    | EndCall
    | AnnouncePosition
    | OfferCallbackChoice
    | TakeMessage
    | DialCustomer
    | HoldCall
    | ResumeCall
    | DropLeg
    | DialNumber
    | RingSupervisor
    | ConnectSupervisor
    | DropSupervisor
)
NoticeCommand = (
    PopScreen
    | WithdrawOffer
    | CallConnected
    | AgentStateChanged
    | LogCall
    | IdentifyCaller
    | CallHeld
    | EscalationUpdate
    | EscalationAttempt
    | SupervisionChanged
    | TrainingChanged
)
Command = PbxCommand | NoticeCommand
# What a console that comes back after a restart is told again (``Router.restated``): the pops of the
# calls live on agents' screens, their connection and hold, the calls their wrap-up forms are for, and
# whom an escalation rings.
Restated = PopScreen | CallConnected | CallHeld | LogCall | EscalationUpdate | TrainingChanged
