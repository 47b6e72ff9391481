"""Properties of the directory over generated input, against SQLite and PostgreSQL."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm_core.domain.phones import to_e164
from crm_core.sql.store import SqlStore

# North American numbers that are valid, not merely possible: area code and exchange start 2-9.
_area = st.integers(200, 999).filter(lambda n: n % 100 != 11)
_exchange = st.integers(200, 999)
_line = st.integers(0, 9999)
us_digits = st.builds(lambda a, e, n: f"{a}{e}{n:04d}", _area, _exchange, _line)

FORMATS = [
    "{a}{e}{n}",
    "({a}) {e}-{n}",
    "{a}-{e}-{n}",
    "{a}.{e}.{n}",
    "1 {a} {e} {n}",
    "1-{a}-{e}-{n}",
    "+1 {a} {e} {n}",
    "+1{a}{e}{n}",
    "+1 ({a}) {e}-{n}",
]


def written(digits: str, layout: str) -> str:
    return layout.format(a=digits[:3], e=digits[3:6], n=digits[6:])


@settings(
    max_examples=40,
    deadline=None,
    # One store serves every example; each add makes a newer owner, which the lookup must then find.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(digits=us_digits, added_as=st.sampled_from(FORMATS), looked_up_as=st.sampled_from(FORMATS))
async def test_given_us_number_in_any_format_when_added_then_lookup_in_any_format_finds_that_customer(
    store: SqlStore, digits: str, added_as: str, looked_up_as: str
) -> None:
    added = await store.add_customer("Prop", [(written(digits, added_as), "mobile")])
    e164 = to_e164(written(digits, looked_up_as), "US")

    assert e164 == f"+1{digits}"
    assert added.phones[0].e164 == e164
    assert await store.find_by_number(e164) == added
