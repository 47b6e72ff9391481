"""Which consumer carries out which of the router's commands: one table, checked when it is built.

Each consumer is a handler whose one argument is annotated with the commands it takes: a command class,
or a union of them such as ``cmd.PbxCommand``. ``CommandTable`` reads those annotations
(``typing.get_args``) and maps every command class to its handlers, so the bus hands a command straight
to whoever takes it, and nobody receives commands only to ignore them. A command class has exactly one
consumer, except the few that ``shared`` declares with every consumer that takes them (a logged call:
the console, the call log, the metrics). Building the table raises ``WiringError``, listing every
problem, when

- a command class has no consumer;
- several consumers take a command that ``shared`` does not declare, or declares with other consumers;
- ``shared`` declares a command that fewer than two consumers take;
- a handler takes something that is not a command, or is not annotated with one.

``watchers`` see every command, after its consumers: what needs to know that the router said anything
at all (the wallboard feed, whose view may have moved), not what it said.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

from routing import commands as cmd

Handler = Callable[[Any], None]  # takes the commands its annotation names
Watcher = Callable[[cmd.Command], None]


class WiringError(Exception):
    """The service is wired wrong: our fault, found when it is built, before any call is taken."""


def taken_by(handler: Handler) -> tuple[type, ...]:
    """The command classes ``handler`` is annotated to take (the members of a union, or the one class)."""
    hints = {name: kind for name, kind in typing.get_type_hints(handler).items() if name != "return"}
    if len(hints) != 1:
        raise WiringError(f"{handler!r} must take one argument annotated with the commands it takes")
    (annotation,) = hints.values()
    return typing.get_args(annotation) or (annotation,)


class CommandTable:
    def __init__(
        self,
        consumers: Mapping[str, Handler],
        shared: Mapping[type, Collection[str]] | None = None,
        watchers: Sequence[Watcher] = (),
    ) -> None:
        """``consumers``: name -> handler, in the order each command's handlers run."""
        takers: dict[type, list[str]] = {kind: [] for kind in typing.get_args(cmd.Command)}
        problems: list[str] = []
        for name, handler in consumers.items():
            for kind in taken_by(handler):
                if kind in takers:
                    takers[kind].append(name)
                else:
                    problems.append(f"{name} takes {_name(kind)}, which is not a command")
        problems += _sharing(takers, shared or {})
        if problems:
            raise WiringError("; ".join(problems))
        self._takers = {kind: tuple(names) for kind, names in takers.items()}
        self._routes: dict[type, tuple[Watcher, ...]] = {
            kind: (*(consumers[name] for name in names), *watchers) for kind, names in takers.items()
        }

    def handlers(self, kind: type) -> tuple[Watcher, ...]:
        """What a command of class ``kind`` is handed to, in order: its consumers, then the watchers."""
        return self._routes.get(kind, ())

    def takers(self, kind: type) -> tuple[str, ...]:
        """The names of the consumers of ``kind``."""
        return self._takers.get(kind, ())


def _sharing(takers: Mapping[type, list[str]], shared: Mapping[type, Collection[str]]) -> list[str]:
    problems = [f"nobody takes {_name(kind)}" for kind, names in takers.items() if not names]
    for kind, names in takers.items():
        declared = set(shared.get(kind, ()))
        if len(names) > 1 and declared != set(names):
            problems.append(f"{_name(kind)} is taken by {', '.join(names)} but shared by {_names(declared)}")
    for kind, sharers in shared.items():
        names = takers.get(kind, [])
        if len(names) < 2:
            shared_by, taken = _names(sharers), _names(names)
            problems.append(f"{_name(kind)} is declared shared by {shared_by} but taken by {taken}")
    return problems


def _name(kind: type) -> str:
    return getattr(kind, "__name__", repr(kind))


def _names(names: Collection[str]) -> str:
    return ", ".join(sorted(names)) or "nobody"
