"""A customer import's dry run, its per-line report, repeated keys inside one file, and another system's
file imported through a column and value mapping; against SQLite and PostgreSQL."""

from __future__ import annotations

import io

import pytest

from crm_core.csv.customers import COLUMNS
from crm_core.domain.accounts import AccountStatus
from crm_core.domain.customers import ImportSummary, RejectedLine
from crm_core.domain.errors import InvalidCsvHeader, InvalidImportMapping
from crm_core.domain.import_mapping import ImportMapping
from crm_core.sql.store import SqlStore
from tests.crm_core.conftest import EMPTY, RowCounts

HEADER = ",".join(COLUMNS)
STORED = ["ERP-1,Ann,,,,,,,+14155550101,,,,,", "ERP-2,Bo,,,,,,,+14155550102,,,,,"]
# Lines 2-7: new, changed, unchanged, bad, a repeat of line 2's external id, new by phone only.
FILE = [
    "ERP-3,Cy,,,,,,,+14155550103,,,,,",
    "ERP-1,Ann Lee,,,,,,,+14155550101,,,,,",
    "ERP-2,Bo,,,,,,,+14155550102,,,,,",
    "ERP-4,Dee,,not-an-email,,,,,,,,,,",
    "ERP-3,Cy again,,,,,,,+14155550199,,,,,",
    ",Eve,,,,,,,+14155550105,,,,,",
]
Told = list[tuple[int, str]]


def _file(*lines: str) -> io.StringIO:
    return io.StringIO("\r\n".join(lines) + "\r\n", newline="")


async def _run(
    store: SqlStore,
    *lines: str,
    dry_run: bool = False,
    mapping: ImportMapping | None = None,
    size: int = 1_000,
) -> tuple[ImportSummary, Told]:
    told: Told = []
    summary = await store.customer_csv.import_csv(
        _file(*lines),
        on_rejected=lambda rejected: told.append((rejected.line, f"{rejected.field}: {rejected.reason}")),
        on_row=lambda line, outcome: told.append((line, str(outcome))),
        dry_run=dry_run,
        mapping=mapping or ImportMapping(),
        batch_size=size,
        chunk_size=size,
    )
    return summary, told


async def _export(store: SqlStore) -> str:
    return "".join([line async for line in store.customer_csv.export_csv()])


# Batches and chunks of two: the report's order holds across batches, rejections among written rows, and
# from the second chunk on the rows are validated in the worker process.
@pytest.mark.parametrize("size", [1_000, 2], ids=["one-batch", "batches-of-two"])
async def test_given_a_file_when_dry_run_then_each_line_reported_in_order_and_nothing_written(
    store: SqlStore, row_counts: RowCounts, size: int
) -> None:
    await _run(store, HEADER, *STORED)
    counts, exported = await row_counts(), await _export(store)

    summary, told = await _run(store, HEADER, *FILE, dry_run=True, size=size)

    assert summary == ImportSummary(inserted=2, updated=1, unchanged=1, rejected=2)
    assert told == [
        (2, "add"),
        (3, "update"),
        (4, "unchanged"),
        (5, "email: must look like name@domain"),
        (6, "external_id: 'ERP-3' already on line 2"),
        (7, "add"),
    ]
    assert await row_counts() == counts
    assert await _export(store) == exported


async def test_given_a_dry_run_when_the_file_is_imported_then_the_import_does_what_the_dry_run_said(
    store: SqlStore,
) -> None:
    await _run(store, HEADER, *STORED)
    dry = await _run(store, HEADER, *FILE, dry_run=True, size=2)

    assert await _run(store, HEADER, *FILE, size=2) == dry
    ann = await store.find_by_number("+14155550101")
    cy = await store.find_by_number("+14155550103")
    assert ann is not None and ann.name == "Ann Lee"
    assert cy is not None and cy.name == "Cy"  # the first of the two ERP-3 rows
    assert await store.find_by_number("+14155550199") is None


async def test_given_a_file_repeating_a_key_when_imported_twice_then_the_second_run_reports_rows_unchanged(
    store: SqlStore, row_counts: RowCounts
) -> None:
    lines = [HEADER, "ERP-1,Ann,,,,,,,+14155550101,,,,,", "ERP-1,Ann Lee,,,,,,,+14155550101,,,,,"]
    first = await _run(store, *lines)
    counts = await row_counts()

    again = await _run(store, *lines)

    assert first == (
        ImportSummary(inserted=1, rejected=1),
        [(2, "add"), (3, "external_id: 'ERP-1' already on line 2")],
    )
    assert again == (
        ImportSummary(unchanged=1, rejected=1),
        [(2, "unchanged"), (3, "external_id: 'ERP-1' already on line 2")],
    )
    assert await row_counts() == counts


OTHER = "external_id,name,company,email,phone,phone2,tier,balance,credit_status"
MAPPING = ImportMapping.parse(
    ["phone=phones,phone2=phones", "credit_status=account_status"],
    ["credit_status:good=ok", "credit_status:hold=on-hold", "credit_status:late=overdue"],
    ["currency=USD"],
)
OTHERS = [
    "C-1,Ann Lee,Acme,ann@acme.example,(415) 555-0123,mobile:415 555 0124,gold,12.50,hold",
    "C-2,Bo,,,212 555 0199,,,0,good",
    "C-3,Cy,,,212 555 0198,,,,frozen",
]


# Chunks of one record: from the second on, the worker process remaps them.
@pytest.mark.parametrize("size", [1_000, 1], ids=["one-chunk", "worker-process"])
async def test_given_another_systems_file_when_mapped_then_imported_and_reimported_unchanged(
    store: SqlStore, size: int
) -> None:
    summary, told = await _run(store, OTHER, *OTHERS, mapping=MAPPING, size=size)

    assert summary == ImportSummary(inserted=2, rejected=1)
    assert told[2] == (
        4,
        "credit_status: no value mapping for 'frozen' (account_status takes ok, overdue, on-hold)",
    )
    ann = await store.find_by_number("+14155550124")
    assert ann is not None and [phone.e164 for phone in ann.phones] == ["+14155550123", "+14155550124"]
    assert ann.account is not None and (ann.account.status, ann.account.currency) == (
        AccountStatus.ON_HOLD,
        "USD",
    )
    again, _ = await _run(store, OTHER, *OTHERS, mapping=MAPPING, size=size)
    assert again == ImportSummary(unchanged=2, rejected=1)


async def test_given_another_systems_file_when_not_mapped_or_mapped_wrong_then_refused_and_nothing_written(
    store: SqlStore, row_counts: RowCounts
) -> None:
    with pytest.raises(InvalidCsvHeader, match=r"unknown: phone, phone2, credit_status"):
        await _run(store, OTHER, *OTHERS)
    with pytest.raises(InvalidImportMapping, match="the file has no column 'fax'"):
        await _run(store, OTHER, *OTHERS, mapping=ImportMapping.parse(["fax=phones"]), dry_run=True)

    assert await row_counts() == EMPTY


async def test_given_only_rejected_lines_when_imported_then_all_told_in_order_across_batches(
    store: SqlStore,
) -> None:
    rejected: list[RejectedLine] = []
    summary = await store.customer_csv.import_csv(
        _file(HEADER, *[f"ERP-{n},,,,,,,,,,,,," for n in range(5)]), on_rejected=rejected.append, batch_size=2
    )

    assert summary == ImportSummary(rejected=5)
    assert [r.line for r in rejected] == [2, 3, 4, 5, 6]
