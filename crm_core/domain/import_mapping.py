"""``ImportMapping``: how a customer file from another system maps onto the import's columns, as the user
wrote it (the syntax: ``crm_core/csv/mapping.py``, which checks it against a file's header)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from crm_core.domain.errors import InvalidImportMapping

IGNORE = "-"  # the field a column is mapped to when it is to be left out


@dataclass(frozen=True, slots=True)
class ImportMapping:
    """What the user asked for, read but not yet checked against a file."""

    columns: tuple[tuple[str, str], ...] = ()  # (the file's column, the import's column or IGNORE)
    values: tuple[tuple[str, str, str], ...] = ()  # (the file's column, from, to)
    defaults: tuple[tuple[str, str], ...] = ()  # (the import's column, its value where empty)

    @classmethod
    def parse(
        cls, maps: Iterable[str] = (), values: Iterable[str] = (), defaults: Iterable[str] = ()
    ) -> ImportMapping:
        """Raises ``InvalidImportMapping`` for an item not in the syntax above."""
        return cls(
            tuple(pair for item in maps for pair in _pairs(item, "SOURCE=FIELD (FIELD - leaves it out)")),
            tuple(_value_triple(item) for item in values),
            tuple(_default_pair(item) for item in defaults),
        )

    def text(self) -> tuple[list[str], list[str], list[str]]:
        """Back as the items ``parse`` reads: (maps, values, defaults)."""
        return (
            [f"{source}={field}" for source, field in self.columns],
            [f"{column}:{before}={after}" for column, before, after in self.values],
            [f"{field}={value}" for field, value in self.defaults],
        )


def _pairs(item: str, syntax: str) -> list[tuple[str, str]]:
    pairs = []
    for part in item.split(","):
        name, equals, value = (text.strip() for text in part.partition("="))
        if not equals or not name or not value:
            raise InvalidImportMapping(part, f"write {syntax}")
        pairs.append((name, value))
    return pairs


def _default_pair(item: str) -> tuple[str, str]:
    field, equals, value = (text.strip() for text in item.partition("="))
    if not equals or not field or not value:
        raise InvalidImportMapping(item, "write FIELD=VALUE")
    return field, value


def _value_triple(item: str) -> tuple[str, str, str]:
    column, colon, rest = item.partition(":")
    before, equals, after = rest.partition("=")
    if not colon or not equals or not column.strip():
        raise InvalidImportMapping(item, "write COLUMN:FROM=TO")
    return column.strip(), before.strip(), after.strip()
