"""Customer CSV import and export, against SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import threading
from collections.abc import Iterator
from decimal import Decimal

import pytest

from crm_core.csv.customers import COLUMNS
from crm_core.domain.accounts import Account, AccountStatus
from crm_core.domain.customers import CustomerDraft, ImportSummary, RejectedLine
from crm_core.domain.errors import InvalidCsvHeader
from crm_core.domain.phones import PhoneKind, PhoneNumber
from crm_core.sql.store import SqlStore
from tests.crm_core.conftest import EMPTY, RowCounts

HEADER = ",".join(COLUMNS)
GOOD = [
    "ERP-1,Ann Lee,Acme,ann@acme.example,en,vip,wholesale;vip,Prefers mornings,"
    "mobile:(415) 555-0123;office:+44 20 7946 0018,120.50,usd,500,on-hold,2026-01-15",
    ',Bo Acker,,,,,,"Two\nlines",212 555 0199,,,,,',
    "ERP-3,Cy,,,,,,,,,,,,",
]


def _file(*lines: str) -> io.StringIO:
    return io.StringIO("\r\n".join(lines) + "\r\n", newline="")


async def _import(
    store: SqlStore,
    *lines: str,
    batch_size: int = 1_000,
    chunk_size: int = 1_000,
    worker_process: bool = True,
) -> tuple[ImportSummary, list[RejectedLine]]:
    rejected: list[RejectedLine] = []
    summary = await store.customer_csv.import_csv(
        _file(*lines),
        on_rejected=rejected.append,
        batch_size=batch_size,
        chunk_size=chunk_size,
        worker_process=worker_process,
    )
    return summary, rejected


async def _export(store: SqlStore) -> str:
    return "".join([line async for line in store.customer_csv.export_csv()])


async def test_given_good_file_when_imported_then_every_row_inserted_with_phones_and_account(
    store: SqlStore,
) -> None:
    summary, rejected = await _import(store, HEADER, *GOOD)

    assert (summary, rejected) == (ImportSummary(inserted=3), [])
    card = await store.find_by_number("+442079460018")
    assert card is not None and card.name == "Ann Lee"
    assert card.phones == (
        PhoneNumber("+14155550123", PhoneKind.MOBILE),
        PhoneNumber("+442079460018", PhoneKind.OFFICE),
    )
    assert card.account == Account(
        Decimal("120.50"),
        "USD",
        Decimal("500.00"),
        AccountStatus.ON_HOLD,
        card.account.last_payment_on if card.account else None,
    )
    bo = await store.find_by_number("(212) 555-0199")
    assert bo is not None and (await store.customers.get(bo.id)).notes == "Two\nlines"


async def test_given_same_file_when_imported_twice_then_second_run_changes_nothing(
    store: SqlStore, row_counts: RowCounts
) -> None:
    await _import(store, HEADER, *GOOD)
    before = [await store.customers.get(c.id) for c in (await store.customers.search("")).items]
    counts = await row_counts()

    summary, rejected = await _import(store, HEADER, *GOOD)

    assert (summary, rejected) == (ImportSummary(unchanged=3), [])
    assert [await store.customers.get(c.id) for c in before] == before  # updated_at untouched too
    assert await row_counts() == counts


async def test_given_changed_rows_when_reimported_then_only_they_count_as_updated(store: SqlStore) -> None:
    await _import(store, HEADER, *GOOD)
    changed = [GOOD[0].replace("120.50", "99.00"), GOOD[1].replace("Bo Acker", "Bo Acker-Smith"), GOOD[2]]

    summary, _ = await _import(store, HEADER, *changed)

    assert summary == ImportSummary(updated=2, unchanged=1)
    ann = await store.find_by_number("+14155550123")
    assert ann is not None and ann.account is not None and ann.account.balance == Decimal("99.00")
    bo = await store.find_by_number("+12125550199")
    assert bo is not None and bo.name == "Bo Acker-Smith"


# Chunks of three records: past the first chunk the worker process validates (once it has started).
@pytest.mark.parametrize("worker_process", [True, False], ids=["worker-process", "threads-only"])
async def test_given_bad_rows_when_imported_then_each_rejected_with_line_and_field_and_good_rows_kept(
    store: SqlStore, worker_process: bool
) -> None:
    lines = [
        HEADER,
        GOOD[0],  # line 2
        "ERP-4,Dee,,not-an-email,,,,,,,,,,",  # 3
        "ERP-5,Eve,,,,,,,pager:+14155550100,,,,,",  # 4
        "ERP-6,Fay,,,,,,,mobile:12,,,,,",  # 5
        "ERP-7,Gus,,,,,,,,12.345,USD,,,",  # 6
        "ERP-8,Hal",  # 7
        ',Ida,,,,,,"multi\nline note",,,,,,',  # 8 (and 9): no key
        "ERP-9,Jo,,,,,,,,,USD,,,2026-02-30",  # 10
        "ERP-10,Kim,,,,,,,,5,,,,",  # 11
        GOOD[2],  # 12
    ]

    summary, rejected = await _import(
        store, *lines, batch_size=2, chunk_size=3, worker_process=worker_process
    )

    assert summary == ImportSummary(inserted=2, rejected=8)
    assert [(r.line, r.field) for r in rejected] == [
        (3, "email"),
        (4, "phones"),
        (5, "phones"),
        (6, "balance"),
        (7, None),
        (8, None),
        (10, "last_payment_date"),
        (11, "currency"),
    ]
    assert (
        "pager" in rejected[1].reason and "'12'" in rejected[2].reason and "14 fields" in rejected[4].reason
    )
    assert [c.name for c in (await store.customers.search("")).items] == ["Ann Lee", "Cy"]


@pytest.mark.parametrize(
    ("header", "missing", "unknown", "doubled"),
    [
        ("external_id,company", ("name",), (), ()),
        ("name,password", (), ("password",), ()),
        ("name,name", (), (), ("name",)),
        ("", ("name",), (), ()),
    ],
)
async def test_given_bad_header_when_importing_then_invalid_csv_header_and_nothing_written(
    store: SqlStore,
    row_counts: RowCounts,
    header: str,
    missing: tuple[str, ...],
    unknown: tuple[str, ...],
    doubled: tuple[str, ...],
) -> None:
    with pytest.raises(InvalidCsvHeader) as raised:
        await store.customer_csv.import_csv(io.StringIO(header + "\r\nAnn,x\r\n" if header else ""))

    assert (raised.value.missing, raised.value.unknown, raised.value.doubled) == (missing, unknown, doubled)
    assert await row_counts() == EMPTY


async def test_given_subset_of_columns_in_any_order_when_imported_then_rest_empty(store: SqlStore) -> None:
    summary, _ = await _import(store, "phones,name", '"+14155550123","Ann"', "", "  ,  ")

    assert summary == ImportSummary(inserted=1)
    card = await store.find_by_number("+14155550123")
    assert card is not None and (card.name, card.tier, card.phones[0].kind) == (
        "Ann",
        "standard",
        PhoneKind.OTHER,
    )


async def test_given_rows_sharing_a_key_when_imported_then_the_first_applied_and_later_ones_rejected(
    store: SqlStore,
) -> None:
    rows = ["ERP-1,First,,,,,,,,,,,,", "ERP-1,Second,,,,,,,,,,,,", ",Phone one,,,,,,,+14155550123,,,,,"]
    summary, rejected = await _import(store, HEADER, *rows, ",Phone two,,,,,,,mobile:+14155550123,,,,,")

    # A repeated external id is reported, not applied; two rows without one sharing a number may be two
    # people on one line, so the second is matched to the first as any row is (here: by that number).
    assert summary == ImportSummary(inserted=2, updated=1, rejected=1)
    assert rejected == [RejectedLine(3, "external_id", "'ERP-1' already on line 2")]
    assert [c.name for c in (await store.customers.search("")).items] == ["First", "Phone two"]


async def test_given_number_owned_by_two_customers_when_imported_by_phone_then_tie_broken_or_rejected(
    store: SqlStore,
) -> None:
    for name, numbers in [
        ("Ann", ["+14155550123"]),
        ("Bo", ["+14155550123", "+14155550124"]),
        ("Ann", ["+14155550123", "+14155550125"]),
    ]:
        await store.customers.create(CustomerDraft(name=name, phones=[(n, "mobile") for n in numbers]))

    same_numbers = ",Bo B,,,,,,,+14155550123;+14155550124,,,,,"
    two_anns = ",Ann,,,,,,,+14155550123;+14155550199,,,,,"
    summary, rejected = await _import(store, HEADER, same_numbers, two_anns)

    assert summary == ImportSummary(updated=1, rejected=1)
    assert rejected[0].line == 3 and "several customers" in rejected[0].reason


async def test_given_store_when_exported_and_imported_elsewhere_then_same_export(
    store: SqlStore, database_url: str
) -> None:
    await _import(store, HEADER, *GOOD)
    await store.customers.create(
        CustomerDraft(name='Quote "me", please', notes="a;b:c", phones=[("+14155550177", "home")])
    )
    gone = await store.customers.create(CustomerDraft(name="Gone", phones=[("+14155550178", "home")]))
    await store.customers.anonymise(gone.id)
    exported = await _export(store)
    for customer in (await store.customers.search("", include_anonymised=True)).items:
        await store.customers.delete(customer.id)

    rejected: list[RejectedLine] = []
    summary = await store.customer_csv.import_csv(
        io.StringIO(exported, newline=""), on_rejected=rejected.append
    )

    assert (summary, rejected) == (ImportSummary(inserted=4), [])
    assert next(csv.reader(io.StringIO(exported))) == list(COLUMNS)
    assert await _export(store) == exported


async def test_given_a_file_when_imported_then_it_is_read_and_validated_off_the_event_loop_thread(
    store: SqlStore,
) -> None:
    loop_thread = threading.get_ident()
    readers: set[int] = set()
    lines = [f"{HEADER}\r\n", *(f"ERP-{n},Row {n},,,,,,,,,,,,\r\n" for n in range(1_200))]

    def read() -> Iterator[str]:
        for line in lines:
            readers.add(threading.get_ident())
            yield line

    summary = await store.customer_csv.import_csv(read(), batch_size=300)

    assert summary == ImportSummary(inserted=1_200)
    assert readers and loop_thread not in readers


async def test_given_a_file_of_many_chunks_when_imported_twice_then_every_row_lands_once_and_then_unchanged(
    store: SqlStore,
) -> None:
    # 40 chunks: past the second one the worker process starts and takes the chunks once it answers.
    rows = [f"ERP-{n},Row {n},,,,,,,mobile:+1415{n:07d},{n}.25,USD,,,\r\n" for n in range(4_000)]
    rows[1_234] = "ERP-1234,Bad,,,,,,,pager:+14155550100,,,,,\r\n"

    def imported() -> Iterator[str]:
        return iter([f"{HEADER}\r\n", *rows])

    first = await store.customer_csv.import_csv(imported(), chunk_size=100, batch_size=300)
    again = await store.customer_csv.import_csv(imported(), chunk_size=100, batch_size=300)

    assert first == ImportSummary(inserted=3_999, rejected=1)
    assert again == ImportSummary(unchanged=3_999, rejected=1)
    card = await store.find_by_number("+14150003999")
    assert card is not None and card.name == "Row 3999" and card.account is not None
    assert card.account.balance == Decimal("3999.25")


async def test_given_a_zero_balance_when_reimported_as_minus_zero_then_unchanged(store: SqlStore) -> None:
    await _import(store, HEADER, "ERP-1,Ann,,,,,,,,0,USD,0,,")

    summary, _ = await _import(store, HEADER, "ERP-1,Ann,,,,,,,,-0.00,usd,-0,ok,")

    assert summary == ImportSummary(unchanged=1)
    assert "ERP-1,Ann,,,,standard,,,,0.00,USD,0.00,ok," in await _export(store)
