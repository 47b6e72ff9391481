"""A store write tried until it is done: the first failure is logged with its traceback, the ones that
follow in a line each (an outage repeats the same failure every few seconds)."""

from __future__ import annotations

from typing import Any

from switchboard.retry import until_done


class Log:
    def __init__(self) -> None:
        self.entries: list[tuple[str, str, dict[str, Any]]] = []

    def exception(self, event: str, **context: Any) -> None:
        self.entries.append(("exception", event, context))

    def warning(self, event: str, **context: Any) -> None:
        self.entries.append(("warning", event, context))


async def test_given_three_failures_then_one_traceback_two_lines_and_the_result() -> None:
    log = Log()
    failures = [OSError("refused")] * 3

    async def attempt() -> str:
        if failures:
            raise failures.pop()
        return "written"

    assert await until_done(attempt, 0.001, log, "journal.append-failed", first=12) == "written"
    assert [(kind, event) for kind, event, _ in log.entries] == [
        ("exception", "journal.append-failed"), ("warning", "journal.append-failed"),
        ("warning", "journal.append-failed"),
    ]  # fmt: skip
    assert [c["retry_in_s"] for _, _, c in log.entries] == [0.001, 0.002, 0.004]  # doubling
    last = log.entries[2][2]
    assert last == {"first": 12, "retry_in_s": 0.004, "attempts": 3, "error": "OSError('refused')"}
