"""The router's events as JSON text, for the journal (``switchboard/journal.py``), and back.

One object per event: ``{"k": <class name>, <field>: <value>, ...}``. Every field of every event is a
string, a float, a boolean, a string enum or None, or a tuple of frozen dataclasses whose fields are those (an
escalation's chain, written as a list of objects; ``test_event_codec`` checks the union stays that
way), so the text is plain JSON and readable in the database. Decoding names the class and the field
that do not fit, so a journal written by another release fails loudly, never as a silently different
event.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import typing
from collections.abc import Callable, Mapping

from routing import events as ev


class UnreadableEvent(ValueError):
    """A journal line that is not an event this release knows."""


Decode = Callable[[object], object]


def _decoder(hint: object) -> Decode:
    """How one field's JSON value becomes the field's value: enums by value, numbers and strings as
    they are once their type is checked, None only where the field may be None, a tuple of dataclasses
    from a list of objects."""
    if typing.get_origin(hint) is tuple:
        return _items(typing.get_args(hint)[0])
    options = typing.get_args(hint) or (hint,)
    optional = type(None) in options
    (kind,) = [getattr(o, "__supertype__", o) for o in options if o is not type(None)]

    def convert(value: object) -> object:
        if value is None and optional:
            return None
        if isinstance(kind, type) and issubclass(kind, enum.Enum):
            return kind(value)
        if kind is float and isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if kind is str and isinstance(value, str):
            return value
        if kind is bool and isinstance(value, bool):
            return value
        raise ValueError(f"{value!r} is not a {getattr(kind, '__name__', kind)}")

    return convert


def _items(cls: type) -> Decode:
    fields = _fields(cls)
    # A field added since with a default (an on-call step's warm) may be absent from older lines.
    optional = {f.name for f in dataclasses.fields(cls) if f.default is not dataclasses.MISSING}

    def convert(value: object) -> object:
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            raise ValueError(f"{value!r} is not a list of {cls.__name__}")
        items = []
        for item in value:
            found = {
                name: field(item.pop(name)) for name, field in fields if name in item or name not in optional
            }
            items.append(cls(**found))
            if item:
                raise ValueError(f"unknown fields {sorted(item)} of {cls.__name__}")
        return tuple(items)

    return convert


def _plain(value: object) -> object:
    if isinstance(value, tuple):
        return [dataclasses.asdict(item) for item in value]
    return value  # a StrEnum member is written as its value


def _fields(cls: type) -> tuple[tuple[str, Decode], ...]:
    hints = typing.get_type_hints(cls)
    return tuple((f.name, _decoder(hints[f.name])) for f in dataclasses.fields(cls))


KINDS: Mapping[str, type[ev.Event]] = {cls.__name__: cls for cls in typing.get_args(ev.Event)}
_FIELDS = {name: _fields(cls) for name, cls in KINDS.items()}
_OPTIONAL = {
    name: frozenset(f.name for f in dataclasses.fields(cls) if f.default is not dataclasses.MISSING)
    for name, cls in KINDS.items()
}


def encode(event: ev.Event) -> str:
    body: dict[str, object] = {"k": type(event).__name__}
    for name, _ in _FIELDS[type(event).__name__]:
        body[name] = _plain(getattr(event, name))
    return json.dumps(body, separators=(",", ":"))


def decode(text: str) -> ev.Event:
    try:
        body = json.loads(text)
        kind = body.pop("k")
        fields = _FIELDS[kind]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise UnreadableEvent(f"not a journalled event: {text[:120]!r}") from exc
    try:
        # A field added since with a default (an escalation's chain) may be absent from older lines.
        values = {
            name: convert(body.pop(name))
            for name, convert in fields
            if name in body or name not in _OPTIONAL[kind]
        }
    except (KeyError, ValueError) as exc:
        raise UnreadableEvent(f"{kind}: {exc!r} in {text[:120]!r}") from exc
    if body:
        raise UnreadableEvent(f"{kind}: unknown fields {sorted(body)} in {text[:120]!r}")
    return KINDS[kind](**values)  # type: ignore[arg-type]
