"""What ``switchboard call`` says about where its call goes (switchboard/call_route.py): the JSON fields
and the sentence, for each kind of destination, on the shipped config at chosen moments."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from config.settings import load
from routing.destinations import destination
from routing.hours import Span
from routing.ids import LineId
from routing.plan import AfterHours, AfterHoursKind, Plan
from switchboard.bootstrap import normaliser
from switchboard.call_route import fields, sentence

ROOT = Path(__file__).resolve().parents[2]
NY = ZoneInfo("America/New_York")
PLAN = load(ROOT / "config" / "switchboard.toml", normaliser, env={}).plan
TEST_LINE, ACME_WEB, SMITH = "+18005550100", "+18005550103", "+18005550201"


def at(*when: int) -> float:
    return dt.datetime(*when, tzinfo=NY).timestamp()


SUNDAY_NIGHT = at(2026, 12, 6, 23, 12)
TUESDAY_LUNCH = at(2026, 12, 8, 12, 45)  # Acme open; Dr. Smith's office closed 12:30-13:30
THANKSGIVING = at(2026, 11, 26, 10)
CHRISTMAS_EVE = at(2026, 12, 24, 15)  # the shipped config's one-off closure of the Acme line
CLOSED_SUNDAY = {"closed": "hours", "why": "Sun 23:12 America/New_York; closed all Sun"}


@pytest.mark.parametrize(
    ("did", "when", "expected"),
    [
        (TEST_LINE, SUNDAY_NIGHT, {"line": "test", "line_name": "Test line", "source": "quick-start",
                                   "open": True, "closed": None, "why": None, "route": "queue",
                                   "queue": "acme", "on_call": []}),
        (ACME_WEB, TUESDAY_LUNCH, {"line": "acme", "source": "web", "open": True, "closed": None,
                                   "route": "queue", "queue": "acme"}),
        (ACME_WEB, SUNDAY_NIGHT, {"line": "acme", "open": False, **CLOSED_SUNDAY, "route": "queue",
                                  "queue": "answering", "on_call": []}),
        (ACME_WEB, THANKSGIVING, {"open": False, "closed": "holiday", "why": "Thanksgiving Day",
                                  "queue": "answering"}),
        (ACME_WEB, CHRISTMAS_EVE, {"open": False, "closed": "closure", "why": "Christmas Eve"}),
        (SMITH, TUESDAY_LUNCH, {"line": "smith", "open": False, "closed": "hours",
                                "why": "Tue 12:45 America/New_York; Tue hours 09:00-12:30, 13:30-17:00",
                                "route": "on-call", "queue": None,
                                "on_call": ["Dr. Smith", "Dr. Jones (backup)"]}),
        ("+18005559999", SUNDAY_NIGHT, {"line": None, "line_name": None, "source": None, "open": None,
                                        "closed": None, "why": None, "route": "rejected", "queue": None,
                                        "on_call": []}),
    ],
)  # fmt: skip
def test_given_a_number_and_a_moment_when_described_then_the_json_fields_say_where_the_call_goes(
    did: str, when: float, expected: dict[str, object]
) -> None:
    described = fields(destination(PLAN, did, when))
    assert set(described) == {"line", "line_name", "source", "open", "closed", "why", "route", "queue",
                              "on_call"}  # fmt: skip
    assert {key: described[key] for key in expected} == expected


def with_after_hours(policy: AfterHours) -> Plan:
    acme = dataclasses.replace(PLAN.lines[LineId("acme")], after_hours=policy)
    return dataclasses.replace(PLAN, lines={**PLAN.lines, acme.id: acme})


@pytest.mark.parametrize(
    ("plan", "did", "when", "expected"),
    [
        (PLAN, TEST_LINE, SUNDAY_NIGHT, '+18005550100 is line "Test line" (source quick-start), open: the '
                                        'call waits in queue acme ("Acme Service") for a ready agent'),
        (PLAN, ACME_WEB, SUNDAY_NIGHT, '+18005550103 is line "Acme Service" (source web), closed (outside '
                                       "its hours: Sun 23:12 America/New_York; closed all Sun): after hours "
                                       'the call waits in queue answering ("Answering Service") for a '
                                       "ready agent"),
        (PLAN, ACME_WEB, THANKSGIVING, '+18005550103 is line "Acme Service" (source web), closed (public '
                                      "holiday: Thanksgiving Day): after hours the call waits in queue "
                                      'answering ("Answering Service") for a ready agent'),
        (with_after_hours(AfterHours(AfterHoursKind.VOICEMAIL)), ACME_WEB, CHRISTMAS_EVE,
         '+18005550103 is line "Acme Service" (source web), closed (closure: Christmas Eve): the caller is '
         "asked to leave a message"),
        (with_after_hours(AfterHours(AfterHoursKind.HANG_UP)), ACME_WEB, CHRISTMAS_EVE,
         '+18005550103 is line "Acme Service" (source web), closed (closure: Christmas Eve): the caller '
         "hears the closed message and is hung up"),
        (PLAN, SMITH, SUNDAY_NIGHT, '+18005550201 is line "Dr. Smith\'s office" (source main), closed '
                                    "(outside its hours: Sun 23:12 America/New_York; closed all Sun): after "
                                    "hours the on-call chain rings Dr. Smith, then Dr. Jones (backup); a "
                                    "message if nobody answers"),
        (PLAN, "+18005559999", SUNDAY_NIGHT, "+18005559999 is not in the number plan: the call will be "
                                             "rejected"),
    ],
)  # fmt: skip
def test_given_a_destination_when_told_then_one_sentence_names_line_state_reason_and_target(
    plan: Plan, did: str, when: float, expected: str
) -> None:
    assert sentence(destination(plan, did, when), plan) == expected


def test_given_a_day_open_to_midnight_when_closed_before_it_then_the_span_ends_at_24_00() -> None:
    acme = PLAN.lines[LineId("acme")]
    assert acme.hours is not None
    hours = dataclasses.replace(acme.hours, weekly={6: (Span(dt.time(9), dt.time.max),)})
    plan = dataclasses.replace(PLAN, lines={**PLAN.lines, acme.id: dataclasses.replace(acme, hours=hours)})
    assert fields(destination(plan, ACME_WEB, at(2026, 12, 6, 3)))["why"] == (
        "Sun 03:00 America/New_York; Sun hours 09:00-24:00"
    )
