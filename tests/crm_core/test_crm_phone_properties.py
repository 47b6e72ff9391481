"""``crm_core.domain.phones.normalise`` gives what ``switchboard.phone.to_e164`` gives, for any input.

No database.

The fast path for E.164 input is only allowed to be faster, never different; these properties sweep
every country calling code and the lengths around each one's possible lengths.
"""

from __future__ import annotations

import phonenumbers
from hypothesis import example, given, settings
from hypothesis import strategies as st

from crm_core.domain.phones import normalise, to_e164

COUNTRY_CODES = sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)
REGIONS = ["US", "GB", "DE", "IT", "AR", "BR", "MX", "IN", "JP", "AU", "FR", "CH"]

e164_like = st.builds(
    lambda cc, digits: f"+{cc}{digits}",
    st.sampled_from(COUNTRY_CODES),
    st.text(alphabet="0123456789", min_size=0, max_size=16),
)


@settings(max_examples=3_000, deadline=None)
@given(raw=e164_like, region=st.sampled_from(REGIONS))
@example(raw="+14155550123", region="US")
@example(raw="+11415555012", region="US")  # a national prefix after the country code
@example(raw="+390612345678", region="IT")  # Italian leading zero
@example(raw="+5491123456789", region="AR")  # Argentina's mobile 9 and prefix rules
@example(raw="+80012345678", region="US")  # non-geographic (freephone)
@example(raw="+1", region="US")
def test_given_e164_shaped_text_when_normalised_then_same_as_phonenumbers(raw: str, region: str) -> None:
    assert normalise(raw, region) == to_e164(raw, region)


national_like = st.lists(
    st.tuples(
        st.sampled_from(["", " ", "-", ".", "(", ")", ") ", " - "]),
        st.text("0123456789", min_size=1, max_size=5),
    ),
    min_size=1,
    max_size=6,
).map(lambda parts: "".join(gap + digits for gap, digits in parts))


@settings(max_examples=3_000, deadline=None)
@given(raw=national_like, region=st.sampled_from([*REGIONS, "CA", "GG", "us", "ZZ", ""]))
@example(raw="(415) 555-0123", region="US")
@example(raw="1 415 555 0123", region="US")  # the national prefix
@example(raw="011 44 20 7946 0018", region="US")  # the international prefix
@example(raw="020 7946 0018", region="GB")  # a leading zero
@example(raw="(613) 555-0123", region="CA")  # a region sharing its country code
def test_given_nationally_typed_digits_when_normalised_then_same_as_phonenumbers(
    raw: str, region: str
) -> None:
    assert normalise(raw, region) == to_e164(raw, region)


@settings(max_examples=1_000, deadline=None)
@given(raw=st.text(alphabet="+0123456789 ()-.x#*abc", max_size=24), region=st.sampled_from(REGIONS))
def test_given_any_typed_text_when_normalised_then_same_as_phonenumbers(raw: str, region: str) -> None:
    assert normalise(raw, region) == to_e164(raw, region)


def _examples() -> list[tuple[str, phonenumbers.PhoneNumber]]:
    kinds = (phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE)
    found = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in kinds:
            number = phonenumbers.example_number_for_type(region, kind)
            if number is not None:
                found.append((region, number))
    return found


FORMATS = [
    phonenumbers.PhoneNumberFormat.E164,
    phonenumbers.PhoneNumberFormat.INTERNATIONAL,
    phonenumbers.PhoneNumberFormat.NATIONAL,
    phonenumbers.PhoneNumberFormat.RFC3966,
]


@settings(max_examples=1_000, deadline=None)
@given(example=st.sampled_from(_examples()), layout=st.sampled_from(FORMATS))
def test_given_valid_number_of_any_country_in_any_format_when_normalised_then_one_e164_fixed_point(
    example: tuple[str, phonenumbers.PhoneNumber], layout: int
) -> None:
    region, number = example
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    typed = phonenumbers.format_number(number, layout)

    assert normalise(typed, region) == e164  # national formats read with the number's own region
    assert normalise(e164, "US") == normalise(e164, region) == e164  # and E.164 is a fixed point


def test_given_merely_possible_number_when_normalised_twice_then_it_may_move() -> None:
    # Why the lookup cannot promise more than the above: phonenumbers strips a national prefix each time.
    assert normalise("+3580000000", "US") == "+358000000"
    assert normalise("+358000000", "US") == "+35800000"
