"""Phone numbers as the store keeps them (E.164, with a kind): reading them in, and showing them to people.

``normalise`` gives exactly what ``to_e164`` gives, faster for the common cases of a
number already written in E.164 and of a plain national number (``(415) 555-0123`` read in "US"): a full
``phonenumbers.parse`` costs about 20 µs, which alone would cap a CSV import below 20,000 rows a second.
The fast paths build the E.164 form directly and take it only where ``parse`` could not have produced
anything else (no national or international prefix to strip, no country code to find, no leading zero,
no extension, a geographic country code); every other input goes through ``to_e164``. The property tests in
``tests/crm_core/test_crm_phone_properties.py`` hold the two to the same answers.
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

import phonenumbers
from phonenumbers.phonemetadata import PhoneMetadata

from crm_core.domain.errors import InvalidPhoneKind, InvalidPhoneNumber


class PhoneKind(enum.StrEnum):
    MOBILE = "mobile"
    OFFICE = "office"
    HOME = "home"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class PhoneNumber:
    e164: str  # always E.164: the one form a caller id can be matched against
    kind: PhoneKind


_E164_SHAPE = re.compile(r"\+[1-9][0-9]{2,16}")
# Digits and the punctuation people type between them; anything else (letters, #, +) may be an extension
# or a prefix, so ``parse`` decides.
_NATIONAL_SHAPE = re.compile(r"[0-9 ().\-]{3,40}")
_PUNCTUATION = str.maketrans("", "", " ().-")
_NON_GEOGRAPHIC = "001"


def to_e164(raw: str | None, region: str) -> str | None:
    """``raw`` in E.164 (``+14155550123``), or None when it is empty or not a possible phone number.

    ``region`` (ISO 3166 alpha-2, e.g. "US") is used for numbers written without a country code. This is
    the one definition of a phone number's canonical form: config (DIDs), the PBX adapter (caller ids,
    through the bootstrap) and the store all use it.
    """
    if raw is None or not raw.strip():
        return None
    parsed = _possible(raw, region)
    return (
        None
        if parsed is None
        else str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))
    )


def display(number: str | None, region: str) -> str | None:
    """``number`` for humans: national format in ``region``, else international; as given if unreadable.

    The one definition of how a number is shown: the console's pops and customer records use it.
    """
    if number is None:
        return None
    parsed = _possible(number, region)
    if parsed is None:
        return number
    home = phonenumbers.region_code_for_number(parsed) == region
    style = phonenumbers.PhoneNumberFormat.NATIONAL if home else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    return str(phonenumbers.format_number(parsed, style))


def _possible(raw: str, region: str) -> phonenumbers.PhoneNumber | None:
    """``raw`` parsed as written in ``region``, or None when it cannot be a phone number."""
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    return parsed if phonenumbers.is_possible_number(parsed) else None


def normalise(raw: str | None, region: str) -> str | None:
    """``raw`` in E.164, or None when it is empty or not a possible phone number."""
    if raw is not None:
        fast = None
        if _E164_SHAPE.fullmatch(raw):
            fast = _canonical_e164(raw)
        elif _NATIONAL_SHAPE.fullmatch(raw):
            fast = _canonical_national(raw.translate(_PUNCTUATION), region)
        if fast is not None:
            return fast
    return to_e164(raw, region)


def _canonical_national(digits: str, region: str) -> str | None:
    """``+<region's country code><digits>`` when ``parse`` would read ``digits`` as exactly that national
    number, else None."""
    rules = _region_rules(region)
    if rules is None or len(digits) < 3:
        return None  # under three digits parse may call the text not viable; let it decide
    country_code, international, national = rules
    if digits[0] == "0" or digits.startswith(str(country_code)):
        return None  # a leading zero, or a country code parse might find and remove
    if international.match(digits) or (national is not _NO_PREFIX and national.match(digits)):
        return None
    return f"+{country_code}{digits}" if _possible_length(country_code, len(digits)) else None


def _canonical_e164(raw: str) -> str | None:
    """``raw`` itself when it is a possible number that ``parse`` would keep digit for digit, else None."""
    digits = raw[1:]
    for size in (1, 2, 3):
        country_code = int(digits[:size])
        if country_code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            break
    else:
        return None
    national = digits[size:]
    prefix = _national_prefix(country_code)
    if prefix is None or national[:1] in ("", "0") or (prefix is not _NO_PREFIX and prefix.match(national)):
        return None  # parse might strip or transform a national prefix here; let it decide
    return raw if _possible_length(country_code, len(national)) else None


_NO_PREFIX = re.compile("(?!)")


@functools.cache
def _national_prefix(country_code: int) -> re.Pattern[str] | None:
    """The national prefix ``parse`` would try to strip; ``_NO_PREFIX`` if none; None: no fast path."""
    region = phonenumbers.region_code_for_country_code(country_code)
    if region == _NON_GEOGRAPHIC:
        return None
    metadata = PhoneMetadata.metadata_for_region(region, None)
    if metadata is None:
        return None
    prefix = metadata.national_prefix_for_parsing
    return re.compile(prefix) if prefix else _NO_PREFIX


@functools.cache
def _region_rules(region: str) -> tuple[int, re.Pattern[str], re.Pattern[str]] | None:
    """A region's country code, international dialling prefix and national prefix patterns, or None
    when the region has no metadata or its country code has no national fast path."""
    metadata = PhoneMetadata.metadata_for_region(region, None)
    if metadata is None or metadata.country_code is None or not metadata.international_prefix:
        return None
    national = _national_prefix(metadata.country_code)
    if national is None or phonenumbers.region_code_for_country_code(metadata.country_code) != region:
        return None  # a region sharing its country code with a main one (CA with US): parse's choice
    return metadata.country_code, re.compile(metadata.international_prefix), national


@functools.cache
def _possible_length(country_code: int, length: int) -> bool:
    """``is_possible_number`` looks only at the country's metadata and the national number's length."""
    sample = phonenumbers.PhoneNumber(country_code=country_code, national_number=int("1" * length))
    return bool(phonenumbers.is_possible_number(sample))


def phone_kind(kind: str | PhoneKind, field: str = "phones") -> PhoneKind:
    try:
        return PhoneKind(kind)
    except ValueError:
        raise InvalidPhoneKind(str(kind), field) from None


def phone_numbers(
    phones: Iterable[tuple[str, str | PhoneKind]], region: str, field: str = "phones"
) -> tuple[PhoneNumber, ...]:
    """Normalised, in the order given; a number given twice is kept once with its first kind.

    Raises ``InvalidPhoneNumber`` or ``InvalidPhoneKind`` for the first bad pair.
    """
    numbers: dict[str, PhoneKind] = {}
    for raw, kind in phones:
        e164 = normalise(raw, region) if isinstance(raw, str) else None
        if e164 is None:
            raise InvalidPhoneNumber(str(raw), field)
        numbers.setdefault(e164, phone_kind(kind, field))
    return tuple(PhoneNumber(e164, kind) for e164, kind in numbers.items())
