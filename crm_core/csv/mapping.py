"""Importing a file exported by another system: its columns mapped onto the import's, its values mapped
too. Pure: the user's text and the file's header in, the import's columns and a ``Remapping`` out.

The command line (``--map``, ``--value``) and the API (``map``, ``value`` query parameters) take the
same text, each item given as often as needed:

    map    SOURCE=FIELD[,SOURCE=FIELD...]   the file's column SOURCE fills the import's column FIELD;
                                            FIELD "-" leaves the column out. Several columns may fill
                                            phones or tags (their cells joined with ";"); any other
                                            field takes one column.
    value  COLUMN:FROM=TO                   in the file's column COLUMN, a cell reading FROM (spaces
                                            around it aside) reads as TO, before any check. COLUMN holds
                                            no ":" and FROM no "="; TO may hold anything, "" included.
    default FIELD=VALUE                     the import's column FIELD reads VALUE wherever the file leaves
                                            it empty, or has no column for it (currency=USD for a file
                                            with balances but no currency).

A column named like one of the import's needs no mapping. Any other column must be mapped or left out,
else the header is refused as before (``InvalidCsvHeader`` names them): a file is never imported with
some of its data quietly dropped. Where the field takes only some values (account_status: ok, overdue,
on-hold), a cell of a mapped or value-mapped column that is neither mapped nor one of those rejects its
line, naming the column and the value; a value mapping to anything else is refused before the file is
read. A mapping that names no import column, or a column the file does not have, is refused whole
(``InvalidImportMapping``), so nothing is written.
"""

from __future__ import annotations

from collections.abc import Sequence

from crm_core.csv.customers import COLUMNS, PHONE_SEPARATOR, REQUIRED, header_columns
from crm_core.csv.remapping import Pick, Remapping, Translation
from crm_core.domain.accounts import AccountStatus
from crm_core.domain.customers import TAG_SEPARATOR
from crm_core.domain.errors import InvalidCsvHeader, InvalidImportMapping
from crm_core.domain.import_mapping import IGNORE, ImportMapping

JOINERS = {"phones": PHONE_SEPARATOR, "tags": TAG_SEPARATOR}  # the columns several may fill
CHOICES = {"account_status": tuple(status.value for status in AccountStatus)}


def layout(header: Sequence[str], mapping: ImportMapping) -> tuple[tuple[str, ...], Remapping | None]:
    """The import's columns for a file with ``header``, and how to remap its records (None: they are
    the import's records as they are). Raises ``InvalidImportMapping`` or ``InvalidCsvHeader``."""
    if mapping == ImportMapping():
        return header_columns(header), None
    names = [name.strip() for name in header]
    fields = _fields(names, mapping.columns)
    fed: dict[str, list[int]] = {}
    for at, name in enumerate(names):
        field = fields.get(name, name)
        if field != IGNORE and field in COLUMNS:
            fed.setdefault(field, []).append(at)
    doubled = tuple(sorted({name for name in names if names.count(name) > 1}))
    unknown = tuple(name for name in dict.fromkeys(names) if name not in fields and name not in COLUMNS)
    defaults = _defaults(mapping.defaults)
    for field in defaults:
        fed.setdefault(field, [])
    missing = tuple(name for name in REQUIRED if name not in fed)
    if doubled or unknown or missing:
        raise InvalidCsvHeader(missing, unknown, doubled)
    for field, positions in fed.items():
        if len(positions) > 1 and field not in JOINERS:
            sources = ", ".join(names[at] for at in positions)
            raise InvalidImportMapping(
                field, f"takes one column, not {sources} (only phones and tags take several)"
            )
    picks = tuple(
        Pick(tuple(at), JOINERS.get(field, ""), defaults.get(field, "")) for field, at in fed.items()
    )
    plan = Remapping(len(names), picks, _translations(names, fields, mapping.values))
    return tuple(fed), plan


def _defaults(pairs: tuple[tuple[str, str], ...]) -> dict[str, str]:
    defaults: dict[str, str] = {}
    for field, value in pairs:
        item = f"{field}={value}"
        if field not in COLUMNS:
            raise InvalidImportMapping(item, f"{field!r} is not an import column ({', '.join(COLUMNS)})")
        choices = CHOICES.get(field)
        if choices is not None and value not in choices:
            raise InvalidImportMapping(item, f"{field} takes {', '.join(choices)}")
        if defaults.setdefault(field, value) != value:
            raise InvalidImportMapping(item, f"{field!r} already defaults to {defaults[field]!r}")
    return defaults


def _fields(names: list[str], columns: tuple[tuple[str, str], ...]) -> dict[str, str]:
    """The file's column -> the import's column (or IGNORE) the user mapped it to."""
    fields: dict[str, str] = {}
    for source, field in columns:
        item = f"{source}={field}"
        if field != IGNORE and field not in COLUMNS:
            raise InvalidImportMapping(item, f"{field!r} is not an import column ({', '.join(COLUMNS)})")
        if source not in names:
            raise InvalidImportMapping(item, f"the file has no column {source!r}")
        if fields.get(source, field) != field:
            raise InvalidImportMapping(item, f"{source!r} is already mapped to {fields[source]!r}")
        fields[source] = field
    return fields


def _translations(
    names: list[str], fields: dict[str, str], values: tuple[tuple[str, str, str], ...]
) -> tuple[Translation, ...]:
    tables: dict[str, dict[str, str]] = {}
    for column, before, after in values:
        item = f"{column}:{before}={after}"
        field = fields.get(column, column)
        if column not in names:
            raise InvalidImportMapping(item, f"the file has no column {column!r}")
        if field == IGNORE or field not in COLUMNS:
            raise InvalidImportMapping(item, f"the column {column!r} is left out")
        choices = CHOICES.get(field)
        if choices is not None and after and after not in choices:
            raise InvalidImportMapping(item, f"{field} takes {', '.join(choices)}")
        table = tables.setdefault(column, {})
        if table.get(before, after) != after:
            raise InvalidImportMapping(item, f"{before!r} is already mapped to {table[before]!r}")
        table[before] = after
    translated = []
    for at, name in enumerate(names):
        field = fields.get(name, name)
        renamed_to_choices = field != name and field in CHOICES  # the file's own values, unchecked so far
        if name in tables or renamed_to_choices:
            translated.append(Translation(at, name, field, tables.get(name, {}), CHOICES.get(field)))
    return tuple(translated)
