"""Errors of the routing core.

RoutingError
├── IllegalTransition      an event that the state table does not allow in the current state (also a
│                          supervision, a move or a to-front that is not allowed now)
├── UnknownAgent           an agent id that is not in the plan (also a transfer's target, a supervisor)
├── UnknownReason          a not-ready reason code that is not in the plan
├── UnknownQueue           a transfer or a move to a queue that is not in the plan
├── AgentNotReady          a transfer to an agent who is not ready for a call
├── NoOnCall               an escalation on a line that has no on-call chain
├── NoWarmPatch            connect caller / back to caller with no on-call person on the line to the agent
├── NotInTraining          training ended for an agent who is not in training
├── AgentInTraining        a real caller transferred to an agent in training
└── TrainingCallKept       a training call sent anywhere but to a trainee (a queue, a number, on-call)
"""

from __future__ import annotations


class RoutingError(Exception):
    """Root of every error the router raises; the router's state is unchanged when one is raised."""


class IllegalTransition(RoutingError):
    def __init__(self, subject: str, state: str, trigger: str) -> None:
        super().__init__(f"{subject}: {str(trigger)!r} is not allowed in state {str(state)!r}")
        self.subject = subject
        self.state = state
        self.trigger = trigger


class UnknownAgent(RoutingError):
    def __init__(self, agent: str) -> None:
        super().__init__(f"unknown agent {agent!r}")
        self.agent = agent


class UnknownReason(RoutingError):
    def __init__(self, reason: str) -> None:
        super().__init__(f"unknown not-ready reason {reason!r}")
        self.reason = reason


class UnknownQueue(RoutingError):
    def __init__(self, queue: str) -> None:
        super().__init__(f"unknown queue {queue!r}")
        self.queue = queue


class AgentNotReady(RoutingError):
    def __init__(self, agent: str, state: str) -> None:
        super().__init__(f"agent {agent!r} is {str(state)!r}, not ready for a call")
        self.agent = agent
        self.state = state


class NoOnCall(RoutingError):
    def __init__(self, line: str) -> None:
        super().__init__(f"line {line!r} has no on-call chain")
        self.line = line


class NoWarmPatch(RoutingError):
    def __init__(self, call: str) -> None:
        super().__init__(f"call {call!r} has no on-call person waiting to be connected")
        self.call = call


class NotInTraining(RoutingError):
    def __init__(self, agent: str) -> None:
        super().__init__(f"agent {agent!r} is not in training")
        self.agent = agent


class AgentInTraining(RoutingError):
    """Real callers never reach a trainee: the trainee's calls are practice ones only."""

    def __init__(self, agent: str) -> None:
        super().__init__(f"agent {agent!r} is in training: offered practice callers only")
        self.agent = agent


class TrainingCallKept(RoutingError):
    """A practice caller stays with trainees: a queue, an outside number or the on-call chain would ring
    real agents or real people with a simulated caller, and count the call in their figures."""

    def __init__(self, call: str, target: str) -> None:
        super().__init__(f"call {call!r} is a training call: it cannot go to {target} (trainees only)")
        self.call = call
        self.target = target
