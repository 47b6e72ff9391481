"""The ``Pbx`` port and its Asterisk adapter, ``AriPbx``.

``AriPbx`` reads ARI's events websocket (reconnecting with backoff), turns messages into domain events
for the router, and carries out the router's PBX commands. Commands for one call run in order (an
offer must not be cancelled before it is created), except the answer, which runs beside them so it
never delays ringing the agent; different calls run concurrently. A failed REST call
comes back to the router as an event, never as an exception.
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

import structlog
from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException

from routing import commands as cmd
from routing import events as ev
from routing.ids import CallId
from telephony.ari_client import AriClient
from telephony.errors import AriRequestError, TelephonyError
from telephony.translate import AGENT, Normalise, reconcile, translate

log = structlog.get_logger("telephony")

LEG_ENTRY_TIMEOUT_S = 5.0
RETRY_FATAL_S = 5.0

Submit = Callable[[ev.Event], None]
Clock = Callable[[], float]


class Pbx(Protocol):
    def execute(self, command: cmd.PbxCommand) -> None:
        """Start carrying ``command`` out; outcomes come back as events."""

    async def run(self) -> None:
        """Read the PBX's events until cancelled."""


class AriPbx:
    def __init__(self, client: AriClient, submit: Submit, clock: Clock, normalise: Normalise) -> None:
        self._ari = client
        self._submit = submit
        self._clock = clock
        self._normalise = normalise
        self._tails: dict[CallId, asyncio.Task[None]] = {}
        self._side: set[asyncio.Task[None]] = set()
        self._live: set[str] = set()  # channels in our app, as far as the events told us
        # /channels/create returns before the new leg has entered our app, and /dial refuses (409) a
        # leg that has not: each offer waits for its leg's StasisStart here.
        self._entered: dict[str, asyncio.Event] = {}
        self.connected = asyncio.Event()

    # --- events in ------------------------------------------------------------------------------
    async def run(self) -> None:
        while True:
            try:
                await self._connect_and_read()
            except (WebSocketException, OSError) as exc:
                # connect() gives up on what it deems fatal (e.g. 401 for a wrong ARI password): say so
                # loudly and try again later, so fixing Asterisk's side needs no restart of ours.
                log.error("ari.refused", url=self._ari.base_url, error=str(exc), retry_in_s=RETRY_FATAL_S)
                await asyncio.sleep(RETRY_FATAL_S)

    async def _connect_and_read(self) -> None:
        # websockets' connect() as an async iterator reconnects with exponential backoff on its own.
        async for ws in connect(
            self._ari.events_url, additional_headers=dict(self._ari.auth_header), max_size=2**22
        ):
            try:
                await self._reconcile()
                self.connected.set()
                log.info("ari.connected", url=self._ari.base_url, app=self._ari.app)
                async for raw in ws:
                    self.on_message(raw)
            except (WebSocketException, OSError, TelephonyError) as exc:
                log.warning("ari.disconnected", error=str(exc))
            finally:
                self.connected.clear()

    def on_message(self, raw: str | bytes) -> None:
        try:
            message = json.loads(raw)
        except ValueError:
            log.warning("ari.bad-json", raw=str(raw)[:200])
            return
        if not isinstance(message, dict) or message.get("type") == "ChannelVarset":
            return  # a dozen of those per call, none of them useful
        try:
            self._track(message)
            events = translate(message, self._clock(), self._normalise)
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            # A message of a shape we do not expect must not end the events loop for every other call.
            log.warning("ari.bad-event", error=repr(exc), raw=str(raw)[:200])
            return
        for event in events:
            self._submit(event)

    def _track(self, message: dict[str, Any]) -> None:
        channel = (message.get("channel") or {}).get("id")
        if not isinstance(channel, str):
            return
        if message["type"] == "StasisStart":
            self._live.add(channel)
            entered = self._entered.get(channel)
            if entered is not None:
                entered.set()
        elif message["type"] == "StasisEnd":
            self._live.discard(channel)

    async def _reconcile(self) -> None:
        channels = await self._ari.channels()
        events, orphans = reconcile(self._live, channels, self._ari.app, self._clock(), self._normalise)
        self._live = {c["id"] for c in channels if c.get("id") in self._live}
        for event in events:
            if isinstance(event, ev.CallArrived):
                self._live.add(event.call)
            self._submit(event)
        for leg in orphans:
            log.info("ari.orphan-leg", channel=leg)
            await self._quietly(self._ari.hangup(leg))

    # --- commands out ---------------------------------------------------------------------------
    def execute(self, command: cmd.PbxCommand) -> None:
        if isinstance(command, cmd.AnswerCall):
            # Nothing that follows depends on the answer, so it must not delay ringing the agent: run it
            # beside the call's chain (a later hangup of a half-answered channel is a harmless 404).
            task = asyncio.create_task(self._after(None, command))
            self._side.add(task)
            task.add_done_callback(self._side.discard)
            return
        previous = self._tails.get(command.call)
        task = asyncio.create_task(self._after(previous, command))
        self._tails[command.call] = task
        task.add_done_callback(functools.partial(self._forget, command.call))

    def _forget(self, call: CallId, task: asyncio.Task[None]) -> None:
        if self._tails.get(call) is task:
            del self._tails[call]

    async def idle(self) -> None:
        """Wait until every command started so far has been carried out (tests, shutdown)."""
        while self._tails or self._side:
            await asyncio.gather(*self._tails.values(), *self._side, return_exceptions=True)

    async def _after(self, previous: asyncio.Task[None] | None, command: cmd.PbxCommand) -> None:
        if previous is not None:
            await asyncio.gather(previous, return_exceptions=True)
        try:
            await self._carry_out(command)
        except TelephonyError as exc:
            log.warning(
                "ari.command-failed", command=type(command).__name__, call=command.call, error=str(exc)
            )

    async def _carry_out(self, command: cmd.PbxCommand) -> None:
        ari = self._ari
        match command:
            case cmd.AnswerCall(call):
                await self._quietly(ari.answer(call))
                await self._quietly(ari.start_moh(call))
            case cmd.RejectCall(call, reason):
                log.info("call.rejected", call=call, reason=reason)
                await self._quietly(ari.hangup(call))
            case cmd.OfferCall():
                await self._offer(command)
            case cmd.CancelOffer(offer):
                await self._quietly(ari.hangup(offer))
            case cmd.BridgeCall(call, offer, bridge):
                try:
                    await ari.create_bridge(bridge)
                    await self._quietly(ari.stop_moh(call))
                    await ari.add_to_bridge(bridge, [call, offer])
                except TelephonyError as exc:
                    self._submit(ev.BridgeFailed(call, str(exc), self._clock()))
            case cmd.EndCall(_, channels, bridge):
                for channel in channels:
                    await self._quietly(ari.hangup(channel))
                if bridge is not None:
                    await self._quietly(ari.destroy_bridge(bridge))

    async def _offer(self, offer: cmd.OfferCall) -> None:
        entered = self._entered[offer.offer] = asyncio.Event()
        try:
            await self._ari.create_channel(offer.offer, offer.endpoint, f"{AGENT},{offer.call},{offer.agent}",
                                           originator=offer.call)  # fmt: skip
        except TelephonyError as exc:
            del self._entered[offer.offer]
            self._submit(ev.OfferFailed(offer.offer, str(exc), self._clock()))
            return
        try:
            await asyncio.wait_for(entered.wait(), LEG_ENTRY_TIMEOUT_S)
            await self._ari.dial(offer.offer, offer.timeout_s, caller=offer.call)
        except (TelephonyError, TimeoutError) as exc:
            # The leg exists but will never ring: give the call to someone else now, and hang the leg up.
            reason = str(exc) or type(exc).__name__
            log.warning("ari.dial-failed", offer=offer.offer, error=reason)
            self._submit(ev.OfferFailed(offer.offer, reason, self._clock()))
            await self._quietly(self._ari.hangup(offer.offer))
        finally:
            self._entered.pop(offer.offer, None)

    @staticmethod
    async def _quietly(request: Coroutine[Any, Any, Any]) -> None:
        """For clean-up calls whose target may already be gone: a 404 there is success."""
        try:
            await request
        except AriRequestError as exc:
            if exc.status not in (404, 409, 422):
                raise
