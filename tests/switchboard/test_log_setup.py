"""What someone else typed reaches the log with its control characters escaped: no terminal escape
sequence, no forged second line, no right-to-left override."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
import structlog

from switchboard import log_setup


@pytest.fixture
def configured() -> Iterator[io.StringIO]:
    before = structlog.get_config()
    stream = io.StringIO()
    log_setup.configure(stream)
    try:
        yield stream
    finally:
        structlog.configure(**before)


def test_given_typed_values_with_control_characters_then_the_line_shows_them_escaped(
    configured: io.StringIO,
) -> None:
    structlog.get_logger("t").info("console.pause", reason="lunch\x1b[2J\nfake line\u202eevil", agent="a1")
    written = configured.getvalue()
    assert written.count("\n") == 1  # one entry, one line
    assert "\x1b" not in written and "\u202e" not in written
    assert "x1b[2J" in written and "u202eevil" in written  # visible, as escapes
    assert "agent=a1" in written


def test_given_an_escape_sequence_alone_then_it_is_escaped_too(configured: io.StringIO) -> None:
    structlog.get_logger("t").info("console.transfer", target="\x1b]0;owned\x07")  # no whitespace in it
    written = configured.getvalue()
    assert "\x1b" not in written and "\x07" not in written and "x1b]0;owned" in written


def test_given_printable_text_then_it_is_written_as_it_is() -> None:
    assert log_setup.escaped("Zoë Ünal, +1 415 555 0123") == "Zoë Ünal, +1 415 555 0123"


def test_given_an_exception_logged_then_its_traceback_is_plain_text_without_locals(
    configured: io.StringIO,
) -> None:
    """Rich's rendering (boxes, highlighting, every frame's locals) held the event loop for seconds."""
    secret_local = "a-password-in-a-frame"
    try:
        raise ConnectionRefusedError(f"store down ({len(secret_local)})")
    except ConnectionRefusedError:
        structlog.get_logger("t").exception("journal.append-failed", retry_in_s=0.5)
    written = configured.getvalue()
    assert "Traceback (most recent call last):" in written
    assert "ConnectionRefusedError: store down (21)" in written
    assert "╭" not in written and secret_local not in written  # no rich panel, no frame's locals
