"""The console fixture lives in ``harness``, where tests can import its helpers too."""

from tests.agent_console.harness import console

__all__ = ["console"]
