"""Where a Switchboard call's milliseconds go between the caller's INVITE and the agent's phone's INVITE.

Joins, per call, three records on this machine's one clock: SIPp's logs (the caller's INVITE sent, the
phone's INVITE received), Asterisk's own ``timestamp`` on each ARI event (1 ms resolution), and the
service's trace (bench/_sip_trace.py: a message read from the websocket and done with, the router's
command, each REST request and its reply). Each step is printed as ms after the caller's INVITE
(p50 / p99 over the calls) with the step from the one before (p50 / p99 of the per-call differences).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from _sip_figures import CallTimes, percentile
from pop_latency import ari_time


@dataclass
class Traced:
    """The trace of one service run, by what happened to which channel: (step, kind, channel) -> time."""

    first: dict[tuple[str, str, str], float] = field(default_factory=dict)
    asterisk: dict[tuple[str, str], float] = field(default_factory=dict)  # (kind, channel) -> its stamp
    legs: dict[str, str] = field(default_factory=dict)  # caller channel -> the leg of its first offer

    @classmethod
    def read(cls, path: Path) -> Traced:
        out = cls()
        with path.open() as f:
            for at, step, kind, channel, stamp in csv.reader(f, delimiter="\t"):
                out.first.setdefault((step, kind, channel), float(at))
                if stamp:
                    out.asterisk.setdefault((kind, channel), ari_time(stamp))
                if step == "command" and kind == "OfferCall" and " " in channel:
                    out.legs.setdefault(*channel.split(" ", 1))
        return out

    def at(self, step: str, kind: str, channel: str) -> float | None:
        return self.first.get((step, kind, channel))


Step = tuple[str, Callable[[CallTimes, str, str], float | None]]


def steps(t: Traced) -> list[Step]:
    """The steps of one call (caller channel ``c``, its first offer leg ``leg``), in the order they happen.
    A step a version of the service does not take (create then dial, or one originate) is left out."""
    return [
        ("caller's INVITE sent (SIPp)", lambda k, c, leg: k.invite),
        ("caller in Stasis (Asterisk stamp)", lambda k, c, leg: t.asterisk.get(("StasisStart", c))),
        ("StasisStart read from the websocket", lambda k, c, leg: t.at("recv", "StasisStart", c)),
        ("StasisStart decoded, events queued", lambda k, c, leg: t.at("parsed", "StasisStart", c)),
        ("OfferCall reaches the PBX adapter", lambda k, c, leg: t.at("command", "OfferCall", f"{c} {leg}")),
        ("POST /channels (originate) sent", lambda k, c, leg: t.at("request", "POST /channels", leg)),
        ("POST /channels/create sent", lambda k, c, leg: t.at("request", "POST /channels/create", leg)),
        ("create answered", lambda k, c, leg: t.at("reply", "POST /channels/create", leg)),
        ("leg's StasisStart read from the websocket", lambda k, c, leg: _created_leg_entered(t, leg)),
        ("POST /dial sent", lambda k, c, leg: t.at("request", f"POST /channels/{leg}/dial", "")),
        ("leg dialled (Asterisk's Dial stamp)", lambda k, c, leg: t.asterisk.get(("Dial:", leg))),
        ("originate answered", lambda k, c, leg: t.at("reply", "POST /channels", leg)),
        ("dial answered", lambda k, c, leg: t.at("reply", f"POST /channels/{leg}/dial", "")),
        ("phone's INVITE received (SIPp)", lambda k, c, leg: k.ring),
        ("leg ringing (Asterisk stamp)", lambda k, c, leg: t.asterisk.get(("Dial:RINGING", leg))),
        ("ringing read from the websocket", lambda k, c, leg: _ringing_read(t, leg)),
        ("pop read on the agent's websocket (bench)", lambda k, c, leg: k.pop),
    ]  # fmt: skip


def _created_leg_entered(t: Traced, leg: str) -> float | None:
    """A created leg enters the app before it is dialled; an originated one only once its phone answers,
    which is no step of ringing it."""
    created = t.at("request", "POST /channels/create", leg) is not None
    return t.at("recv", "StasisStart", leg) if created else None


def _ringing_read(t: Traced, leg: str) -> float | None:
    times = [t.at("recv", k, leg) for k in ("Dial:RINGING", "ChannelStateChange:Ringing")]
    return min((x for x in times if x is not None), default=None)


def _leg(t: Traced, caller: str) -> str:
    """The leg of the caller's first offer: as the trace names it, else the service's own name for it."""
    return t.legs.get(caller, f"sb-{caller}-1")


def _during(call: CallTimes, at: float | None) -> float | None:
    """A step before the caller's INVITE (a leg made ahead entering the app) is no part of the call; the
    millisecond is Asterisk's stamps' resolution."""
    return at if at is not None and at > call.invite - 0.001 else None


def breakdown(trace: Path, calls: Sequence[CallTimes], channels: dict[str, str]) -> list[str]:
    """``channels``: caller number -> the caller's channel id (the bench's observer joins them)."""
    if not trace.exists():
        return []
    t = Traced.read(trace)
    rows = {channels[call.number]: call for call in calls if call.number in channels}
    lines = [f"  where the time goes, ms after the caller's INVITE ({len(rows)} calls; p50 / p99, "
             "then the step from the one before, p50 / p99):"]  # fmt: skip
    last: dict[str, float] = {}  # per call, the time of its last step seen
    for label, when in steps(t):
        now = {
            c: x for c, call in rows.items() if (x := _during(call, when(call, c, _leg(t, c)))) is not None
        }
        if not now:
            continue
        since = [(x - rows[c].invite) * 1000 for c, x in now.items()]
        delta = [(x - last[c]) * 1000 for c, x in now.items() if c in last]
        step = f"{percentile(delta, 50):6.1f} / {percentile(delta, 99):6.1f}" if delta else ""
        lines.append(f"    {label:<50} {percentile(since, 50):6.1f} / {percentile(since, 99):6.1f}   {step}")
        last.update(now)
    return lines
