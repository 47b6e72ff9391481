"""A clock the tests move by hand: the delivery queue's and the worker's, so leases and backoffs run out
when a test says, not when the wall clock does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

START = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
