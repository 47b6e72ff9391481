"""The delivery queue's tables (since 0012), apart from ``orm`` to keep each module short; ``orm`` imports
this module at its end, so ``Base.metadata`` always holds them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.sql.orm import Base, UtcDateTime


class DeliveryRow(Base):
    """One delivery of a taken message (since 0012): a channel and a recipient, its status and attempts.

    ``claim`` and ``lease_until`` are a worker's hold on a queued row while it tries it: another worker
    takes the row only once the lease has run out (its holder died), and the holder's result is written
    only while the row is still under its claim."""

    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_status", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[int] = mapped_column(Integer, index=True)  # the case the message was filed as
    business: Mapped[str] = mapped_column(String)  # the answering line
    channel: Mapped[str] = mapped_column(String)  # crm_core.domain.deliveries.Channel
    recipient: Mapped[str] = mapped_column(String)
    status: Mapped[str] = mapped_column(String)  # crm_core.domain.deliveries.DeliveryStatus
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime)
    claim: Mapped[str | None] = mapped_column(String)
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(String)
    answer: Mapped[str | None] = mapped_column(String)  # what the far end said when it took it
    content: Mapped[str] = mapped_column(String)  # the message as JSON
    # The call the message was taken on (since 0016): a console that reconnects reads its deliveries by it.
    call_id: Mapped[str | None] = mapped_column(String, index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class DeliveryChangeRow(Base):
    """A delivery's history (since 0012): every status it went to, and every retry, with when and why."""

    __tablename__ = "delivery_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    detail: Mapped[str] = mapped_column(String)


# The on-call schedules' rows live in their own module (this one had grown past 400 lines); importing it
# here registers them on ``Base.metadata`` wherever the rows are known.
from crm_core.sql import orm_oncall as _oncall  # noqa: E402, F401
