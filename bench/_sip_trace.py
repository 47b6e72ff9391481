"""``switchboard serve`` with a trace of where each call's time goes inside the service (issue 19).

Run as a ``--serve`` or ``--variant`` command of bench/sip_latency.py::

    .venv/bin/python bench/sip_latency.py --serve ".venv/bin/python bench/_sip_trace.py"

It wraps three methods of the service's PBX adapter before starting the ordinary ``switchboard`` command
line (the arguments it is given, ``--config F serve``), and writes ``trace.tsv`` beside the config file,
one line per step, on this machine's clock (``time.time()``, as SIPp's logs and Asterisk's timestamps are):

* ``recv`` / ``parsed``: an ARI message read from the websocket (before its JSON is decoded) and done with
  (decoded, translated, its events queued for the router), with its type, channel and Asterisk's own
  ``timestamp`` for it;
* ``command``: the router's command handed to the PBX adapter (``OfferCall`` and the like), with its call;
* ``request`` / ``reply``: an ARI REST request sent and its answer read, with its method and path (and the
  ``channelId`` of a create or originate).

The wrapping costs a few microseconds per step; compare traced runs with traced runs. With ``--uvloop``
as the first argument the service runs on uvloop's event loop.
"""

from __future__ import annotations

import atexit
import json
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from routing import commands as cmd
from switchboard.cli import main
from telephony.ari_client import AriClient
from telephony.pbx import AriPbx

FIELDS = ("at", "step", "kind", "channel", "asterisk_ts")


class Trace:
    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._lines: list[str] = []
        atexit.register(self.flush)

    def note(self, at: float, step: str, kind: str, channel: str, asterisk_ts: str = "") -> None:
        self._lines.append(f"{at:.6f}\t{step}\t{kind}\t{channel}\t{asterisk_ts}\n")
        if len(self._lines) >= 2000:
            self.flush()

    def flush(self) -> None:
        self._out.writelines(self._lines)
        self._out.flush()
        self._lines.clear()


def install(trace: Trace) -> None:
    on_message, execute, request = AriPbx.on_message, AriPbx.execute, AriClient.request

    def traced_message(self: AriPbx, raw: str | bytes) -> None:
        t0 = time.time()
        on_message(self, raw)
        t1 = time.time()
        try:
            m = json.loads(raw)
        except ValueError:
            return
        channel = (m.get("channel") or m.get("peer") or {}).get("id", "")
        kind = str(m.get("type"))
        if kind == "Dial":
            kind += f":{m.get('dialstatus') or ''}"
        elif kind == "ChannelStateChange":
            kind += f":{(m.get('channel') or {}).get('state')}"
        trace.note(t0, "recv", kind, channel, str(m.get("timestamp", "")))
        trace.note(t1, "parsed", kind, channel)

    # ``self`` unannotated: the service reads this method's annotations to know which commands it takes.
    def traced_execute(self, command: cmd.PbxCommand) -> None:  # type: ignore[no-untyped-def]
        leg = getattr(command, "offer", "") if isinstance(command, cmd.OfferCall) else ""
        trace.note(time.time(), "command", type(command).__name__, f"{command.call} {leg}".strip())
        execute(self, command)

    async def traced_request(
        self: AriClient,
        method: str,
        path: str,
        params: Mapping[str, str] | None = None,
        body: Any = None,
    ) -> Any:
        what = f"{method} {path}"
        channel = (params or {}).get("channelId", "")
        trace.note(time.time(), "request", what, channel)
        try:
            return await request(self, method, path, params, body)
        finally:
            trace.note(time.time(), "reply", what, channel)

    AriPbx.on_message = traced_message  # type: ignore[method-assign]
    AriPbx.execute = traced_execute  # type: ignore[method-assign]
    AriClient.request = traced_request  # type: ignore[method-assign]


def trace_path(argv: list[str]) -> Path:
    """Beside the ``--config`` file, or in the working directory."""
    if "--config" in argv and argv.index("--config") + 1 < len(argv):
        return Path(argv[argv.index("--config") + 1]).parent / "trace.tsv"
    return Path("trace.tsv")


def use_uvloop() -> None:
    """``--uvloop`` (first): the service on uvloop's event loop instead of asyncio's, to measure it."""
    import asyncio

    import uvloop

    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["--uvloop"]:
        args = args[1:]
        use_uvloop()
    trace = Trace(trace_path(args).open("w"))
    install(trace)
    sys.argv = ["switchboard", *args]
    sys.exit(main())
