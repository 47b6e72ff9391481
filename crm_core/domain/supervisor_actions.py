"""The supervisors' audit trail: each order a supervisor gave and how it ended."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class SupervisorAction:
    """A supervisor's order and how it ended, as the audit trail keeps it."""

    at: datetime
    who: str  # the supervisor's username
    action: str  # e.g. not-ready, logged-out, listen
    target: str  # the agent id (or the call id)
    detail: str | None  # e.g. the pause reason
    outcome: str  # "done", or the error code the supervisor got
