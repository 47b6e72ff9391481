"""ARI JSON in, domain events out: pure functions, tested on recorded ARI messages.

Which ARI events matter (measured on Asterisk 22, see docs/ari.md):
- the caller's ``StasisStart`` (args ``inbound,<DID>``) is the arrival; its ``StasisEnd`` the hangup;
  a practice caller placed for a trainee (args ``training,<agent>,<DID>``) is a ``TrainingCallArrived``;
- an agent leg (a channel id we chose, ``sb-...``) reports ringing and answer twice, as a
  ``ChannelStateChange`` and as a ``Dial`` event; the router deduplicates. Its ringing is first told by
  the ``Dial`` that starts it (no status yet: the INVITE is on its way), so the screen pops then;
- a ring timeout sends no NOANSWER: the leg's ``StasisEnd`` is the only sign the offer is over; a busy
  phone's ``Dial`` says ``BUSY`` before the leg ends: the offer failed, busy (an escalation stores it so);
- a callback's customer leg (``sb-cb-...``) is a call of its own: its answer is ``CustomerAnswered``
  and its end ``CallerHungUp`` (``sb-cb-`` ids also look like offer legs, so they are told apart first);
- the caller's key 1 (``ChannelDtmfReceived``) asks for a callback; the router ignores it unless offered;
  a key on a leg we dialled (``LegKeyPressed``) is how an on-call person accepts an escalation (1) or
  declines it (any other); the router ignores keys on other legs (an agent's phone);
- a supervisor's phone leg (``sb-sv-...``) reports its answer (``SupervisorAnswered``) and its end
  (``SupervisorLegEnded``); the snoop channels on agents' legs (``sb-snoop-...``) report nothing: they
  come and go with the supervisor's leg, which the router follows.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from routing import events as ev
from routing.ids import (
    AgentId,
    CallId,
    OfferId,
    SupervisorLegId,
    is_callback_leg,
    is_offer_channel,
    is_snoop_channel,
    is_supervisor_leg,
)
from routing.records import EndReason

Normalise = Callable[[str], str | None]
Json = Mapping[str, Any]

INBOUND = "inbound"
TRAINING = "training"  # a practice caller for an agent in training (issue 17): args training,<agent>,<DID>
AGENT = "agent"
CALLBACK = "callback"
SUPERVISOR = "supervisor"
SNOOP = "snoop"
CALLBACK_KEY = "1"
# The ARI events this package and the PBX adapter read; Asterisk is asked to send no other (its
# ``eventFilter``): a served call brings a dozen ``ChannelVarset`` and as many others nobody reads.
# An event read anywhere must be named here, or it never arrives. The last three are read by nobody
# here but are how the sandbox tests see Asterisk play a prompt and record a message: a few per prompt
# or message, none on a call that has neither.
USED_EVENTS = frozenset(
    {
        "StasisStart", "StasisEnd", "ChannelStateChange", "Dial", "ChannelDtmfReceived",
        "ChannelHangupRequest", "PlaybackFinished",
        "PlaybackStarted", "RecordingStarted", "RecordingFinished",
    }
)  # fmt: skip


# A ``Dial`` with no status yet is stamped as Asterisk sends the phone its INVITE, a few ms before the
# phone's 180 comes back as ``RINGING`` (issue 19's trace: 1.2 ms to the phone, 1.6 ms more to ringing,
# and the event's own trip): the screen pops then, as the phone starts to ring, not after. A phone that
# turns the call down at once (busy, unreachable) has its pop withdrawn as any ring that ends unanswered.
_DIAL_STATUS = {"": "Ringing", "RINGING": "Ringing", "ANSWER": "Up", "BUSY": "Busy"}


def translate(message: Json, at: float, normalise: Normalise) -> list[ev.Event]:
    kind = message.get("type")
    if kind == "StasisStart":
        return _stasis_start(message, at, normalise)
    if kind == "StasisEnd":
        channel = _channel_id(message, "channel")
        return [] if channel is None or is_snoop_channel(channel) else [channel_gone(channel, at)]
    if kind == "ChannelStateChange":
        return _leg_progress(_channel_id(message, "channel"), _state(message, "channel"), at)
    if kind == "Dial":
        status = _DIAL_STATUS.get(str(message.get("dialstatus", "")))
        return _leg_progress(_channel_id(message, "peer"), status, at)
    if kind == "ChannelDtmfReceived":
        return _key(_channel_id(message, "channel"), message.get("digit"), at)
    return []


def _missed(channel: str, at: float, reason: EndReason) -> ev.Event:
    """A channel found gone on a (re)connect: an agent's leg is lost, a caller gone (nobody saw how)."""
    if is_offer_channel(channel) and not is_callback_leg(channel) and not is_supervisor_leg(channel):
        return ev.OfferLost(OfferId(channel), at)
    gone = channel_gone(channel, at)
    return ev.CallGone(gone.call, at, reason) if isinstance(gone, ev.CallerHungUp) else gone


def channel_gone(channel: str, at: float) -> ev.Event:
    """What a channel of ours ending means to the router: a leg's end, or the caller's hangup."""
    if is_supervisor_leg(channel):
        return ev.SupervisorLegEnded(SupervisorLegId(channel), at)
    if is_offer_channel(channel) and not is_callback_leg(channel):
        return ev.OfferEnded(OfferId(channel), at)
    return ev.CallerHungUp(CallId(channel), at)


def _key(channel: str | None, digit: object, at: float) -> list[ev.Event]:
    if channel is None or not isinstance(digit, str):
        return []
    if is_offer_channel(channel):
        if is_callback_leg(channel) or is_supervisor_leg(channel) or is_snoop_channel(channel):
            return []
        return [ev.LegKeyPressed(OfferId(channel), digit, at)]
    return [ev.CallbackRequested(CallId(channel), at)] if digit == CALLBACK_KEY else []


def _stasis_start(message: Json, at: float, normalise: Normalise) -> list[ev.Event]:
    args: Sequence[str] = message.get("args") or []
    channel = message.get("channel") or {}
    if not isinstance(channel.get("id"), str):
        return []
    arrival = _arrival_of(channel, list(args), at, normalise)
    return [] if arrival is None else [arrival]  # None: an agent leg we created, or someone else's channel


def _arrival_of(
    channel: Json, args: Sequence[str], at: float, normalise: Normalise
) -> ev.CallArrived | ev.TrainingCallArrived | None:
    """A caller entering the app with ``args``: a real caller, a practice caller, or neither."""
    if len(args) >= 2 and args[0] == INBOUND:
        return _arrival(channel, args[1], at, normalise)
    if len(args) >= 3 and args[0] == TRAINING and args[1]:
        real = _arrival(channel, args[2], at, normalise)
        number, name = real.caller_number, real.caller_name
        trainee = AgentId(args[1])
        return ev.TrainingCallArrived(
            call=real.call, did=real.did, trainee=trainee, caller_number=number, caller_name=name, at=at
        )
    return None


def _arrival(channel: Json, dialed: str, at: float, normalise: Normalise) -> ev.CallArrived:
    caller = channel.get("caller") or {}
    number = str(caller.get("number") or "").strip()
    name = str(caller.get("name") or "").strip()
    return ev.CallArrived(
        call=CallId(channel["id"]),
        did=normalise(dialed) or dialed,
        caller_number=(normalise(number) or number) if number else None,
        caller_name=name or None,
        at=at,
    )


def _leg_progress(channel: str | None, state: str | None, at: float) -> list[ev.Event]:
    if channel is None or not is_offer_channel(channel) or is_snoop_channel(channel):
        return []
    if is_supervisor_leg(channel):
        return [ev.SupervisorAnswered(SupervisorLegId(channel), at)] if state == "Up" else []
    if is_callback_leg(channel):
        return [ev.CustomerAnswered(CallId(channel), at)] if state == "Up" else []
    if state == "Ringing":
        return [ev.OfferRinging(OfferId(channel), at)]
    if state == "Up":
        return [ev.OfferAnswered(OfferId(channel), at)]
    if state == "Busy":  # only a Dial says so; the leg's end follows, and finds the offer gone
        return [ev.OfferFailed(OfferId(channel), "busy", at)]
    return []


def _channel_id(message: Json, key: str) -> str | None:
    value = (message.get(key) or {}).get("id")
    return value if isinstance(value, str) else None


def _state(message: Json, key: str) -> str | None:
    value = (message.get(key) or {}).get("state")
    return value if isinstance(value, str) else None


def reconcile(
    known: Collection[str],
    channels: Sequence[Json],
    app: str,
    at: float,
    normalise: Normalise,
    pbx_restarted: bool = False,
) -> tuple[list[ev.Event], list[str]]:
    """After a (re)connect, what was missed while the events socket was down.

    ARI does not buffer events for a disconnected app, so compare the channels we believed alive with
    the ones Asterisk lists: the gone ones ended, callers parked in our app that we never saw arrived,
    and agent legs nobody owns (left by an earlier run) must be hung up. Returns (events, orphan legs).
    With ``pbx_restarted`` (Asterisk started since we last knew its channels) the gone calls died with
    it: their callers come first, so each call ends as the system's doing, not as its agent's leg's.

    A leg we know that is still there may have rung or been answered meanwhile (a phone picked up while
    we were down): its state now is reported as the state change we missed. The router takes a second
    report of a ring or an answer as nothing new, so a leg whose answer we did see changes nothing;
    one we did not would otherwise ring on in the books until its deadline counted the agent's miss.
    The answer is dated ``at``: Asterisk's channel listing says when a channel was made, not answered.
    """
    present = {c["id"]: c for c in channels if isinstance(c.get("id"), str)}
    gone = sorted(c for c in set(known) - present.keys() if not is_snoop_channel(c))
    reason = EndReason.PBX_RESTART if pbx_restarted else EndReason.UNSEEN
    out: list[ev.Event] = [_missed(channel, at, reason) for channel in gone]
    if pbx_restarted:
        out.sort(key=lambda e: not isinstance(e, ev.CallGone))  # stable: otherwise in channel order
    orphans: list[str] = []
    for channel_id, channel in present.items():
        if channel_id in known:
            out += _leg_progress(channel_id, _state({"channel": channel}, "channel"), at)
            continue
        dialplan = channel.get("dialplan") or {}
        args = str(dialplan.get("app_data", "")).split(",")
        if dialplan.get("app_name") != "Stasis" or args[0] != app:
            continue
        arrival = _arrival_of(channel, args[1:], at, normalise)
        if is_offer_channel(channel_id):
            orphans.append(channel_id)
        elif arrival is not None:
            out.append(arrival)
    return out, orphans


# ``ChannelHangupRequest`` carries, for a soft hangup, the soft-hangup flags as its ``cause``; Asterisk
# shutting down (``core stop now``, ``core restart now``) hangs every channel up with this one.
_SOFTHANGUP_SHUTDOWN = 1 << 2


def is_shutdown_hangup(message: Json) -> bool:
    """Asterisk is hanging this channel up because it is shutting down (so every call dies with it)."""
    cause = message.get("cause")
    return (
        message.get("type") == "ChannelHangupRequest"
        and message.get("soft") is True
        and isinstance(cause, int)
        and bool(cause & _SOFTHANGUP_SHUTDOWN)
    )


def dying_calls(live: Collection[str], at: float) -> list[ev.Event]:
    """The PBX is shutting down: every caller of ours ends now, as the system's doing. Their channels'
    own ends follow, and find the calls over; the agents' legs end with their calls."""
    out = (_missed(c, at, EndReason.PBX_RESTART) for c in sorted(live) if not is_snoop_channel(c))
    return [e for e in out if isinstance(e, ev.CallGone)]


def startup_time(info: Json) -> str | None:
    """When Asterisk started, as ``GET /asterisk/info`` says (``status.startup_time``); None if unreadable."""
    status = info.get("status") if isinstance(info, dict) else None
    text = status.get("startup_time") if isinstance(status, dict) else None
    if not isinstance(text, str):
        return None
    try:
        pbx_clock(text)
    except ValueError:
        return None
    return text


def pbx_clock(text: str) -> float:
    """An ARI timestamp (``2026-12-04T20:48:53.470+0000``) as Unix seconds."""
    return datetime.fromisoformat(text).timestamp()


def empty_bridges(bridges: Sequence[Json], app: str) -> list[str]:
    """Our bridges (``sb-`` ids, named after our application ``app``) with no channel left in them. Another
    service's on the same Asterisk may be empty for a moment (made, its channels not yet added)."""
    return sorted(b["id"] for b in bridges
                  if str(b.get("id", "")).startswith("sb-") and b.get("name") == app
                  and not b.get("channels"))  # fmt: skip


def unanswered_callers(known: Collection[str], channels: Sequence[Json]) -> list[str]:
    """Callers we know who are still not answered: the answer goes out beside the caller's first offer
    (``AriPbx.execute``), so a service stopped between the two leaves them ringing."""
    ours = (c for c in channels if c.get("id") in known and not is_offer_channel(c["id"]))
    return sorted(c["id"] for c in ours if c.get("state") != "Up")
