"""``FileKeys``: the match keys an import has met so far in its file, each with the line it was first met
on, kept in a private temporary SQLite file so that a file of any size is checked with flat memory (a set
in memory would grow by about 100 bytes a row).

The key is the external id. Rows without one are matched by their numbers and, where several customers
share a number, by all of them and the name (``customer_csv._match``); two such rows sharing a number may
well be two people on one office line, so they are not taken for repeats, and apply in file order.

The first row with a key is the one imported, and every later row with that key is rejected, naming the
line it repeats. Not "reject the key altogether": the import streams, so the first row is written (and
committed) before a later one is read, and reading the file twice to find repeats first would cost the
import about a third of its speed. First-wins also gives the same answer on every run of the same file,
dry or not, and makes a re-import of an unchanged file report every row unchanged (the second row no
longer overwrites the first, only for the first to overwrite it back on the next run).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from crm_core.csv.customers import PackedRow
from crm_core.domain.customers import RejectedLine

_IN_LIST = 500  # keys per SELECT ... IN (...): under any SQLite's limit of bound parameters


class FileKeys:
    def __init__(self) -> None:
        # "": a private database in a temporary file, deleted on close; its page cache bounds the memory.
        self._db = sqlite3.connect("", check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode = OFF")
        self._db.execute("PRAGMA synchronous = OFF")
        self._db.execute("CREATE TABLE seen (key TEXT PRIMARY KEY, line INTEGER NOT NULL) WITHOUT ROWID")

    def close(self) -> None:
        self._db.close()

    def repeated(self, rows: Iterable[PackedRow | RejectedLine]) -> dict[int, RejectedLine]:
        """Line -> why it is rejected, for each row of ``rows`` (in file order, after every row already
        given) that has a key an earlier row had. Rejected lines are passed over."""
        claims = [
            (row.external_id, row.line)
            for row in rows
            if not isinstance(row, RejectedLine) and row.external_id is not None
        ]
        if not claims:
            return {}
        self._db.execute("BEGIN")
        self._db.executemany("INSERT INTO seen VALUES (?, ?) ON CONFLICT DO NOTHING", claims)
        self._db.execute("COMMIT")
        first: dict[str, int] = {}
        for start in range(0, len(claims), _IN_LIST):
            keys = [key for key, _ in claims[start : start + _IN_LIST]]
            marks = ",".join("?" * len(keys))
            first.update(self._db.execute(f"SELECT key, line FROM seen WHERE key IN ({marks})", keys))
        repeated: dict[int, RejectedLine] = {}
        for key, line in claims:
            if first[key] < line:
                reason = f"{key[:80]!r} already on line {first[key]}"
                repeated[line] = RejectedLine(line, "external_id", reason)
        return repeated
