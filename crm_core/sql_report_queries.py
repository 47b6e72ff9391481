"""The reports' SQL: ``crm_core.figures``' definitions as aggregate queries, so a month of calls is
counted by the database instead of being read row by row.

Each query returns per-group sums that add up exactly to what the Python functions count call by call
(``tests/crm_core/test_crm_reports.py`` holds both to the same hand-computed figures). Time zones stay
out of SQL: calls are grouped by 15-minute UTC buckets and the caller assembles a zone's days and hours
from them (every UTC offset in use is a multiple of 15 minutes). Durations between two timestamps are
the one thing the two databases spell differently (``Database.seconds_between``); they are rounded to
the millisecond, which SQLite's julianday arithmetic keeps exactly.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, and_, bindparam, case, cast, func, or_, select
from sqlalchemy.orm import aliased

from crm_core.agent_states import MISSED_RING_REASONS
from crm_core.figures import ServiceTarget
from crm_core.orm import AgentStateRow, CallRow, UtcDateTime
from crm_core.sql_database import Database

_LEFT_OTHERWISE = ["abandoned", "callback", "voicemail"]  # unanswered and not these: no-agent
BUCKET_S = 900  # 15 minutes: every zone's midnight and every zone's full hours fall on a bucket edge
_SINCE = bindparam("since", type_=UtcDateTime)
_UNTIL = bindparam("until", type_=UtcDateTime)


def _count(condition: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _total(value: Any, condition: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((condition, value), else_=0.0)), 0.0)


def call_groups(db: Database, key: Any, target: ServiceTarget) -> Select[Any]:
    """Per ``key``: the ``CallFigures`` fields of the calls that arrived in [since, until).

    ``key`` is a column of ``CallRow`` (queue, line, source) or ``bucket(db)``.
    """
    c = CallRow
    window = and_(c.arrived_at >= _SINCE, c.arrived_at < _UNTIL)
    # Every agent's stretch of a handed-on call adds its talk to the call (figures.handling).
    stretches = (
        select(c.part_of.label("whole"), func.sum(c.talk_s).label("talk"))
        .where(c.part_of.is_not(None), window)
        .group_by(c.part_of)
        .subquery()
    )
    # After-call work: the wrap-up that began the instant a call (or a stretch) ended, for its agent.
    wrap = aliased(AgentStateRow)
    whole_of = func.coalesce(c.part_of, c.call_id)
    matches = and_(wrap.agent_id == c.agent_id, wrap.state == "wrap-up", wrap.started_at == c.ended_at,
                   wrap.ended_at.is_not(None))  # fmt: skip
    wrap_ups = (
        select(whole_of.label("whole"), func.sum(_seconds(db, wrap.started_at, wrap.ended_at)).label("wrap"))
        .join(wrap, matches)
        .where(window, c.answered_at.is_not(None))
        .group_by(whole_of)
        .subquery()
    )
    whole = and_(c.part_of.is_(None), c.callback_of.is_(None))
    short = and_(whole, c.outcome == "abandoned", c.wait_s < target.short_abandon_s)
    counted = and_(whole, ~short)
    answered = and_(counted, c.answered_at.is_not(None))
    unanswered = and_(counted, c.answered_at.is_(None))
    abandoned = and_(unanswered, c.outcome == "abandoned")
    within = c.wait_s <= target.answer_within_s
    talk = c.talk_s + func.coalesce(stretches.c.talk, 0.0)
    return (
        select(
            key.label("key"),
            _count(whole).label("entered"),
            _count(short).label("short_abandons"),
            _count(answered).label("answered"),
            _count(and_(answered, within)).label("answered_within"),
            _count(abandoned).label("abandoned"),
            _count(and_(abandoned, within)).label("abandoned_within"),
            _count(and_(unanswered, c.outcome == "callback")).label("callbacks_chosen"),
            _count(and_(unanswered, c.outcome == "voicemail")).label("voicemail"),
            _count(and_(unanswered, c.outcome.not_in(["abandoned", "callback", "voicemail"]))).label(
                "no_agent"
            ),
            _count(and_(c.part_of.is_(None), c.callback_of.is_not(None))).label("callbacks_placed"),
            _total(c.wait_s, answered).label("wait_answered_s"),
            func.coalesce(func.max(case((counted, c.wait_s))), 0.0).label("longest_wait_s"),
            _total(talk, answered).label("talk_s"),
            _total(func.coalesce(wrap_ups.c.wrap, 0.0), answered).label("wrap_up_s"),
        )
        .select_from(c)
        .outerjoin(stretches, stretches.c.whole == c.call_id)
        .outerjoin(wrap_ups, wrap_ups.c.whole == c.call_id)
        .where(window, c.part_of.is_(None))
        .group_by(key)
    )


def bucket(db: Database) -> Any:
    """The 15-minute UTC bucket a call arrived in, as a whole number (Unix seconds / 900)."""
    if db.backend == "sqlite":
        return cast(func.strftime("%s", CallRow.arrived_at), Integer) // BUCKET_S
    return cast(func.floor(func.extract("epoch", CallRow.arrived_at) / BUCKET_S), Integer)


def agent_calls() -> Select[Any]:
    """Per agent: the calls and stretches they answered that arrived in [since, until), and their talk."""
    c = CallRow
    return (
        select(c.agent_id, func.count(), func.coalesce(func.sum(c.talk_s), 0.0))
        .where(
            c.arrived_at >= _SINCE, c.arrived_at < _UNTIL, c.agent_id.is_not(None), c.answered_at.is_not(None)
        )
        .group_by(c.agent_id)
    )


def agent_states(db: Database) -> Select[Any]:
    """Per agent, state and reason: seconds inside [since, until), and the rings that were missed and
    ended inside it (``agent_states.is_missed_ring``)."""
    s = AgentStateRow
    start = _later(db, s.started_at, _SINCE)
    end = _earlier(db, func.coalesce(s.ended_at, _UNTIL), _UNTIL)
    missed = and_(
        s.state == "ringing",
        or_(s.reason.in_(sorted(MISSED_RING_REASONS)), s.reason.like("failed%")),
        s.ended_at >= _SINCE,
        s.ended_at < _UNTIL,
    )
    return (
        select(s.agent_id, s.state, s.reason, func.sum(_seconds(db, start, end)), _count(missed))
        .where(s.started_at < _UNTIL, or_(s.ended_at.is_(None), s.ended_at > _SINCE))
        .group_by(s.agent_id, s.state, s.reason)
    )


def _seconds(db: Database, start: Any, end: Any) -> Any:
    if db.backend == "sqlite":
        return func.round((func.julianday(end) - func.julianday(start)) * 86400.0, 3)
    return func.round(func.extract("epoch", end - start), 3)


def _later(db: Database, a: Any, b: Any) -> Any:
    return func.max(a, b) if db.backend == "sqlite" else func.greatest(a, b)


def _earlier(db: Database, a: Any, b: Any) -> Any:
    return func.min(a, b) if db.backend == "sqlite" else func.least(a, b)
