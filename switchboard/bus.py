"""The event bus that carries the router's commands to whoever carries them out.

``EventBus`` is the port; ``LocalBus`` the embedded, in-process default. It hands each command to the
consumers the ``CommandTable`` names for its class (switchboard/command_table.py), then to the table's
watchers and to its own (``subscribe``: tests and benches watching every command). They are called in
that order, synchronously, and must only start work (create a task, queue a write), never wait on I/O. One
that raises is logged and skipped, so one broken consumer cannot stop routing for the rest. A Redis-backed
bus for several service instances is a later adapter of the same port.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import structlog

from routing import commands as cmd
from switchboard.command_table import CommandTable

log = structlog.get_logger("bus")

Subscriber = Callable[[cmd.Command], None]


class EventBus(Protocol):
    def subscribe(self, subscriber: Subscriber) -> None:
        """Also hand ``subscriber`` every command, after its consumers."""

    def publish(self, command: cmd.Command) -> None: ...


class LocalBus:
    def __init__(self, table: CommandTable | None = None) -> None:
        """Without a table (until ``route``), a command reaches only the subscribers."""
        self._table = table
        self._subscribers: list[Subscriber] = []

    def route(self, table: CommandTable) -> None:
        """Install the table once its consumers exist (they need the runtime this bus is built for)."""
        self._table = table

    def subscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.append(subscriber)

    def publish(self, command: cmd.Command) -> None:
        if self._table is not None:
            for handler in self._table.handlers(type(command)):
                _hand(handler, command)
        for subscriber in self._subscribers:
            _hand(subscriber, command)


def _hand(handler: Subscriber, command: cmd.Command) -> None:
    try:
        handler(command)
    except Exception:
        log.exception("bus.subscriber-failed", command=repr(command))
