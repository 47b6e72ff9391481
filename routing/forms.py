"""Message forms: what an answering agent asks the caller of one business, chosen by the business's local
time, the day and the call type, and the check of what the agent typed against the form.

Pure: the local time and today's date come in, and phone numbers are normalised by a function passed in
(crm_core's; routing may not import it). ``config/forms.py`` reads the forms of each line; the console's
desk chooses the form for a call (``choose``), sends it to the answering console, and checks a submitted
message against it (``check``) before anything is stored.

Choice: among the forms open at the local time (a form without windows is always open), the first in
the config's order that names the call type; else the first that names no call type (a catch-all);
else none (the console's plain message form).
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

Normalise = Callable[[str], str | None]
OLDEST_AGE_YEARS = 130  # a date of birth further back is a typing mistake
MAX_UNKNOWN_REPORTED = 5


class FieldType(enum.StrEnum):
    NAME = "name"  # one line: a person's name
    TEXT = "text"  # free text, several lines
    DATE = "date"  # YYYY-MM-DD
    DATE_OF_BIRTH = "date-of-birth"  # YYYY-MM-DD, not in the future, not before OLDEST_AGE_YEARS ago
    PHONE = "phone"  # a callback number, stored in E.164
    URGENCY = "urgency"  # one of ``choices``; those in ``urgent`` make the message urgent
    CHOICE = "choice"  # one of ``choices``


# The longest value each type takes; for name and text the form may set a lower max_length.
MAX_LENGTH = {
    FieldType.NAME: 200, FieldType.TEXT: 4000, FieldType.DATE: 10, FieldType.DATE_OF_BIRTH: 10,
    FieldType.PHONE: 40, FieldType.URGENCY: 100, FieldType.CHOICE: 100,
}  # fmt: skip
ENUMS = (FieldType.URGENCY, FieldType.CHOICE)
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True, slots=True, kw_only=True)
class FormField:
    name: str
    label: str
    type: FieldType
    required: bool = False
    max_length: int = 0  # 0: the type's MAX_LENGTH
    choices: tuple[str, ...] = ()  # urgency and choice fields
    urgent: tuple[str, ...] = ()  # urgency fields: the choices that make the message urgent

    @property
    def limit(self) -> int:
        return self.max_length or MAX_LENGTH[self.type]


@dataclass(frozen=True, slots=True)
class Window:
    """Open on ``days`` (0 = Monday) from ``start`` to ``end``, local time; an ``end`` not after ``start``
    runs into the next day (Friday 18:00-08:00 ends Saturday 08:00), and ``start == end`` is a whole day."""

    days: frozenset[int]
    start: dt.time = dt.time(0)
    end: dt.time = dt.time(0)

    def covers(self, local: dt.datetime) -> bool:
        moment = local.time().replace(tzinfo=None)
        day = local.weekday()
        if self.start < self.end:
            return day in self.days and self.start <= moment < self.end
        if moment >= self.start:
            return day in self.days
        return moment < self.end and (day - 1) % 7 in self.days


@dataclass(frozen=True, slots=True, kw_only=True)
class Form:
    name: str
    title: str
    fields: tuple[FormField, ...]
    call_types: tuple[str, ...] = ()  # empty: any call type (a catch-all)
    windows: tuple[Window, ...] = ()  # empty: at any time

    def open_at(self, local: dt.datetime) -> bool:
        return not self.windows or any(w.covers(local) for w in self.windows)


@dataclass(frozen=True, slots=True)
class FormBook:
    """One business's forms, in the config's order, and the time zone their windows are read in."""

    forms: tuple[Form, ...] = ()
    timezone: str = "UTC"

    @property
    def call_types(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t for form in self.forms for t in form.call_types))

    def local(self, at: float) -> dt.datetime:
        return dt.datetime.fromtimestamp(at, ZoneInfo(self.timezone))

    def named(self, name: str) -> Form | None:
        return next((f for f in self.forms if f.name == name), None)


def choose(book: FormBook, local: dt.datetime, call_type: str | None) -> Form | None:
    """The form a call of ``call_type`` takes at ``local`` (the business's wall-clock time)."""
    open_now = [form for form in book.forms if form.open_at(local)]
    if call_type is not None:
        for form in open_now:
            if call_type in form.call_types:
                return form
    return next((form for form in open_now if not form.call_types), None)


@dataclass(frozen=True, slots=True)
class Checked:
    """A submitted message against its form: the values as stored (only the fields filled in, phone
    numbers in E.164, in the form's order) and, when it is refused, why, per field."""

    form: Form
    values: Mapping[str, str]
    errors: Mapping[str, str]

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def urgent(self) -> bool:
        return any(
            self.values.get(f.name) in f.urgent for f in self.form.fields if f.type is FieldType.URGENCY
        )

    def first(self, kind: FieldType) -> str | None:
        """The value of the form's first field of ``kind`` (the caller's name, the callback number)."""
        found = (self.values[f.name] for f in self.form.fields if f.type is kind and f.name in self.values)
        return next(found, None)

    def summary(self) -> str:
        """The message as a person reads it: the form's title, then each field filled in."""
        lines = [f"{f.label}: {self.values[f.name]}" for f in self.form.fields if f.name in self.values]
        return "\n".join([f"Form: {self.form.title}", *lines])


def check(form: Form, raw: Mapping[str, object], today: dt.date, normalise: Normalise) -> Checked:
    """``raw`` (field name -> what the agent typed) checked against ``form``."""
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    for field in form.fields:
        value, problem = _field(field, raw.get(field.name), today, normalise)
        if problem is not None:
            errors[field.name] = problem
        elif value is not None:
            values[field.name] = value
    known = {f.name for f in form.fields}
    for name in [n for n in raw if n not in known][:MAX_UNKNOWN_REPORTED]:
        errors[name[:100]] = f"not a field of the form {form.title!r}"
    return Checked(form, values, errors)


def _field(
    field: FormField, raw: object, today: dt.date, normalise: Normalise
) -> tuple[str | None, str | None]:
    if raw is not None and not isinstance(raw, str):
        return None, "must be text"
    text = (raw or "").strip()
    if not text:
        return None, "required" if field.required else None
    if len(text) > field.limit:
        return None, f"at most {field.limit} characters"
    if field.type is FieldType.TEXT:
        return text, None
    if CONTROL.search(text):
        return None, "must be one line"
    match field.type:
        case FieldType.DATE | FieldType.DATE_OF_BIRTH:
            return _date(text, field.type is FieldType.DATE_OF_BIRTH, today)
        case FieldType.PHONE:
            number = normalise(text)
            return (number, None) if number is not None else (None, f"{text!r} is not a phone number")
        case FieldType.URGENCY | FieldType.CHOICE:
            return (text, None) if text in field.choices else (None, f"one of: {', '.join(field.choices)}")
    return text, None


def _date(text: str, of_birth: bool, today: dt.date) -> tuple[str | None, str | None]:
    try:
        day = dt.date.fromisoformat(text) if ISO_DATE.fullmatch(text) else None
    except ValueError:
        day = None
    if day is None:
        return None, f"{text!r} is not a date (YYYY-MM-DD)"
    if of_birth and day > today:
        return None, "a date of birth cannot be in the future"
    if of_birth and day.year < today.year - OLDEST_AGE_YEARS:
        return None, f"a date of birth before {today.year - OLDEST_AGE_YEARS} is a mistake"
    return day.isoformat(), None
