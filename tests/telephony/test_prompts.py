"""What the caller hears for each prompt the router asks for."""

from __future__ import annotations

import pytest

from telephony import prompts


@pytest.mark.parametrize(
    ("place", "wait_s", "expected"),
    [
        (1, 20.0, ["sound:queue-youarenext"]),
        (3, 59.0, ["sound:queue-thereare", "number:3", "sound:queue-callswaiting"]),
        (1, 60.0, ["sound:queue-youarenext", "sound:queue-holdtime", "number:1", "sound:queue-minute"]),
        (12, 290.0, ["sound:queue-thereare", "number:12", "sound:queue-callswaiting",
                     "sound:queue-holdtime", "number:5", "sound:queue-minutes"]),
    ],
)  # fmt: skip
def test_given_a_place_and_a_wait_when_announced_then_the_sounds_in_order(
    place: int, wait_s: float, expected: list[str]
) -> None:
    assert prompts.position(place, wait_s) == expected


def test_given_the_routers_farewells_when_looked_up_then_each_has_sounds_and_unknown_says_goodbye() -> None:
    assert prompts.farewell("goodbye") == ["sound:vm-goodbye"]
    assert prompts.farewell("closed")[0] == "sound:im-sorry"
    assert prompts.farewell("callback-confirmed")[-1] == "sound:vm-goodbye"
    assert prompts.farewell("no-such-prompt") == ["sound:vm-goodbye"]


def test_given_the_routers_farewell_names_when_looked_up_then_all_are_known() -> None:
    from routing.commands import CALLBACK_CONFIRMED, CLOSED, GOODBYE

    assert {GOODBYE, CLOSED, CALLBACK_CONFIRMED} <= prompts.FAREWELLS.keys()


def test_given_an_escalation_picked_up_then_the_person_hears_the_business_the_caller_and_press_1() -> None:
    assert prompts.on_call("+18005550101", "+1 (415) 555-0123") == [
        "sound:call-waiting", "sound:for", "digits:18005550101",
        "sound:vm-from", "digits:14155550123",
        "sound:vm-press", "sound:digits/1",
    ]  # fmt: skip


def test_given_a_withheld_caller_then_the_person_hears_an_unknown_caller() -> None:
    assert prompts.on_call("+18005550101", None)[3:] == [
        "sound:from-unknown-caller", "sound:vm-press", "sound:digits/1",
    ]  # fmt: skip
    assert prompts.on_call("+18005550101", "anonymous")[3] == "sound:from-unknown-caller"
