"""The dependency rule: routing/ is the pure core, so it imports no I/O, no clock, no chance and no shell.

Read from the source with ``ast`` rather than by importing, so a module that would do I/O on import is
still checked, and this file runs without the project being importable.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ROUTING = ROOT / "routing"

FORBIDDEN_MODULES = frozenset(
    {
        # I/O, concurrency and the environment belong to the shells (and config/).
        *("asyncio", "aiohttp", "sqlalchemy", "redis", "websockets"),
        *("socket", "threading", "subprocess", "os"),
        # Time arrives in events and the same events must give the same commands.
        *("time", "random", "secrets", "uuid"),
        # The shells and the wiring.
        *("telephony", "agent_console", "crm_core", "switchboard", "config"),
        # A dynamic import would slip past this test.
        "importlib",
    }
)
# datetime itself is fine (arithmetic on times passed in); reading the wall clock through it is not.
CLOCK_ATTRIBUTES = frozenset({"now", "utcnow", "today"})


def violations(source: str, filename: str = "<source>") -> list[str]:
    """What in ``source`` breaks the dependency rule, one line each; empty when the module is pure."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Import):
            found += [f"{filename}:{node.lineno} imports {a.name}" for a in node.names if _forbidden(a.name)]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and _forbidden(node.module or ""):
            found.append(f"{filename}:{node.lineno} imports from {node.module}")
        elif isinstance(node, ast.Attribute) and node.attr in CLOCK_ATTRIBUTES:
            found.append(f"{filename}:{node.lineno} reads the clock (.{node.attr})")
        elif isinstance(node, ast.Name) and node.id == "__import__":
            found.append(f"{filename}:{node.lineno} imports dynamically")
    return found


def _forbidden(module: str) -> bool:
    return module.partition(".")[0] in FORBIDDEN_MODULES


ROUTING_MODULES = sorted(ROUTING.rglob("*.py"))


def test_routing_modules_are_found() -> None:
    names = {p.name for p in ROUTING_MODULES}
    assert {"__init__.py", "router.py", "states.py", "events.py", "commands.py", "diagram.py"} <= names


@pytest.mark.parametrize("path", ROUTING_MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_routing_module_imports_no_io_clock_chance_or_shell(path: Path) -> None:
    assert violations(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT))) == []


# --- the check itself can fail -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "source",
    [
        "import asyncio",
        "import asyncio.queues",
        "from aiohttp import web",
        "from sqlalchemy.orm import Session",
        "import redis.asyncio as redis",
        "import heapq, websockets",
        "import time",
        "from time import monotonic",
        "import random",
        "from random import choice",
        "from uuid import uuid4",
        "import os\nos.environ['X']",
        "import telephony.ari",
        "from agent_console.app import make_app",
        "from crm_core import store",
        "from switchboard import app",
        "from config import load",
        "from datetime import datetime\nstarted = datetime.now()",
        "import datetime\nday = datetime.date.today()",
        "from datetime import datetime, timezone\nclock = datetime.utcnow",
        "def later():\n    import asyncio\n    return asyncio",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from telephony.events import X",
        "ari = __import__('telephony')",
        "import importlib\nari = importlib.import_module('telephony')",
    ],
)
def test_given_impure_source_when_checked_then_violation_reported(source: str) -> None:
    assert violations(source)


@pytest.mark.parametrize(
    "source",
    [
        "from __future__ import annotations",
        "import heapq\nfrom collections.abc import Mapping",
        "from routing.ids import CallId",
        "from . import ids\nfrom .states import AgentState",
        "import configparser, timeit, randomname",  # names that only start like forbidden ones
        "from datetime import datetime, timezone\nstarted = datetime.fromtimestamp(event.at, timezone.utc)",
        "at = event.at\ntime_left = deadline - at",
    ],
)
def test_given_pure_source_when_checked_then_no_violation(source: str) -> None:
    assert violations(source) == []


def test_given_violation_when_reported_then_names_file_line_and_module() -> None:
    assert violations("import heapq\nimport asyncio\n", "routing/x.py") == ["routing/x.py:2 imports asyncio"]
    assert violations("from time import time\n", "routing/y.py") == ["routing/y.py:1 imports from time"]
