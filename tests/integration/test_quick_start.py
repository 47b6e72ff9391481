"""The README's "Try a call end to end", followed step by step on the real Asterisk sandbox with the
shipped config (its own app, store and port), the service's clock at 03:00 on a Sunday in New York:
an hour the Acme line is closed. The walk-through's call still reaches the agent who pressed Ready."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import io
import json
import re
import shlex
import socket
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from config.settings import Settings, load
from routing.destinations import destination
from switchboard.bootstrap import Service, build, normaliser
from switchboard.cli import main
from telephony.ari_client import AriClient
from telephony.errors import TelephonyError
from tests.integration.conftest import ARI_PASSWORD, ARI_URL, ARI_USER, Console, ari_reachable, logged_in

pytestmark = pytest.mark.asterisk

ROOT = Path(__file__).resolve().parents[2]
SUNDAY_3AM = dt.datetime(2026, 12, 6, 3, tzinfo=ZoneInfo("America/New_York")).timestamp()
PASSWORD = "quick-start-password"


def steps() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return readme.split("## Try a call end to end", 1)[1].split("\n## ", 1)[0]


def argv(command: str) -> list[str]:
    """The arguments of the walk-through's ``.venv/bin/switchboard COMMAND ...`` line."""
    found = re.search(rf"\.venv/bin/switchboard ({command} [^\n#]*)", steps())
    assert found is not None, command
    return shlex.split(found.group(1))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
async def night_service(tmp_path: Path) -> AsyncIterator[tuple[Service, Path]]:
    """``switchboard serve`` on a copy of the shipped config, its clock at Sunday 03:00 New York time."""
    await (await ari_reachable()).close()  # skips (locally) or fails (CI) without the sandbox
    app, port = f"quickstart-{uuid.uuid4().hex[:8]}", free_port()
    text = (ROOT / "config" / "switchboard.toml").read_text(encoding="utf-8")
    text = text.replace('app = "switchboard"', f'app = "{app}"', 1)
    text = text.replace("sqlite+aiosqlite:///switchboard.db", f"sqlite+aiosqlite:///{tmp_path / 'q.db'}", 1)
    text = text.replace("port = 8080", f"port = {port}", 1)
    text = text.replace('url = "http://127.0.0.1:8088"', f'url = "{ARI_URL}"', 1)
    text = re.sub(r'password = "switchboard-test"', f'password = "{ARI_PASSWORD}"', text, count=1)
    text = text.replace('user = "switchboard"', f'user = "{ARI_USER}"', 1)
    config = tmp_path / "switchboard.toml"
    config.write_text(text, encoding="utf-8")
    settings: Settings = load(config, normaliser, env={})
    assert (settings.ari.app, settings.http_port) == (app, port)
    offset = SUNDAY_3AM - time.time()
    service = await build(settings, clock=lambda: time.time() + offset)
    yield service, config
    # Leave nothing of ours in the shared sandbox: the caller and the agent's leg, both in our app.
    ari = AriClient(ARI_URL, ARI_USER, ARI_PASSWORD, app)
    for channel in await ari.channels():
        if str((channel.get("dialplan") or {}).get("app_data", "")).startswith(f"{app},"):
            with contextlib.suppress(TelephonyError):
                await ari.hangup(channel["id"])
    await ari.close()
    await service.stop()


async def cli(config: Path, args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """``switchboard --config CONFIG ARGS`` in a thread (main runs its own loop): (code, stdout)."""
    code = await asyncio.to_thread(main, ["--config", str(config), *args])
    return code, capsys.readouterr().out


async def test_given_the_shipped_config_at_3am_on_sunday_when_the_readme_is_followed_then_alice_gets_the_call(
    night_service: tuple[Service, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    service, config = night_service
    plan, now = service.settings.plan, service.loop.clock()
    # .venv/bin/switchboard customers add ...; users add alice ... (the password given on stdin)
    assert (await cli(config, argv("customers add"), capsys))[0] == 0
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert (await cli(config, [*argv("users add alice"), "--password-stdin"], capsys))[0] == 0
    # .venv/bin/switchboard serve &
    await service.start()
    await asyncio.wait_for(service.pbx.connected.wait(), 10)
    # Open the console, sign in as alice and press Ready.
    base = f"http://127.0.0.1:{service.settings.http_port}"
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.post(f"{base}/login", json={"username": "alice", "password": PASSWORD}) as r:
            assert r.status == 200
        async with http.ws_connect(f"{base}/ws", origin=base) as ws:
            alice: Console = await logged_in(ws, "1001", ready=True)
            # .venv/bin/switchboard call --from +14155550123 --to <the README's number>
            code, out = await cli(config, argv("call"), capsys)
            assert code == 0
            placed: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
            offer = await alice.expect("offer", call=placed["call"])
            await alice.expect("call-connected", call=placed["call"])
    # The README's number is open at this hour; Acme's own, at the same moment, is not.
    assert destination(plan, placed["to"], now).open is True
    assert destination(plan, "+18005550103", now).open is False
    assert (placed["open"], placed["route"], placed["queue"], placed["line_name"]) == (
        True, "queue", "acme", "Test line",
    )  # fmt: skip
    assert (offer["line"]["name"], offer["did"], offer["source"], offer["after_hours"]) == (
        "Test line", placed["to"], "quick-start", False,
    )  # fmt: skip
    assert offer["customer"]["name"] == "Jane Doe"
