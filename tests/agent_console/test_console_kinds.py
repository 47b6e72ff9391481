"""The registry of console message types (``protocol.KINDS``): the dataclasses, the JSON Schemas, the
access table and the dispatch all follow it, so a new type is one entry plus its dataclass, handler and
schema file, and a missing piece fails here."""

from __future__ import annotations

import json
import sys
from dataclasses import fields
from typing import Any

import pytest

from agent_console import contract, dispatch, protocol
from agent_console.access import CONSOLE_ACTIONS, PERMISSIONS
from tests.agent_console.test_access_matrix import SAMPLES


def subclasses(kind: type[Any]) -> set[type[Any]]:
    """``kind``'s subclasses as their modules name them (``dataclass(slots=True)`` leaves behind the class
    it replaced, until the garbage collector finds it)."""
    direct = {
        k for k in kind.__subclasses__() if getattr(sys.modules[k.__module__], k.__qualname__, None) is k
    }
    return direct.union(*(subclasses(k) for k in direct))


def test_every_message_dataclass_is_registered_once() -> None:
    registered = [entry.message for entry in protocol.KINDS.values()]
    assert len(registered) == len(set(registered))
    assert set(registered) == subclasses(protocol.ClientMessage)


def test_every_registered_type_has_its_schema_file_and_every_schema_file_its_type() -> None:
    assert set(protocol.KINDS) == contract.client_types()


@pytest.mark.parametrize("kind", sorted(protocol.KINDS))
def test_each_types_schema_requires_exactly_its_dataclasss_fields(kind: str) -> None:
    schema = contract.bundle()["client"][kind]
    wanted = {f.name for f in fields(protocol.KINDS[kind].message)} | {"type"}
    assert set(schema["properties"]) == set(schema["required"]) == wanted


def test_the_access_table_is_the_registrys_and_names_known_actions() -> None:
    assert {kind: entry.action for kind, entry in protocol.KINDS.items()} == CONSOLE_ACTIONS
    assert set(CONSOLE_ACTIONS.values()) <= PERMISSIONS.keys()


def test_every_registered_type_has_one_handler_and_every_handler_a_type() -> None:
    assert set(dispatch.HANDLERS) == {entry.message for entry in protocol.KINDS.values()}


def test_given_a_second_handler_for_a_type_then_it_is_refused() -> None:
    with pytest.raises(TypeError, match="Pause has a handler already"):
        dispatch.handles(protocol.Pause)(dispatch.pause)
    assert dispatch.HANDLERS[protocol.Pause] is dispatch.pause


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_given_a_valid_message_of_each_type_then_parse_gives_its_dataclass(kind: str) -> None:
    message = protocol.parse(json.dumps({"type": kind, **SAMPLES[kind]}))
    assert type(message) is protocol.KINDS[kind].message
    assert protocol.kind(message) == kind
    assert protocol.action(message) == CONSOLE_ACTIONS[kind]
