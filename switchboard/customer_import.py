"""``switchboard customers import``: customers from a CSV file, this system's own or another's (its
columns and values mapped onto ours, ``crm_core/csv/mapping.py``), or a dry run of that import.

Output: a real import prints rejected lines on stderr as they are met (``line N: field: why``) and the
JSON summary on stdout. A dry run writes nothing and prints its whole report on stdout, one line per
line of the file in file order (``line N: would add``, ``would update``, ``unchanged``,
``rejected: field: why``), then the summary with ``"dry_run": true``. Rejected rows are no failure (exit
0); a file that cannot be read, a refused header or a mapping that does not fit it is one line on stderr
and exit 1, with nothing written.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from config.settings import Settings
from crm_core.domain.customers import ImportSummary, RejectedLine, RowOutcome
from crm_core.domain.errors import InvalidCsvHeader
from crm_core.domain.import_mapping import ImportMapping
from switchboard.bootstrap import open_store

_MAPPING_OPTIONS = (  # each repeatable; ImportMapping.parse's arguments, in its order
    ("--map", "SOURCE=FIELD[,...]", "the file's column SOURCE fills the import's column FIELD (several may "
     "fill phones or tags); FIELD - leaves the column out. Repeatable"),
    ("--value", "COLUMN:FROM=TO", "in the file's column COLUMN, a cell FROM reads as TO, before any check; "
     "where the field is account_status, a value neither mapped nor ok, overdue or on-hold rejects its "
     "line. Repeatable"),
    ("--default", "FIELD=VALUE", "the import's column FIELD reads VALUE where the file leaves it empty or "
     "has no column for it. Repeatable"),
)  # fmt: skip
_WOULD = {RowOutcome.ADD: "would add", RowOutcome.UPDATE: "would update", RowOutcome.UNCHANGED: "unchanged"}


def add_parser(customers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    command = customers.add_parser(
        "import",
        help="import (upsert) customers from a CSV file",
        description="Upsert customers from a CSV file. For a file from another system, map its columns and "
        "values onto the import's. A column that is neither one of the import's nor mapped refuses the "
        "whole file. A row repeating an earlier row's external_id is rejected: the first one wins.",
        epilog="example: --map phone=phones,phone2=phones,credit_status=account_status,notes_old=- "
        "--value credit_status:hold=on-hold --default currency=USD --dry-run",
    )
    command.add_argument("file", type=Path, help="CSV with a header line; docs/api.md lists the columns")
    for option, metavar, described in _MAPPING_OPTIONS:
        command.add_argument(option, action="append", default=[], metavar=metavar, help=described)
    command.add_argument(
        "--dry-run", action="store_true",
        help="write nothing; print on stdout what would happen to each line, in file order (would add, "
        "would update, unchanged, rejected: why), then the JSON summary",
    )  # fmt: skip
    command.set_defaults(func=run)


async def run(settings: Settings, args: argparse.Namespace) -> int:
    mapping = ImportMapping.parse(args.map, args.value, args.default)  # a bad one: one line, exit 1
    try:
        # newline="": the CSV reader handles line ends (and quoted line breaks) itself.
        source = args.file.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        print(f"switchboard: cannot read {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    on_rejected, on_row = (_print_dry_rejected, _print_dry_row) if args.dry_run else (_print_rejected, None)
    store = await open_store(settings)
    try:
        with source:
            summary = await store.customer_csv.import_csv(
                source, on_rejected=on_rejected, on_row=on_row, mapping=mapping, dry_run=args.dry_run
            )
    except UnicodeDecodeError:
        print(f"switchboard: {args.file} is not UTF-8 text", file=sys.stderr)
        return 1
    except InvalidCsvHeader as exc:
        hint = "; map them (--map COLUMN=FIELD) or leave them out (--map COLUMN=-)" if exc.unknown else ""
        print(f"switchboard: {exc}{hint}", file=sys.stderr)
        return 1
    finally:
        await store.close()
    print(json.dumps(_summary(summary, args.dry_run)))
    return 0


def _summary(summary: ImportSummary, dry_run: bool) -> dict[str, object]:
    counts: dict[str, object] = {
        "lines": summary.lines, "inserted": summary.inserted, "updated": summary.updated,
        "unchanged": summary.unchanged, "rejected": summary.rejected,
    }  # fmt: skip
    return counts | {"dry_run": True} if dry_run else counts


def _print_rejected(rejected: RejectedLine) -> None:
    print(f"line {rejected.line}: {_why(rejected)}", file=sys.stderr)


def _print_dry_rejected(rejected: RejectedLine) -> None:
    print(f"line {rejected.line}: rejected: {_why(rejected)}")


def _print_dry_row(line: int, outcome: RowOutcome) -> None:
    print(f"line {line}: {_WOULD[outcome]}")


def _why(rejected: RejectedLine) -> str:
    return f"{rejected.field}: {rejected.reason}" if rejected.field else rejected.reason
