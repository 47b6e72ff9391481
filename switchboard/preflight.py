"""What ``switchboard serve`` checks as it starts, so the usual start-up problems read as one line on
stderr rather than a traceback.

- The HTTP port, checked before anything else is touched: taken (another ``serve``?) or not ours to
  bind is a ``StartupProblem``. A second service on the same config must not reach the store's
  journal or the Stasis app of the one already running.
- The database: unreachable, or not writable (the service writes its journal, call log and agent
  states from the first second) is a ``StartupProblem``.
- ARI: unreachable, or refusing the credentials, is only a warning. The service keeps trying ARI in
  the background (telephony/pbx.py), as it must to survive Asterisk restarting; what it cannot do is
  tell a person why no call arrives, so this says it once, at the start.
"""

from __future__ import annotations

import asyncio
import errno

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from config.settings import AriSettings, Settings
from crm_core.sql.engine import open_engine
from crm_core.sql.store import SqlStore
from switchboard.bootstrap import open_store
from telephony.ari_client import AriClient
from telephony.errors import AriRequestError, AriUnavailable, TelephonyError

ARI_TIMEOUT_S = 5.0


class StartupProblem(Exception):
    """``switchboard serve`` cannot start; the message says why, in one line."""


async def check_port(host: str, port: int) -> None:
    """Bind ``host:port`` as the console will (aiohttp: SO_REUSEADDR), then let it go again."""
    try:
        server = await asyncio.get_running_loop().create_server(
            asyncio.Protocol, host, port, reuse_address=True
        )
    except OSError as exc:
        raise StartupProblem(listen_problem(host, port, exc)) from None
    server.close()
    await server.wait_closed()


def listen_problem(host: str, port: int, exc: OSError) -> str:
    where = f"cannot listen on {host}:{port}"
    if exc.errno == errno.EADDRINUSE:
        return (f"{where}: the port is taken (another switchboard serve?); stop that or choose another "
                f"port with [http] port or SWITCHBOARD_HTTP_PORT")  # fmt: skip
    return f"{where}: {exc.strerror or exc}"


async def writable_store(settings: Settings) -> SqlStore:
    """The store, migrated, once a write to it has gone through (and been rolled back)."""
    url = settings.database_url
    try:
        await _connect(url)  # before the migration, whose own event loop would report a failure badly
        store = await open_store(settings)
    except (DBAPIError, OSError) as exc:
        raise StartupProblem(f"database {_shown(url)} cannot be opened: {_cause(exc, url)}") from None
    try:
        await _write_and_roll_back(url)
    except (DBAPIError, OSError) as exc:
        await store.close()
        raise StartupProblem(f"database {_shown(url)} is not writable: {_cause(exc, url)}") from None
    return store


async def _connect(url: str) -> None:
    # aiosqlite answers a failed connect on the loop it ran on a moment later, from its thread: on a
    # loop that has already closed (the migration's, which runs in a thread of its own) that answer
    # is a traceback on stderr. Tried here first, on the loop that goes on running, it is not.
    engine = open_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.execute(sa.text("SELECT 1"))
    finally:
        await engine.dispose()


async def _write_and_roll_back(url: str) -> None:
    # A real write, where the store's own permissions apply (SQLite: the file and its directory, for
    # the rollback journal; PostgreSQL: the role's grants, a read-only replica). Every migrated
    # database has this one-row table, and no running service writes it.
    engine = open_engine(url)
    try:
        async with engine.connect() as connection:
            transaction = await connection.begin()
            await connection.execute(sa.text("UPDATE alembic_version SET version_num = version_num"))
            await transaction.rollback()
    finally:
        await engine.dispose()


def _shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _cause(exc: DBAPIError | OSError, url: str) -> str:
    if isinstance(exc, DBAPIError):
        text = str(exc.orig).strip()
        cause = text.splitlines()[0] if text else type(exc.orig).__name__
    else:
        cause = exc.strerror or str(exc)
    if make_url(url).get_backend_name() == "sqlite":
        cause += " (its directory must exist and, with the file, be writable by this user)"
    return cause


async def ari_warning(ari: AriSettings, timeout_s: float = ARI_TIMEOUT_S) -> str | None:
    """Why no call would arrive through ARI right now, or None when ARI answers."""
    client = AriClient(ari.url, ari.user, ari.password, ari.app)
    try:
        await asyncio.wait_for(client.info(status_only=True), timeout_s)
    except TimeoutError:
        return f"ARI at {ari.url} did not answer within {timeout_s:g} s; the service keeps trying"
    except TelephonyError as exc:
        return f"{ari_trouble(exc, ari)}; the service keeps trying"
    finally:
        await client.close()
    return None


def ari_trouble(exc: TelephonyError, ari: AriSettings) -> str:
    """``exc`` in one line, saying plainly when it is the credentials or the address."""
    if isinstance(exc, AriRequestError) and exc.status == 401:
        return (
            f"ARI at {ari.url} refuses the credentials of user {ari.user!r} (HTTP 401): set [ari] user and "
            "password (or SWITCHBOARD_ARI_PASSWORD) to those of a user in Asterisk's ari.conf"
        )
    if isinstance(exc, AriUnavailable):
        return f"ARI at {ari.url} is unreachable ({exc.cause}): is Asterisk running, with ARI enabled?"
    return str(exc)
