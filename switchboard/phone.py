"""Phone numbers in one canonical form (E.164), so a caller id matches however a number was typed."""

from __future__ import annotations

import phonenumbers


def to_e164(raw: str | None, region: str) -> str | None:
    """``raw`` in E.164 (``+14155550123``), or None when it is empty or not a possible phone number.

    ``region`` (ISO 3166 alpha-2, e.g. "US") is used for numbers written without a country code.
    """
    if raw is None or not raw.strip():
        return None
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))
