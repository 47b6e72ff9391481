"""The reports' SQL: ``crm_core.domain.figures``' definitions as aggregate queries, so a month of calls is
counted by the database instead of being read row by row.

Each query returns per-group sums that add up exactly to what the Python functions count call by call
(``tests/crm_core/test_crm_reports.py`` holds both to the same hand-computed figures). Time zones stay
out of SQL: calls are grouped by 15-minute UTC buckets and the caller assembles a zone's days and hours
from them (every UTC offset in use is a multiple of 15 minutes). Durations between two timestamps are
the one thing the two databases spell differently (``Dialect.seconds_between``); they are rounded to
the millisecond, which SQLite's julianday arithmetic keeps exactly. Practice calls (``calls.practice``:
demo and training) are left out of every query: they are nobody's service.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, case, func, or_, select
from sqlalchemy.orm import aliased

from crm_core.domain.agent_states import MISSED_RING_REASONS
from crm_core.domain.figures import ServiceTarget
from crm_core.sql.dialect import Dialect
from crm_core.sql.orm import AgentStateRow, CallRow, UtcDateTime

_LEFT_OTHERWISE = ["abandoned", "callback", "voicemail"]  # unanswered and not these: no-agent
BUCKET_S = 900  # 15 minutes: every zone's midnight and every zone's full hours fall on a bucket edge
_SINCE = bindparam("since", type_=UtcDateTime)
_UNTIL = bindparam("until", type_=UtcDateTime)


def _count(condition: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _total(value: Any, condition: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((condition, value), else_=0.0)), 0.0)


Key = Callable[[Any], Any]  # a grouping: a column of the calls table (or an alias of it) -> the group


def call_groups(key: Key, target: ServiceTarget) -> Select[Any]:
    """Per ``key``: the counts and sums of ``CallFigures`` over the calls that arrived in [since, until),
    talk of their own records only (``stretch_talk`` and ``wrap_ups`` add the rest, per group)."""
    c = CallRow
    whole = c.callback_of.is_(None)  # agents' stretches are left out by the WHERE below
    short = and_(whole, c.outcome == "abandoned", c.wait_s < target.short_abandon_s)
    counted = and_(whole, ~short)
    answered = and_(counted, c.answered_at.is_not(None))
    unanswered = and_(counted, c.answered_at.is_(None))
    abandoned = and_(unanswered, c.outcome == "abandoned")
    within = c.wait_s <= target.answer_within_s
    group = key(c)  # one expression for SELECT and GROUP BY: PostgreSQL must see them as the same
    return (
        select(
            group.label("key"),
            _count(whole).label("entered"),
            _count(short).label("short_abandons"),
            _count(answered).label("answered"),
            _count(and_(answered, within)).label("answered_within"),
            _count(abandoned).label("abandoned"),
            _count(and_(abandoned, within)).label("abandoned_within"),
            _count(and_(unanswered, c.outcome == "callback")).label("callbacks_chosen"),
            _count(and_(unanswered, c.outcome == "voicemail")).label("voicemail"),
            _count(and_(unanswered, c.outcome.not_in(_LEFT_OTHERWISE))).label("no_agent"),
            _count(c.callback_of.is_not(None)).label("callbacks_placed"),
            _total(c.wait_s, answered).label("wait_answered_s"),
            func.coalesce(func.max(case((counted, c.wait_s))), 0.0).label("longest_wait_s"),
            _total(c.talk_s, answered).label("talk_s"),
        )
        .where(c.arrived_at >= _SINCE, c.arrived_at < _UNTIL, c.part_of.is_(None), c.practice.is_(None))
        .group_by(group)
    )


def _answered_whole(w: Any) -> ColumnElement[bool]:
    """``w`` (an alias of the calls table) is an answered whole inbound call that arrived in the window."""
    return and_(w.arrived_at >= _SINCE, w.arrived_at < _UNTIL, w.part_of.is_(None), w.callback_of.is_(None),
                w.answered_at.is_not(None), w.practice.is_(None))  # fmt: skip


def stretch_talk(key: Key) -> Select[Any]:
    """Per group of the whole call: the talk of the agents' stretches of answered calls (each stretch
    finds its call by primary key, so this costs one lookup per stretch)."""
    s, w = aliased(CallRow), aliased(CallRow)
    group = key(w)
    return (
        select(group.label("key"), func.sum(s.talk_s).label("talk_s"))
        .join(w, w.call_id == s.part_of)
        .where(s.part_of.is_not(None), _answered_whole(w))
        .group_by(group)
    )


def wrap_ups(dialect: Dialect, key: Key) -> Select[Any]:
    """Per group of the whole call: after-call work — the wrap-up that began the instant a record (the
    call, or an agent's stretch of it) ended, for that record's agent — of answered calls."""
    r, w, a = aliased(CallRow), aliased(CallRow), aliased(AgentStateRow)
    ended_then = and_(a.started_at == r.ended_at, a.agent_id == r.agent_id, a.state == "wrap-up",
                      a.ended_at.is_not(None))  # fmt: skip
    group = key(w)
    return (
        select(
            group.label("key"), func.sum(dialect.seconds_between(a.started_at, a.ended_at)).label("wrap_up_s")
        )
        .select_from(r)
        .join(a, ended_then)
        .join(w, w.call_id == func.coalesce(r.part_of, r.call_id))
        .where(r.answered_at.is_not(None), _answered_whole(w))
        .group_by(group)
    )


def bucket(dialect: Dialect) -> Key:
    """The 15-minute UTC bucket a call arrived in, as a whole number (Unix seconds // 900)."""
    return lambda calls: dialect.bucket(calls.arrived_at, BUCKET_S)


def agent_calls() -> Select[Any]:
    """Per agent: the calls and stretches they answered that arrived in [since, until), and their talk."""
    c = CallRow
    return (
        select(c.agent_id, func.count(), func.coalesce(func.sum(c.talk_s), 0.0))
        .where(
            c.arrived_at >= _SINCE,
            c.arrived_at < _UNTIL,
            c.agent_id.is_not(None),
            c.answered_at.is_not(None),
            c.practice.is_(None),
        )
        .group_by(c.agent_id)
    )


def agent_states(dialect: Dialect) -> Select[Any]:
    """Per agent, state and reason: seconds inside [since, until), and the rings that were missed and
    ended inside it (``agent_states.is_missed_ring``)."""
    s = AgentStateRow
    start = dialect.greatest(s.started_at, _SINCE)
    end = dialect.least(func.coalesce(s.ended_at, _UNTIL), _UNTIL)
    missed = and_(
        s.state == "ringing",
        or_(s.reason.in_(sorted(MISSED_RING_REASONS)), s.reason.like("failed%")),
        s.ended_at >= _SINCE,
        s.ended_at < _UNTIL,
    )
    return (
        select(s.agent_id, s.state, s.reason, func.sum(dialect.seconds_between(start, end)), _count(missed))
        .where(s.started_at < _UNTIL, or_(s.ended_at.is_(None), s.ended_at > _SINCE))
        .group_by(s.agent_id, s.state, s.reason)
    )
