"""Writing CSV: one record as one line, as both files the store exports write it."""

from __future__ import annotations

import csv
import io


def csv_line(fields: list[str]) -> str:
    """One CSV record, quoted as needed, ending in ``\\r\\n`` (RFC 4180)."""
    buffer = io.StringIO()
    csv.writer(buffer).writerow(fields)
    return buffer.getvalue()
