"""A customer import's rows gathered into batches for ``customer_csv`` to write (``Batches``), and what it
did with each line of its file, counted and told to the caller's listeners in file order
(``ImportReport``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from crm_core.csv.customers import PackedRow
from crm_core.domain.customers import ImportSummary, RejectedLine, RowOutcome

OnRejected = Callable[[RejectedLine], object]
OnRow = Callable[[int, RowOutcome], object]
Applied = tuple[list[tuple[int, RowOutcome]], list[RejectedLine]]  # (line, outcome); the rows refused
WriteBatch = Callable[[list[PackedRow], bool], Awaitable[Applied]]  # (batch, dry run)


class ImportReport:
    """Counts every line, and tells the listeners of a batch's lines in file order once it is written."""

    def __init__(self, on_rejected: OnRejected | None, on_row: OnRow | None) -> None:
        self.held: list[RejectedLine] = []  # the batch's rejected lines, not yet told
        self._counts = dict.fromkeys(RowOutcome, 0)
        self._rejected = 0
        self._on_rejected = on_rejected
        self._on_row = on_row

    def tell(self, outcomes: list[tuple[int, RowOutcome]]) -> None:
        held, self.held = self.held, []
        self._rejected += len(held)
        counts = self._counts
        for _, outcome in outcomes:
            counts[outcome] += 1
        if self._on_row is None and self._on_rejected is None:
            return
        told: Iterable[tuple[int, RowOutcome] | RejectedLine] = outcomes
        if held:
            told = sorted(
                [*outcomes, *held], key=lambda item: item[0] if isinstance(item, tuple) else item.line
            )
        for item in told:
            if isinstance(item, RejectedLine):
                if self._on_rejected is not None:
                    self._on_rejected(item)
            elif self._on_row is not None:
                self._on_row(*item)

    def summary(self) -> ImportSummary:
        counts = self._counts
        return ImportSummary(
            counts[RowOutcome.ADD], counts[RowOutcome.UPDATE], counts[RowOutcome.UNCHANGED], self._rejected
        )


class Batches:
    """One import's rows gathered into batches and written: a batch never holds two rows with the same
    key, so rows apply in file order. Rejected lines wait with the batch, so they are told in order."""

    def __init__(self, write: WriteBatch, report: ImportReport, size: int, dry_run: bool) -> None:
        self._write = write
        self._report = report
        self._size = size
        self._dry_run = dry_run
        self._batch: list[PackedRow] = []
        self._keys: set[str] = set()

    async def take(self, row: PackedRow | RejectedLine) -> None:
        if len(self._batch) + len(self._report.held) >= self._size:
            await self.flush()
        if isinstance(row, RejectedLine):
            self._report.held.append(row)
            return
        row_keys = batch_keys(row)
        if row_keys & self._keys:
            await self.flush()
        self._batch.append(row)
        self._keys |= row_keys

    async def flush(self) -> None:
        outcomes, rejected = await self._write(self._batch, self._dry_run)
        self._report.held += rejected
        self._report.tell(outcomes)
        self._batch, self._keys = [], set()


def batch_keys(row: PackedRow) -> set[str]:
    """What a row is matched by: two rows sharing one go to different batches, so they apply in order."""
    keys = {f"p:{e164}" for e164, _ in row.phones}
    if row.external_id is not None:
        keys.add(f"x:{row.external_id}")
    return keys
