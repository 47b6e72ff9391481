"""A thin, typed client for the parts of ARI's REST API that Switchboard uses.

The contract is Asterisk's own Swagger spec (``/usr/share/asterisk/rest-api/*.json``). Credentials go in
an Authorization header, never in the URL, so they do not end up in logs.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any
from urllib.parse import quote

import aiohttp
import orjson

from telephony.errors import AriRequestError, AriUnavailable

# What a call placed with ``originate`` (``switchboard call``, the tests, the benches) speaks: G.711, as a
# phone or a carrier's trunk does. Without it a Local channel takes slin192 (192 kHz linear), and Asterisk
# resamples hold music to 192 kHz for every waiting caller: measured, 20 calls/s of those took both cores.
TEST_CALL_FORMATS = "alaw"
KEEP_IDLE_S = 10.0  # below Asterisk's default session_keep_alive (15 s)

Json = dict[str, Any]


def _seg(value: str) -> str:
    """One path segment: ids may hold ';' (Local channels' halves) or other reserved characters."""
    return quote(value, safe="")


class AriClient:
    def __init__(self, base_url: str, user: str, password: str, app: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.app = app
        self._auth = aiohttp.encode_basic_auth(user, password)
        self._session: aiohttp.ClientSession | None = None
        # Called before every request; raises when this instance may not command the PBX (several
        # instances: only the leader may, switchboard/cluster/lease.py). None: always may.
        self.gate: Callable[[], None] | None = None

    async def __aenter__(self) -> AriClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def auth_header(self) -> Mapping[str, str]:
        return {"Authorization": self._auth}

    @property
    def events_url(self) -> str:
        ws = "ws" + self.base_url.removeprefix("http")
        return f"{ws}/ari/events?app={self.app}&subscribeAll=false"

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            # Many small requests on loopback: keep connections alive, no per-host cap that would queue them.
            # An idle one is dropped before Asterisk drops it (http.conf session_keep_alive, 15 s by
            # default, as aiohttp's own): at the same 15 s, a request could go out on a connection
            # Asterisk was closing ("Server disconnected").
            connector = aiohttp.TCPConnector(limit=0, limit_per_host=0, keepalive_timeout=KEEP_IDLE_S)
            self._session = aiohttp.ClientSession(
                headers=self.auth_header, connector=connector, timeout=aiohttp.ClientTimeout(total=10)
            )
        return self._session

    async def forget_connections(self) -> None:
        """Drop the kept-alive connections, so the next request opens a new one. After Asterisk
        restarted, a request sent on a connection to the old process fails ("server disconnected"), and
        a failed bridge or originate costs a call. Requests under way fail too: call it only then."""
        await self.close()  # the next request opens a new session, with a new pool

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def request(
        self, method: str, path: str, params: Mapping[str, str] | None = None, body: Json | None = None
    ) -> Any:
        if self.gate is not None:
            self.gate()
        url = f"{self.base_url}/ari{path}"
        try:
            async with self._http().request(method, url, params=params, json=body) as resp:
                data = await resp.read()
                if resp.status >= 400:
                    raise AriRequestError(method, path, resp.status, data.decode(errors="replace"))
                return orjson.loads(data) if data else None
        except aiohttp.ClientError as exc:
            raise AriUnavailable(self.base_url, str(exc)) from exc
        except TimeoutError as exc:
            raise AriUnavailable(self.base_url, "timed out") from exc

    # --- the operations ---------------------------------------------------------------------------
    async def info(self, status_only: bool = False) -> Json:
        result: Json = await self.request(
            "GET", "/asterisk/info", {"only": "status"} if status_only else None
        )
        return result

    async def channels(self) -> list[Json]:
        result: list[Json] = await self.request("GET", "/channels")
        return result

    async def bridges(self) -> list[Json]:
        result: list[Json] = await self.request("GET", "/bridges")
        return result

    async def filter_events(self, allowed: Collection[str]) -> None:
        """Ask Asterisk to send the app only these event types (``PUT /applications/{app}/eventFilter``)."""
        body = {"allowed": [{"type": kind} for kind in sorted(allowed)]}
        await self.request("PUT", f"/applications/{_seg(self.app)}/eventFilter", body=body)

    async def answer(self, channel: str) -> None:
        await self.request("POST", f"/channels/{_seg(channel)}/answer")

    async def variable(self, channel: str, name: str) -> str:
        """A channel variable or dialplan function's value (``CDR(answer,u)``: when it was answered)."""
        found: Json = await self.request("GET", f"/channels/{_seg(channel)}/variable", {"variable": name})
        return str(found.get("value", ""))

    async def start_moh(self, channel: str, moh_class: str = "default") -> None:
        await self.request("POST", f"/channels/{_seg(channel)}/moh", {"mohClass": moh_class})

    async def stop_moh(self, channel: str) -> None:
        await self.request("DELETE", f"/channels/{_seg(channel)}/moh")

    async def create_channel(
        self, channel_id: str, endpoint: str, app_args: str, originator: str | None = None
    ) -> Json:
        params = {"endpoint": endpoint, "app": self.app, "appArgs": app_args, "channelId": channel_id}
        if originator is not None:
            params["originator"] = originator
        result: Json = await self.request("POST", "/channels/create", params)
        return result

    async def dial(self, channel: str, timeout_s: float, caller: str | None = None) -> None:
        params = {"timeout": str(max(1, round(timeout_s)))}
        if caller is not None:
            params["caller"] = caller
        await self.request("POST", f"/channels/{_seg(channel)}/dial", params)

    async def snoop(self, channel: str, snoop_id: str, spy: str, whisper: str, app_args: str) -> Json:
        """A snoop channel on ``channel``, placed in our app: it hears ``spy`` and speaks ``whisper``
        (``in`` / ``out`` / ``both`` / ``none``, relative to ``channel``: out = towards its device)."""
        params = {"spy": spy, "whisper": whisper, "app": self.app, "appArgs": app_args, "snoopId": snoop_id}
        result: Json = await self.request("POST", f"/channels/{_seg(channel)}/snoop", params)
        return result

    async def hangup(self, channel: str, reason: str = "normal") -> None:
        await self.request("DELETE", f"/channels/{_seg(channel)}", {"reason": reason})

    async def create_bridge(self, bridge_id: str) -> None:
        # Named after our Stasis application: a reconcile clears only its own app's empty bridges, never
        # those of another service on the same Asterisk (``translate.empty_bridges``).
        await self.request("POST", f"/bridges/{_seg(bridge_id)}", {"type": "mixing", "name": self.app})

    async def add_to_bridge(self, bridge_id: str, channels: list[str]) -> None:
        await self.request("POST", f"/bridges/{_seg(bridge_id)}/addChannel", {"channel": ",".join(channels)})

    async def remove_from_bridge(self, bridge_id: str, channels: list[str]) -> None:
        await self.request(
            "POST", f"/bridges/{_seg(bridge_id)}/removeChannel", {"channel": ",".join(channels)}
        )

    async def destroy_bridge(self, bridge_id: str) -> None:
        await self.request("DELETE", f"/bridges/{_seg(bridge_id)}")

    async def play(self, channel: str, playback_id: str, media: list[str]) -> None:
        """Queue ``media`` (``sound:...`` URIs, played in order) on the channel as one playback."""
        await self.request(
            "POST", f"/channels/{_seg(channel)}/play/{_seg(playback_id)}", {"media": ",".join(media)}
        )

    async def stop_playback(self, playback_id: str) -> None:
        await self.request("DELETE", f"/playbacks/{_seg(playback_id)}")

    async def record(self, channel: str, name: str, max_s: float) -> None:
        params = {
            "name": name,
            "format": "wav",
            "maxDurationSeconds": str(max(1, round(max_s))),
            "beep": "true",
            "terminateOn": "#",
            "ifExists": "overwrite",
        }
        await self.request("POST", f"/channels/{_seg(channel)}/record", params)

    async def send_dtmf(self, channel: str, digits: str) -> None:
        await self.request("POST", f"/channels/{_seg(channel)}/dtmf", {"dtmf": digits})

    async def originate(
        self,
        endpoint: str,
        context: str,
        extension: str,
        caller_id: str,
        channel_id: str | None = None,
        timeout_s: int = 30,
        variables: Mapping[str, str] | None = None,
        formats: str = TEST_CALL_FORMATS,
    ) -> Json:
        params = {
            "endpoint": endpoint,
            "context": context,
            "extension": extension,
            "priority": "1",
            "callerId": caller_id,
            "timeout": str(timeout_s),
            "formats": formats,
        }
        if channel_id is not None:
            params["channelId"] = channel_id
        body = {"variables": dict(variables)} if variables else None
        result: Json = await self.request("POST", "/channels", params, body)
        return result
