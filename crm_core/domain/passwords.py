"""Password hashing with argon2id (argon2-cffi's defaults, RFC 9106's second recommendation).

Only hashes are ever stored; ``verify`` takes constant work for unknown users too (``verify_nobody``), so
the time a refusal takes does not tell whether the username exists.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher()
_NOBODY = _HASHER.hash("no user has this password")


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify(stored_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def verify_nobody(password: str) -> bool:
    """The same work as ``verify`` for a username that does not exist; always False."""
    verify(_NOBODY, password)
    return False
