"""The protocol's JSON Schemas (agent_console/schemas/{client,server}/<type>.json), compiled once.

The server checks every client message against its schema; tests check every server message. The
bundle is what ``GET /protocol/schemas.json`` serves to the page.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import jsonschema

SCHEMAS = Path(__file__).parent / "schemas"
BUNDLE_VERSION = 2


def _load(side: str) -> dict[str, dict[str, Any]]:
    return {path.stem: json.loads(path.read_text(encoding="utf-8"))
            for path in sorted((SCHEMAS / side).glob("*.json"))}  # fmt: skip


@functools.cache
def _validators(side: str) -> dict[str, jsonschema.Draft202012Validator]:
    validators = {}
    for kind, schema in _load(side).items():
        jsonschema.Draft202012Validator.check_schema(schema)
        validators[kind] = jsonschema.Draft202012Validator(schema)
    return validators


@functools.cache
def bundle() -> dict[str, Any]:
    return {"version": BUNDLE_VERSION, "client": _load("client"), "server": _load("server")}


def client_types() -> frozenset[str]:
    return frozenset(_validators("client"))


def server_types() -> frozenset[str]:
    return frozenset(_validators("server"))


def client_problem(kind: str, message: object) -> str | None:
    """Why ``message`` is not a valid client message of type ``kind``, in a sentence; None when it is."""
    return _problem(_validators("client"), kind, message)


def server_problem(message: dict[str, Any]) -> str | None:
    """The same for a message the server sends (the tests' check on everything the hub produces)."""
    return _problem(_validators("server"), str(message.get("type")), message)


def _problem(
    validators: dict[str, jsonschema.Draft202012Validator], kind: str, message: object
) -> str | None:
    validator = validators.get(kind)
    if validator is None:
        return f"unknown message type {kind[:40]!r}"
    error = jsonschema.exceptions.best_match(validator.iter_errors(message))
    if error is None:
        return None
    where = ".".join(str(part) for part in error.absolute_path) or "message"
    return f"{kind!r}: {where}: {_short(error.message)}"


def _short(text: str) -> str:
    return text if len(text) <= 160 else text[:157] + "..."
