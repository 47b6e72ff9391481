"""The floor of an ARI application on this Asterisk (issue 19): the least any ARI app can do to ring an agent.

A bench-only app, not a product: aiohttp, orjson, the ARI websocket with the service's event filter
(``telephony.translate.USED_EVENTS``), and nothing else (no router, no store, no consoles). It keeps its
phones idle or busy itself (the one idle longest is rung next, as app_queue's ``leastrecent``) and, on a
caller's ``StasisStart``, rings the next idle phone as fast as ARI allows, in one of these ways (``--mode``):

* ``create-dial``: ``POST /channels/create`` (the leg enters the app), then ``POST /channels/{leg}/dial``
  once the create is answered and the leg's ``StasisStart`` read: what Switchboard does;
* ``originate``: one ``POST /channels`` with ``app=`` (the leg enters the app when the phone answers);
* ``ahead``: a leg made ahead for each idle phone (created, in the app, not dialled), so an offer is one
  ``POST /channels/{leg}/dial``; a new leg is made once the phone's call is over;
* ``ahead-ws`` / ``originate-ws``: the same over ARI's REST over websocket (Asterisk 20.14, 21.9, 22.4 and
  later): each request a ``RESTRequest`` message on the events websocket, its answer a ``RESTResponse``
  event, so no HTTP at all.

When the phone answers (``Dial`` ANSWER for a leg already in the app, the leg's ``StasisStart`` for an
originated one) the caller is answered and both go into a mixing bridge; when either leaves the app the
other is hung up. Prints ``ready`` once it can take calls, and on SIGTERM a line of counts, and writes
``--trace`` in bench/_sip_trace.py's format (recv / parsed / command / request / reply), so
bench/_sip_breakdown.py tells where each call's time went.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import signal
import sys
import time
from collections import deque
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlencode

import aiohttp
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from telephony.translate import USED_EVENTS

# Asterisk filters the replies to websocket requests like events: without RESTResponse none comes back.
EVENTS = sorted(USED_EVENTS | {"RESTResponse"})
MODES = ("create-dial", "originate", "ahead", "ahead-ws", "originate-ws")
RING_TIMEOUT_S = 15
FAILED = frozenset({"BUSY", "NOANSWER", "CHANUNAVAIL", "CONGESTION", "CANCEL"})
Json = dict[str, Any]
Reply = tuple[int, Any]


class Trace:
    """bench/_sip_trace.py's lines (at, step, kind, channel, Asterisk's stamp), kept in memory until exit."""

    def __init__(self) -> None:
        self.lines: list[tuple[float, str, str, str, str]] = []

    def note(self, step: str, kind: str, channel: str, stamp: str = "", at: float | None = None) -> None:
        self.lines.append((time.time() if at is None else at, step, kind, channel, stamp))

    def write(self, path: Path) -> None:
        path.write_text("".join(f"{a:.6f}\t{s}\t{k}\t{c}\t{t}\n" for a, s, k, c, t in self.lines))


class Transport(Protocol):
    async def request(self, method: str, path: str, params: dict[str, str]) -> Reply: ...


class Http:
    def __init__(self, http: aiohttp.ClientSession, base: str) -> None:
        self._http, self._base = http, base

    async def request(self, method: str, path: str, params: dict[str, str]) -> Reply:
        async with self._http.request(method, f"{self._base}/ari/{path}", params=params) as resp:
            body = await resp.read()
            return resp.status, orjson.loads(body) if body else None


class OverWebsocket:
    """ARI's REST over websocket: a request is a message on the events websocket, matched by request_id."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self._ws = ws
        self._ids = itertools.count(1)
        self._waiting: dict[str, asyncio.Future[Reply]] = {}

    async def request(self, method: str, path: str, params: dict[str, str]) -> Reply:
        rid = str(next(self._ids))
        done = self._waiting[rid] = asyncio.get_running_loop().create_future()
        uri = f"{path}?{urlencode(params)}" if params else path
        message = {"type": "RESTRequest", "request_id": rid, "method": method, "uri": uri}
        await self._ws.send_str(orjson.dumps(message).decode())
        reply: Reply = await done
        return reply

    def answered(self, m: Json) -> None:
        done = self._waiting.pop(str(m.get("request_id")), None)
        if done is not None and not done.done():
            body = m.get("message_body")
            done.set_result((int(m["status_code"]), orjson.loads(body) if body else None))


@dataclass
class Offer:
    caller: str
    agent: str
    leg: str
    connected: bool = False


@dataclass
class Counts:
    callers: int = 0
    offers: int = 0
    bridged: int = 0
    failed: int = 0
    refused: int = 0  # requests Asterisk answered with an error (404s of hang-ups included)

    def line(self) -> str:
        return (f"floor app: {self.callers} callers, {self.offers} offers, {self.bridged} bridged, "
                f"{self.failed} offers failed, {self.refused} requests refused")  # fmt: skip


class Floor:
    """The app's state and decisions: idle phones, callers waiting, offers by leg."""

    def __init__(self, app: str, phones: Sequence[str], mode: str, send: Transport, trace: Trace) -> None:
        self.app, self.mode, self.send, self.trace = app, mode, send, trace
        self.ahead = mode.startswith("ahead")
        self.idle: deque[str] = deque()  # the phone idle longest first
        self.waiting: deque[str] = deque()  # callers nobody took yet
        self.numbers: dict[str, str] = {}  # caller channel -> its number
        self.offers: dict[str, Offer] = {}  # by leg
        self.by_caller: dict[str, Offer] = {}
        self.made: dict[str, str] = {}  # ahead: phone -> its leg, in the app, not dialled
        self.live: set[str] = set()  # channels in the app
        self.entered: dict[str, asyncio.Event] = {}  # create-dial: legs created, not yet seen entering
        self.tries = itertools.count(1)
        self.counts = Counts()
        self.tasks: set[asyncio.Task[None]] = set()
        self.phones = list(phones)
        self.all_idle = asyncio.Event()  # every phone idle: at the start, the app can take calls
        self.stopping = False  # no more legs made ahead: the ones hung up on the way out stay down

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def call(
        self, method: str, path: str, params: dict[str, str] | None = None, key: str = ""
    ) -> Reply:
        kind = f"{method} /{path}"
        self.trace.note("request", kind, key)
        status, body = await self.send.request(method, path, params or {})
        self.trace.note("reply", kind, key)
        if status >= 300:
            self.counts.refused += 1
        return status, body

    # --- events -------------------------------------------------------------------------------------
    def handle(self, m: Json) -> None:
        kind = m.get("type")
        if kind == "StasisStart":
            self.started(m["channel"], m.get("args") or [])
        elif kind == "StasisEnd":
            self.ended(m["channel"]["id"])
        elif kind == "Dial":
            offer = self.offers.get((m.get("peer") or {}).get("id", ""))
            status = m.get("dialstatus") or ""
            if offer is not None and status == "ANSWER" and offer.leg in self.live:
                self.connect(offer)
            elif offer is not None and status in FAILED:
                self.failed(offer)

    def started(self, channel: Json, args: Sequence[str]) -> None:
        cid = channel["id"]
        self.live.add(cid)
        role = args[0] if args else ""
        if role == "inbound":
            self.counts.callers += 1
            self.numbers[cid] = channel.get("caller", {}).get("number", "")
            self.waiting.append(cid)
        elif role == "ahead":
            self.made[args[1]] = cid
            self.ready(args[1])
        elif cid in self.entered:
            self.entered.pop(cid).set()
        elif (offer := self.offers.get(cid)) is not None:  # an originated leg: its phone answered
            self.connect(offer)
        self.dispatch()

    def ended(self, cid: str) -> None:
        self.live.discard(cid)
        with contextlib.suppress(ValueError):
            self.waiting.remove(cid)
        offer = self.by_caller.pop(cid, None)
        if offer is not None:
            self.spawn(self.hang_up(offer.leg, f"fl-{cid}"))
            return
        offer = self.offers.pop(cid, None)
        if offer is not None:  # the phone's call is over, answered or not
            if self.by_caller.get(offer.caller) is offer:
                del self.by_caller[offer.caller]
                self.spawn(self.hang_up(offer.caller, f"fl-{offer.caller}"))
            self.free(offer.agent)
            return
        for phone, leg in list(self.made.items()):
            if leg == cid:  # a leg made ahead went away unused
                del self.made[phone]
                with contextlib.suppress(ValueError):
                    self.idle.remove(phone)
                self.free(phone)

    def dispatch(self) -> None:
        while self.idle and self.waiting:
            self.offer(self.waiting.popleft(), self.idle.popleft())

    def offer(self, caller: str, agent: str) -> None:
        leg = self.made.pop(agent) if self.ahead else f"fl-{caller}-{next(self.tries)}"
        offer = self.offers[leg] = self.by_caller[caller] = Offer(caller, agent, leg)
        self.counts.offers += 1
        self.trace.note("command", "OfferCall", f"{caller} {leg}")
        self.spawn(self.ring(offer))

    async def ring(self, o: Offer) -> None:
        endpoint = f"PJSIP/{o.agent}"
        if self.ahead:
            status, _ = await self.call("POST", f"channels/{o.leg}/dial", self.dialled(o))
        elif self.mode.startswith("originate"):
            params = {"endpoint": endpoint, "app": self.app, "appArgs": "leg", "channelId": o.leg,
                      "originator": o.caller, "callerId": self.numbers.get(o.caller, ""),
                      "timeout": str(RING_TIMEOUT_S)}  # fmt: skip
            status, _ = await self.call("POST", "channels", params, key=o.leg)
        else:
            entered = self.entered[o.leg] = asyncio.Event()
            params = {"endpoint": endpoint, "app": self.app, "appArgs": "leg", "channelId": o.leg,
                      "originator": o.caller}  # fmt: skip
            status, _ = await self.call("POST", "channels/create", params, key=o.leg)
            if status < 300:
                await entered.wait()
                status, _ = await self.call("POST", f"channels/{o.leg}/dial", self.dialled(o))
        if status >= 300:
            self.failed(o)

    @staticmethod
    def dialled(o: Offer) -> dict[str, str]:
        # ``caller`` gives the leg the caller's connected line: the phone's From names the caller.
        return {"caller": o.caller, "timeout": str(RING_TIMEOUT_S)}

    def failed(self, o: Offer) -> None:
        """Busy, no answer or refused: the caller goes back to the head of the line."""
        if self.by_caller.get(o.caller) is not o:
            return
        self.counts.failed += 1
        del self.by_caller[o.caller]
        if o.caller in self.live:
            self.waiting.appendleft(o.caller)
        if o.leg in self.live:  # its StasisEnd frees the phone
            self.spawn(self.hang_up(o.leg))
        else:
            self.offers.pop(o.leg, None)
            self.free(o.agent)
        self.dispatch()

    def connect(self, o: Offer) -> None:
        if o.connected or self.by_caller.get(o.caller) is not o:
            return
        o.connected = True
        self.spawn(self.bridge(o))

    async def bridge(self, o: Offer) -> None:
        bridge = f"fl-{o.caller}"
        await asyncio.gather(
            self.call("POST", f"channels/{o.caller}/answer"),
            self.call("POST", "bridges", {"type": "mixing", "bridgeId": bridge}),
        )
        status, _ = await self.call(
            "POST", f"bridges/{bridge}/addChannel", {"channel": f"{o.caller},{o.leg}"}
        )
        self.counts.bridged += status < 300

    async def hang_up(self, channel: str, bridge: str | None = None) -> None:
        await self.call("DELETE", f"channels/{channel}")
        if bridge is not None:
            await self.call("DELETE", f"bridges/{bridge}")

    def free(self, agent: str) -> None:
        """The phone can take a call again: at once, or once a new leg is made ahead for it."""
        if self.stopping:
            return
        if self.ahead:
            self.spawn(self.make_leg(agent))
        else:
            self.ready(agent)
            self.dispatch()

    def ready(self, phone: str) -> None:
        self.idle.append(phone)
        if len(self.idle) == len(self.phones):
            self.all_idle.set()

    async def make_leg(self, phone: str) -> None:
        leg = f"{self.app}-{phone}-{next(self.tries)}"  # unique across runs: the observer keeps every leg
        params = {
            "endpoint": f"PJSIP/{phone}",
            "app": self.app,
            "appArgs": f"ahead,{phone}",
            "channelId": leg,
        }
        status, _ = await self.call("POST", "channels/create", params, key=leg)
        if status >= 300:
            print(f"floor app: no leg for {phone} ({status})", file=sys.stderr)


async def read(ws: aiohttp.ClientWebSocketResponse, floor: Floor, over_ws: OverWebsocket | None) -> None:
    trace = floor.trace
    async for msg in ws:
        t0 = time.time()  # before decoding, as bench/_sip_trace.py's ``recv``
        if msg.type is not aiohttp.WSMsgType.TEXT:
            continue
        m = orjson.loads(msg.data)
        kind = m.get("type")
        if kind == "RESTResponse":
            if over_ws is not None:
                over_ws.answered(m)
            continue
        floor.handle(m)
        channel = m.get("channel") or m.get("peer") or {}
        if kind == "Dial":
            kind += f":{m.get('dialstatus') or ''}"
        elif kind == "ChannelStateChange":
            kind += f":{channel.get('state')}"
        trace.note("recv", str(kind), channel.get("id", ""), str(m.get("timestamp", "")), at=t0)
        trace.note("parsed", str(kind), channel.get("id", ""))


async def main_async(a: argparse.Namespace) -> int:
    base, trace = a.url.rstrip("/"), Trace()
    auth = {"Authorization": aiohttp.encode_basic_auth(a.user, a.password)}
    async with aiohttp.ClientSession(headers=auth, connector=aiohttp.TCPConnector(limit=16)) as http:
        ws = await http.ws_connect(f"ws{base.removeprefix('http')}/ari/events?app={a.app}&subscribeAll=false")
        over_ws = OverWebsocket(ws) if a.mode.endswith("-ws") else None
        floor = Floor(a.app, a.phones, a.mode, over_ws or Http(http, base), trace)
        reader = asyncio.create_task(read(ws, floor, over_ws))
        allowed = {"allowed": [{"type": t} for t in EVENTS]}
        async with http.put(f"{base}/ari/applications/{a.app}/eventFilter", json=allowed) as resp:
            resp.raise_for_status()
        for phone in a.phones:
            floor.free(phone)
        await floor.all_idle.wait()
        trace.lines.clear()  # the legs made ahead are not part of any call
        print("ready", flush=True)
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()
        floor.stopping = True
        await asyncio.gather(*(floor.hang_up(leg) for leg in list(floor.made.values())))
        for task in (reader, *floor.tasks):
            task.cancel()
        await asyncio.gather(reader, *floor.tasks, return_exceptions=True)
        await ws.close()
    if a.trace is not None:
        trace.write(a.trace)
    print(floor.counts.line(), flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--url", default="http://127.0.0.1:8088")
    p.add_argument("--user", default="switchboard")
    p.add_argument("--password", default="switchboard-test")
    p.add_argument("--app", required=True, help="the Stasis app the callers name")
    p.add_argument("--mode", choices=MODES, default="create-dial")
    p.add_argument("--trace", type=Path, help="where to write the trace (TSV) on exit")
    p.add_argument("phones", nargs="+", help="the agents' phones, PJSIP endpoints (sip-bench-1 ...)")
    return asyncio.run(main_async(p.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
