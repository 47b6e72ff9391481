"""Mapping another system's columns and values onto the customer import's (crm_core.csv.mapping): pure,
text in, the import's columns and remapped records out."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm_core.csv.customers import COLUMNS, PackedRow, parse_records
from crm_core.csv.mapping import layout
from crm_core.csv.remapping import remap
from crm_core.domain.customers import RejectedLine
from crm_core.domain.errors import InvalidCsvHeader, InvalidImportMapping
from crm_core.domain.import_mapping import IGNORE, ImportMapping

OTHER = ["external_id", "name", "company", "email", "phone", "phone2", "tier", "balance", "credit_status"]
MAPS = ["phone=phones,phone2=phones", "credit_status=account_status"]
VALUES = ["credit_status:good=ok", "credit_status:hold=on-hold"]
RECORD = ["C-1", "Ann", "Acme", "ann@acme.example", "(415) 555-0123", "", "gold", "12.50", "hold"]


def _parse(record: list[str], maps: list[str] = MAPS, values: list[str] = VALUES) -> PackedRow | RejectedLine:
    columns, plan = layout(OTHER, ImportMapping.parse(maps, values, ["currency=USD"]))
    [row] = parse_records([(2, record)], columns, "US", plan)
    return row


def test_given_no_mapping_then_the_header_is_read_as_before_and_records_are_used_as_they_are() -> None:
    assert layout(list(COLUMNS), ImportMapping()) == (COLUMNS, None)


def test_given_another_systems_file_when_unmapped_then_refused_naming_the_unknown_columns() -> None:
    with pytest.raises(InvalidCsvHeader) as raised:
        layout(OTHER, ImportMapping())

    assert str(raised.value) == "bad CSV header (unknown: phone, phone2, credit_status)"


def test_given_a_mapping_when_a_record_is_read_then_two_columns_fill_phones_and_values_are_mapped() -> None:
    row = _parse([*RECORD[:5], "mobile:212 555 0199", *RECORD[6:]])

    assert isinstance(row, PackedRow)
    assert row.phones == (("+14155550123", "other"), ("+12125550199", "mobile"))
    assert row.external_id == "C-1" and row.account is not None
    assert row.account[3] == "on-hold"  # ACCOUNT_FIELDS: the status


def test_given_a_value_with_no_mapping_for_a_field_of_set_values_then_its_line_names_column_and_value() -> (
    None
):
    row = _parse([*RECORD[:8], "frozen"], values=["credit_status:good=ok", "credit_status:hold=on-hold"])

    assert row == RejectedLine(
        2, "credit_status", "no value mapping for 'frozen' (account_status takes ok, overdue, on-hold)"
    )


def test_given_a_value_the_field_takes_when_not_mapped_then_it_is_read_as_it_is() -> None:
    row = _parse([*RECORD[:8], "overdue"])

    assert isinstance(row, PackedRow) and row.account is not None and row.account[3] == "overdue"


def test_given_a_column_left_out_then_its_cells_are_not_read() -> None:
    header = [*OTHER, "notes_old"]
    columns, plan = layout(header, ImportMapping.parse([*MAPS, f"notes_old={IGNORE}"], VALUES))

    assert "notes_old" not in columns and plan is not None
    assert remap(plan, [*RECORD, "anything"], 3) == [
        *RECORD[:5], "gold", "12.50", "on-hold"
    ]  # fmt: skip
    assert columns == (
        "external_id",
        "name",
        "company",
        "email",
        "phones",
        "tier",
        "balance",
        "account_status",
    )


def test_given_a_record_of_the_wrong_width_then_its_line_is_rejected() -> None:
    assert _parse(RECORD[:3]) == RejectedLine(2, None, "expected 9 fields, found 3")


@pytest.mark.parametrize(
    ("maps", "values", "message"),
    [
        (["phone=mobile_phones"], [], "'mobile_phones' is not an import column"),
        (["fax=phones"], [], "the file has no column 'fax'"),
        (["phone=phones", "phone=notes"], [], "'phone' is already mapped to 'phones'"),
        (["phone"], [], "write SOURCE=FIELD"),
        (["=phones"], [], "write SOURCE=FIELD"),
        ([*MAPS, "company=name"], [], "'name': takes one column, not name, company"),
        (MAPS, ["credit_status=ok"], "write COLUMN:FROM=TO"),
        (MAPS, ["credit_status:hold=on_hold"], "account_status takes ok, overdue, on-hold"),
        (MAPS, ["fax:a=b"], "the file has no column 'fax'"),
        ([*MAPS, "tier=-"], ["tier:g=gold"], "the column 'tier' is left out"),
        (MAPS, ["credit_status:a=ok", "credit_status:a=overdue"], "'a' is already mapped to 'ok'"),
        (MAPS, ["default:currency=USD"], "the file has no column 'default'"),
    ],
)
def test_given_a_mapping_that_does_not_fit_then_one_clear_error_before_any_record(
    maps: list[str], values: list[str], message: str
) -> None:
    with pytest.raises(InvalidImportMapping) as raised:
        layout(OTHER, ImportMapping.parse(maps, values))

    assert message in str(raised.value) and "\n" not in str(raised.value)


@pytest.mark.parametrize(
    ("defaults", "message"),
    [
        (["money=USD"], "'money' is not an import column"),
        (["currency"], "write FIELD=VALUE"),
        (["account_status=held"], "account_status takes ok, overdue, on-hold"),
        (["currency=USD", "currency=EUR"], "'currency' already defaults to 'USD'"),
    ],
)
def test_given_a_default_that_does_not_fit_then_one_clear_error(defaults: list[str], message: str) -> None:
    with pytest.raises(InvalidImportMapping) as raised:
        layout(OTHER, ImportMapping.parse(MAPS, [], defaults))

    assert message in str(raised.value)


def test_given_a_default_then_it_fills_empty_cells_and_a_column_the_file_lacks() -> None:
    columns, plan = layout(OTHER, ImportMapping.parse(MAPS, [], ["currency=USD", "tier=bronze"]))
    assert plan is not None

    remapped = remap(plan, [*RECORD[:6], " ", "12.50", "ok"], 2)

    assert isinstance(remapped, list)
    assert (remapped[columns.index("tier")], remapped[columns.index("currency")]) == ("bronze", "USD")


def test_given_a_mapping_that_leaves_no_name_then_the_header_is_refused_as_missing_it() -> None:
    with pytest.raises(InvalidCsvHeader) as raised:
        layout(OTHER, ImportMapping.parse([*MAPS, "name=notes"]))

    assert raised.value.missing == ("name",)


_NAMES = (
    st.text(st.characters(blacklist_characters=",=:", blacklist_categories=("Cs", "Cc")), min_size=1)
    .map(str.strip)
    .filter(bool)
)
_VALUES = st.text(st.characters(blacklist_characters="=", blacklist_categories=("Cs", "Cc"))).map(str.strip)


@given(
    st.lists(st.tuples(_NAMES, st.sampled_from([*COLUMNS, IGNORE]))),
    st.lists(st.tuples(_NAMES, _VALUES, _VALUES)),
    st.lists(st.tuples(st.sampled_from(COLUMNS), _VALUES.filter(bool))),
)
def test_given_any_mapping_when_written_back_as_text_then_read_again_the_same(
    columns: list[tuple[str, str]], values: list[tuple[str, str, str]], defaults: list[tuple[str, str]]
) -> None:
    mapping = ImportMapping(tuple(columns), tuple(values), tuple(defaults))

    assert ImportMapping.parse(*mapping.text()) == mapping


@given(st.lists(st.text(st.characters(blacklist_categories=("Cs",)), max_size=12), min_size=9, max_size=9))
def test_given_any_cells_when_remapped_then_every_phone_cell_reaches_phones_and_no_other_cell_is_lost(
    cells: list[str],
) -> None:
    columns, plan = layout(OTHER, ImportMapping.parse([MAPS[0], "credit_status=notes"]))
    assert plan is not None

    remapped = remap(plan, cells, 2)

    assert isinstance(remapped, list) and len(remapped) == len(columns)
    phones = remapped[columns.index("phones")]
    assert phones == ";".join(cell.strip() for cell in cells[4:6] if cell.strip())
    others = [cell for at, cell in enumerate(cells) if at not in (4, 5)]
    assert [cell for at, cell in enumerate(remapped) if columns[at] != "phones"] == others
