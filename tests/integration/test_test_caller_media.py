"""A call placed with ``AriClient.originate`` (``switchboard call``, the tests, the benches) speaks G.711 as
a phone would, not the 192 kHz linear audio a Local channel takes by default (with which Asterisk
resampled hold music to 192 kHz for every waiting caller, and 20 calls/s took both of its cores)."""

from __future__ import annotations

import uuid

from telephony.ari_client import TEST_CALL_FORMATS
from tests.integration.conftest import ari_reachable, wait_until_async


async def test_given_a_test_call_then_both_halves_of_its_local_channel_speak_g711() -> None:
    ari = await ari_reachable()
    channel = f"media-{uuid.uuid4().hex[:10]}"
    try:
        await ari.originate("Local/s@switchboard-caller/n", "switchboard-caller", "s", "+1415555", channel)

        async def native(leg: str) -> str:
            found = await ari.request(
                "GET", f"/channels/{leg}/variable", {"variable": "CHANNEL(audionativeformat)"}
            )
            return str(found["value"])

        await wait_until_async(lambda: native(channel), what="the call's channel")
        assert TEST_CALL_FORMATS == "alaw"
        assert await native(channel) == "(alaw)"
        assert await native(f"{channel};2") == "(alaw)"
    finally:
        await ari.hangup(channel)
        await ari.close()
