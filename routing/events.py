"""What happened: the router's input. Frozen, past tense, every one stamped with ``at`` (Unix seconds)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from routing.ids import AgentId, CallId, OfferId, SupervisorLegId
from routing.plan import OnCallStep
from routing.records import EndReason


@dataclass(frozen=True, slots=True)
class CallArrived:
    call: CallId
    did: str  # E.164 when it could be parsed, else as dialed
    caller_number: str | None  # E.164 when it could be parsed, else as presented, None if withheld
    caller_name: str | None
    at: float


@dataclass(frozen=True, slots=True)
class CallerHungUp:
    call: CallId
    at: float


@dataclass(frozen=True, slots=True)
class CallGone:
    """The caller's channel was found gone on a (re)connect to the PBX: nobody saw it end. ``reason``
    says why: the PBX restarted under it (ended by the system), or it ended while nobody watched."""

    call: CallId
    at: float
    reason: EndReason


@dataclass(frozen=True, slots=True)
class OfferRinging:
    offer: OfferId
    at: float


@dataclass(frozen=True, slots=True)
class OfferAnswered:
    offer: OfferId
    at: float


@dataclass(frozen=True, slots=True)
class OfferEnded:
    """The agent leg is gone: rang out, busy, rejected, or hung up after answering."""

    offer: OfferId
    at: float


@dataclass(frozen=True, slots=True)
class OfferLost:
    """The agent leg was found gone when the PBX was looked at again (after a restart of ours or a
    reconnect): what became of it went unseen, so it is not held against the agent."""

    offer: OfferId
    at: float


@dataclass(frozen=True, slots=True)
class OfferFailed:
    """The PBX could not place the agent leg at all (e.g. an endpoint that does not exist)."""

    offer: OfferId
    reason: str
    at: float


@dataclass(frozen=True, slots=True)
class BridgeFailed:
    call: CallId
    reason: str
    at: float


@dataclass(frozen=True, slots=True)
class LegKeyPressed:
    """A key was pressed on a leg the router dialled (an on-call person's: 1 accepts the caller)."""

    offer: OfferId
    digit: str
    at: float


@dataclass(frozen=True, slots=True)
class CallerIdentified:
    """The customer store's answer about the caller, for priority and sticky routing.

    ``last_agent`` served the caller's last answered call, which ended at ``last_call_at``.
    """

    call: CallId
    tier: str | None
    last_agent: AgentId | None
    last_call_at: float | None
    at: float


@dataclass(frozen=True, slots=True)
class CallbackRequested:
    """The waiting caller pressed the key to be called back instead of waiting."""

    call: CallId
    at: float


@dataclass(frozen=True, slots=True)
class CustomerAnswered:
    """The customer picked up the callback the system dialed (``call`` is that leg's id)."""

    call: CallId
    at: float


@dataclass(frozen=True, slots=True)
class AgentLoggedIn:
    agent: AgentId
    at: float


@dataclass(frozen=True, slots=True)
class AgentBecameReady:
    agent: AgentId
    at: float


@dataclass(frozen=True, slots=True)
class AgentPaused:
    agent: AgentId
    reason: str
    at: float


@dataclass(frozen=True, slots=True)
class AgentLoggedOut:
    agent: AgentId
    at: float


@dataclass(frozen=True, slots=True)
class WrapUpExtended:
    agent: AgentId
    by_s: float
    at: float


@dataclass(frozen=True, slots=True)
class WrapUpSaved:
    """The agent saved the wrap-up of ``call`` (the logged id: a stretch's own) from the console."""

    agent: AgentId
    call: CallId
    at: float


# --- from the agent's console, during a call ------------------------------------------------------
@dataclass(frozen=True, slots=True)
class AgentHungUp:
    """The agent ends their call from the console (the phone's own hang-up arrives as ``OfferEnded``)."""

    agent: AgentId
    at: float


@dataclass(frozen=True, slots=True)
class HoldRequested:
    agent: AgentId
    at: float


@dataclass(frozen=True, slots=True)
class ResumeRequested:
    agent: AgentId
    at: float


class TransferKind(enum.StrEnum):
    QUEUE = "queue"  # target: a queue id; the caller waits there like a new arrival of that queue
    AGENT = "agent"  # target: an agent id, who must be ready
    NUMBER = "number"  # target: an outside number (E.164 once the shell has normalised it)


@dataclass(frozen=True, slots=True)
class TransferRequested:
    """A blind transfer: the agent lets go of the caller, who goes to ``target``."""

    agent: AgentId
    kind: TransferKind
    target: str
    at: float


@dataclass(frozen=True, slots=True)
class EscalationRequested:
    """The answering service escalates the caller to the on-call chain: ``chain`` as the shell resolved
    it from the business's on-call schedule when the agent asked (who is on call now in each tier, in
    tier order), so a replay rings the same people; empty: the line's own chain from the config."""

    agent: AgentId
    at: float
    chain: tuple[OnCallStep, ...] = ()


@dataclass(frozen=True, slots=True)
class WarmPatchDecided:
    """The agent, having announced the caller to the on-call person who accepted (a warm patch), connects
    them (``connect``: the agent drops out) or takes the caller back (the person's leg is hung up)."""

    agent: AgentId
    at: float
    connect: bool


# --- from a supervisor's console, and their phone -------------------------------------------------
class SupervisionMode(enum.StrEnum):
    LISTEN = "listen"  # the supervisor hears the agent and the caller; nobody hears the supervisor
    WHISPER = "whisper"  # as listen, and the agent (only) hears the supervisor
    BARGE = "barge"  # the supervisor joins the call: all three hear each other


@dataclass(frozen=True, slots=True)
class SupervisionRequested:
    """A supervisor asks to listen to, whisper to or barge into ``agent``'s call, on their own phone
    (the endpoint of the agent id ``supervisor`` their user acts as)."""

    supervisor: AgentId
    agent: AgentId
    mode: SupervisionMode
    at: float


@dataclass(frozen=True, slots=True)
class SupervisionEnded:
    """The supervisor stops supervising from the console (their phone's own hang-up is
    ``SupervisorLegEnded``)."""

    supervisor: AgentId
    at: float


@dataclass(frozen=True, slots=True)
class SupervisorAnswered:
    """The supervisor picked up the phone the router rang for a supervision (``leg``)."""

    leg: SupervisorLegId
    at: float


@dataclass(frozen=True, slots=True)
class SupervisorLegEnded:
    """The supervisor's leg is gone: hung up, rang out, or could not be placed."""

    leg: SupervisorLegId
    at: float


@dataclass(frozen=True, slots=True)
class CallMoved:
    """A supervisor moves a waiting call to ``queue`` (checked against the plan)."""

    call: CallId
    queue: str
    at: float


@dataclass(frozen=True, slots=True)
class CallPrioritised:
    """A supervisor puts a waiting call at the front of its queue."""

    call: CallId
    at: float


# --- training (issue 17): a supervisor puts an agent on simulated calls only --------------------------
@dataclass(frozen=True, slots=True)
class TrainingStarted:
    """Supervisor ``by`` puts ``agent`` in training: offered practice callers only (``per_minute`` of
    them, placed by the shell), and no real caller until ``TrainingEnded``. Again: the rate changes."""

    agent: AgentId
    by: str
    per_minute: float
    at: float


@dataclass(frozen=True, slots=True)
class TrainingEnded:
    agent: AgentId
    by: str
    at: float


@dataclass(frozen=True, slots=True, kw_only=True)
class TrainingCallArrived:
    """A practice caller placed for ``trainee`` has come in on ``did`` (a number of the plan: its line and
    queue are what the trainee's screen shows). Offered to that trainee alone; never counted."""

    call: CallId
    did: str
    trainee: AgentId
    caller_number: str | None
    caller_name: str | None
    at: float


@dataclass(frozen=True, slots=True)
class CustomerNamed:
    """The agent said who the caller is: picked among the customers sharing the caller's number, or
    attached any customer. ``customer`` is the store's id of that customer, as text."""

    call: CallId
    agent: AgentId
    customer: str
    at: float


@dataclass(frozen=True, slots=True)
class Tick:
    at: float


Event = (
    CallArrived
    | CallerHungUp
    | CallGone
    | OfferRinging
    | OfferAnswered
    | OfferEnded
    | OfferLost
    | OfferFailed
    | LegKeyPressed
    | BridgeFailed
    | CallerIdentified
    | CallbackRequested
    | CustomerAnswered
    | AgentLoggedIn
    | AgentBecameReady
    | AgentPaused
    | AgentLoggedOut
    | WrapUpExtended
    | WrapUpSaved
    | AgentHungUp
    | HoldRequested
    | ResumeRequested
    | TransferRequested
    | EscalationRequested
    | WarmPatchDecided
    | SupervisionRequested
    | SupervisionEnded
    | SupervisorAnswered
    | SupervisorLegEnded
    | CallMoved
    | CallPrioritised
    | CustomerNamed
    | TrainingStarted
    | TrainingEnded
    | TrainingCallArrived
    | Tick
)
