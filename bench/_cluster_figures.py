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
* pops by where the console was: on the leader at the time, or on a follower; from the call's Stasis entry,
  and from the agent leg's ringing (Asterisk's timestamp of the event the leader pops the screen on), which
  leaves the ring itself out and measures the pop's own path: the leader's router and console hub, and
  for a follower also the journal stream (the leader's append, the follower's read and its own router);
* when each ``OfferRinging`` line of the leader's journal could be read from the Redis stream (the bench's
  own blocking read of it, as a follower's): where a follower's pop spends its time.
"""

from __future__ import annotations

import bisect
import itertools
import json
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
    """An ``offer`` read by a console: for which call and leg, when (``time.time()``), on which instance."""

    call: str
    at: float
    instance: str
    offer: str = ""  # the agent leg's channel, ``sb-<call>-<attempt>``


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
            split[role_of(pop, who)].append((pop.at - start[pop.call]) * 1000)
    return split


def first_reads(pops: Iterable[Pop]) -> dict[str, Pop]:
    """offer -> the first time its pop was read (a console that reconnects is sent it again)."""
    found: dict[str, Pop] = {}
    for pop in pops:
        if pop.offer and (pop.offer not in found or pop.at < found[pop.offer].at):
            found[pop.offer] = pop
    return found


def role_of(pop: Pop, who: Leadership) -> str:
    return "leader" if who.leader_at(pop.at) == pop.instance else "follower"


def ring_to_pop(
    pops: Iterable[Pop], seen: Seen, calls: Sequence[str], who: Leadership
) -> tuple[dict[tuple[str, str], list[float]], int]:
    """Agent leg ringing (Asterisk's timestamp) -> first pop read (ms) of the offers of ``calls``, by
    (instance, whether it led when the pop was read); and how many pops had no ring to count from."""
    wanted = set(calls)
    split: dict[tuple[str, str], list[float]] = {}
    unringed = 0
    for offer, pop in first_reads(pops).items():
        if pop.call not in wanted:
            continue
        rang = leg_ring(seen, offer)
        if rang is None:
            unringed += 1
            continue
        split.setdefault((pop.instance, role_of(pop, who)), []).append((pop.at - rang) * 1000)
    return split, unringed


def ring_to_pop_by_role(
    pops: Iterable[Pop], seen: Seen, calls: Sequence[str], who: Leadership
) -> tuple[dict[str, list[float]], int]:
    """``ring_to_pop`` over every instance: by whether the console was on the leader."""
    split, unringed = ring_to_pop(pops, seen, calls, who)
    by_role: dict[str, list[float]] = {"leader": [], "follower": []}
    for (_, role), ms in sorted(split.items()):
        by_role[role] += ms
    return by_role, unringed


def unread(
    pops: Iterable[Pop], answered: dict[str, str], seats: dict[str, str], seen: Seen, who: Leadership
) -> Counter[tuple[str, str]]:
    """Pops lost, by (instance, role): calls ``answered`` (call -> agent) on a leg that rang whose agent's
    console (``seats``: agent -> instance) read no pop of the call; the role is the instance's at the ring."""
    read = {p.call for p in pops}
    lost: Counter[tuple[str, str]] = Counter()
    for call, agent in answered.items():
        rings = [t for leg in legs(seen, [call]).get(call, []) if (t := leg_ring(seen, leg)) is not None]
        if call in read or not rings or agent not in seats:
            continue
        instance = seats[agent]
        lost[(instance, "leader" if who.leader_at(min(rings)) == instance else "follower")] += 1
    return lost


def ringing_lines(read: Iterable[tuple[float, str]]) -> dict[str, float]:
    """offer -> when the leader's ``OfferRinging`` line for it was read from the journal stream, from
    (time read, the line's event text) in the order read; the first read of each."""
    found: dict[str, float] = {}
    for at, text in read:
        event = json.loads(text)
        if event.get("k") == "OfferRinging":
            found.setdefault(str(event["offer"]), at)
    return found


def pop_legs(
    pops: Iterable[Pop], seen: Seen, lines: dict[str, float], calls: Sequence[str], who: Leadership
) -> dict[str, tuple[list[float], list[float]]]:
    """Per role, the two halves of ring -> pop (ms) for the offers whose line was read: agent leg ringing
    -> its line read from the stream, and that read -> the pop read on the console."""
    wanted = set(calls)
    split: dict[str, tuple[list[float], list[float]]] = {"leader": ([], []), "follower": ([], [])}
    for offer, pop in first_reads(pops).items():
        rang, line = leg_ring(seen, offer), lines.get(offer)
        if pop.call not in wanted or rang is None or line is None:
            continue
        to_line, to_pop = split[role_of(pop, who)]
        to_line.append((line - rang) * 1000)
        to_pop.append((pop.at - line) * 1000)
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
