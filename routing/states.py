"""Agent, call, offer and supervision lifecycles as transition tables: the one place that says what
may happen when. The router's records (``routing.book``) change state only through these tables.

``docs/states.md`` is generated from these tables (``python -m routing.diagram``), not drawn by hand.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import TypeVar

from routing.errors import IllegalTransition


class AgentState(enum.StrEnum):
    LOGGED_OUT = "logged-out"
    READY = "ready"
    RINGING = "ringing"  # reserved: a call is being offered to this agent's phone
    ON_CALL = "on-call"
    WRAP_UP = "wrap-up"  # after-call work: not offered calls, back to ready when it is over
    NOT_READY = "not-ready"  # always with a reason: break, lunch, ring-no-answer, ...


class AgentTrigger(enum.StrEnum):
    LOG_IN = "log-in"
    READY = "ready"
    PAUSE = "pause"
    LOG_OUT = "log-out"
    OFFER = "offer"
    ANSWER = "answer"
    OFFER_WITHDRAWN = "offer-withdrawn"  # the caller left or another agent answered; not this agent's doing
    MISSED = "missed"  # an offer rang out, but the queue tolerates more misses before a pause
    NO_ANSWER = "no-answer"  # the phone rang out, was busy or rejected once too often: pause
    CALL_END = "call-end"  # the call is over and the queue has after-call work
    CALL_END_READY = "call-end-ready"  # the call is over and the queue has no after-call work
    EXTEND_WRAP_UP = "extend-wrap-up"
    WRAP_UP_DONE = "wrap-up-done"
    PAUSE_OVER = "pause-over"  # a timed ring-no-answer pause ran out
    CALL_CONTROL = "call-control"  # hold, resume, transfer, escalate: the agent's own call, from the console


_A, _AT = AgentState, AgentTrigger
AGENT_TRANSITIONS: Mapping[tuple[AgentState, AgentTrigger], AgentState] = {
    (_A.LOGGED_OUT, _AT.LOG_IN): _A.NOT_READY,
    (_A.LOGGED_OUT, _AT.LOG_OUT): _A.LOGGED_OUT,
    (_A.NOT_READY, _AT.LOG_IN): _A.NOT_READY,  # a second tab logging in changes nothing
    (_A.NOT_READY, _AT.READY): _A.READY,
    (_A.NOT_READY, _AT.PAUSE): _A.NOT_READY,  # a new reason starts a new interval
    (_A.NOT_READY, _AT.LOG_OUT): _A.LOGGED_OUT,
    (_A.NOT_READY, _AT.PAUSE_OVER): _A.READY,
    (_A.READY, _AT.LOG_IN): _A.READY,
    (_A.READY, _AT.READY): _A.READY,
    (_A.READY, _AT.PAUSE): _A.NOT_READY,
    (_A.READY, _AT.LOG_OUT): _A.LOGGED_OUT,
    (_A.READY, _AT.OFFER): _A.RINGING,
    (_A.RINGING, _AT.LOG_IN): _A.RINGING,
    (_A.RINGING, _AT.ANSWER): _A.ON_CALL,
    (_A.RINGING, _AT.OFFER_WITHDRAWN): _A.READY,
    (_A.RINGING, _AT.MISSED): _A.READY,
    (_A.RINGING, _AT.NO_ANSWER): _A.NOT_READY,
    # Declining by going not-ready or logging out while the phone rings: the call keeps its place.
    (_A.RINGING, _AT.PAUSE): _A.NOT_READY,
    (_A.RINGING, _AT.LOG_OUT): _A.LOGGED_OUT,
    (_A.ON_CALL, _AT.LOG_IN): _A.ON_CALL,
    (_A.ON_CALL, _AT.CALL_END): _A.WRAP_UP,
    (_A.ON_CALL, _AT.CALL_END_READY): _A.READY,
    (_A.ON_CALL, _AT.CALL_CONTROL): _A.ON_CALL,  # a transfer then ends the agent's part like a call end
    (_A.WRAP_UP, _AT.LOG_IN): _A.WRAP_UP,
    (_A.WRAP_UP, _AT.EXTEND_WRAP_UP): _A.WRAP_UP,
    (_A.WRAP_UP, _AT.WRAP_UP_DONE): _A.READY,
    (_A.WRAP_UP, _AT.READY): _A.READY,  # done early
    (_A.WRAP_UP, _AT.PAUSE): _A.NOT_READY,
    (_A.WRAP_UP, _AT.LOG_OUT): _A.LOGGED_OUT,
}


class CallState(enum.StrEnum):
    IDENTIFYING = "identifying"  # waiting (briefly) for the customer store's word on the caller
    WAITING = "waiting"
    OFFERED = "offered"  # ringing one agent, every agent of a ring-all queue, or an on-call person
    DIALING = "dialing"  # a callback: the agent took it, the customer's phone is being dialed
    CONNECTED = "connected"
    HELD = "held"  # connected, but the agent put the caller on hold (music for the caller)
    ESCALATING = "escalating"  # the caller on hold while the line's on-call people are rung in turn
    MESSAGE = "message"  # leaving a voicemail
    ENDED = "ended"


class CallTrigger(enum.StrEnum):
    IDENTIFY = "identify"  # on arrival: the queue ranks callers by their profile, so the store is asked first
    IDENTIFIED = "identified"
    OFFER = "offer"
    OFFER_LOST = "offer-lost"
    ANSWER = "answer"
    AGENT_TOOK_CALLBACK = "agent-took-callback"
    CUSTOMER_ANSWER = "customer-answer"
    VOICEMAIL = "voicemail"
    HANG_UP = "hang-up"  # whoever hangs up, or the system ends it
    BRIDGE_FAILED = "bridge-failed"
    HOLD = "hold"
    RESUME = "resume"
    TRANSFER = "transfer"  # the agent lets go: the caller waits again (a queue, an agent, a number)
    ESCALATE = "escalate"
    ESCALATION_FAILED = "escalation-failed"  # nobody on call accepted: the caller is back with the agent
    RING_ON_CALL = "ring-on-call"  # a closed line rings its on-call people, each of whom must accept
    TAKE_BACK = "take-back"  # a warm patch called off (by the agent, or the person hung up): caller is back


_C, _CT = CallState, CallTrigger
CALL_TRANSITIONS: Mapping[tuple[CallState, CallTrigger], CallState] = {
    (_C.WAITING, _CT.IDENTIFY): _C.IDENTIFYING,
    (_C.IDENTIFYING, _CT.IDENTIFIED): _C.WAITING,
    (_C.IDENTIFYING, _CT.VOICEMAIL): _C.MESSAGE,
    (_C.IDENTIFYING, _CT.HANG_UP): _C.ENDED,
    (_C.WAITING, _CT.OFFER): _C.OFFERED,
    (_C.WAITING, _CT.VOICEMAIL): _C.MESSAGE,
    (_C.WAITING, _CT.HANG_UP): _C.ENDED,
    (_C.WAITING, _CT.RING_ON_CALL): _C.ESCALATING,  # after hours: nobody has spoken to the caller yet
    (_C.OFFERED, _CT.OFFER_LOST): _C.WAITING,
    (_C.OFFERED, _CT.ANSWER): _C.CONNECTED,
    (_C.OFFERED, _CT.AGENT_TOOK_CALLBACK): _C.DIALING,
    (_C.OFFERED, _CT.HANG_UP): _C.ENDED,
    (_C.DIALING, _CT.CUSTOMER_ANSWER): _C.CONNECTED,
    (_C.DIALING, _CT.HANG_UP): _C.ENDED,
    (_C.CONNECTED, _CT.HANG_UP): _C.ENDED,
    (_C.CONNECTED, _CT.BRIDGE_FAILED): _C.ENDED,
    (_C.CONNECTED, _CT.HOLD): _C.HELD,
    (_C.CONNECTED, _CT.TRANSFER): _C.WAITING,
    (_C.CONNECTED, _CT.ESCALATE): _C.ESCALATING,
    (_C.HELD, _CT.RESUME): _C.CONNECTED,
    (_C.HELD, _CT.TRANSFER): _C.WAITING,
    (_C.HELD, _CT.ESCALATE): _C.ESCALATING,
    (_C.HELD, _CT.HANG_UP): _C.ENDED,
    (_C.HELD, _CT.BRIDGE_FAILED): _C.ENDED,
    (_C.ESCALATING, _CT.ANSWER): _C.CONNECTED,  # to the on-call person; the agent is out of the call
    (_C.ESCALATING, _CT.ESCALATION_FAILED): _C.CONNECTED,
    (_C.ESCALATING, _CT.TAKE_BACK): _C.CONNECTED,  # a warm patch called off: the caller back with the agent
    (_C.ESCALATING, _CT.VOICEMAIL): _C.MESSAGE,  # nobody answered and the agent had already hung up
    (_C.ESCALATING, _CT.HANG_UP): _C.ENDED,
    (_C.ESCALATING, _CT.BRIDGE_FAILED): _C.ENDED,
    (_C.MESSAGE, _CT.HANG_UP): _C.ENDED,
}

# The groups of call states the router asks about.
QUEUED = (_C.IDENTIFYING, _C.WAITING, _C.OFFERED)  # in a queue: the maximum wait and the rules apply
IN_LINE = (_C.IDENTIFYING, _C.WAITING)  # waiting in a queue's line, not ringing anyone
TALKING = (_C.CONNECTED, _C.HELD, _C.ESCALATING)  # answered, the caller still on the line
SUPERVISABLE = (_C.CONNECTED, _C.HELD)  # an agent and a caller on a call, nothing else going on
# An agent whose phone may be rung for a call, or is on one: they may not supervise now.
PHONE_BUSY = (AgentState.READY, AgentState.RINGING, AgentState.ON_CALL)


class OfferState(enum.StrEnum):
    PLACED = "placed"  # the leg is being dialed (an on-call person's or an outside number stays here)
    RINGING = "ringing"  # the agent's phone rings and their screen has popped
    # An on-call person picked up: they hear who the call is for and must press 1 to take it (answering
    # is not accepting: a voicemail pickup never presses 1).
    PROMPTED = "prompted"
    # A warm-patch person pressed 1 while the agent is on the line: they talk with the agent, who announces
    # the caller (on hold meanwhile), then connects them or takes the caller back.
    CONSULTED = "consulted"
    ANSWERED = "answered"  # picked up; the leg ending now means the agent (or on-call person) hung up
    MISSED = "missed"  # nobody took it: rang out, busy, failed, declined, or past the router's deadline
    WITHDRAWN = "withdrawn"  # stopped for a reason not the agent's: the caller left, another phone answered
    ENDED = "ended"  # the answered leg is over: the call ended, or the agent handed the caller on


class OfferTrigger(enum.StrEnum):
    RING = "ring"
    PICK_UP = "pick-up"  # an escalation's on-call leg answered: the person is prompted for the key
    ANSWER = "answer"  # picked up by an agent, or accepted (key 1) by an on-call person
    CONSULT = "consult"  # a warm-patch person accepted: the agent speaks with them first
    NO_ANSWER = "no-answer"
    WITHDRAW = "withdraw"
    END = "end"


_O, _OT = OfferState, OfferTrigger
OFFER_TRANSITIONS: Mapping[tuple[OfferState, OfferTrigger], OfferState] = {
    (_O.PLACED, _OT.RING): _O.RINGING,
    (_O.PLACED, _OT.ANSWER): _O.ANSWERED,
    (_O.PLACED, _OT.NO_ANSWER): _O.MISSED,
    (_O.PLACED, _OT.WITHDRAW): _O.WITHDRAWN,
    (_O.RINGING, _OT.ANSWER): _O.ANSWERED,
    (_O.RINGING, _OT.NO_ANSWER): _O.MISSED,
    (_O.RINGING, _OT.WITHDRAW): _O.WITHDRAWN,
    (_O.PLACED, _OT.PICK_UP): _O.PROMPTED,
    (_O.PROMPTED, _OT.ANSWER): _O.ANSWERED,
    (_O.PROMPTED, _OT.NO_ANSWER): _O.MISSED,  # another key, no key in time, or hung up: not accepted
    (_O.PROMPTED, _OT.WITHDRAW): _O.WITHDRAWN,
    (_O.PROMPTED, _OT.CONSULT): _O.CONSULTED,
    (_O.CONSULTED, _OT.ANSWER): _O.ANSWERED,  # the agent connects the caller to them
    (_O.CONSULTED, _OT.END): _O.ENDED,  # the agent took the caller back, or the person hung up
    (_O.CONSULTED, _OT.WITHDRAW): _O.WITHDRAWN,  # the caller hung up meanwhile
    (_O.ANSWERED, _OT.END): _O.ENDED,
}


class SupervisionState(enum.StrEnum):
    RINGING = "ringing"  # the supervisor's own phone rings
    CONNECTED = "connected"  # answered: the supervisor hears the call (and, whispering or barging, speaks)
    ENDED = "ended"


class SupervisionTrigger(enum.StrEnum):
    ANSWER = "answer"
    # From the console, the supervisor's phone hanging up, the agent's stretch of the call ending, or the
    # supervisor becoming ready for calls (their phone is needed).
    END = "end"


_V, _VT = SupervisionState, SupervisionTrigger
SUPERVISION_TRANSITIONS: Mapping[tuple[SupervisionState, SupervisionTrigger], SupervisionState] = {
    (_V.RINGING, _VT.ANSWER): _V.CONNECTED,
    (_V.RINGING, _VT.END): _V.ENDED,
    (_V.CONNECTED, _VT.END): _V.ENDED,
}


S = TypeVar("S", bound=enum.StrEnum)
T = TypeVar("T", bound=enum.StrEnum)


def next_state(table: Mapping[tuple[S, T], S], subject: str, state: S, trigger: T) -> S:
    """The state ``table`` gives for ``trigger`` in ``state``; ``IllegalTransition`` if it gives none."""
    try:
        return table[(state, trigger)]
    except KeyError:
        raise IllegalTransition(subject, state, trigger) from None


def next_agent_state(subject: str, state: AgentState, trigger: AgentTrigger) -> AgentState:
    return next_state(AGENT_TRANSITIONS, subject, state, trigger)


def next_call_state(subject: str, state: CallState, trigger: CallTrigger) -> CallState:
    return next_state(CALL_TRANSITIONS, subject, state, trigger)


def next_offer_state(subject: str, state: OfferState, trigger: OfferTrigger) -> OfferState:
    return next_state(OFFER_TRANSITIONS, subject, state, trigger)


def next_supervision_state(
    subject: str, state: SupervisionState, trigger: SupervisionTrigger
) -> SupervisionState:
    return next_state(SUPERVISION_TRANSITIONS, subject, state, trigger)
