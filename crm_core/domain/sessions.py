"""The console's sign-in sessions as the store keeps them, so agents stay signed in across a restart.

The store never sees a session id: only ``key_of(id)``, its SHA-256. The id is 256 random bits, so a
plain hash is enough (no slow, salted hash is needed against guessing), and whoever reads the table or
a backup of it still cannot present a session. Times are Unix seconds, from the console's clock.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class StoredSession:
    key: str  # key_of(the session id), 64 hex digits
    username: str
    started: float
    last_used: float  # as last written back: the console writes it at most every minute or so


def key_of(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()
