"""``bench/cluster_run.py``'s figures from what it saw (no I/O): Asterisk's events (``pop_latency.Seen``),
the pops read by the consoles, and the instances' logs.

* the first ring of the new leader: the earliest ``Ringing`` of an agent leg created after the kill
  (a leg the old leader dialed just before dying may ring a few milliseconds after it: not the new
  leader's work);
* double offers: one caller with two agent legs alive at once (``sb-<call>-<attempt>``, routing/ids),
  from each leg's ``ChannelCreated`` to its ``ChannelDestroyed``;
* calls logged twice: ``call.logged`` lines naming the same call, over every instance's log (the call
  log's primary key is the call id, written with an upsert, so a second write would replace a row and
  never show as a second one);
* pops by where the console was: on the leader at the time, or on a follower.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from pop_latency import Seen

LEG = re.compile(r"^sb-(?P<call>.+)-(?P<attempt>\d+)$")
ANSI = re.compile(r"\x1b\[[0-9;]*m")
LOGGED = re.compile(r"\bcall\.logged\b.*?\bcall=(?P<call>\S+)")
NEVER = float("inf")
LEADERSHIP = ("member.leading", "lease.lost", "member.term-not-started", "stream.refused")


@dataclass(frozen=True)
class Pop:
    """An ``offer`` read by a console: for which call, when (``time.time()``), on which instance."""

    call: str
    at: float
    instance: str


@dataclass
class Leadership:
    """Who said they led when, from every instance's health sampled together (``time.time()``, in order):
    the one instance saying ``leader`` in a sample, ``None`` for none, ``"+"``-joined names for several."""

    samples: list[tuple[float, str | None]] = field(default_factory=list)

    def note(self, at: float, leading: Sequence[str]) -> None:
        self.samples.append((at, "+".join(sorted(leading)) if leading else None))

    def leader_at(self, at: float) -> str | None:
        """Who led at ``at`` by the last sample before it."""
        i = bisect.bisect_right(self.samples, at, key=lambda s: s[0])
        return self.samples[i - 1][1] if i else None

    def changes(self) -> list[tuple[float, str | None]]:
        """The samples where the answer changed."""
        found: list[tuple[float, str | None]] = []
        for at, who in self.samples:
            if not found or found[-1][1] != who:
                found.append((at, who))
        return found

    def several(self) -> int:
        """Samples in which more than one instance said it led."""
        return sum(1 for _, who in self.samples if who is not None and "+" in who)


def legs(seen: Seen, calls: Iterable[str]) -> dict[str, list[str]]:
    """call -> the agent legs Asterisk created for it."""
    ours = set(calls)
    found: dict[str, list[str]] = {}
    for channel in seen.created:
        leg = LEG.match(channel)
        if leg is not None and leg["call"] in ours:
            found.setdefault(leg["call"], []).append(channel)
    return found


def leg_ring(seen: Seen, leg: str) -> float | None:
    times = [t for t in (seen.ringing.get(leg), seen.dial_ringing.get(leg)) if t is not None]
    return min(times, default=None)


def first_ring_after(seen: Seen, calls: Iterable[str], since: float) -> float | None:
    """The earliest ring of an agent leg created at or after ``since``."""
    rings = [
        t
        for made in legs(seen, calls).values()
        for leg in made
        if seen.created[leg] >= since and (t := leg_ring(seen, leg)) is not None
    ]
    return min(rings, default=None)


def doubles(seen: Seen, calls: Iterable[str]) -> list[str]:
    """The calls that had two agent legs alive at once, with those legs' lifetimes."""
    found = []
    for call, made in legs(seen, calls).items():
        spans = sorted((seen.created[leg], seen.destroyed.get(leg, NEVER), leg) for leg in made)
        for (_, end, first), (begin, _, second) in itertools.pairwise(spans):
            if begin < end:
                found.append(f"{call}: {first} alive until {end:.3f}, {second} created at {begin:.3f}")
    return found


def logged(logs: Iterable[str]) -> Counter[str]:
    """How many times each call was written to the call log, over every instance's log text."""
    counts: Counter[str] = Counter()
    for text in logs:
        for line in ANSI.sub("", text).splitlines():
            match = LOGGED.search(line)
            if match is not None:
                counts[match["call"]] += 1
    return counts


def pops_by_role(
    pops: Iterable[Pop], start: dict[str, float], calls: Sequence[str], who: Leadership
) -> dict[str, list[float]]:
    """Stasis entry -> pop read (ms) of ``calls``, split by whether the console was on the leader."""
    wanted = set(calls)
    split: dict[str, list[float]] = {"leader": [], "follower": []}
    for pop in pops:
        if pop.call in wanted and pop.call in start:
            role = "leader" if who.leader_at(pop.at) == pop.instance else "follower"
            split[role].append((pop.at - start[pop.call]) * 1000)
    return split


def windows(
    start: dict[str, float], calls: Sequence[str], killed_at: float, during_s: float
) -> list[list[str]]:
    """The calls that entered Stasis before the kill, in the ``during_s`` after it, and later."""
    before = [c for c in calls if c in start and start[c] < killed_at]
    during = [c for c in calls if c in start and killed_at <= start[c] < killed_at + during_s]
    after = [c for c in calls if c in start and start[c] >= killed_at + during_s]
    return [before, during, after]


def leadership_lines(logs: dict[str, str]) -> list[str]:
    """Each instance's lines about leading and standing down, in time order (the log's second stamps)."""
    found = []
    for name, text in logs.items():
        for line in ANSI.sub("", text).splitlines():
            if any(word in line for word in LEADERSHIP):
                found.append(f"{line[:19]} {name}: {' '.join(line[19:].split())}")
    return sorted(found)
