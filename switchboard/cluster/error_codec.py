"""The router's refusals (``routing.errors``) as JSON-ready data, and back, for an ask answered by another
instance's router (``switchboard.cluster.asks``).

A refusal travels as ``{"kind": <class name>, "args": {<constructor argument>: <value>}, "message": ...}``:
every subclass in ``routing.errors`` keeps each constructor argument as an attribute of the same name, so
rebuilding it with them gives the same class, fields and message the leader's router raised. A refusal
this release does not know (a newer leader's, or one whose arguments do not fit) comes back as a plain
``RoutingError`` with the leader's message: the console then answers ``routing-refused`` rather than
nothing.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping

from routing import errors
from routing.errors import RoutingError

KINDS: Mapping[str, type[RoutingError]] = {
    cls.__name__: cls
    for cls in vars(errors).values()
    if isinstance(cls, type) and issubclass(cls, RoutingError) and cls.__module__ == errors.__name__
}


def _arguments(kind: type[RoutingError]) -> tuple[str, ...] | None:
    """The names of ``kind``'s constructor arguments; None when it takes just a message (the root, or a
    subclass that does not define its own constructor)."""
    if kind.__init__ is RoutingError.__init__:
        return None
    parameters = list(inspect.signature(kind.__init__).parameters.values())[1:]  # without self
    return tuple(p.name for p in parameters)


def _known(error: RoutingError) -> type[RoutingError]:
    """The nearest class of ``error``'s that this module's table holds: a subclass defined elsewhere
    travels as its ``routing.errors`` parent, so the console answers with the parent's code."""
    return next(k for k in type(error).__mro__ if KINDS.get(k.__name__) is k)


def encode(error: RoutingError) -> dict[str, object]:
    kind = _known(error)
    names = _arguments(kind)
    values = {name: getattr(error, name, None) for name in names or ()}
    if names is None or not all(isinstance(v, str) for v in values.values()):
        return {"kind": RoutingError.__name__, "args": {}, "message": str(error)}
    return {"kind": kind.__name__, "args": values, "message": str(error)}


def decode(body: object) -> RoutingError:
    """The refusal ``body`` describes; whatever does not fit becomes a ``RoutingError`` with the message."""
    if not isinstance(body, Mapping):
        return RoutingError(f"an unreadable refusal: {body!r:.120}")
    message = str(body.get("message", "refused"))
    kind = KINDS.get(str(body.get("kind")))
    args = body.get("args")
    if kind is None or not isinstance(args, Mapping):
        return RoutingError(message)
    names = _arguments(kind)
    if names is None:
        return kind(message)
    if set(args) != set(names) or not all(isinstance(args[n], str) for n in names):
        return RoutingError(message)
    return kind(**{name: args[name] for name in names})
