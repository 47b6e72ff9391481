"""Message forms per business, ``[[lines.<id>.answering.forms]]`` (routing/forms.py has what they mean).

    [[lines.smith.answering.forms]]
    name = "after-hours-medical"           # letters, digits, '-' and '_'; unique on the line
    title = "After-hours medical"          # what the agent sees (default: the name)
    call_types = ["after-hours medical"]   # optional: the call types it is for; none: any (a catch-all)
    when = [                               # optional: when it applies, in the line's hours.timezone
        { days = ["mon", "tue", "wed", "thu", "fri"], hours = "17:00-09:00" },  # may run past midnight
        { days = ["sat", "sun"] },         # a window without hours is the whole day; without days, every day
    ]
    [[lines.smith.answering.forms.fields]]
    name = "dob"                           # the key the value is stored under; unique in the form
    label = "Date of birth"                # default: the name
    type = "date-of-birth"                 # name, text, date, date-of-birth, phone, urgency, choice
    required = true                        # default false
    # max_length = 100                     # name and text only (at most 200 and 4000)
    # choices = ["routine", "urgent"]      # urgency and choice; urgency defaults to these two
    # urgent = ["urgent"]                  # urgency only: the choices that make the message urgent

Forms are tried in the file's order. Every mistake is a ``ConfigError`` naming the line, form and field.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from config.hours import zone
from config.values import ConfigError, choice, known_keys, string, strings, table, tables
from routing.forms import ENUMS, MAX_LENGTH, FieldType, Form, FormBook, FormField, Window
from routing.hours import WEEKDAYS
from routing.ids import LineId

FORM_KEYS = ("name", "title", "call_types", "when", "fields")
FIELD_KEYS = ("name", "label", "type", "required", "max_length", "choices", "urgent")
WINDOW_KEYS = ("days", "hours")
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
DEFAULT_URGENCY = ("routine", "urgent")
LENGTH_SET_BY = (FieldType.NAME, FieldType.TEXT)


def forms(raw: Mapping[str, Any]) -> dict[LineId, FormBook]:
    """Every line's forms; a line without ``forms`` in its answering table has none."""
    found: dict[LineId, FormBook] = {}
    for key, line in tables(raw, "lines").items():
        answering = table(line, "answering", f"lines.{key}.")
        if "forms" in answering:
            found[LineId(key)] = book(key, answering["forms"], table(line, "hours", f"lines.{key}."))
    return found


def book(line: str, value: Any, hours: Mapping[str, Any]) -> FormBook:
    where = f"lines.{line}.answering.forms"
    if not isinstance(value, list) or not value or not all(isinstance(item, Mapping) for item in value):
        raise ConfigError(f"{where}: a list of forms ([[{where}]] tables) is required")
    read = tuple(_form(item, f"{where}[{n}].", f"{where}.") for n, item in enumerate(value))
    _unique([f.name for f in read], f"{where}.", "forms of the line")
    timed = next((f for f in read if f.windows), None)
    if timed is None:
        return FormBook(read, "UTC")
    if "timezone" not in hours:
        raise ConfigError(
            f"{where}.{timed.name}.when: needs the line's time zone (lines.{line}.hours.timezone)"
        )
    return FormBook(read, zone(hours["timezone"], f"lines.{line}.hours.timezone"))


def _form(raw: Mapping[str, Any], at: str, parent: str) -> Form:
    name = _name(raw, at)
    where = f"{parent}{name}."
    known_keys(raw, FORM_KEYS, where)
    fields = raw.get("fields")
    if not isinstance(fields, list) or not fields or not all(isinstance(f, Mapping) for f in fields):
        raise ConfigError(f"{where}fields: a list of fields ([[...fields]] tables) is required")
    read = tuple(_field(item, f"{where}fields[{n}].", f"{where}fields.") for n, item in enumerate(fields))
    _unique([f.name for f in read], f"{where}fields.", "fields of the form")
    if sum(f.type is FieldType.URGENCY for f in read) > 1:
        raise ConfigError(f"{where}fields: at most one urgency field")
    windows = raw.get("when", [])
    if not isinstance(windows, list) or not all(isinstance(w, Mapping) for w in windows):
        raise ConfigError(f"{where}when: a list of {{days, hours}} tables is required")
    return Form(
        name=name, title=string(raw, "title", name, where), fields=read,
        call_types=tuple(dict.fromkeys(strings(raw, "call_types", (), where))),
        windows=tuple(_window(w, f"{where}when[{n}].") for n, w in enumerate(windows)),
    )  # fmt: skip


def _unique(names: list[str], where: str, what: str) -> None:
    if twice := sorted({n for n in names if names.count(n) > 1}):
        raise ConfigError(f"{where}{twice[0]}: two {what} have this name")


def _name(raw: Mapping[str, Any], where: str) -> str:
    name = string(raw, "name", None, where)
    if NAME.fullmatch(name) is None:
        raise ConfigError(f"{where}name: {name!r}: up to 64 letters, digits, '-' or '_'")
    return name


def _field(raw: Mapping[str, Any], at: str, parent: str) -> FormField:
    name = _name(raw, at)
    where = f"{parent}{name}."
    known_keys(raw, FIELD_KEYS, where)
    kind = choice(raw, "type", FieldType, FieldType.NAME, where) if "type" in raw else None
    if kind is None:
        raise ConfigError(f"{where}type: required, one of {', '.join(t.value for t in FieldType)}")
    required = raw.get("required", False)
    if not isinstance(required, bool):
        raise ConfigError(f"{where}required: true or false")
    choices, urgent = _choices(raw, kind, where)
    return FormField(
        name=name, label=string(raw, "label", name, where), type=kind, required=required,
        max_length=_max_length(raw, kind, where), choices=choices, urgent=urgent,
    )  # fmt: skip


def _max_length(raw: Mapping[str, Any], kind: FieldType, where: str) -> int:
    if "max_length" not in raw:
        return 0
    if kind not in LENGTH_SET_BY:
        raise ConfigError(f"{where}max_length: only name and text fields take one")
    value = raw["max_length"]
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_LENGTH[kind]:
        raise ConfigError(f"{where}max_length: {value!r} must be a whole number from 1 to {MAX_LENGTH[kind]}")
    return value


def _choices(raw: Mapping[str, Any], kind: FieldType, where: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    if kind not in ENUMS:
        for key in ("choices", "urgent"):
            if key in raw:
                raise ConfigError(f"{where}{key}: only urgency and choice fields take {key}")
        return (), ()
    default = DEFAULT_URGENCY if kind is FieldType.URGENCY else None
    if default is None and "choices" not in raw:
        raise ConfigError(f"{where}choices: a choice field needs its choices")
    choices = strings(raw, "choices", default or (), where)
    if (
        len(set(choices)) != len(choices)
        or len(choices) < 2
        or any(len(c) > MAX_LENGTH[kind] for c in choices)
    ):
        raise ConfigError(
            f"{where}choices: at least two distinct choices, each up to {MAX_LENGTH[kind]} characters"
        )
    if kind is FieldType.CHOICE:
        if "urgent" in raw:
            raise ConfigError(f"{where}urgent: only urgency fields take urgent")
        return choices, ()
    urgent = strings(raw, "urgent", ("urgent",) if "urgent" in choices else (), where)
    if not urgent or any(u not in choices for u in urgent):
        raise ConfigError(f"{where}urgent: name which of the choices are urgent ({', '.join(choices)})")
    return choices, urgent


def _window(raw: Mapping[str, Any], where: str) -> Window:
    known_keys(raw, WINDOW_KEYS, where)
    days = strings(raw, "days", WEEKDAYS, where)
    if bad := [d for d in days if d not in WEEKDAYS]:
        raise ConfigError(f"{where}days: {bad[0]!r} is not one of {', '.join(WEEKDAYS)}")
    if "hours" not in raw:
        return Window(frozenset(WEEKDAYS.index(d) for d in days))
    span = raw["hours"]
    start, end = (_clock(part, span, f"{where}hours") for part in str(span).partition("-")[::2])
    if start == end:
        raise ConfigError(f"{where}hours: {span!r} is empty; leave hours out for the whole day")
    return Window(frozenset(WEEKDAYS.index(d) for d in days), start, end)


def _clock(text: str, span: Any, key: str) -> dt.time:
    try:
        return dt.datetime.strptime(text.strip(), "%H:%M").time()
    except ValueError:
        raise ConfigError(f'{key}: {span!r} is not a span like "17:00-09:00"') from None
