"""``RouterReader``: what the readers of live state (the wallboard, the console, ``/metrics``) may ask the
router, so they depend on these few questions and not on the ``Router`` class. The method names are the
router's own; ``routing.router.Router`` is the one implementation, and a test's fake can be another.

Reading only: everything that changes the router goes through the runtime's queue (``ask``/``submit``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from routing.commands import TrainingChanged
from routing.ids import AgentId, CallId, QueueId
from routing.views import AgentView, CallView


class RouterReader(Protocol):
    def agent_view(self, agent: AgentId) -> AgentView: ...

    def call_view(self, call: CallId) -> CallView | None:
        """A call in progress; None once it is over."""
        ...

    def waiting(self, queue: QueueId) -> Sequence[CallId]:
        """Calls waiting in ``queue`` (not ringing anyone), first in line first."""
        ...

    def trainees(self) -> list[TrainingChanged]:
        """Who is in training (issue 17), at what rate, since when and on whose word."""
        ...

    @property
    def active_calls(self) -> int: ...
