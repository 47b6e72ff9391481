"""The figures of bench/sip_latency.py, from SIPp's own logs of each call (tests/integration/sip/harness).

A call is known by its caller's number, unique within a run: the caller's SIPp logs when it sent the
INVITE (``invite-sent``), and the phones' SIPp logs each INVITE that reaches a desk phone with the
caller's number in its From header (``invite``), then ``answer``. Both clocks are this machine's
(``gettimeofday``, microseconds), so the difference is the time Asterisk (and Switchboard) took to ring
the chosen agent's phone.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.integration.sip.harness import Step


@dataclass
class CallTimes:
    """One call of a run, on the machine's clock (seconds since the epoch)."""

    number: str
    invite: float  # the caller sent its INVITE
    ring: float | None = None  # the first INVITE to reach an agent's phone for this call
    phone: str | None = None
    answered: bool = False  # that phone answered: the call was served
    pop: float | None = None  # the offer naming this call was read from the agent's websocket

    @property
    def ring_ms(self) -> float | None:
        return None if self.ring is None else (self.ring - self.invite) * 1000

    @property
    def pop_ms(self) -> float | None:
        """The pop after the agent's phone got its INVITE (negative: before)."""
        return None if self.ring is None or self.pop is None else (self.pop - self.ring) * 1000


def match(caller: Iterable[Step], phones: Iterable[Step], numbers: Sequence[str]) -> list[CallTimes]:
    """The run's calls (``numbers``, in the order placed) with the phone side joined to the caller's."""
    wanted = set(numbers)
    calls = {
        s.party: CallTimes(s.party, s.at) for s in caller if s.step == "invite-sent" and s.party in wanted
    }
    for s in sorted(phones, key=lambda s: s.at):
        call = calls.get(s.party)
        if call is None or s.at < call.invite:
            continue  # another run's call from the same number
        if s.step == "invite" and call.ring is None:
            call.ring, call.phone = s.at, s.target
        elif s.step == "answer" and s.target == call.phone:
            call.answered = True
    return [calls[n] for n in numbers if n in calls]


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest rank: the smallest value with at least q % of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


QUANTILES = (50, 90, 99)


@dataclass(frozen=True)
class Distribution:
    label: str
    ms: list[float]
    served: int = 0
    lost: int = 0

    def at(self, q: float) -> float | None:
        return percentile(self.ms, q) if self.ms else None

    def row(self) -> str:
        figures = [self.at(q) for q in QUANTILES] + [max(self.ms, default=None)]
        cells = "".join(f" {'-':>8}" if f is None else f" {f:>8.1f}" for f in figures)
        return f"{self.label:<52}{cells} {len(self.ms):>8} {self.served:>7} {self.lost:>5}"


HEADER = (
    f"{'figure (ms)':<52}"
    + "".join(f" {'p' + str(q):>8}" for q in QUANTILES)
    + (f" {'max':>8} {'measured':>8} {'served':>7} {'lost':>5}")
)


def ring_distribution(label: str, calls: Sequence[CallTimes]) -> Distribution:
    """Caller INVITE -> agent INVITE; a call is lost when no phone answered it."""
    ms = [m for c in calls if (m := c.ring_ms) is not None]
    served = sum(1 for c in calls if c.answered)
    return Distribution(label, ms, served, len(calls) - served)


def pop_distribution(label: str, calls: Sequence[CallTimes]) -> Distribution:
    ms = [m for c in calls if (m := c.pop_ms) is not None]
    return Distribution(label, ms, len(ms), sum(1 for c in calls if c.ring is not None and c.pop is None))


def ratio(ours: Distribution, theirs: Distribution) -> str:
    parts = []
    for q in QUANTILES:
        a, b = ours.at(q), theirs.at(q)
        parts.append(f"p{q} {'-' if a is None or not b else f'{a / b:.2f}'}")
    return ", ".join(parts)


@dataclass
class Window:
    """The calls placed in one stretch of a sustained run, and the memory seen at its end."""

    start_s: float
    calls: list[CallTimes] = field(default_factory=list)
    rss_mib: dict[str, float] = field(default_factory=dict)

    def row(self, width_s: float) -> str:
        ring, pop = ring_distribution("", self.calls), pop_distribution("", self.calls)
        memory = "  ".join(f"{name} {mib:.1f}" for name, mib in self.rss_mib.items())
        return (f"{self.start_s:>5.0f}-{self.start_s + width_s:<5.0f} {len(self.calls):>6} {ring.lost:>5} "
                f"{_ms(ring.at(50)):>8} {_ms(ring.at(99)):>8} {_ms(pop.at(50)):>8} {_ms(pop.at(99)):>8}  "
                f"{memory}")  # fmt: skip


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


WINDOW_HEADER = (f"{'window (s)':<11} {'calls':>6} {'lost':>5} {'ring p50':>8} {'ring p99':>8} "
                 f"{'pop p50':>8} {'pop p99':>8}  RSS (MiB)")  # fmt: skip


def windows(
    calls: Sequence[CallTimes], t0: float, width_s: float, memory: Sequence[tuple[float, dict[str, float]]]
) -> list[Window]:
    """The calls by when they were placed, ``width_s`` at a time; each window has the last memory
    sample taken before it ended."""
    count = max(1, math.ceil(max((c.invite - t0 for c in calls), default=0) / width_s + 1e-9))
    out = [Window(i * width_s) for i in range(count)]
    for c in calls:
        out[min(count - 1, int((c.invite - t0) / width_s))].calls.append(c)
    for w in out:
        before = [rss for at, rss in memory if at - t0 <= w.start_s + width_s]
        w.rss_mib = before[-1] if before else {}
    return out
