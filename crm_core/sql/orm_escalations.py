"""The escalation attempts' rows (since 0015). Split from ``crm_core.sql.orm``, which imports this module
so that the rows are on ``Base.metadata`` wherever it is."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.sql.orm import Base, UtcDateTime


class EscalationAttemptRow(Base):
    """One on-call person rung for an escalated call (since 0015); a call's attempts in ``id`` order."""

    __tablename__ = "escalation_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(String, index=True)
    person: Mapped[str] = mapped_column(String)
    number: Mapped[str] = mapped_column(String)
    round: Mapped[int] = mapped_column(Integer)
    step: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime] = mapped_column(UtcDateTime)
    result: Mapped[str] = mapped_column(String)
