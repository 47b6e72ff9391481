"""What the caller hears: the router's symbolic prompts as lists of ARI media URIs.

Only sounds shipped in Asterisk's core English prompts (``asterisk-core-sounds-en``, the sandbox's
``/usr/share/asterisk/sounds/en``) are used, so nothing needs recording before the first call. Where no
core prompt says exactly what is meant, the nearest one is named here and in docs/ari.md.
"""

from __future__ import annotations

from collections.abc import Mapping

Media = list[str]

# The router's farewells (routing/commands.py GOODBYE, CLOSED, CALLBACK_CONFIRMED). There is no core
# "we are closed" prompt: "I'm sorry, please try your call later" is the nearest.
FAREWELLS: Mapping[str, tuple[str, ...]] = {
    "goodbye": ("vm-goodbye",),
    "closed": ("im-sorry", "please-try-call-later", "vm-goodbye"),
    "callback-confirmed": ("auth-thankyou", "vm-goodbye"),
}
# No core prompt offers a callback; "to call this person back ... press ... 1" is the nearest.
CALLBACK_CHOICE = ("vm-tocallback", "vm-press", "digits/1")
MESSAGE_INTRO = ("vm-intro",)
# What an on-call person hears when they pick up an escalation. No core prompt names a business or asks
# to accept a call; the nearest: "Call waiting. For <the number the caller dialled: the business's>.
# From <the caller's number> (or: from an unknown caller). Press 1."
ON_CALL_INTRO = ("call-waiting", "for")
ON_CALL_ACCEPT = ("vm-press", "digits/1")


def sounds(names: tuple[str, ...] | list[str]) -> Media:
    return [f"sound:{name}" for name in names]


def on_call(did: str, caller_number: str | None) -> Media:
    """Who an escalated call is for and who calls, digit by digit (``digits:`` says each), then 'press 1'."""
    number = _digits(caller_number)
    caller = ["sound:vm-from", f"digits:{number}"] if number else ["sound:from-unknown-caller"]
    return [*sounds(ON_CALL_INTRO), f"digits:{_digits(did)}", *caller, *sounds(ON_CALL_ACCEPT)]


def _digits(number: str | None) -> str:
    return "".join(c for c in number or "" if c.isdigit())


def farewell(name: str) -> Media:
    """An unknown name still says goodbye rather than hanging up in silence."""
    return sounds(FAREWELLS.get(name, FAREWELLS["goodbye"]))


def position(place: int, expected_wait_s: float) -> Media:
    """'You are next' or 'there are N calls waiting', then 'the hold time is M minutes' past a minute.

    ``number:`` lets Asterisk say any count (digits/ holds files only up to the small numbers)."""
    names = ["sound:queue-youarenext"] if place <= 1 else ["sound:queue-thereare", f"number:{place}",
                                                          "sound:queue-callswaiting"]  # fmt: skip
    minutes = round(expected_wait_s / 60)
    if expected_wait_s >= 60:
        unit = "sound:queue-minute" if minutes == 1 else "sound:queue-minutes"
        names += ["sound:queue-holdtime", f"number:{minutes}", unit]
    return names
