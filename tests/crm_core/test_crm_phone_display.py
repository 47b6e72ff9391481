"""How a phone number is shown to people (``phones.display``), the one definition the console uses."""

from __future__ import annotations

import pytest

from crm_core.domain.phones import display


@pytest.mark.parametrize(
    ("number", "region", "shown"),
    [
        ("+14155550123", "US", "(415) 555-0123"),
        ("+442079460958", "US", "+44 20 7946 0958"),
        ("+442079460958", "GB", "020 7946 0958"),
        ("+14155550123", "GB", "+1 415-555-0123"),
        (None, "US", None),
        ("anonymous", "US", "anonymous"),
        ("+1", "US", "+1"),
        ("", "US", ""),
    ],
)
def test_given_a_number_when_shown_then_national_at_home_international_abroad_as_given_if_unreadable(
    number: str | None, region: str, shown: str | None
) -> None:
    assert display(number, region) == shown
