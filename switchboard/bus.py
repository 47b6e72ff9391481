"""The event bus that carries the router's commands to everyone who acts on them.

``EventBus`` is the port; ``LocalBus`` the embedded, in-process default: subscribers are called in
order, synchronously, and must only start work (create a task, queue a write), never wait on I/O. A
subscriber that raises is logged and skipped, so one broken consumer cannot stop routing for the rest.
A Redis-backed bus for several service instances is a later adapter of the same port.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import structlog

from routing import commands as cmd

log = structlog.get_logger("bus")

Subscriber = Callable[[cmd.Command], None]


class EventBus(Protocol):
    def subscribe(self, subscriber: Subscriber) -> None: ...

    def publish(self, command: cmd.Command) -> None: ...


class LocalBus:
    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []

    def subscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.append(subscriber)

    def publish(self, command: cmd.Command) -> None:
        for subscriber in self._subscribers:
            try:
                subscriber(command)
            except Exception:
                log.exception("bus.subscriber-failed", command=repr(command))
