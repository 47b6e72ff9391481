"""What the router reports about a finished call: one row of the call log."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from routing.ids import AgentId, CallId, LineId, QueueId


class Outcome(enum.StrEnum):
    ANSWERED = "answered"
    ABANDONED = "abandoned"  # the caller hung up while waiting or while an agent's phone rang
    NO_AGENT = "no-agent"  # the call left without an agent: unknown number, max wait reached, failure
    VOICEMAIL = "voicemail"  # the caller was sent to leave a message
    CALLBACK = "callback"  # the caller chose to be called back; the callback is a call of its own
    UNREACHED = "unreached"  # a callback the customer did not pick up
    TRANSFERRED = "transferred"  # the agent passed the caller on (a queue, an agent, a number, on-call)


class Party(enum.StrEnum):
    CALLER = "caller"
    AGENT = "agent"
    SYSTEM = "system"


class EndReason(enum.StrEnum):
    """Why a call ended, where its end was not seen as it happened (None in the record: it was seen)."""

    PBX_RESTART = "pbx-restart"  # Asterisk restarted under the call: it died with the PBX, not by a hangup
    UNSEEN = "unseen"  # found gone after the service was down or cut off; it ended by then, at the latest


@dataclass(frozen=True, slots=True, kw_only=True)
class CallRecord:
    call: CallId
    did: str
    source: str | None
    line: LineId | None
    line_name: str | None
    queue: QueueId | None
    caller_number: str | None
    caller_name: str | None
    agent: AgentId | None
    arrived_at: float
    answered_at: float | None
    ended_at: float
    outcome: Outcome
    hung_up_by: Party
    offers: int  # how many agent phones were rung for this call
    priority: int = 0
    after_hours: bool = False
    on_call: str | None = None  # the on-call person who took an after-hours call
    recording: str | None = None  # the message left, for voicemail
    callback_of: CallId | None = None  # for a callback: the call whose caller asked for it
    part_of: CallId | None = None  # for an agent's stretch of a transferred call: that call (ids.segment_id)
    end_reason: EndReason | None = None
    training: bool = False  # a practice caller's call, placed for a trainee (issue 17): counted nowhere

    @property
    def wait_s(self) -> float:
        """Time in queue: until an agent answered, or until the call ended unanswered."""
        return (self.answered_at if self.answered_at is not None else self.ended_at) - self.arrived_at

    @property
    def talk_s(self) -> float:
        return 0.0 if self.answered_at is None else self.ended_at - self.answered_at
