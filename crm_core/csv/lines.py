"""Writing CSV: one record as one line, as every file the store exports writes it."""

from __future__ import annotations

import csv
import io

from crm_core.domain.spreadsheet_cells import neutralised


def csv_line(fields: list[str]) -> str:
    """One CSV record, quoted as needed, ending in ``\\r\\n`` (RFC 4180); a cell that would start a
    spreadsheet formula gets a single quote in front (``crm_core.domain.spreadsheet_cells``)."""
    buffer = io.StringIO()
    csv.writer(buffer).writerow([neutralised(field) for field in fields])
    return buffer.getvalue()
