"""Which calls are practice: a simulated caller's, never a real customer's (issue 17).

``switchboard demo`` runs the whole service on simulated callers: every call it logs is a demo call. An
agent in training (``routing.training``, ``switchboard.training``) gets practice callers only, in ``serve``
as in a demo: the router marks their calls' records ``training``. The call log keeps the mark
(``calls.practice``) and the reports, the wallboard's counts and every service level leave those calls out.
``bootstrap`` hands one ``Classify`` to the call recorder and the wallboard, so the two always agree on
what is practice.
"""

from __future__ import annotations

from collections.abc import Callable

from crm_core.domain.calls import Practice
from routing.records import CallRecord

Classify = Callable[[CallRecord], Practice | None]


def real_calls(record: CallRecord) -> Practice | None:
    """``switchboard serve``: every call is a real caller's, but a trainee's practice callers."""
    return Practice.TRAINING if record.training else None


def demo_calls(record: CallRecord) -> Practice | None:
    """``switchboard demo``: every caller is simulated; a trainee's practice callers are marked as such."""
    return Practice.TRAINING if record.training else Practice.DEMO


def counted(classify: Classify) -> Callable[[CallRecord], bool]:
    """Whether a call counts in figures: real calls only."""
    return lambda record: classify(record) is None
