"""Turning a record of a file with other columns into a record of the import's own columns, as
``mapping.layout`` planned it. Plain data and one function, so a worker process runs it with the parser.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

from crm_core.domain.customers import RejectedLine


class Translation(NamedTuple):
    """The values of the file's column ``column`` (at ``position``) read through ``table``."""

    position: int
    column: str  # the file's name for it, as a rejection names it
    field: str  # the import's column it fills
    table: Mapping[str, str]  # a value, stripped -> what it reads as
    choices: tuple[str, ...] | None  # the only values the field takes; None: any


class Pick(NamedTuple):
    """Where one of the import's columns comes from: one position of the file's records, or several
    joined with ``joiner`` (a multi-valued column such as phones; empty cells left out), or none; and
    what it reads where that leaves it empty."""

    positions: tuple[int, ...]
    joiner: str
    default: str


class Remapping(NamedTuple):
    width: int  # fields in each record of the file
    picks: tuple[Pick, ...]  # one per column of the import's record, in its order
    translations: tuple[Translation, ...]


def remap(plan: Remapping, record: Sequence[str], line: int) -> list[str] | RejectedLine:
    """``record`` of the file as the import's record, or why its line is rejected."""
    if len(record) != plan.width:
        return RejectedLine(line, None, f"expected {plan.width} fields, found {len(record)}")
    if plan.translations:
        record = list(record)
        for translation in plan.translations:
            value = record[translation.position].strip()
            mapped = translation.table.get(value)
            if mapped is not None:
                record[translation.position] = mapped
            elif translation.choices is not None and value and value not in translation.choices:
                return _unmapped(line, translation, value)
    fields: list[str] = []
    for pick in plan.picks:
        if len(pick.positions) == 1:
            value = record[pick.positions[0]]
        else:
            value = pick.joiner.join(cell for at in pick.positions if (cell := record[at].strip()))
        fields.append(pick.default if pick.default and not value.strip() else value)
    return fields


def _unmapped(line: int, translation: Translation, value: str) -> RejectedLine:
    takes = ", ".join(translation.choices or ())
    return RejectedLine(
        line, translation.column, f"no value mapping for {value[:40]!r} ({translation.field} takes {takes})"
    )
