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


def sounds(names: tuple[str, ...] | list[str]) -> Media:
    return [f"sound:{name}" for name in names]


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
