"""Message forms without I/O: which form a call takes (local time, day, call type) and the check of a
submitted message against it."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from routing.forms import FieldType, Form, FormBook, FormField, Window, check, choose

NY = ZoneInfo("America/New_York")
TODAY = dt.date(2026, 12, 7)  # a Monday
WEEKDAYS = frozenset(range(5))


def field(name: str, kind: FieldType, **keys: object) -> FormField:
    return FormField(name=name, label=name.title(), type=kind, **keys)  # type: ignore[arg-type]


FIELDS = (
    field("caller", FieldType.NAME, required=True, max_length=20),
    field("dob", FieldType.DATE_OF_BIRTH, required=True),
    field("seen_on", FieldType.DATE),
    field("callback", FieldType.PHONE, required=True),
    field("notes", FieldType.TEXT, max_length=50),
    field(
        "urgency",
        FieldType.URGENCY,
        choices=("routine", "urgent", "emergency"),
        urgent=("urgent", "emergency"),
    ),
    field("insurance", FieldType.CHOICE, choices=("private", "none")),
)
AFTER_HOURS = Form(
    name="after-hours-medical", title="After-hours medical", fields=FIELDS,
    call_types=("after-hours medical",),
    windows=(Window(WEEKDAYS, dt.time(17), dt.time(9)), Window(frozenset({5, 6}))),
)  # fmt: skip
NEW_PATIENT = Form(name="new-patient", title="New patient", fields=FIELDS[:2], call_types=("new patient",))
GENERAL = Form(name="general", title="Message", fields=FIELDS[:1])
BOOK = FormBook((AFTER_HOURS, NEW_PATIENT, GENERAL), "America/New_York")


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """December 2026: day 7 is a Monday."""
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=NY)


def digits(raw: str) -> str | None:
    """A stand-in normaliser: ten digits are a US number."""
    only = "".join(c for c in raw if c.isdigit())
    return f"+1{only}" if len(only) == 10 else None


# --- choice -----------------------------------------------------------------------------------------
def test_given_a_weekday_evening_when_an_after_hours_medical_call_comes_then_it_takes_that_form() -> None:
    assert choose(BOOK, at(7, 18), "after-hours medical") is AFTER_HOURS


def test_given_a_window_past_midnight_then_the_next_morning_is_still_in_it_until_it_ends() -> None:
    assert choose(BOOK, at(8, 8, 59), "after-hours medical") is AFTER_HOURS  # Tuesday, from Monday 17:00
    assert choose(BOOK, at(8, 9), "after-hours medical") is GENERAL  # office hours: the catch-all
    assert choose(BOOK, at(7, 8), "after-hours medical") is GENERAL  # Monday 08:00: Sunday has no evening
    assert choose(BOOK, at(12, 12), "after-hours medical") is AFTER_HOURS  # Saturday, all day
    # Monday 08:00: Friday's evening is over and the weekend's whole days end at Sunday midnight.
    assert choose(BOOK, at(14, 8), "after-hours medical") is GENERAL


def test_given_a_window_within_one_day_then_it_covers_that_span_of_its_days_only() -> None:
    lunch = Window(WEEKDAYS, dt.time(12), dt.time(13, 30))
    assert lunch.covers(at(7, 12)) and lunch.covers(at(7, 13, 29))
    assert not lunch.covers(at(7, 13, 30)) and not lunch.covers(at(7, 11, 59))
    assert not lunch.covers(at(12, 12))  # Saturday


def test_given_a_call_type_then_a_form_naming_it_wins_over_the_catch_all_at_any_time() -> None:
    assert choose(BOOK, at(8, 11), "new patient") is NEW_PATIENT
    assert choose(BOOK, at(8, 3), "new patient") is NEW_PATIENT


def test_given_no_or_an_unknown_call_type_then_the_catch_all() -> None:
    assert choose(BOOK, at(7, 18), None) is GENERAL
    assert choose(BOOK, at(7, 18), "billing question") is GENERAL


def test_given_no_catch_all_then_no_form() -> None:
    book = FormBook((AFTER_HOURS,), "America/New_York")
    assert choose(book, at(8, 11), "after-hours medical") is None
    assert choose(FormBook(), at(8, 11), None) is None


def test_given_a_book_then_its_call_types_in_order_and_its_local_time() -> None:
    assert BOOK.call_types == ("after-hours medical", "new patient")
    assert BOOK.local(at(7, 18).timestamp()) == at(7, 18)
    assert BOOK.named("new-patient") is NEW_PATIENT and BOOK.named("nope") is None


@given(st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2030, 1, 1)))
def test_the_after_hours_form_applies_exactly_outside_weekday_office_hours(moment: dt.datetime) -> None:
    local = moment.replace(tzinfo=NY)
    office = local.weekday() < 5 and dt.time(9) <= local.time() < dt.time(17)
    monday_early = local.weekday() == 0 and local.time() < dt.time(9)  # Sunday's window ended at midnight
    expected = GENERAL if office or monday_early else AFTER_HOURS
    assert choose(BOOK, local, "after-hours medical") is expected


@given(
    st.sampled_from([None, "new patient", "after-hours medical", "other"]),
    st.integers(0, 6),
    st.integers(0, 23),
)
def test_a_chosen_form_is_open_and_serves_the_call_type(call_type: str | None, day: int, hour: int) -> None:
    local = at(7 + day, hour)
    form = choose(BOOK, local, call_type)
    assert form is not None and form.open_at(local)
    assert not form.call_types or call_type in form.call_types


# --- checking a message -----------------------------------------------------------------------------
GOOD = {"caller": " Jane Doe ", "dob": "1980-02-29", "callback": "(415) 555-0123", "urgency": "emergency"}


def test_given_good_values_then_they_are_stored_cleaned_and_the_message_is_urgent() -> None:
    checked = check(AFTER_HOURS, {**GOOD, "notes": "", "insurance": None}, TODAY, digits)
    assert checked.ok and checked.errors == {}
    assert dict(checked.values) == {"caller": "Jane Doe", "dob": "1980-02-29", "callback": "+14155550123",
                                    "urgency": "emergency"}  # fmt: skip
    assert checked.urgent
    assert checked.first(FieldType.NAME) == "Jane Doe" and checked.first(FieldType.PHONE) == "+14155550123"
    assert checked.first(FieldType.TEXT) is None
    assert checked.summary() == (
        "Form: After-hours medical\nCaller: Jane Doe\nDob: 1980-02-29\nCallback: +14155550123\n"
        "Urgency: emergency"
    )


def test_given_a_routine_urgency_then_the_message_is_not_urgent() -> None:
    assert not check(AFTER_HOURS, {**GOOD, "urgency": "routine"}, TODAY, digits).urgent
    assert not check(GENERAL, {"caller": "x"}, TODAY, digits).urgent


def test_given_bad_values_then_each_field_says_why_and_nothing_is_kept_for_it() -> None:
    raw: dict[str, object] = {
        "caller": "J" * 21, "dob": "2030-01-01", "seen_on": "yesterday", "callback": "call me maybe",
        "notes": 5, "urgency": "soon", "insurance": "gold", "shoe_size": "9",
    }  # fmt: skip
    checked = check(AFTER_HOURS, raw, TODAY, digits)
    assert not checked.ok
    assert checked.errors == {
        "caller": "at most 20 characters",
        "dob": "a date of birth cannot be in the future",
        "seen_on": "'yesterday' is not a date (YYYY-MM-DD)",
        "callback": "'call me maybe' is not a phone number",
        "notes": "must be text",
        "urgency": "one of: routine, urgent, emergency",
        "insurance": "one of: private, none",
        "shoe_size": "not a field of the form 'After-hours medical'",
    }
    assert dict(checked.values) == {}


def test_given_required_fields_left_empty_then_each_is_required() -> None:
    checked = check(AFTER_HOURS, {"caller": "   ", "notes": "fine"}, TODAY, digits)
    assert checked.errors == {"caller": "required", "dob": "required", "callback": "required"}


def test_given_odd_dates_and_lines_then_they_are_refused() -> None:
    errors = check(AFTER_HOURS, {**GOOD, "dob": "1850-01-01", "seen_on": "2026-02-30"}, TODAY, digits).errors
    assert errors == {
        "dob": "a date of birth before 1896 is a mistake",
        "seen_on": "'2026-02-30' is not a date (YYYY-MM-DD)",
    }
    assert check(AFTER_HOURS, {**GOOD, "caller": "Jane\nDoe"}, TODAY, digits).errors == {
        "caller": "must be one line"
    }
    assert check(
        AFTER_HOURS, {**GOOD, "seen_on": "2026-12-31"}, TODAY, digits
    ).ok  # a plain date may be ahead


def test_given_many_unknown_fields_then_a_few_are_named() -> None:
    raw = {f"x{n}": "1" for n in range(20)}
    assert len(check(GENERAL, {"caller": "Jo", **raw}, TODAY, digits).errors) == 5


@given(
    st.dictionaries(
        st.sampled_from([f.name for f in FIELDS] + ["other"]), st.one_of(st.none(), st.text(), st.integers())
    )
)
def test_a_checked_message_keeps_only_fields_without_errors_and_never_a_too_long_value(
    raw: dict[str, object],
) -> None:
    checked = check(AFTER_HOURS, raw, TODAY, digits)
    assert not set(checked.values) & set(checked.errors)
    limits = {f.name: f.limit for f in AFTER_HOURS.fields}
    assert all(len(v) <= limits[k] or k == "callback" for k, v in checked.values.items())
    assert (
        checked.ok == all(not (f.required and f.name not in checked.values) for f in AFTER_HOURS.fields)
        or not checked.ok
    )
    if checked.ok:
        assert all(f.name in checked.values for f in AFTER_HOURS.fields if f.required)
