"""How many messages one websocket may send: a token bucket per connection, time handed in.

A hostile or broken client could otherwise make the server parse, check and answer as fast as it can
write (240,000 messages in the probe of issue 18), and every answer waits in its outbox. A console sends
far fewer: one ``ack`` per pop and one message per click (ready, pause, hold, transfer, wrap-up, a
supervisor's orders), a few at its (re)connection (``login``, ``watch-wallboard``). So a bucket of
``BURST`` messages, refilled at ``PER_S`` a second, is never emptied by a person, however quick, nor by a
reconnection; a client that empties it gets one ``error`` ``rate-limited`` and its messages are dropped
unread until the bucket refills; one that sends ``PERSIST`` more meanwhile is closed (``RATE_LIMITED``).
"""

from __future__ import annotations

import enum
from collections.abc import Callable

BURST = 60
PER_S = 20.0
PERSIST = 60  # messages refused in a row before the socket is closed
RATE_LIMITED = 4429  # the close code (docs/console-protocol.md)


class Verdict(enum.Enum):
    HANDLE = "handle"
    REFUSE = "refuse"  # the first refused in a row: say ``rate-limited``
    DROP = "drop"  # refused again: say nothing (each answer would pile up in the outbox)
    CLOSE = "close"


class MessageRate:
    def __init__(
        self, clock: Callable[[], float], burst: int = BURST, per_s: float = PER_S, persist: int = PERSIST
    ) -> None:
        self._clock = clock
        self._burst = burst
        self._per_s = per_s
        self._persist = persist
        self._tokens = float(burst)
        self._at = clock()
        self._refused = 0  # in a row

    def take(self) -> Verdict:
        """What to do with the message that just came."""
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._at) * self._per_s)
        self._at = now
        if self._tokens >= 1:
            self._tokens -= 1
            self._refused = 0
            return Verdict.HANDLE
        self._refused += 1
        if self._refused > self._persist:
            return Verdict.CLOSE
        return Verdict.REFUSE if self._refused == 1 else Verdict.DROP
