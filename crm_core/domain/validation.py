"""Field checks shared by the domain types: text, money, currency codes. Pure; no I/O.

Every check names the public field it is checking, so a rejection can say which field was wrong. Text is
accepted only if both databases can store it verbatim: PostgreSQL refuses NUL characters, and neither
database (nor UTF-8) can hold a lone surrogate.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation

from crm_core.domain.errors import ValidationFailed

SHORT_TEXT = 1_000  # names, companies, emails, tiers, external ids, items
LONG_TEXT = 100_000  # notes, descriptions, comments
MONEY_PLACES = 2
MONEY_LIMIT = Decimal(10) ** 12  # Numeric(14, 2): twelve digits before the point
_CENT = Decimal("0.01")

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*")
_CURRENCY = re.compile(r"[A-Z]{3}")
_SURROGATE = re.compile("[\ud800-\udfff]")
_DECIMAL = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")


def text(field: str, value: str, limit: int = SHORT_TEXT) -> str:
    """``value`` stripped; must not be blank."""
    if not isinstance(value, str):
        raise ValidationFailed(field, "must be text")
    stripped = value.strip()
    if not stripped:
        raise ValidationFailed(field, "must not be empty")
    return storable(field, stripped, limit)


def optional_text(field: str, value: str | None, limit: int = SHORT_TEXT) -> str | None:
    """``value`` stripped, or None for None and blank text."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationFailed(field, "must be text or null")
    stripped = value.strip()
    return storable(field, stripped, limit) if stripped else None


def storable(field: str, value: str, limit: int) -> str:
    if len(value) > limit:
        raise ValidationFailed(field, f"longer than {limit} characters")
    if "\x00" in value:
        raise ValidationFailed(field, "contains a NUL character")
    if not value.isascii() and _SURROGATE.search(value):
        raise ValidationFailed(field, "is not valid Unicode text (a lone surrogate)")
    return value


def email(value: str | None) -> str | None:
    checked = optional_text("email", value)
    if checked is not None and not _EMAIL.fullmatch(checked):
        raise ValidationFailed("email", "must look like name@domain")
    return checked


def language(value: str | None) -> str | None:
    checked = optional_text("language", value)
    if checked is not None and not _LANGUAGE.fullmatch(checked):
        raise ValidationFailed("language", "must be a language tag such as en, fr-CA or pt-BR")
    return checked


def currency(value: str) -> str:
    checked = text("currency", value).upper()
    if not _CURRENCY.fullmatch(checked):
        raise ValidationFailed("currency", "must be a three-letter ISO 4217 code such as USD")
    return checked


def money(field: str, value: Decimal) -> Decimal:
    """``value`` with exactly two decimal places; at most two given, and below a trillion either way."""
    if not isinstance(value, Decimal) or not value.is_finite():
        raise ValidationFailed(field, "must be a finite decimal amount")
    if abs(value) >= MONEY_LIMIT:
        raise ValidationFailed(field, f"must be below {MONEY_LIMIT:,} in absolute value")
    cents = value.quantize(_CENT)
    if cents != value:
        raise ValidationFailed(field, f"has more than {MONEY_PLACES} decimal places")
    return cents


def parse_money(field: str, raw: str) -> Decimal:
    """A plain decimal as written in a file (``-12.50``); no grouping, no exponent, no currency sign."""
    stripped = raw.strip()
    if not _DECIMAL.fullmatch(stripped):
        raise ValidationFailed(field, f"not a plain decimal amount: {raw[:40]!r}")
    try:
        return money(field, Decimal(stripped))
    except InvalidOperation:
        raise ValidationFailed(field, f"not a decimal amount: {raw[:40]!r}") from None


def aware(field: str, value: datetime | None) -> datetime | None:
    """Timestamps must carry a time zone: a naive one is a bug waiting to shift by hours."""
    if value is not None and (not isinstance(value, datetime) or value.utcoffset() is None):
        raise ValidationFailed(field, "must be a timezone-aware datetime")
    return value


def limit(value: int, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= maximum:
        raise ValidationFailed("limit", f"must be an integer from 1 to {maximum}")
    return value
