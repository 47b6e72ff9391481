"""bench/sip_latency.py's runs of the floor app (bench/_ari_floor_app.py, ``--floor NAME=MODE``).

The app takes the same calls on the same phones as app_queue and Switchboard in the same rounds; it has
no consoles, so there is nothing to log in and no pop to time: it is up once it prints ``ready``.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import uuid
from collections.abc import Sequence
from pathlib import Path

from _sip_breakdown import Traced, breakdown
from _sip_runs import Bench, Run, asterisk_view
from pop_latency import ARI_PASSWORD, ARI_URL, ARI_USER

from tests.integration.sip.harness import to_app

APP = Path(__file__).resolve().parent / "_ari_floor_app.py"


class FloorApp:
    """The floor app as its own process, as ``switchboard serve`` is in the other runs."""

    def __init__(self, workdir: Path, phones: Sequence[str], mode: str) -> None:
        self.app = f"floor-{uuid.uuid4().hex[:8]}"
        self.trace = workdir / "trace.tsv"
        self.log = workdir / "floor.log"
        self.command = [sys.executable, str(APP), "--url", ARI_URL, "--user", ARI_USER,
                        "--password", ARI_PASSWORD, "--app", self.app, "--mode", mode,
                        "--trace", str(self.trace), *phones]  # fmt: skip
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        with self.log.open("ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                *self.command, stdout=asyncio.subprocess.PIPE, stderr=log
            )
        assert self.proc.stdout is not None
        async with asyncio.timeout(30):
            line = await self.proc.stdout.readline()
        if line.strip() != b"ready":
            raise RuntimeError(f"the floor app did not come up; see {self.log}")

    async def stop(self) -> str:
        """Stop it; the line of counts it prints on the way out."""
        if self.proc is None or self.proc.returncode is not None:
            return "floor app: gone before the end of its run"
        self.proc.send_signal(signal.SIGTERM)
        assert self.proc.stdout is not None
        try:
            out = await asyncio.wait_for(self.proc.stdout.read(), 20)
        except TimeoutError:
            self.proc.kill()
            out = b""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.proc.wait(), 5)
        return out.decode().strip() or "floor app: no counts (killed)"


async def run_floor(b: Bench, round_no: int, name: str, mode: str) -> Run:
    workdir = b.workdir / f"{name}-{round_no}"
    workdir.mkdir(parents=True)
    app = FloorApp(workdir, b.phone_names(), mode)
    try:
        await app.start()
        assert app.proc is not None
        run = await b.offer(name, round_no, to_app(app.app), {"floor app": app.proc.pid})
    finally:
        counts = await app.stop()
    channels = b.seen.channels([c.number for c in run.calls], run.t0)
    run.notes += [
        f"  {counts} (warm-up included)",
        *asterisk_view(b.seen, channels, "Stasis", "fl-", legs(app.trace)),
        *breakdown(app.trace, run.calls, channels),
    ]
    return run


def legs(trace: Path) -> dict[str, str]:
    """Caller channel -> the leg of its first offer, from the app's trace."""
    return Traced.read(trace).legs if trace.exists() else {}
