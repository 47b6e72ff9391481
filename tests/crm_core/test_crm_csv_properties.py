"""Import round trips over generated customers: the format alone (many examples, no database), and
through the store on SQLite and PostgreSQL (fewer examples, each on a fresh set of customers). Text
often begins like a spreadsheet formula (``=``, ``+``, ``-``, ``@``, quotes before them): the export
quotes those cells and the import takes exactly that quote off again."""

from __future__ import annotations

import csv
import io
import itertools
import operator
import re
from datetime import date
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm_core.csv.customers import COLUMNS, ImportRow, export_fields, parse_record
from crm_core.csv.lines import csv_line
from crm_core.domain.accounts import Account, AccountStatus
from crm_core.domain.customers import CustomerDraft, ImportSummary, Profile, checked_profile
from crm_core.domain.phones import PhoneKind
from crm_core.domain.spreadsheet_cells import FORMULA_STARTS
from crm_core.sql.store import SqlStore

REGION = "US"
_serial = itertools.count()

# Any Unicode but what no database can store verbatim (NUL, lone surrogates); CSV specials welcome.
text = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=30)
word = st.text(
    st.characters(exclude_categories=("Cs", "Z", "Cc"), exclude_characters="\x00;@"), min_size=1, max_size=12
)
us_number = st.builds(
    lambda a, e, n: f"+1{a}{e}{n:04d}", st.integers(201, 989), st.integers(200, 999), st.integers(0, 9999)
)
# What a spreadsheet would run, or what looks like the quote the export adds in front of it.
FORMULA_PREFIXES = ["=", "+", "-", "@", "'", "'=", "''+", "'-", "=HYPERLINK(", "+1", "-2+3+cmd|"]
formulaic = st.builds(operator.add, st.sampled_from(FORMULA_PREFIXES), text)
formulaic_word = st.builds(operator.add, st.sampled_from(FORMULA_PREFIXES), word).filter(
    lambda w: "@" not in w
)
money = st.decimals(min_value=Decimal("-999999999.99"), max_value=Decimal("999999999.99"), places=2)

drafts = st.builds(
    CustomerDraft,
    name=(text | formulaic).filter(str.strip),
    phones=st.lists(st.tuples(us_number, st.sampled_from(list(PhoneKind))), max_size=3),
    company=st.none() | text | formulaic,
    email=st.none() | st.builds(lambda a, b: f"{a}@{b}.example", word, word),
    language=st.none() | st.sampled_from(["en", "fr-CA", "pt-BR", "de"]),
    tier=st.sampled_from(["standard", "vip", "gold"]),
    tags=st.lists(word | formulaic_word, max_size=4),
    notes=st.none() | text | formulaic,
    external_id=st.none() | word | formulaic_word,
)
accounts = st.none() | st.builds(
    Account,
    balance=money,
    currency=st.sampled_from(["USD", "EUR", "JPY"]),
    credit_limit=money.map(abs),
    status=st.sampled_from(list(AccountStatus)),
    last_payment_on=st.none() | st.dates(date(2000, 1, 1), date(2099, 12, 31)),
)


def _reread(line: str, region: str) -> ImportRow | object:
    (record,) = list(csv.reader(io.StringIO(line, newline="")))
    return parse_record(record, COLUMNS, 2, region)


@settings(max_examples=500, deadline=None)
@given(draft=drafts, account=accounts)
def test_given_valid_customer_when_written_and_read_back_then_same_profile_and_account(
    draft: CustomerDraft, account: Account | None
) -> None:
    profile = checked_profile(draft, REGION)
    if profile.external_id is None and not profile.phones:
        profile = Profile(**{**_fields(profile), "external_id": "K"})

    line = csv_line(export_fields(profile, account))
    parsed = _reread(line, REGION)

    assert parsed == ImportRow(2, profile, account)
    (record,) = csv.reader(io.StringIO(line, newline=""))
    assert not [cell for cell in record if _starts_a_formula(cell)]


def _starts_a_formula(cell: str) -> bool:
    return cell[:1] in tuple(FORMULA_STARTS) and not re.fullmatch(r"[+-]?[0-9]+(\.[0-9]+)?", cell)


def _fields(profile: Profile) -> dict[str, object]:
    return {name: getattr(profile, name) for name in Profile.__slots__}


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(customers=st.lists(st.tuples(drafts, accounts), min_size=1, max_size=6))
async def test_given_generated_file_when_imported_twice_then_second_run_unchanged_and_export_reads_back(
    store: SqlStore, customers: list[tuple[CustomerDraft, Account | None]]
) -> None:
    run = next(_serial)  # the store outlives examples: keys of one example never meet another's
    lines = [csv_line(list(COLUMNS))]
    expected: dict[str, tuple[Profile, Account | None]] = {}
    for n, (draft, account) in enumerate(customers):
        profile = checked_profile(draft, REGION)
        profile = Profile(**{**_fields(profile), "external_id": f"run{run}-{n}"})
        lines.append(csv_line(export_fields(profile, account)))
        expected[f"run{run}-{n}"] = (profile, account)
    file = "".join(lines)

    first = await store.customer_csv.import_csv(io.StringIO(file, newline=""))
    second = await store.customer_csv.import_csv(io.StringIO(file, newline=""))
    exported = [line async for line in store.customer_csv.export_csv()]

    assert first == ImportSummary(inserted=len(customers))
    assert second == ImportSummary(unchanged=len(customers))
    reread = [_reread(line, REGION) for line in exported[1:]]
    mine = {
        row.profile.external_id: (row.profile, row.account) for row in reread if isinstance(row, ImportRow)
    }
    assert {key: mine[key] for key in expected} == expected
