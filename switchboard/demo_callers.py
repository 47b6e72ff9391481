"""``switchboard demo``'s simulated callers: who calls, on which number, when, and what happens on the call.

Pure and deterministic: the same seed gives the same callers, in the same order, with the same timing
and the same script (a test holds it to that). The numbers are the store's customers' (so the pops show
a known customer) and, for a share of the calls, numbers nobody in the store has (an unknown caller's
pop). Arrivals are a Poisson process at ``rate_per_min``, but the first caller dials at once (a new user
sees a call within seconds, whatever the rate); each caller brings a script: how long they talk,
whether the agent puts them on hold, whether the agent transfers them, and how long they wait for an
agent before hanging up.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from routing.ids import CallId

UNKNOWN_SHARE = 0.2  # of the callers: a number the store does not know
FIRST_AFTER_S = 1.0  # the first caller: once the agents are in


@dataclass(frozen=True, slots=True)
class Known:
    """A customer's number the callers are drawn from."""

    number: str  # E.164
    name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Caller:
    """One simulated call."""

    call: CallId
    after_s: float  # since the caller before
    did: str
    number: str
    name: str | None  # caller id name; None: not presented (an unknown caller)
    talk_s: float  # once an agent has them, until the call ends (hold included)
    hold: bool  # the agent puts them on hold for a moment
    transfer: bool  # the agent passes them on to another queue instead of ending the call
    patience_s: float  # how long they wait for an agent before hanging up


class Callers:
    """The callers in arrival order; ``next_caller`` is given the numbers open for calls at that moment."""

    def __init__(
        self, known: Sequence[Known], *, rate_per_min: float, seed: int = 0, prefix: str = "demo"
    ) -> None:
        if rate_per_min <= 0:
            raise ValueError(f"the rate must be above zero, got {rate_per_min}")
        self._known = tuple(known)
        self._rate_per_s = rate_per_min / 60.0
        self._random = random.Random(seed)
        self._prefix = prefix
        self._count = 0

    def next_caller(self, dids: Sequence[str]) -> Caller:
        """The next caller, who dials one of ``dids`` (at least one)."""
        if not dids:
            raise ValueError("no number to call")
        r = self._random
        self._count += 1
        after_s = r.expovariate(self._rate_per_s) if self._count > 1 else FIRST_AFTER_S
        did = dids[r.randrange(len(dids))]
        if self._known and r.random() >= UNKNOWN_SHARE:
            known = self._known[r.randrange(len(self._known))]
            number, name = known.number, known.name
        else:
            number, name = f"+1202555{r.randrange(100, 200):04d}", None  # 555-0100..0199: fictional
        return Caller(
            call=CallId(f"{self._prefix}-{self._count:06d}"), after_s=after_s, did=did, number=number,
            name=name, talk_s=r.uniform(10.0, 30.0), hold=r.random() < 0.4, transfer=r.random() < 0.15,
            patience_s=r.uniform(45.0, 120.0),
        )  # fmt: skip
