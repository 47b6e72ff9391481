"""Writing to a store that may be down for a while: the writers (call log, agent states) try again, with
backoff, until the write is done; they never drop it. Only cancellation (the service stopping) ends it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

T = TypeVar("T")
LONGEST_S = 30.0  # the backoff doubles up to this


class Log(Protocol):
    def exception(self, event: str, **context: Any) -> Any: ...
    def warning(self, event: str, **context: Any) -> Any: ...


async def until_done(
    attempt: Callable[[], Awaitable[T]], retry_s: float, log: Log, failed: str, **context: object
) -> T:
    """``attempt()``'s result, trying again after each failure (logged as ``failed`` with ``context``:
    the first with its traceback, the next ones in a line each, as an outage repeats the same one)."""
    delay = retry_s
    attempts = 0
    while True:
        try:
            return await attempt()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            attempts += 1
            if attempts == 1:
                log.exception(failed, **context, retry_in_s=delay)
            else:
                log.warning(failed, **context, retry_in_s=delay, attempts=attempts, error=repr(exc))
            await asyncio.sleep(delay)
            delay = min(delay * 2, LONGEST_S)
