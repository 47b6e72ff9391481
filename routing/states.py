"""Agent and call lifecycles as transition tables: the one place that says what may happen when.

``docs/states.md`` is generated from these tables (``python -m routing.diagram``), not drawn by hand.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

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
    ESCALATION_FAILED = "escalation-failed"  # nobody on call answered: the caller is back with the agent


_C, _CT = CallState, CallTrigger
CALL_TRANSITIONS: Mapping[tuple[CallState, CallTrigger], CallState] = {
    (_C.IDENTIFYING, _CT.IDENTIFIED): _C.WAITING,
    (_C.IDENTIFYING, _CT.VOICEMAIL): _C.MESSAGE,
    (_C.IDENTIFYING, _CT.HANG_UP): _C.ENDED,
    (_C.WAITING, _CT.OFFER): _C.OFFERED,
    (_C.WAITING, _CT.VOICEMAIL): _C.MESSAGE,
    (_C.WAITING, _CT.HANG_UP): _C.ENDED,
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
    (_C.ESCALATING, _CT.VOICEMAIL): _C.MESSAGE,  # nobody answered and the agent had already hung up
    (_C.ESCALATING, _CT.HANG_UP): _C.ENDED,
    (_C.ESCALATING, _CT.BRIDGE_FAILED): _C.ENDED,
    (_C.MESSAGE, _CT.HANG_UP): _C.ENDED,
}


def next_agent_state(subject: str, state: AgentState, trigger: AgentTrigger) -> AgentState:
    try:
        return AGENT_TRANSITIONS[(state, trigger)]
    except KeyError:
        raise IllegalTransition(subject, state, trigger) from None


def next_call_state(subject: str, state: CallState, trigger: CallTrigger) -> CallState:
    try:
        return CALL_TRANSITIONS[(state, trigger)]
    except KeyError:
        raise IllegalTransition(subject, state, trigger) from None
