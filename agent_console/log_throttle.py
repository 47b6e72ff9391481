"""At most one log line per key (an agent) per window: a client that sends the same message in a loop
writes a few lines, not one per message (a flood of websocket ``login`` messages wrote 205,000).

A line let through carries ``held_back``: how many lines of its key were held back since the one before,
so the log still counts what happened. A key whose flood stopped tells its count with its next line.
Keys are the agents of the number plan, so the table stays as small as the plan.
"""

from __future__ import annotations

from dataclasses import dataclass

WINDOW_S = 60.0


@dataclass(slots=True)
class _Seen:
    logged_at: float
    held_back: int = 0


class LogThrottle:
    def __init__(self, window_s: float = WINDOW_S) -> None:
        self._window_s = window_s
        self._seen: dict[str, _Seen] = {}

    def admit(self, key: str, now: float) -> int | None:
        """None: hold this line back (it is counted). Else write it, with this many held back before it."""
        seen = self._seen.get(key)
        # A clock that went back (a corrected wall clock) lets the line through: never held back for ever.
        if seen is None or not 0 <= now - seen.logged_at < self._window_s:
            held_back = 0 if seen is None else seen.held_back
            self._seen[key] = _Seen(now)
            return held_back
        seen.held_back += 1
        return None
