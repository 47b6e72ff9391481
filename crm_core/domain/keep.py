"""``KEEP``: the marker for "leave this field as it is" in a change set (customers, cases, accounts).

Its own module because ``accounts`` needs it and ``customers`` (through ``model``) needs ``accounts``.
"""

from __future__ import annotations

import enum


class Keep(enum.Enum):
    """The marker for "leave this field as it is" in a change set."""

    KEEP = "keep"


KEEP = Keep.KEEP
