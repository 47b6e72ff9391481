"""Shared test helpers: which real components a test may need, and what to do when one is missing.

Locally a missing Asterisk or PostgreSQL skips the tests that need it; in CI (CI=true) it fails them,
so a broken sandbox can never turn the suite green.
"""

from __future__ import annotations

import os

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"


def unavailable(what: str, how_to_fix: str) -> None:
    message = f"{what} is not reachable ({how_to_fix})"
    if IN_CI:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)
