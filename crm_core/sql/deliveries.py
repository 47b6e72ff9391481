"""``SqlDeliveries``: the delivery queue of taken messages (``deliveries``) and its history
(``delivery_changes``), on SQLite and PostgreSQL alike.

A worker ``claim``s due rows: one UPDATE sets a claim token of its own and a lease on rows that are
queued, due, and under no live lease, so two workers (or two processes) never hold the same row at once,
and a row whose holder died is taken again once its lease has run out. ``record`` writes an attempt's
result only while the row is still under that claim: a worker that lost its lease (it stalled past it)
writes nothing, and the row's new holder decides. Every status change, and every retry, adds one
``delivery_changes`` row in the same transaction. ``crm_core.domain.deliveries`` decides; this module
reads and writes.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from crm_core.domain.deliveries import (
    Channel,
    Decision,
    Delivery,
    DeliveryChange,
    DeliveryNotFound,
    DeliveryStatus,
    NewDelivery,
    checked_recipient,
    checked_transition,
)
from crm_core.sql.database import Database
from crm_core.sql.delivery_rows import DeliveryChangeRow, DeliveryRow
from routing.ids import LineId

MAX_DETAIL = 1000  # what a provider answers is kept, cut to this many characters
COLUMNS = tuple(
    getattr(DeliveryRow, name)
    for name in (
        "id", "message_id", "business", "channel", "recipient", "status", "attempts", "next_attempt_at",
        "last_error", "answer", "content", "created_at", "updated_at",
    )
)  # fmt: skip


class SqlDeliveries:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def enqueue(self, new: Sequence[NewDelivery]) -> list[Delivery]:
        """Queue ``new``, all or none, due at once; a recipient that cannot be is refused first."""
        for delivery in new:
            checked_recipient(delivery.channel, delivery.recipient)
        now = self._db.clock()
        rows = [
            {
                "message_id": d.message_id, "business": d.business, "channel": d.channel.value,
                "recipient": d.recipient, "status": DeliveryStatus.QUEUED.value, "attempts": 0,
                "next_attempt_at": now, "content": json.dumps(d.content, sort_keys=True), "call_id": d.call,
                "created_at": now, "updated_at": now,
            }
            for d in new
        ]  # fmt: skip
        if not rows:
            return []
        async with self._db.engine.begin() as connection:
            # One statement for them all; the ids come back in the order given, on both backends.
            adding = insert(DeliveryRow).returning(DeliveryRow.id, sort_by_parameter_order=True)
            ids = list((await connection.execute(adding, rows)).scalars())
            await _changes(connection, [(i, DeliveryStatus.QUEUED, "queued") for i in ids], now)
            return await _read(connection, DeliveryRow.id.in_(ids))

    async def claim(self, *, lease_s: float, limit: int) -> tuple[str, list[Delivery]]:
        """Up to ``limit`` due rows, held for ``lease_s`` under a new claim token (returned with them)."""
        now = self._db.clock()
        token = uuid.uuid4().hex
        free = and_(
            DeliveryRow.status == DeliveryStatus.QUEUED.value,
            DeliveryRow.next_attempt_at <= now,
            or_(DeliveryRow.lease_until.is_(None), DeliveryRow.lease_until < now),
        )
        due = select(DeliveryRow.id).where(free).order_by(DeliveryRow.next_attempt_at, DeliveryRow.id)
        async with self._db.reads.connect() as connection:  # idle polls read, and write nothing
            if (await connection.execute(due.limit(1))).first() is None:
                return token, []
        async with self._db.engine.begin() as connection:
            # PostgreSQL: rows another claim is taking now are skipped, not waited for; ``free`` again in
            # the UPDATE, checked anew on a row another claim took meanwhile. SQLite has one writer.
            picked = due.limit(limit).with_for_update(skip_locked=True).scalar_subquery()
            taken = update(DeliveryRow).where(DeliveryRow.id.in_(picked), free)
            await connection.execute(taken.values(claim=token, lease_until=now + timedelta(seconds=lease_s)))
            return token, await _read(connection, DeliveryRow.claim == token)

    async def record(self, delivery_id: int, token: str, decision: Decision) -> bool:
        """Write an attempt's result; False (nothing written) when the row is no longer under ``token``."""
        checked_transition(DeliveryStatus.QUEUED, decision.status)  # a row under a claim is queued
        now = self._db.clock()
        detail = decision.detail[:MAX_DETAIL]
        failed = decision.status in (DeliveryStatus.QUEUED, DeliveryStatus.FAILED)
        values: dict[str, Any] = {
            "status": decision.status.value, "attempts": decision.attempts,
            "next_attempt_at": decision.next_attempt_at, "claim": None, "lease_until": None,
            "updated_at": now, ("last_error" if failed else "answer"): detail,
        }  # fmt: skip
        held = (
            DeliveryRow.id == delivery_id,
            DeliveryRow.claim == token,
            DeliveryRow.status == DeliveryStatus.QUEUED.value,
        )
        async with self._db.engine.begin() as connection:
            written = await connection.execute(update(DeliveryRow).where(*held).values(values))
            if written.rowcount != 1:
                return False
            await _changes(connection, [(delivery_id, decision.status, detail)], now)
            return True

    async def change(self, delivery_id: int, status: DeliveryStatus, detail: str) -> Delivery:
        """Move a delivery to ``status`` (read, filed, a provider's receipt) if the lifecycle allows it."""
        now = self._db.clock()
        async with self._db.engine.begin() as connection:
            current = await _one(connection, delivery_id)
            checked_transition(current.status, status)
            values = {"status": status.value, "updated_at": now}
            await connection.execute(update(DeliveryRow).where(DeliveryRow.id == delivery_id).values(values))
            await _changes(connection, [(delivery_id, status, detail[:MAX_DETAIL])], now)
            return await _one(connection, delivery_id)

    async def get(self, delivery_id: int) -> Delivery:
        async with self._db.reads.connect() as connection:
            return await _one(connection, delivery_id)

    async def of_message(self, message_id: int) -> list[Delivery]:
        async with self._db.reads.connect() as connection:
            return await _read(connection, DeliveryRow.message_id == message_id)

    async def of_calls(self, calls: Sequence[str]) -> list[Delivery]:
        """The deliveries of the messages taken on ``calls`` (a console that joins: what it shows)."""
        if not calls:
            return []
        async with self._db.reads.connect() as connection:
            return await _read(connection, DeliveryRow.call_id.in_(calls))

    async def changed_since(self, at: datetime) -> list[Delivery]:
        """Every delivery queued or changed at ``at`` or later (an instance that may have missed the news:
        switchboard/cluster/delivery_feed.py). No index on ``updated_at``: asked once per resubscription."""
        async with self._db.reads.connect() as connection:
            return await _read(connection, DeliveryRow.updated_at >= at)

    async def history(self, delivery_id: int) -> list[DeliveryChange]:
        query = (
            select(DeliveryChangeRow.status, DeliveryChangeRow.at, DeliveryChangeRow.detail)
            .where(DeliveryChangeRow.delivery_id == delivery_id)
            .order_by(DeliveryChangeRow.id)
        )
        async with self._db.reads.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [DeliveryChange(DeliveryStatus(r.status), r.at, r.detail) for r in rows]

    async def counts(self) -> dict[DeliveryStatus, int]:
        """How many deliveries are in each status."""
        query = select(DeliveryRow.status, func.count()).group_by(DeliveryRow.status)
        async with self._db.reads.connect() as connection:
            rows = (await connection.execute(query)).all()
        return {DeliveryStatus(status): count for status, count in rows}


async def _changes(
    connection: AsyncConnection, changes: Sequence[tuple[int, DeliveryStatus, str]], at: datetime
) -> None:
    rows = [{"delivery_id": i, "status": s.value, "at": at, "detail": d} for i, s, d in changes]
    if rows:
        await connection.execute(insert(DeliveryChangeRow), rows)


async def _one(connection: AsyncConnection, delivery_id: int) -> Delivery:
    found = await _read(connection, DeliveryRow.id == delivery_id)
    if not found:
        raise DeliveryNotFound(delivery_id)
    return found[0]


async def _read(connection: AsyncConnection, where: Any) -> list[Delivery]:
    rows = (await connection.execute(select(*COLUMNS).where(where).order_by(DeliveryRow.id))).all()
    return [
        Delivery(
            id=r.id, message_id=r.message_id, business=LineId(r.business), channel=Channel(r.channel),
            recipient=r.recipient, status=DeliveryStatus(r.status), attempts=r.attempts,
            next_attempt_at=r.next_attempt_at, last_error=r.last_error, answer=r.answer,
            content=json.loads(r.content), created_at=r.created_at, updated_at=r.updated_at,
        )
        for r in rows
    ]  # fmt: skip
