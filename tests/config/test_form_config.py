"""``[[lines.<id>.answering.forms]]``: read into each line's ``FormBook``; a bad form is refused with an
error that names the line, the form and the field."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from config.settings import ConfigError, load, parse
from crm_core.domain.phones import normalise
from routing.forms import FieldType, Window
from routing.ids import LineId

ROOT = Path(__file__).resolve().parents[2]


def normaliser(region: str) -> Callable[[str], str | None]:
    return lambda raw: normalise(raw, region)


NAME = {"name": "caller", "label": "Caller name", "type": "name", "required": True}
DOB = {"name": "dob", "label": "Date of birth", "type": "date-of-birth"}
URGENCY = {"name": "urgency", "type": "urgency"}


def raw(forms: Any, hours: dict[str, Any] | None = None) -> dict[str, Any]:
    line: dict[str, Any] = {
        "name": "Smith", "queue": "q", "dids": {"main": "(800) 555-0201"},
        "answering": {"greeting": "Hello.", "script": "Ask.", "forms": forms},
    }  # fmt: skip
    if hours is not None:
        line["hours"] = hours
    return {
        "ari": {"password": "secret"}, "queues": {"q": {"name": "Q"}}, "lines": {"smith": line},
        "agents": {"1001": {"endpoint": "PJSIP/1001", "queues": ["q"]}},
    }  # fmt: skip


def form(**keys: Any) -> dict[str, Any]:
    return {"name": "general", "fields": [NAME, DOB, URGENCY], **keys}


def refused(forms: Any, hours: dict[str, Any] | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        parse(raw(forms, hours), normaliser, env={})
    return str(caught.value)


def test_given_the_shipped_config_then_dr_smiths_forms_are_read_in_his_time_zone() -> None:
    book = load(ROOT / "config" / "switchboard.toml", normaliser).forms[LineId("smith")]
    assert book.timezone == "America/New_York"
    assert [f.name for f in book.forms] == [
        "after-hours-medical",
        "new-patient",
        "billing-question",
        "general",
    ]
    assert book.call_types == ("after-hours medical", "new patient", "billing question")
    medical = book.forms[0]
    assert [f.type for f in medical.fields] == [
        FieldType.NAME, FieldType.DATE_OF_BIRTH, FieldType.PHONE, FieldType.TEXT, FieldType.URGENCY,
    ]  # fmt: skip
    assert medical.windows[0] == Window(frozenset(range(5)), dt.time(17), dt.time(9))
    assert medical.windows[1] == Window(frozenset({5, 6}))
    assert medical.windows[2] == Window(frozenset({0}), dt.time(0), dt.time(9))


def test_given_a_form_then_defaults_fill_what_it_leaves_out() -> None:
    book = parse(raw([form()]), normaliser, env={}).forms[LineId("smith")]
    general = book.forms[0]
    assert general.title == "general" and general.call_types == () and general.windows == ()
    assert book.timezone == "UTC"  # no window: no time zone needed
    dob, urgency = general.fields[1], general.fields[2]
    assert dob.label == "Date of birth" and not dob.required and dob.limit == 10
    assert urgency.label == "urgency"  # no label: the name
    assert urgency.choices == ("routine", "urgent") and urgency.urgent == ("urgent",)


def test_given_a_line_without_forms_then_it_has_no_book() -> None:
    settings = load(ROOT / "config" / "switchboard.toml", normaliser)
    assert LineId("acme") not in settings.forms


@pytest.mark.parametrize(
    ("forms", "message"),
    [
        ([], "lines.smith.answering.forms: a list of forms"),
        ({"name": "x"}, "lines.smith.answering.forms: a list of forms"),
        ([{"fields": [NAME]}], "lines.smith.answering.forms[0].name: a non-empty string"),
        ([{"name": "bad name", "fields": [NAME]}], "lines.smith.answering.forms[0].name: 'bad name'"),
        ([form(), form()], "lines.smith.answering.forms.general: two forms of the line have this name"),
        ([form(colour="red")], "lines.smith.answering.forms.general.colour: unknown key"),
        ([form(fields=[])], "lines.smith.answering.forms.general.fields: a list of fields"),
        ([form(fields=[NAME, NAME])], "forms.general.fields.caller: two fields of the form have this name"),
        ([form(fields=[{"name": "x"}])], "forms.general.fields.x.type: required, one of name, text"),
        ([form(fields=[{"name": "x", "type": "dat"}])], "forms.general.fields.x.type: 'dat' is not one of"),
        ([form(fields=[{**NAME, "required": "yes"}])], "forms.general.fields.caller.required: true or false"),
        (
            [form(fields=[{**NAME, "max_length": 0}])],
            "fields.caller.max_length: 0 must be a whole number from 1",
        ),
        (
            [form(fields=[{**NAME, "max_length": 201}])],
            "fields.caller.max_length: 201 must be a whole number",
        ),
        ([form(fields=[{**DOB, "max_length": 5}])], "fields.dob.max_length: only name and text fields"),
        ([form(fields=[{**NAME, "choices": ["a", "b"]}])], "fields.caller.choices: only urgency and choice"),
        (
            [form(fields=[{"name": "c", "type": "choice"}])],
            "fields.c.choices: a choice field needs its choices",
        ),
        (
            [form(fields=[{"name": "c", "type": "choice", "choices": ["a", "a"]}])],
            "fields.c.choices: at least two",
        ),
        (
            [form(fields=[{"name": "c", "type": "choice", "choices": ["a", "b"], "urgent": ["a"]}])],
            "fields.c.urgent: only urgency fields take urgent",
        ),
        ([form(fields=[{**URGENCY, "urgent": ["now"]}])], "fields.urgency.urgent: name which of the choices"),
        ([form(fields=[{**URGENCY, "choices": ["low", "high"]}])], "fields.urgency.urgent: name which"),
        ([form(fields=[URGENCY, {**URGENCY, "name": "u2"}])], "forms.general.fields: at most one urgency"),
        (
            [form(when=[{"days": ["mon"]}])],
            "forms.general.when: needs the line's time zone (lines.smith.hours",
        ),
        ([form(when={"days": ["mon"]})], "forms.general.when: a list of {days, hours} tables"),
    ],
)
def test_given_a_bad_form_when_the_config_is_read_then_the_error_names_it(forms: Any, message: str) -> None:
    assert message in refused(forms)


@pytest.mark.parametrize(
    ("window", "message"),
    [
        ({"days": ["funday"]}, "forms.general.when[0].days: 'funday' is not one of mon"),
        ({"hours": "9-5"}, "forms.general.when[0].hours: '9-5' is not a span"),
        ({"hours": "09:00-09:00"}, "forms.general.when[0].hours: '09:00-09:00' is empty"),
        ({"at": "noon"}, "forms.general.when[0].at: unknown key"),
    ],
)
def test_given_a_bad_window_then_the_error_names_it(window: dict[str, Any], message: str) -> None:
    assert message in refused([form(when=[window])], {"timezone": "America/New_York"})


def test_given_windows_then_they_are_read_in_the_lines_time_zone() -> None:
    hours = {"timezone": "Europe/Paris", "mon": ["09:00-17:00"]}
    settings = parse(raw([form(when=[{"hours": "18:00-08:00"}])], hours), normaliser, env={})
    book = settings.forms[LineId("smith")]
    assert book.timezone == "Europe/Paris"
    assert book.forms[0].windows == (Window(frozenset(range(7)), dt.time(18), dt.time(8)),)
