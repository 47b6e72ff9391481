"""Password hashing with argon2id (argon2-cffi's defaults, RFC 9106's second recommendation).

Only hashes are ever stored; ``verify`` takes constant work for unknown users too (``verify_nobody``), so
the time a refusal takes does not tell whether the username exists.
"""

from __future__ import annotations

import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher()


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify(stored_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def verify_nobody(password: str) -> bool:
    """The same work as ``verify`` for a username that does not exist; always False."""
    verify(nobody(), password)
    return False


@functools.cache
def nobody() -> str:
    """The hash unknown usernames are checked against: made on first use, not at import, where it cost
    every process (``switchboard serve`` among them, whose checks run in a worker) 0.15-0.2 s at start.
    The password worker makes it as it starts, so no sign-in waits for it alone."""
    return _HASHER.hash("no user has this password")
