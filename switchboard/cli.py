"""``switchboard``: run the service, place a test call, manage customers and users, read the call log."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import getpass
import json
import logging
import os
import signal
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TextIO, cast

import structlog

from config.settings import ConfigError, Settings, load
from crm_core.domain.errors import CrmError, ValidationFailed
from crm_core.domain.phones import to_e164
from crm_core.domain.users import Role, User
from crm_core.sql.migrate import upgrade_async
from crm_core.sql.store import SqlStore
from routing.destinations import destination
from switchboard import call_route, customer_import, demo, heap, log_setup, preflight
from switchboard.bootstrap import build, normaliser, open_store
from telephony.ari_client import AriClient
from telephony.errors import TelephonyError

DEFAULT_CONFIG = "config/switchboard.toml"
GC_SLOW_S = 0.02  # a full collection this long is said, and may freeze what lives on (switchboard/heap.py)


class _CurrentStderr:
    """Whatever ``sys.stderr`` is at each write: structlog keeps its file, and a caller (a test runner, an
    embedding program) may replace or close the stream it had when ``main`` configured logging."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def main(argv: Sequence[str] | None = None, *, leave_at_once: bool = False) -> int:
    """``leave_at_once``: once ``serve`` has stopped cleanly, everything it held is closed (the store, ARI,
    the password worker: ``Service.stop``), so the process ends without the interpreter's teardown of the
    modules it imported, which took 0.6 s here: time in which a restart's callers wait for the next start."""
    args = _parser().parse_args(argv)
    code = _run(args)
    if leave_at_once and args.func is _serve and code == 0:
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


def _run(args: argparse.Namespace) -> int:
    # Logs go to stderr: stdout carries the commands' results (JSON lines, CSV).
    log_setup.configure(cast(TextIO, _CurrentStderr()))
    try:
        settings = load(Path(args.config), normaliser)
    except ConfigError as exc:
        print(f"switchboard: config: {exc}", file=sys.stderr)
        return 1
    try:
        return int(asyncio.run(args.func(settings, args)))
    except TelephonyError as exc:
        print(f"switchboard: {preflight.ari_trouble(exc, settings.ari)}", file=sys.stderr)
    except (CrmError, preflight.StartupProblem) as exc:
        print(f"switchboard: {exc}", file=sys.stderr)
    return 1


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="switchboard", description=__doc__)
    p.add_argument("--config", default=os.environ.get("SWITCHBOARD_CONFIG", DEFAULT_CONFIG),
                   help=f"config file (default: $SWITCHBOARD_CONFIG or {DEFAULT_CONFIG})")  # fmt: skip
    sub = p.add_subparsers(required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the service: ARI, router, agent console, call log")
    serve.set_defaults(func=_serve)

    _demo_parser(sub)

    call = sub.add_parser("call", help="place a test call into the configured Asterisk")
    call.add_argument("--from", dest="caller", required=True, help="caller number, e.g. +14155550123")
    call.add_argument("--to", dest="did", required=True, help="one of the number plan's DIDs")
    call.add_argument("--name", default="", help="caller name to present")
    call.set_defaults(func=_call)

    migrate = sub.add_parser("migrate", help="bring the database schema up to date")
    migrate.set_defaults(func=_migrate)

    customers = sub.add_parser("customers", help="the customer store").add_subparsers(required=True)
    add = customers.add_parser("add", help="add a customer")
    add.add_argument("--name", required=True)
    add.add_argument("--phone", action="append", required=True, help="repeatable; any common format")
    add.add_argument("--company")
    add.add_argument("--email")
    add.add_argument("--tier", default="standard")
    add.set_defaults(func=_customers_add)
    customer_import.add_parser(customers)
    dump_csv = customers.add_parser("export", help="write every customer as CSV (import reads it back)")
    dump_csv.add_argument("--output", type=Path, help="file to write (default: standard output)")
    dump_csv.set_defaults(func=_customers_export)

    _users_parser(sub)

    calls = sub.add_parser("calls", help="print the newest calls of the call log as JSON lines")
    calls.add_argument("--limit", type=int, default=20)
    calls.set_defaults(func=_calls)
    return p


def _demo_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("demo", help="the whole service with simulated callers and agents, no Asterisk")
    p.add_argument("--rate", type=float, default=6.0, help="callers per minute (default 6)")
    p.add_argument("--agents", type=int, default=3, help="simulated agents, in every queue (default 3)")
    p.add_argument("--seed", type=int, help="the same seed places the same callers (default: random)")
    p.add_argument("--database", help="database URL (default: the config's)")
    p.add_argument("--port", type=int, help="console port (default: the config's)")
    p.add_argument("--seconds", type=float, help="stop after this long (default: until Ctrl-C)")
    p.set_defaults(func=_demo)


def _users_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    users = sub.add_parser("users", help="people who sign in to the console and the API (docs/access.md)")
    cmds = users.add_subparsers(required=True)
    stdin_help = "read the password from the first line of standard input instead of prompting"
    add = cmds.add_parser("add", help="add a user; the password is prompted for")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=[str(r) for r in Role])
    add.add_argument("--agent", help="the ACD agent id the user acts as (required for agent, answering)")
    add.add_argument("--name", help="display name (default: the username)")
    add.add_argument("--password-stdin", action="store_true", help=stdin_help)
    add.set_defaults(func=_users_add)
    passwd = cmds.add_parser("passwd", help="set a user's password")
    passwd.add_argument("username")
    passwd.add_argument("--password-stdin", action="store_true", help=stdin_help)
    passwd.set_defaults(func=_users_passwd)
    disable = cmds.add_parser("disable", help="stop a user from signing in (their sessions end too)")
    disable.add_argument("username")
    disable.set_defaults(func=_users_disable)
    cmds.add_parser("list", help="print every user as JSON lines").set_defaults(func=_users_list)
    sessions = cmds.add_parser("sessions", help="print a user's console sessions as JSON lines")
    sessions.add_argument("username")
    sessions.add_argument("--end", action="store_true", help="end them all (their consoles close within 5 s)")
    sessions.set_defaults(func=_users_sessions)


async def _serve(settings: Settings, _: argparse.Namespace) -> int:
    """Start-up problems (switchboard/preflight.py) end it with one line; ARI's are only a warning."""
    await preflight.check_port(settings.http_host, settings.http_port)
    ari_check = asyncio.create_task(_warn_about_ari(settings))  # while the store opens
    try:
        service = await build(settings, store=await preflight.writable_store(settings))
        await service.start()
        heap.settle()  # what start-up made is never walked by the cyclic collector again
        pauses = heap.HeapWatch(GC_SLOW_S, structlog.get_logger("heap").warning)
        pauses.install()
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            asyncio.get_running_loop().add_signal_handler(sig, stop.set)
        print(f"switchboard: console on http://{settings.http_host}:{settings.http_port}/, "
              f"ARI {settings.ari.url} app {settings.ari.app!r}", file=sys.stderr)  # fmt: skip
        await stop.wait()
        await service.stop()
        pauses.remove()
    finally:
        ari_check.cancel()
        await asyncio.gather(ari_check, return_exceptions=True)
    return 0


async def _demo(settings: Settings, args: argparse.Namespace) -> int:
    """``switchboard demo`` (switchboard/demo.py): start-up problems end it with one line, as for serve."""
    if args.rate <= 0 or args.agents < 0:
        print("switchboard: demo: --rate must be above 0 and --agents at least 0", file=sys.stderr)
        return 2
    settings = dataclasses.replace(
        settings, database_url=args.database or settings.database_url,
        http_port=settings.http_port if args.port is None else args.port,
    )  # fmt: skip
    await preflight.check_port(settings.http_host, settings.http_port)
    store = await preflight.writable_store(settings)
    service, driver, password = await demo.open_demo(
        settings, store, demo.Options(args.rate, args.agents, args.seed)
    )
    await service.start()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    if args.seconds is not None:
        asyncio.get_running_loop().call_later(args.seconds, stop.set)
    simulated = demo.simulated_agents(service.settings.plan)
    print(demo.sign_in_line(service.settings, password, simulated), file=sys.stderr)
    running = asyncio.create_task(driver.run())
    try:
        await stop.wait()
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await service.stop()
    print(f"switchboard: demo over: {driver.placed} calls placed", file=sys.stderr)
    return 0


async def _warn_about_ari(settings: Settings) -> None:
    warning = await preflight.ari_warning(settings.ari)
    if warning is not None:
        print(f"switchboard: warning: {warning}", file=sys.stderr)


async def _call(settings: Settings, args: argparse.Namespace) -> int:
    did = to_e164(args.did, settings.region)
    if did is None:
        print(f"switchboard: {args.did!r} is not a phone number", file=sys.stderr)
        return 2
    # Where it goes, from the plan and the time alone: the service decides the same on arrival.
    found = destination(settings.plan, did, time.time())
    warning = "warning: " if found.line is None else ""
    print(f"switchboard: {warning}{call_route.sentence(found, settings.plan)}", file=sys.stderr)
    caller = f'"{args.name}" <{args.caller}>' if args.name else args.caller
    # The DID goes to the inbound context without '+', as a carrier would usually deliver it.
    endpoint = f"Local/{did.lstrip('+')}@{settings.inbound_context}/n"
    async with AriClient(settings.ari.url, settings.ari.user, settings.ari.password, settings.ari.app) as ari:
        # SB_APP (inherited by the Local channel's other half) lets a dialplan that honours it, like the
        # sandbox's, send the test call to the Stasis app this config names.
        channel = await ari.originate(
            endpoint, settings.caller_context, "s", caller, f"test-{uuid.uuid4().hex[:12]}",
            variables={"_SB_APP": settings.ari.app},
        )  # fmt: skip
    placed = {"channel": channel["id"], "call": f"{channel['id']};2", "from": args.caller, "to": did}
    print(json.dumps(placed | call_route.fields(found)))
    return 0


async def _migrate(settings: Settings, _: argparse.Namespace) -> int:
    await upgrade_async(settings.database_url)
    return 0


@contextlib.asynccontextmanager
async def _store(settings: Settings, *, migrate: bool = True) -> AsyncIterator[SqlStore]:
    """The store for one command, closed after it (``bootstrap.open_store``, as the service opens it)."""
    store = await open_store(settings, migrate=migrate)
    try:
        yield store
    finally:
        await store.close()


async def _customers_add(settings: Settings, args: argparse.Namespace) -> int:
    async with _store(settings) as store:
        phones = [(p, "other") for p in args.phone]
        card = await store.add_customer(args.name, phones, args.company, args.email, args.tier)
    print(json.dumps({"id": card.id, "name": card.name, "phones": [p.e164 for p in card.phones]}))
    return 0


def _open_text(path: Path, mode: str = "r") -> IO[str]:
    # newline="": the CSV reader and writer handle line ends (and quoted line breaks) themselves.
    return path.open(mode, encoding="utf-8-sig" if mode == "r" else "utf-8", newline="")


async def _customers_export(settings: Settings, args: argparse.Namespace) -> int:
    async with _store(settings) as store:
        try:
            target = sys.stdout if args.output is None else _open_text(args.output, "w")
        except OSError as exc:
            print(f"switchboard: cannot write {args.output}: {exc.strerror or exc}", file=sys.stderr)
            return 1
        try:
            async for line in store.customer_csv.export_csv():
                target.write(line)
        finally:
            if target is not sys.stdout:
                target.close()
    return 0


def _read_password(from_stdin: bool) -> str | None:
    """The new password, never echoed; None when the two prompts differ or stdin is empty."""
    if from_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        return line or None
    first = getpass.getpass("New password: ")
    return first if first == getpass.getpass("Repeat it: ") else None


async def _with_users(settings: Settings, change: Callable[[SqlStore], Awaitable[object]]) -> int:
    try:
        async with _store(settings) as store:
            await change(store)
    except ValidationFailed as exc:
        print(f"switchboard: {exc.field}: {exc.reason}", file=sys.stderr)
        return 2
    return 0


def _user_json(user: User) -> str:
    return json.dumps({
        "username": user.username, "name": user.name, "role": str(user.role), "agent": user.agent,
        "disabled": user.disabled, "created": user.created_at.isoformat(),
        "updated": user.updated_at.isoformat(),
    })  # fmt: skip


def _new_password(from_stdin: bool) -> str | None:
    """``_read_password``, saying so when there is none."""
    password = _read_password(from_stdin)
    if password is None:
        print("switchboard: no password given (or the two did not match)", file=sys.stderr)
    return password


async def _users_add(settings: Settings, args: argparse.Namespace) -> int:
    password = _new_password(args.password_stdin)
    if password is None:
        return 2

    async def add(store: SqlStore) -> None:
        user = await store.users.add(args.username, password, args.role, agent=args.agent, name=args.name)
        print(_user_json(user))

    return await _with_users(settings, add)


async def _users_passwd(settings: Settings, args: argparse.Namespace) -> int:
    password = _new_password(args.password_stdin)
    if password is None:
        return 2

    async def change(store: SqlStore) -> None:
        await store.users.set_password(args.username, password)
        # An old password's sessions end, on the running instances too.
        ended = await store.sessions.remove_user(args.username.strip().casefold())
        await _tell_instances(settings, ended)

    return await _with_users(settings, change)


async def _users_disable(settings: Settings, args: argparse.Namespace) -> int:
    return await _with_users(settings, lambda store: store.users.disable(args.username))


async def _users_list(settings: Settings, _: argparse.Namespace) -> int:
    async def show(store: SqlStore) -> None:
        for user in await store.users.list():
            print(_user_json(user))

    return await _with_users(settings, show)


async def _users_sessions(settings: Settings, args: argparse.Namespace) -> int:
    """Each session as ``session`` (the first 12 hex digits of its key: the store never holds the id),
    ``started`` and ``last_used`` (written back at most once a minute); with ``--end``, ``{"ended": n}``."""

    async def sessions(store: SqlStore) -> None:
        user = await store.users.require(args.username)  # no such user: refused, exit 1
        if args.end:
            ended = await store.sessions.remove_user(user.username)
            await _tell_instances(settings, ended)
            print(json.dumps({"username": user.username, "ended": len(ended)}))
            return
        for kept in await store.sessions.of_user(user.username):
            times = {"started": _when(kept.started), "last_used": _when(kept.last_used)}
            print(json.dumps({"username": user.username, "session": kept.key[:12], **times}))

    return await _with_users(settings, sessions)


async def _tell_instances(settings: Settings, keys: list[str]) -> None:
    """Running instances of a cluster drop the sessions at once (switchboard/cluster/session_ends.py);
    alone, or with Redis away, their sweep of the store ends them within 5 s."""
    if settings.cluster is None or not keys:
        return
    from switchboard.cluster.session_ends import announce  # Redis is imported only by those who use it

    why = await announce(settings.cluster.redis_url, settings.cluster.key_prefix, keys)
    if why is not None:
        print(f"switchboard: warning: the running instances were not told at once ({why}); they end "
              "the sessions at their next sweep of the store, within 5 s", file=sys.stderr)  # fmt: skip


def _when(unix_s: float) -> str:
    return datetime.fromtimestamp(unix_s, UTC).isoformat(timespec="seconds")


async def _calls(settings: Settings, args: argparse.Namespace) -> int:
    async with _store(settings, migrate=False) as store:  # reading only: an old schema is read as it is
        for c in await store.recent_calls(args.limit):
            r = c.record
            print(json.dumps({
                "call": r.call, "did": r.did, "source": r.source, "line": r.line_name, "queue": r.queue,
                "caller": r.caller_number, "customer": c.customer_id, "agent": r.agent,
                "arrived": c.arrived_at.isoformat(), "answered": c.answered_at and c.answered_at.isoformat(),
                "ended": c.ended_at.isoformat(), "wait_s": round(c.wait_s, 3), "talk_s": round(c.talk_s, 3),
                "outcome": str(r.outcome), "hung_up_by": str(r.hung_up_by),
                "end_reason": r.end_reason and str(r.end_reason),
                "practice": c.practice and str(c.practice),  # demo, training: not in any report
            }))  # fmt: skip
    return 0


def run() -> None:
    """The ``switchboard`` command (``main``, leaving at once after ``serve``)."""
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main(leave_at_once=True))


if __name__ == "__main__":
    run()
