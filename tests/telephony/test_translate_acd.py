"""Recorded ARI JSON of the ACD's prompts, keys, recordings and callbacks in, domain events out."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import pytest

from crm_core.domain.phones import to_e164
from routing import events as ev
from routing.ids import CallId, OfferId, SupervisorLegId
from routing.records import EndReason
from telephony.translate import reconcile, translate

RECORDED = Path(__file__).parent / "recorded"  # tests/integration/test_acd_on_the_phone.py records them
NORMALISE = functools.partial(to_e164, region="US")


def replay(name: str) -> list[ev.Event]:
    messages: list[dict[str, Any]] = json.loads((RECORDED / f"{name}.json").read_text())
    return [e for i, m in enumerate(messages) for e in translate(m, float(i), NORMALISE)]


def kinds(events: list[ev.Event]) -> list[tuple[str, object]]:
    return [(type(e).__name__, getattr(e, "call", None) or getattr(e, "offer", "")) for e in events]


CALL, KEYPAD = CallId("rec-caller;2"), CallId("rec-caller")
CUSTOMER, AGENT_LEG = CallId("sb-cb-rec"), OfferId("sb-sb-cb-rec-1")


def test_given_the_callback_choice_when_the_caller_presses_1_then_callback_requested() -> None:
    events = replay("callback_choice_and_key_1")
    assert ev.CallbackRequested(CALL, events[1].at) in events
    # The test's keypad half (a channel of our app with args "keypad") counts as nothing but a hangup.
    assert kinds(events) == [("CallArrived", CALL), ("CallbackRequested", CALL), ("CallerHungUp", KEYPAD),
                             ("CallerHungUp", CALL)]  # fmt: skip


ON_CALL_LEG = OfferId("sb-rec-2")  # an escalation's leg to a sandbox on-call phone (6xx presses 1, 8xx 2)


@pytest.mark.parametrize(
    ("name", "digit"), [("on_call_accepts_with_1", "1"), ("on_call_declines_with_2", "2")]
)
def test_given_an_on_call_leg_that_picks_up_and_presses_a_key_then_ringing_answer_key_and_end(
    name: str, digit: str
) -> None:
    events = [e for e in replay(name) if getattr(e, "offer", None) == ON_CALL_LEG]
    # While its prompt plays (the recording plays one to it), the key comes through as it is pressed.
    assert [type(e) for e in events] == [
        ev.OfferRinging, ev.OfferRinging, ev.OfferRinging, ev.OfferAnswered, ev.OfferAnswered,
        ev.LegKeyPressed, ev.OfferEnded,
    ]  # fmt: skip
    (key,) = [e for e in events if isinstance(e, ev.LegKeyPressed)]
    assert key.digit == digit


def test_given_a_busy_phone_when_replayed_then_the_offer_failed_busy_before_its_leg_ended() -> None:
    events = [e for e in replay("on_call_busy") if getattr(e, "offer", None) == ON_CALL_LEG]
    # The Dial that starts the ring pops a screen as for any ring; a busy phone's ends it at once.
    assert [type(e) for e in events] == [ev.OfferRinging, ev.OfferFailed, ev.OfferEnded]
    assert events[1] == ev.OfferFailed(ON_CALL_LEG, "busy", events[1].at)


def test_given_keys_on_our_legs_then_told_to_the_router_and_only_callers_ask_for_callbacks() -> None:
    """A key on a leg we dialled is the router's to judge (an agent's is ignored there)."""

    def key(channel: str, digit: object = "1") -> list[ev.Event]:
        return translate(
            {"type": "ChannelDtmfReceived", "channel": {"id": channel}, "digit": digit}, 5.0, NORMALISE
        )

    assert key("sb-c1-2") == [ev.LegKeyPressed(OfferId("sb-c1-2"), "1", 5.0)]
    assert key("sb-c1-2", "#") == [ev.LegKeyPressed(OfferId("sb-c1-2"), "#", 5.0)]
    assert key("sb-cb-c1") == key("sb-sv-c1-1") == key("sb-snoop-c1-1") == key("sb-c1-2", None) == []
    assert key("c1") == [ev.CallbackRequested(CallId("c1"), 5.0)] and key("c1", "2") == []


def test_given_prompts_and_a_recording_when_replayed_then_only_the_hangups_count() -> None:
    assert kinds(replay("position_announced")) == [("CallArrived", CALL), ("CallerHungUp", CALL)]
    assert kinds(replay("message_taken")) == [("CallArrived", CALL), ("CallerHungUp", CALL)]


def test_given_a_callback_when_replayed_then_agent_answers_then_customer_answers_then_hangs_up() -> None:
    assert kinds(replay("callback_customer_leg")) == [
        ("OfferRinging", AGENT_LEG), ("OfferRinging", AGENT_LEG), ("OfferRinging", AGENT_LEG),  # Dial starts
        ("OfferAnswered", AGENT_LEG), ("OfferAnswered", AGENT_LEG),
        ("CustomerAnswered", CUSTOMER), ("CustomerAnswered", CUSTOMER),  # state change and Dial ANSWER
        ("CallerHungUp", CUSTOMER),  # an sb-cb- leg is a caller, not an offer, though it starts with sb-
        ("OfferEnded", AGENT_LEG),
    ]  # fmt: skip


def test_given_two_phones_rung_when_one_answers_and_the_other_is_cancelled_then_it_ends() -> None:
    first, second = OfferId("sb-rec-caller;2-1"), OfferId("sb-rec-caller;2-2")
    assert kinds(replay("ring_all_one_answers")) == [
        ("CallArrived", CALL),
        # Local/ legs: the first one's Dial start came after its ringing here; the router pops once.
        ("OfferRinging", first), ("OfferRinging", first), ("OfferRinging", first),
        ("OfferRinging", second), ("OfferRinging", second), ("OfferRinging", second),
        ("OfferAnswered", first), ("OfferAnswered", first),
        ("OfferEnded", second),
        ("CallerHungUp", CALL), ("OfferEnded", first),
    ]  # fmt: skip


@pytest.mark.parametrize(
    "message",
    [
        {"type": "ChannelDtmfReceived", "digit": "2", "channel": {"id": "c1"}},
        {"type": "ChannelDtmfReceived", "digit": "1", "channel": {"id": "sb-cb-c1"}},  # the customer's
        {"type": "ChannelDtmfReceived", "digit": "1"},
        {"type": "ChannelStateChange", "channel": {"id": "sb-cb-c1", "state": "Ringing"}},
        {"type": "PlaybackFinished", "playback": {"id": "sb-pb-1", "target_uri": "channel:c1"}},
        {"type": "RecordingFinished", "recording": {"name": "sb-vm-c1"}},
    ],
)
def test_given_acd_messages_that_mean_nothing_to_routing_when_translated_then_no_events(
    message: dict[str, object],
) -> None:
    assert translate(message, 1.0, NORMALISE) == []


def test_given_a_reconnect_when_a_callback_leg_is_gone_then_the_customer_hung_up() -> None:
    events, orphans = reconcile({"sb-cb-c1"}, [], "sb", 3.0, NORMALISE)
    assert (events, orphans) == ([ev.CallGone(CallId("sb-cb-c1"), 3.0, EndReason.UNSEEN)], [])


# --- supervisors (messages shaped as the sandbox sends them; see tests/integration/test_supervision.py) ---
SV, SNOOP = "sb-sv-c1;2-1", "sb-snoop-c1;2-1"


def one(message: dict[str, Any]) -> list[ev.Event]:
    return translate(message, 5.0, NORMALISE)


def test_given_a_supervisor_leg_then_its_answer_and_its_end_and_nothing_else() -> None:
    leg = SupervisorLegId(SV)
    assert one({"type": "StasisStart", "args": ["supervisor", "c1;2"], "channel": {"id": SV}}) == []
    assert one({"type": "ChannelStateChange", "channel": {"id": SV, "state": "Ringing"}}) == []
    assert one({"type": "ChannelStateChange", "channel": {"id": SV, "state": "Up"}}) == [
        ev.SupervisorAnswered(leg, 5.0)
    ]
    assert one({"type": "Dial", "dialstatus": "ANSWER", "peer": {"id": SV}}) == [
        ev.SupervisorAnswered(leg, 5.0)
    ]
    assert one({"type": "StasisEnd", "channel": {"id": SV}}) == [ev.SupervisorLegEnded(leg, 5.0)]


def test_given_a_snoop_channel_then_nothing_at_all() -> None:
    assert one({"type": "StasisStart", "args": ["snoop"], "channel": {"id": SNOOP, "state": "Up"}}) == []
    assert one({"type": "ChannelStateChange", "channel": {"id": SNOOP, "state": "Up"}}) == []
    assert one({"type": "StasisEnd", "channel": {"id": SNOOP}}) == []


def test_given_a_reconnect_then_gone_supervisor_legs_ended_and_unknown_ones_and_snoops_hung_up() -> None:
    stasis = {"app_name": "Stasis", "app_data": "app,snoop"}
    present = [{"id": "sb-sv-c2;2-1", "dialplan": {"app_name": "Stasis", "app_data": "app,supervisor,c2;2"}},
               {"id": "sb-snoop-c2;2-1", "dialplan": stasis}]  # fmt: skip
    events, orphans = reconcile({SV, SNOOP}, present, "app", 5.0, NORMALISE)
    assert events == [ev.SupervisorLegEnded(SupervisorLegId(SV), 5.0)]
    assert sorted(orphans) == ["sb-snoop-c2;2-1", "sb-sv-c2;2-1"]
