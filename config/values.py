"""Typed values read out of TOML tables; every mistake is a ``ConfigError`` that names its key.

``where`` is always the dotted path of the table being read (``"queues.acme."``), so a message reads
``queues.acme.ring_timeout_s: 0 must be a positive number of seconds``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

E = TypeVar("E", bound=enum.Enum)


class ConfigError(Exception):
    """The configuration cannot be used; the message says which key and why."""


def table(raw: Mapping[str, Any], key: str, where: str = "") -> Mapping[str, Any]:
    value = raw.get(key, {})
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}{key} must be a table")
    return value


def tables(raw: Mapping[str, Any], key: str, where: str = "") -> Mapping[str, Mapping[str, Any]]:
    value = table(raw, key, where)
    for name, item in value.items():
        if not isinstance(item, Mapping):
            raise ConfigError(f"{where}{key}.{name} must be a table")
    return value


def listed_tables(value: Any, key: str, allowed: Sequence[str]) -> Iterator[tuple[Mapping[str, Any], str]]:
    """Each table of the list of tables ``value``, with the ``where`` of its own keys (``key[n].``);
    a key other than ``allowed`` is refused (``known_keys``)."""
    if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
        raise ConfigError(f"{key}: a list of {{{', '.join(allowed)}}} tables is required")
    for n, item in enumerate(value):
        where = f"{key}[{n}]."
        known_keys(item, allowed, where)
        yield item, where


def known_keys(raw: Mapping[str, Any], allowed: Iterable[str], where: str) -> None:
    """A key nobody reads is a typo: refuse it rather than let it pass silently."""
    valid = tuple(allowed)
    unknown = sorted(set(raw) - set(valid))
    if unknown:
        raise ConfigError(f"{where}{unknown[0]}: unknown key (valid keys: {', '.join(valid)})")


def string(raw: Mapping[str, Any], key: str, default: str | None, where: str = "") -> str:
    value = raw.get(key, default)
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{where}{key}: a non-empty string is required")
    return value


def optional_string(raw: Mapping[str, Any], key: str, where: str) -> str | None:
    return string(raw, key, None, where) if key in raw else None


def whole(value: Any, key: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{key}: {value!r} is not a whole number") from None


def integer(raw: Mapping[str, Any], key: str, default: int, where: str, minimum: int | None = None) -> int:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or (minimum is not None and value < minimum):
        floor = "" if minimum is None else f" of at least {minimum}"
        raise ConfigError(f"{where}{key}: {value!r} must be a whole number{floor}")
    return value


def positive(value: Any, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(f"{key}: {value!r} must be a positive number of seconds")
    return float(value)


def seconds(raw: Mapping[str, Any], key: str, default: float, where: str) -> float:
    """A duration that may be 0 (which means "off" for the keys that use it)."""
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(f"{where}{key}: {value!r} must be a number of seconds, 0 or more")
    return float(value)


def choice(raw: Mapping[str, Any], key: str, kind: type[E], default: E, where: str) -> E:
    value = raw.get(key, default.value)
    try:
        return kind(value)
    except ValueError:
        valid = ", ".join(str(member.value) for member in kind)
        raise ConfigError(f"{where}{key}: {value!r} is not one of {valid}") from None


def levels(raw: Mapping[str, Any], key: str, where: str) -> dict[str, int]:
    """A table of name -> whole number 0 or more: skills and their levels, tiers and priorities."""
    found = table(raw, key, where)
    return {name: integer(found, name, 0, f"{where}{key}.", minimum=0) for name in found}


def strings(raw: Mapping[str, Any], key: str, default: tuple[str, ...], where: str) -> tuple[str, ...]:
    value = raw.get(key, list(default))
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{where}{key}: a list of non-empty strings is required")
    return tuple(value)
