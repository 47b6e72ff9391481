"""Validating an import's records away from the event loop: in a worker process once one is running, in a
thread until then.

Validation (every field checked, phone numbers normalised) is most of an import's Python. In a thread it
shares the interpreter's lock with the loop that writes, so the two take turns on one core; in a worker
process it runs on the other core while the loop writes the chunk before, which is what lets a CSV import
pass 20,000 rows a second on two cores (bench/CRM.md). Only plain tuples cross (records one way,
``PackedRow``s back), since pickling the domain dataclasses would cost more than validating them.

The worker is this module run as ``python -m crm_core.csv.record_validation``, speaking length-prefixed
pickles over its stdin and stdout; unlike ``multiprocessing``'s spawn it never re-runs the caller's main
module, and it needs no thread in the parent. It is started only for a file of more than one chunk (it
takes about 0.15 s to start, more than a small file's whole import), and chunks are validated in threads
while it starts. If it cannot be started, or dies, its chunks are validated again in a thread: a lost
process loses no row. One process per import, ended with it, so a server keeps no idle process.
"""

from __future__ import annotations

import asyncio
import pickle
import struct
import sys
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from crm_core.csv.customers import PackedRow, parse_records
from crm_core.csv.remapping import Remapping
from crm_core.domain.customers import RejectedLine

Records = list[tuple[int, Sequence[str]]]  # (first line, fields) of each record of a chunk
Parsed = list[PackedRow | RejectedLine]
_LENGTH = struct.Struct(">I")
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])
_STOP_WAITING_S = 5.0  # for the worker to exit once its input is closed, before it is killed


class WorkerLost(Exception):
    """The worker process exited or could not be reached; its chunks are validated again here."""


@dataclass(frozen=True, slots=True)
class PendingChunk:
    records: Records  # kept until the result is in, to validate again if the worker is lost
    result: asyncio.Future[Parsed]


class RecordValidation:
    """``submit`` chunks in file order, take their ``result``s in the same order; ``async with`` it, so the
    worker is ended however the import ends."""

    def __init__(
        self,
        columns: tuple[str, ...],
        region: str,
        *,
        worker_process: bool = True,
        remapping: Remapping | None = None,
    ) -> None:
        self._columns = columns
        self._region = region
        self._remapping = remapping
        self._worker_process = worker_process
        self._worker: asyncio.Future[_Worker] | None = None  # done once the worker process answers
        self._submitted = 0

    async def __aenter__(self) -> RecordValidation:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        worker = self._worker
        if worker is None:
            return
        await asyncio.wait([worker])
        if not worker.cancelled() and worker.exception() is None:
            await worker.result().close()  # a lost one too: its pipes and its exit are waited for

    async def worker_ready(self) -> bool:
        """Waits for a worker being started: whether chunks submitted now go to it (for tests and bench)."""
        if self._worker is None:
            return False
        await asyncio.wait([self._worker])
        return self._running() is not None

    @property
    def worker_pid(self) -> int | None:
        worker = self._running()
        return None if worker is None else worker.pid

    def submit(self, records: Records) -> PendingChunk:
        if not records:  # the end of a file of whole chunks: nothing to start a process for
            done: asyncio.Future[Parsed] = asyncio.get_running_loop().create_future()
            done.set_result([])
            return PendingChunk(records, done)
        self._submitted += 1
        if self._submitted == 2 and self._worker_process:
            self._worker = asyncio.ensure_future(_Worker.start(self._columns, self._region, self._remapping))
        worker = self._running()
        if worker is not None:
            return PendingChunk(records, worker.send(records))
        return PendingChunk(records, asyncio.ensure_future(self._in_thread(records)))

    async def result(self, pending: PendingChunk) -> Parsed:
        try:
            return await pending.result
        except WorkerLost:
            return await self._in_thread(pending.records)

    def _running(self) -> _Worker | None:
        worker = self._worker
        if worker is None or not worker.done() or worker.cancelled() or worker.exception() is not None:
            return None
        return None if worker.result().lost else worker.result()

    async def _in_thread(self, records: Records) -> Parsed:
        return await asyncio.to_thread(parse_records, records, self._columns, self._region, self._remapping)


class _Worker:
    """The child process, fed chunks in order and answering them in the same order."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdin is not None and process.stdout is not None  # both are pipes
        self.pid = process.pid
        self.lost = False
        self._process = process
        self._stdin = process.stdin
        self._waiting: deque[asyncio.Future[Parsed]] = deque()
        self._answers = asyncio.ensure_future(self._read_answers(process.stdout))

    @classmethod
    async def start(cls, columns: tuple[str, ...], region: str, remapping: Remapping | None) -> _Worker:
        """Raises ``WorkerLost`` when no worker could be started or it did not say it was ready."""
        try:
            # ``-m`` puts the working directory first on the worker's path: this package's parent, so the
            # worker imports this very code, installed or not.
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", __name__, stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE, cwd=_PACKAGE_ROOT,
            )  # fmt: skip
        except OSError as error:
            raise WorkerLost(f"cannot start: {error}") from error
        worker = cls(process)
        ready = worker._answer()  # the worker's first answer: it has imported the parser
        worker._stdin.write(_frame((columns, region, remapping)))
        try:
            await ready
        except WorkerLost:
            await worker.close()
            raise
        return worker

    def send(self, records: Records) -> asyncio.Future[Parsed]:
        future = self._answer()
        if not self.lost:
            try:
                self._stdin.write(_frame(records))
            except (ConnectionError, RuntimeError):  # the pipe is closed or closing
                self._lose()
        return future

    def _answer(self) -> asyncio.Future[Parsed]:
        """The future of the worker's next answer not yet waited for."""
        future: asyncio.Future[Parsed] = asyncio.get_running_loop().create_future()
        if self.lost:
            future.set_exception(WorkerLost("exited"))
        else:
            self._waiting.append(future)
        return future

    async def close(self) -> None:
        if not self._stdin.is_closing():
            self._stdin.close()  # the worker exits at the end of its input
        try:
            await asyncio.wait_for(self._process.wait(), _STOP_WAITING_S)
        except TimeoutError:
            self._process.kill()
            await self._process.wait()
        await asyncio.gather(self._answers, return_exceptions=True)

    async def _read_answers(self, stdout: asyncio.StreamReader) -> None:
        try:
            while True:
                (length,) = _LENGTH.unpack(await stdout.readexactly(_LENGTH.size))
                answer = pickle.loads(await stdout.readexactly(length))
                waiting = self._waiting.popleft()
                if not waiting.done():
                    waiting.set_result(answer)
        except (asyncio.IncompleteReadError, ConnectionError, IndexError, pickle.UnpicklingError):
            self._lose()

    def _lose(self) -> None:
        self.lost = True
        while self._waiting:
            waiting = self._waiting.popleft()
            if not waiting.done():
                waiting.set_exception(WorkerLost("exited"))


def _frame(value: Any) -> bytes:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return _LENGTH.pack(len(data)) + data


def _read_frame(stream: IO[bytes]) -> bytes | None:
    head = stream.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        return None
    (length,) = _LENGTH.unpack(head)
    return stream.read(length)


def _serve(inputs: IO[bytes], outputs: IO[bytes]) -> None:
    """The worker's side: the columns, region and remapping, then chunks until the end of the input."""
    outputs.write(_frame([]))  # ready: the parser is imported
    outputs.flush()
    first = _read_frame(inputs)
    if first is None:
        return
    columns, region, remapping = pickle.loads(first)
    while (frame := _read_frame(inputs)) is not None:
        outputs.write(_frame(parse_records(pickle.loads(frame), columns, region, remapping)))
        outputs.flush()


if __name__ == "__main__":
    _serve(sys.stdin.buffer, sys.stdout.buffer)
