"""How the service and the CLI log: structlog's console lines on stderr, with what others typed escaped.

A value a caller, a browser or a CSV file put in a log line (a disposition, a pause reason, a transfer
target, a caller name) may hold control characters: an escape sequence that rewrites the operator's
terminal, a newline that forges a second log line, a right-to-left override that reverses what follows.
Every string value is written with those as visible escapes (``\\x1b``, ``\\n``, ``\\u202e``).

Tracebacks are written plain. structlog's default renders them with rich (syntax highlighting, every
frame's locals): a refused PostgreSQL connection's traceback took 7 s of the event loop to render here
(plain: 2 ms). With the store down, the writers' retries, each logged with its traceback, held the loop
so long that ARI requests timed out and ringing phones went without a pop.
"""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog


def escaped(text: str) -> str:
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def escape_controls(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """A structlog processor: every string value with its control characters escaped."""
    for key, value in event.items():
        if isinstance(value, str):
            event[key] = escaped(value)
    return event


def configure(stream: TextIO) -> None:
    colors = _is_terminal(stream)
    processors = [_plain(p, colors) for p in structlog.get_config()["processors"]]
    # Just before the renderer: after the time stamp, and before any renderer could write the raw text.
    if not any(p is escape_controls for p in processors):
        processors.insert(len(processors) - 1, escape_controls)
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
        logger_factory=structlog.PrintLoggerFactory(stream),
    )


def _plain(processor: Any, colors: bool) -> Any:
    if isinstance(processor, structlog.dev.ConsoleRenderer):
        return structlog.dev.ConsoleRenderer(colors=colors, exception_formatter=structlog.dev.plain_traceback)
    return processor


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or stand-in stream
        return False
