"""Identifier helpers: the router names the agent legs and bridges it asks the PBX to create."""

from routing.ids import (
    CallId,
    bridge_id,
    callback_id,
    is_callback_leg,
    is_offer_channel,
    is_snoop_channel,
    is_supervisor_leg,
    offer_id,
    recording_name,
    snoop_id,
    supervision_bridge_id,
    supervisor_leg_id,
)


def test_given_call_and_attempt_when_offer_id_made_then_prefixed_and_unique_per_attempt() -> None:
    assert offer_id(CallId("1700000000.42"), 1) == "sb-1700000000.42-1"
    assert offer_id(CallId("1700000000.42"), 2) != offer_id(CallId("1700000000.42"), 1)


def test_given_call_when_bridge_id_made_then_prefixed() -> None:
    assert bridge_id(CallId("1700000000.42")) == "sb-bridge-1700000000.42"


def test_given_channel_ids_when_classified_then_only_router_made_legs_are_offers() -> None:
    assert is_offer_channel(offer_id(CallId("1700000000.42"), 1))
    assert not is_offer_channel("1700000000.42")
    assert not is_offer_channel("PJSIP/1001-00000001")


def test_given_a_callback_then_its_leg_id_is_an_offer_like_channel_told_apart_as_a_callback_leg() -> None:
    leg = callback_id(CallId("1700000000.42"))
    assert (leg, is_callback_leg(leg), is_offer_channel(leg)) == ("sb-cb-1700000000.42", True, True)
    assert not is_callback_leg(offer_id(CallId("1700000000.42"), 1))
    assert recording_name(CallId("1700000000.42")) == "sb-vm-1700000000.42"


def test_given_a_supervisor_leg_then_its_snoop_and_bridge_ids_and_each_is_told_apart() -> None:
    call = CallId("1700000000.42")
    leg = supervisor_leg_id(call, 2)
    snoop = snoop_id(leg)
    assert (leg, snoop, supervision_bridge_id(leg)) == (
        "sb-sv-1700000000.42-2", "sb-snoop-1700000000.42-2", "sb-svbridge-1700000000.42-2",
    )  # fmt: skip
    assert (is_supervisor_leg(leg), is_snoop_channel(leg), is_offer_channel(leg)) == (True, False, True)
    assert (is_supervisor_leg(snoop), is_snoop_channel(snoop), is_offer_channel(snoop)) == (False, True, True)
    assert not is_supervisor_leg(offer_id(call, 1)) and not is_snoop_channel(offer_id(call, 1))
