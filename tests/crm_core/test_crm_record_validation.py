"""An import's records validated in the worker process: the same answers as in a thread, and nothing lost
when the worker dies. Pure of the store: records in, packed rows and rejections out."""

from __future__ import annotations

import os
import signal

import pytest

from crm_core.csv.customers import COLUMNS, PackedRow, parse_records
from crm_core.csv.record_validation import Records, RecordValidation
from crm_core.domain.customers import RejectedLine

GOOD = ["ERP-1", "Ann Lee", "Acme", "ann@acme.example", "en", "vip", "wholesale;vip", "",
        "mobile:(415) 555-0123;office:+44 20 7946 0018",
        "120.50", "usd", "500", "on-hold", "2026-01-15"]  # fmt: skip


def _chunk(first_line: int, size: int) -> Records:
    """``size`` records from ``first_line`` on: good ones, with a bad email and a blank record among them."""
    records: Records = []
    for line in range(first_line, first_line + size):
        record = [f"ERP-{line}", *GOOD[1:]]
        if line % 7 == 0:
            record[3] = "not-an-email"
        if line % 11 == 0:
            record = [" "] * len(COLUMNS)
        records.append((line, record))
    return records


async def test_given_a_running_worker_when_chunks_submitted_then_answers_are_the_threads_in_order() -> None:
    chunks = [_chunk(2 + 50 * n, 50) for n in range(4)]
    async with RecordValidation(COLUMNS, "US") as validation:
        first = validation.submit(chunks[0])  # a file's first chunk never waits for a process
        second = validation.submit(chunks[1])  # a second one starts the worker
        assert await validation.worker_ready()
        pid = validation.worker_pid
        rest = [validation.submit(chunk) for chunk in chunks[2:]]
        answers = [await validation.result(pending) for pending in (first, second, *rest)]

    assert pid is not None and pid != os.getpid()
    assert answers == [parse_records(chunk, COLUMNS, "US") for chunk in chunks]
    rows = [row for answer in answers for row in answer]
    assert len(rows) == 200 - len([n for n in range(2, 202) if n % 11 == 0])
    assert {type(row) for row in rows} == {PackedRow, RejectedLine}
    assert [row.line for row in rows if isinstance(row, RejectedLine)] == [
        n for n in range(2, 202) if n % 7 == 0 and n % 11 != 0
    ]


async def test_given_the_worker_killed_when_results_taken_then_its_chunks_are_validated_here() -> None:
    # The chunks out at the kill take the worker tens of milliseconds: it dies before answering them.
    chunks = [_chunk(2, 50), _chunk(52, 50), _chunk(102, 2_000), _chunk(2_102, 2_000), _chunk(4_102, 50)]
    async with RecordValidation(COLUMNS, "US") as validation:
        pending = [validation.submit(chunks[0]), validation.submit(chunks[1])]
        assert await validation.worker_ready()
        pid = validation.worker_pid
        assert pid is not None
        pending += [validation.submit(chunk) for chunk in chunks[2:4]]
        os.kill(pid, signal.SIGKILL)
        answers = [await validation.result(chunk) for chunk in pending]
        assert validation.worker_pid is None  # lost, and not used again
        answers.append(await validation.result(validation.submit(chunks[4])))

    assert answers == [parse_records(chunk, COLUMNS, "US") for chunk in chunks]


@pytest.mark.parametrize("worker_process", [True, False], ids=["worker-process", "threads-only"])
async def test_given_one_chunk_or_none_when_validated_then_no_worker_is_started(worker_process: bool) -> None:
    async with RecordValidation(COLUMNS, "US", worker_process=worker_process) as validation:
        answer = await validation.result(validation.submit(_chunk(2, 5)))
        empty = await validation.result(validation.submit([]))

        assert not await validation.worker_ready() and validation.worker_pid is None
    assert (answer, empty) == (parse_records(_chunk(2, 5), COLUMNS, "US"), [])


async def test_given_threads_only_when_many_chunks_submitted_then_no_worker_is_started() -> None:
    chunks = [_chunk(2 + 10 * n, 10) for n in range(3)]
    async with RecordValidation(COLUMNS, "US", worker_process=False) as validation:
        answers = [await validation.result(validation.submit(chunk)) for chunk in chunks]

        assert not await validation.worker_ready()
    assert answers == [parse_records(chunk, COLUMNS, "US") for chunk in chunks]
