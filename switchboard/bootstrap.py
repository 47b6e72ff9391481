"""The one place that wires everything: config -> store -> router -> runtime -> PBX -> consoles.

``Service`` is what ``switchboard serve`` runs and what the integration tests start in-process.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
import typing
from collections.abc import Callable
from zoneinfo import ZoneInfo

import structlog
from aiohttp import web

from agent_console.api import reports
from agent_console.api.context import ApiConfig
from agent_console.app import ConsoleBackend, create_app
from agent_console.desk import Desk, DeskStore
from agent_console.hub import ConsoleHub
from agent_console.messages import Floor
from agent_console.wallboard import Wallboard
from agent_console.wallboard_feed import WallboardFeed
from config.settings import Settings
from crm_core.domain.phones import to_e164
from crm_core.sql.migrate import upgrade_async
from crm_core.sql.store import SqlStore
from routing import commands as cmd
from routing import events as ev
from routing.ids import LineId
from routing.router import Router
from switchboard.bus import LocalBus
from switchboard.callers import CallerCache
from switchboard.identifier import CallerIdentifier
from switchboard.metrics import Metrics
from switchboard.recorder import CallRecorder
from switchboard.runtime import RouterLoop
from switchboard.state_log import StateLog
from switchboard.webhooks import Endpoint, LineWebhooks, Webhooks
from telephony.ari_client import AriClient
from telephony.pbx import AriPbx

log = structlog.get_logger("bootstrap")

# Every command of the PbxCommand union, read from the union itself so a new one cannot be forgotten.
PBX_COMMANDS: tuple[type, ...] = typing.get_args(cmd.PbxCommand)


def _for_the_pbx(command: cmd.Command) -> typing.TypeGuard[cmd.PbxCommand]:
    return isinstance(command, PBX_COMMANDS)


def normaliser(region: str) -> Callable[[str], str | None]:
    return functools.partial(to_e164, region=region)


def floor(settings: Settings) -> Floor:
    """What the console's messages need from the configuration."""
    return Floor(settings.plan, settings.region, settings.disposition_codes, settings.answering)


def endpoints(settings: Settings) -> dict[LineId, Endpoint]:
    """The lines whose answering profile names a webhook."""
    return {line: Endpoint(profile.webhook_url, profile.webhook_secret)
            for line, profile in settings.answering.items() if profile.webhook_url is not None}  # fmt: skip


class Service:
    def __init__(self, settings: Settings, store: SqlStore, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.store = store
        self._clock = clock
        self.router = Router(settings.plan)
        self.bus = LocalBus()
        self.loop = RouterLoop(self.router, clock, self.bus)
        self.ari = AriClient(settings.ari.url, settings.ari.user, settings.ari.password, settings.ari.app)
        self.pbx = AriPbx(
            self.ari, self.loop.submit, clock, normaliser(settings.region),
            outbound_endpoint=settings.ari.outbound_endpoint,
        )  # fmt: skip
        self.callers = CallerCache(store, store)
        self.hub = ConsoleHub(self.callers, floor(settings))
        self.recorder = CallRecorder(store, self.callers)
        self.webhooks = Webhooks()
        self.desk = Desk(
            DeskStore(store, store.calls, store.cases, store.customers, store),
            self.recorder, self.callers, LineWebhooks(self.webhooks, endpoints(settings)), clock,
        )  # fmt: skip
        self.identifier = CallerIdentifier(self.callers, store, self.loop.submit, clock)
        self.state_log = StateLog(store.agent_states)
        self.metrics = Metrics(self.router, settings.plan, self.pbx.connected.is_set, clock)
        self.hub.ack_observers.append(self.metrics.pop_acknowledged)
        self.zone = ZoneInfo(settings.plan.timezone)
        # One reading of the per-queue service targets for the wallboard and the reports alike.
        targets = {str(queue): level for queue, level in settings.service_targets.items()}
        self.reporting = reports.reporting(targets, settings.default_target, self.zone)
        board = Wallboard(settings.plan, self.router, self.zone, targets=self.reporting.targets,
                          default_target=self.reporting.default_target)  # fmt: skip
        self.wallboard = WallboardFeed(
            board, clock, pause_reasons=settings.plan.pause_reasons, zone=self.zone
        )
        self.bus.subscribe(self._to_pbx)
        self.bus.subscribe(self.identifier.notice)
        self.bus.subscribe(self.hub.notice)
        self.bus.subscribe(self.recorder.notice)
        self.bus.subscribe(self.state_log.notice)
        self.bus.subscribe(self.metrics.notice)
        self.bus.subscribe(self.wallboard.notice)
        self.loop.observers.append(self._prefetch_caller)
        backend = ConsoleBackend(
            self.loop.ask,
            self.router.agent_view,
            clock,
            store.users,
            self.health,
            self.desk,
            self.wallboard,
            store.supervisor_actions,
        )
        api = ApiConfig(store, settings.api_tokens, settings.region, reporting=self.reporting)
        self.backend = backend  # its ``supervision.audit`` lists supervisors' orders
        self.web = create_app(self.hub, backend, api, self.metrics.render)
        self._tasks: list[asyncio.Task[None]] = []
        self._runner: web.AppRunner | None = None

    @classmethod
    async def open(cls, settings: Settings, clock: Callable[[], float] = time.time) -> Service:
        await upgrade_async(settings.database_url)
        return cls(settings, SqlStore.open(settings.database_url, settings.region), clock)

    def _to_pbx(self, command: cmd.Command) -> None:
        if _for_the_pbx(command):
            self.pbx.execute(command)

    def _prefetch_caller(self, event: ev.Event) -> None:
        if isinstance(event, ev.CallArrived):
            self.callers.prefetch(event.call, event.caller_number)

    def health(self) -> dict[str, object]:
        return {"ari_connected": self.pbx.connected.is_set(), "active_calls": self.router.active_calls}

    async def start(self, http: bool = True) -> None:
        await self.state_log.start(self._clock())
        # Today so far, before the router runs: nothing can happen between the read and the first event.
        await self.wallboard.load(self.store.reports, self.store.agent_states)
        for run in (self.loop.run, self.recorder.run, self.state_log.run, self.pbx.run, self.wallboard.run):
            self._tasks.append(asyncio.create_task(run()))
        if http:
            self._runner = web.AppRunner(self.web)
            await self._runner.setup()
            site = web.TCPSite(self._runner, self.settings.http_host, self.settings.http_port)
            await site.start()
            log.info("http.listening", host=self.settings.http_host, port=self.settings.http_port)

    async def stop(self) -> None:
        """Finish what was handed over (PBX commands, call-log writes), then close everything."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.pbx.idle(), 5)
            await asyncio.wait_for(self.identifier.idle(), 5)
            await asyncio.wait_for(self.recorder.flush(), 10)
            await asyncio.wait_for(self.state_log.flush(), 10)
            await asyncio.wait_for(self.desk.idle(), 20)  # webhooks under way: three 5 s attempts at most
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()
        await self.ari.close()
        await self.webhooks.close()
        await self.store.close()
