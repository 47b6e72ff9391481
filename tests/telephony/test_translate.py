"""Recorded ARI JSON (Asterisk 22 sandbox, see recorded/) in, domain events out."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import pytest

from crm_core.domain.phones import to_e164
from routing import events as ev
from routing.ids import AgentId, CallId, OfferId, SupervisorLegId
from routing.records import EndReason
from telephony.ari_client import AriClient
from telephony.pbx import AriPbx
from telephony.translate import empty_bridges, reconcile, translate, unanswered_callers

RECORDED = Path(__file__).parent / "recorded"
NORMALISE = functools.partial(to_e164, region="US")
CALL, LEG = CallId("rec-caller;2"), OfferId("sb-rec-1")


def replay(name: str) -> list[ev.Event]:
    messages: list[dict[str, Any]] = json.loads((RECORDED / f"{name}.json").read_text())
    return [e for i, m in enumerate(messages) for e in translate(m, float(i), NORMALISE)]


def kinds(events: list[ev.Event]) -> list[tuple[str, str]]:
    return [(type(e).__name__, getattr(e, "call", None) or getattr(e, "offer", "")) for e in events]


def test_given_a_served_call_when_replayed_then_arrival_ring_answer_and_both_hangups() -> None:
    events = replay("served_call")
    arrival = events[0]
    assert arrival == ev.CallArrived(CALL, "+18005550101", "+14155550123", "Jane", 0.0)
    assert kinds(events[1:]) == [
        # The Dial that starts the ring (the INVITE sent), the state change and Dial RINGING: the router
        # pops on the first and ignores the others.
        ("OfferRinging", LEG), ("OfferRinging", LEG), ("OfferRinging", LEG),
        ("OfferAnswered", LEG), ("OfferAnswered", LEG),
        ("CallerHungUp", CALL),
        ("OfferEnded", LEG),
    ]  # fmt: skip


def test_given_a_ring_timeout_when_replayed_then_only_the_legs_end_reports_it() -> None:
    # Asterisk sends no Dial NOANSWER for a dial timeout: StasisEnd of the leg must end the offer.
    events = replay("ring_timeout")
    assert kinds(events[1:]) == [("OfferRinging", LEG)] * 3 + [("OfferEnded", LEG), ("CallerHungUp", CALL)]


def test_given_the_caller_hangs_up_while_ringing_when_replayed_then_hangup_before_the_leg_ends() -> None:
    events = replay("caller_hangup_while_ringing")
    assert kinds(events[1:]) == [("OfferRinging", LEG)] * 3 + [("CallerHungUp", CALL), ("OfferEnded", LEG)]


@pytest.mark.parametrize(
    ("caller", "expected"),
    [
        ({"number": "4155550123", "name": ""}, ("+14155550123", None)),
        ({"number": "", "name": "Anonymous"}, (None, "Anonymous")),
        ({"number": "anonymous", "name": ""}, ("anonymous", None)),  # kept as presented, never matched
        ({}, (None, None)),
    ],
)
def test_given_caller_ids_as_carriers_send_them_when_translated_then_normalised_or_kept(
    caller: dict[str, str], expected: tuple[str | None, str | None]
) -> None:
    message = {
        "type": "StasisStart",
        "args": ["inbound", "8005550101"],
        "channel": {"id": "c1", "caller": caller},
    }
    [arrival] = translate(message, 1.0, NORMALISE)
    assert isinstance(arrival, ev.CallArrived)
    assert (arrival.caller_number, arrival.caller_name) == expected
    assert arrival.did == "+18005550101"


@pytest.mark.parametrize(
    "message",
    [
        {"type": "StasisStart", "args": ["agent"], "channel": {"id": "sb-c1-1"}},
        {"type": "StasisStart", "args": [], "channel": {"id": "x"}},
        {"type": "StasisStart", "args": ["inbound", "1"], "channel": {"id": 5}},
        {"type": "StasisEnd"},
        {"type": "ChannelStateChange", "channel": {"id": "c1", "state": "Up"}},  # the caller, not a leg
        {"type": "ChannelStateChange", "channel": {"id": "sb-c1-1", "state": "Down"}},
        {"type": "Dial", "dialstatus": "NOANSWER", "peer": {"id": "sb-c1-1"}},
        {"type": "ChannelVarset", "channel": {"id": "c1"}},
        {"type": "NotAnEvent"},
        {},
    ],
)
def test_given_messages_that_mean_nothing_to_routing_when_translated_then_no_events(
    message: dict[str, Any],
) -> None:
    assert translate(message, 1.0, NORMALISE) == []


def test_given_a_reconnect_when_reconciling_then_gone_channels_end_and_unseen_callers_arrive() -> None:
    listed = [
        {"id": "still-here", "dialplan": {"app_name": "Stasis", "app_data": "sb,inbound,18005550101"}},
        {"id": "arrived-meanwhile", "caller": {"number": "4155550199"},
         "dialplan": {"app_name": "Stasis", "app_data": "sb,inbound,18005550102"}},
        {"id": "sb-old-run-1", "dialplan": {"app_name": "Stasis", "app_data": "sb,agent"}},
        {"id": "other-app", "dialplan": {"app_name": "Stasis", "app_data": "other,inbound,1"}},
        {"id": "in-dialplan", "dialplan": {"app_name": "Wait", "app_data": "10"}},
    ]  # fmt: skip
    events, orphans = reconcile({"still-here", "gone-caller", "sb-gone-1"}, listed, "sb", 9.0, NORMALISE)
    assert events == [
        ev.CallGone(CallId("gone-caller"), 9.0, EndReason.UNSEEN),  # logged as ended while unwatched
        ev.OfferLost(OfferId("sb-gone-1"), 9.0),  # how it ended went unseen: not the agent's miss
        ev.CallArrived(CallId("arrived-meanwhile"), "+18005550102", "+14155550199", None, 9.0),
    ]
    assert orphans == ["sb-old-run-1"]


class RecordingPbx(AriPbx):
    """The real adapter with its events captured instead of routed."""

    def __init__(self) -> None:
        self.events: list[ev.Event] = []
        super().__init__(
            AriClient("http://127.0.0.1:1", "u", "p", "app"), self.events.append, lambda: 5.0, NORMALISE
        )


@pytest.mark.parametrize(
    "raw",
    [
        "not json",
        "[]",
        json.dumps({"type": "StasisStart", "channel": "not-an-object", "args": ["inbound", "1"]}),
        json.dumps({"type": "StasisEnd", "channel": ["x"]}),
        json.dumps({"type": "Dial", "peer": 7, "dialstatus": "RINGING"}),
        json.dumps({"type": "StasisStart", "args": "inbound", "channel": {"id": "c", "caller": "x"}}),
    ],
)
async def test_given_malformed_ari_messages_when_received_then_skipped_and_the_next_one_still_counts(
    raw: str,
) -> None:
    pbx = RecordingPbx()
    pbx.on_message(raw)
    good = {"type": "StasisStart", "args": ["inbound", "8005550101"], "channel": {"id": "c9", "caller": {}}}
    pbx.on_message(json.dumps(good))
    assert pbx.events == [ev.CallArrived(CallId("c9"), "+18005550101", None, None, 5.0)]


def test_given_known_legs_still_there_when_reconciling_then_what_they_did_meanwhile_is_reported() -> None:
    def listed(channel: str, state: str, args: str = "sb,agent") -> dict[str, object]:
        return {"id": channel, "state": state, "dialplan": {"app_name": "Stasis", "app_data": args}}

    present = [
        listed("sb-c1;2-1", "Up"),  # the agent picked up while we were down
        listed("sb-c2;2-1", "Ringing"),
        listed("sb-c3;2-1", "Down"),  # created, not rung yet: its deadline will tell
        listed("sb-cb-c4", "Up", "sb,callback,sb-c4-1"),  # a callback's customer answered
        listed("sb-sv-c5;2-1", "Up", "sb,supervisor,c5;2"),
        listed("c6;2", "Up", "sb,inbound,18005550101"),  # a caller: nothing to report
    ]
    known = {str(c["id"]) for c in present}
    events, orphans = reconcile(known, present, "sb", 9.0, NORMALISE)
    assert events == [
        ev.OfferAnswered(OfferId("sb-c1;2-1"), 9.0),
        ev.OfferRinging(OfferId("sb-c2;2-1"), 9.0),
        ev.CustomerAnswered(CallId("sb-cb-c4"), 9.0),
        ev.SupervisorAnswered(SupervisorLegId("sb-sv-c5;2-1"), 9.0),
    ]
    assert orphans == []


def test_given_bridges_on_a_shared_asterisk_then_only_our_apps_empty_ones_are_orphans() -> None:
    """Another service's bridge is empty for a moment between its creation and its channels' addition:
    a reconcile of ours must never destroy it (it did: any empty ``sb-`` bridge went)."""
    bridges = [
        {"id": "sb-bridge-c1", "name": "sb", "channels": []},  # ours, left empty: an orphan
        {"id": "sb-bridge-c2", "name": "sb", "channels": ["c2", "sb-c2-1"]},  # ours, in use
        {"id": "sb-bridge-c3", "name": "sbkill-1234", "channels": []},  # another service's, just made
        {"id": "sb-bridge-c4", "channels": []},  # no name: not known to be ours
        {"id": "conference-7", "name": "sb", "channels": []},  # not one of our ids
    ]
    assert empty_bridges(bridges, "sb") == ["sb-bridge-c1"]


def test_given_callers_found_on_a_reconnect_then_only_the_known_unanswered_ones_are_to_answer() -> None:
    """A service killed between a caller's arrival and their answer finds them still ringing when it
    comes back."""
    channels = [
        {"id": "c1", "state": "Ring"},  # ours, killed before its answer went out
        {"id": "c2", "state": "Up"},  # ours, answered
        {"id": "sb-c1-1", "state": "Ringing"},  # the agent's leg: not a caller
        {"id": "c3", "state": "Ring"},  # not known to us (another app's, or a new arrival)
        {"state": "Ring"},
    ]
    assert unanswered_callers({"c1", "c2", "sb-c1-1"}, channels) == ["c1"]


def test_given_a_practice_caller_entering_the_app_then_a_training_call_for_its_trainee() -> None:
    message = {
        "type": "StasisStart",
        "args": ["training", "1001", "18005550101"],
        "channel": {
            "id": "p1;2",
            "caller": {"number": "4155550123", "name": "Jane"},
        },
    }
    assert translate(message, 1.0, NORMALISE) == [
        ev.TrainingCallArrived(call=CallId("p1;2"), did="+18005550101", trainee=AgentId("1001"),
                               caller_number="+14155550123", caller_name="Jane", at=1.0)
    ]  # fmt: skip
    for args in (["training", "", "18005550101"], ["training", "1001"]):  # no trainee, no number
        assert translate({**message, "args": args}, 1.0, NORMALISE) == []


def test_given_a_reconnect_when_a_practice_caller_came_meanwhile_then_it_arrives_for_its_trainee() -> None:
    listed = [{"id": "p;2", "dialplan": {"app_name": "Stasis", "app_data": "sb,training,1001,18005550101"}}]
    events, orphans = reconcile(set(), listed, "sb", 9.0, NORMALISE)
    assert events == [
        ev.TrainingCallArrived(call=CallId("p;2"), did="+18005550101", trainee=AgentId("1001"),
                               caller_number=None, caller_name=None, at=9.0)
    ]  # fmt: skip
    assert orphans == []
