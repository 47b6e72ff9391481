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
    NOT_READY = "not-ready"  # always with a reason: break, lunch, ring-no-answer, ...


class AgentTrigger(enum.StrEnum):
    LOG_IN = "log-in"
    READY = "ready"
    PAUSE = "pause"
    LOG_OUT = "log-out"
    OFFER = "offer"
    ANSWER = "answer"
    OFFER_WITHDRAWN = "offer-withdrawn"  # the caller left or the system gave up; not the agent's doing
    NO_ANSWER = "no-answer"  # the phone rang out, was busy or rejected
    CALL_END = "call-end"


_A, _AT = AgentState, AgentTrigger
AGENT_TRANSITIONS: Mapping[tuple[AgentState, AgentTrigger], AgentState] = {
    (_A.LOGGED_OUT, _AT.LOG_IN): _A.NOT_READY,
    (_A.LOGGED_OUT, _AT.LOG_OUT): _A.LOGGED_OUT,
    (_A.NOT_READY, _AT.LOG_IN): _A.NOT_READY,  # a second tab logging in changes nothing
    (_A.NOT_READY, _AT.READY): _A.READY,
    (_A.NOT_READY, _AT.PAUSE): _A.NOT_READY,  # a new reason starts a new interval
    (_A.NOT_READY, _AT.LOG_OUT): _A.LOGGED_OUT,
    (_A.READY, _AT.LOG_IN): _A.READY,
    (_A.READY, _AT.READY): _A.READY,
    (_A.READY, _AT.PAUSE): _A.NOT_READY,
    (_A.READY, _AT.LOG_OUT): _A.LOGGED_OUT,
    (_A.READY, _AT.OFFER): _A.RINGING,
    (_A.RINGING, _AT.LOG_IN): _A.RINGING,
    (_A.RINGING, _AT.ANSWER): _A.ON_CALL,
    (_A.RINGING, _AT.OFFER_WITHDRAWN): _A.READY,
    (_A.RINGING, _AT.NO_ANSWER): _A.NOT_READY,
    (_A.ON_CALL, _AT.LOG_IN): _A.ON_CALL,
    (_A.ON_CALL, _AT.CALL_END): _A.READY,
}


class CallState(enum.StrEnum):
    WAITING = "waiting"
    OFFERED = "offered"
    CONNECTED = "connected"
    ENDED = "ended"


class CallTrigger(enum.StrEnum):
    OFFER = "offer"
    RING = "ring"
    OFFER_LOST = "offer-lost"
    ANSWER = "answer"
    HANG_UP = "hang-up"
    MAX_WAIT = "max-wait"
    BRIDGE_FAILED = "bridge-failed"


_C, _CT = CallState, CallTrigger
CALL_TRANSITIONS: Mapping[tuple[CallState, CallTrigger], CallState] = {
    (_C.WAITING, _CT.OFFER): _C.OFFERED,
    (_C.WAITING, _CT.HANG_UP): _C.ENDED,
    (_C.WAITING, _CT.MAX_WAIT): _C.ENDED,
    (_C.OFFERED, _CT.RING): _C.OFFERED,
    (_C.OFFERED, _CT.OFFER_LOST): _C.WAITING,
    (_C.OFFERED, _CT.ANSWER): _C.CONNECTED,
    (_C.OFFERED, _CT.HANG_UP): _C.ENDED,
    (_C.OFFERED, _CT.MAX_WAIT): _C.ENDED,
    (_C.CONNECTED, _CT.HANG_UP): _C.ENDED,
    (_C.CONNECTED, _CT.BRIDGE_FAILED): _C.ENDED,
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
