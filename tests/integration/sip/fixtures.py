"""The ``sip`` fixture: SIPp desk phones and trunk callers for a test, all stopped when it ends.

Like a missing Asterisk, a missing ``sipp`` or a sandbox started before it had SIP skips the test
locally and fails it in CI (``tests.support.unavailable``).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from telephony.ari_client import AriClient
from telephony.errors import AriRequestError, TelephonyError
from tests.integration.sip.harness import Call, Phones, Sipp, endpoint, place, sipp_binary, to_app
from tests.support import unavailable

CALLER = "+14155550123"
DID = "+18005550101"


@dataclass
class Sip:
    """A test's phones and callers; SIPp's logs and files stay in ``workdir`` (the test's tmp_path)."""

    workdir: Path
    phones: Phones
    callers: list[Sipp] = field(default_factory=list)

    async def call(self, app: str, caller: str = CALLER, did: str = DID, hold_ms: int = 0) -> Sipp:
        """One call from the trunk into Stasis app ``app``; with ``hold_ms`` the caller hangs up that
        long after being answered, else when Asterisk hangs up on it."""
        name = f"caller-{len(self.callers) + 1}"
        sipp = await place(self.workdir, name, [Call(caller, did, to_app(app))], hold_ms=hold_ms)
        self.callers.append(sipp)
        return sipp

    async def close(self) -> None:
        for sipp in self.callers:
            await sipp.stop()
        await self.phones.stop()


async def _sandbox_has_sip(ari: AriClient) -> None:
    phone = endpoint("answer").removeprefix("PJSIP/")
    try:
        await ari.request("GET", f"/endpoints/PJSIP/{phone}")
    except AriRequestError as exc:
        if exc.status != 404:
            raise
        unavailable(f"the sandbox's SIP phone {phone}", "reload the sandbox: scripts/asterisk-sandbox reload")


@pytest.fixture
async def sip(tmp_path: Path) -> AsyncIterator[Sip]:
    if sipp_binary() is None:
        unavailable("SIPp (sipp)", "apt-get install sip-tester, or run scripts/setup")
    from tests.integration.conftest import ari_reachable  # here: conftest imports this module

    ari = await ari_reachable()
    try:
        await _sandbox_has_sip(ari)
    finally:
        with contextlib.suppress(TelephonyError):
            await ari.close()
    box = Sip(tmp_path / "sipp", Phones(tmp_path / "sipp"))
    yield box
    await box.close()
