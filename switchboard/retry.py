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


async def until_done(
    attempt: Callable[[], Awaitable[T]], retry_s: float, log: Log, failed: str, **context: object
) -> T:
    """``attempt()``'s result, trying again after each failure (logged as ``failed`` with ``context``)."""
    delay = retry_s
    while True:
        try:
            return await attempt()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception(failed, **context, retry_in_s=delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, LONGEST_S)
