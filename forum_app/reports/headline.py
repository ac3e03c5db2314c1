"""The headline figures: what the dashboard's tiles set beside the report's own figures.

A tile's value is always the report's own figure (reports/figures.py, the tables' source). This
module counts what the tiles add: the same figure for the previous period (the one of the same
length just before) and a value per quarter for the small trend. Three statements, their rows
bounded by the quarters, whatever the number of forums, meetings and actions:

1. the meetings held in the previous period and their invitees and those present;
2. the actions due in the previous period and in each quarter (up to today) and those done by
   their due date, and the actions overdue at the end of the previous period and of each quarter;
3. the coverage at the end of the previous period and of each quarter but the last
   (reports/coverage.py; the last is the report's own).

"Overdue at a moment" is the rule of the action pages, at that moment: raised before it, due
before that date in the forum's zone, and open then (open now, or closed after it: ``closed_at``).
At today's moment it is the report's overdue figure. An action given to a new owner after a
decline counts as open from the start: its record keeps when it was closed only while it is.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import BindParameter, and_, case, func, null, select

from ..extensions import db
from ..models import ActionItem, Forum, Invitation, Meeting
from ..vocab import ACTION_OPEN_STATES
from .coverage import coverage_shares
from .periods import (
    ReportFilters,
    before_local_today,
    by_zone,
    end_of_local_day,
    local_day,
    local_window,
    period_bounds,
    previous_period,
    utc_start,
)


@dataclass(frozen=True)
class Headline:
    """The previous period's figures and the quarters' values, for the tiles (cached with the figures)."""

    previous: ReportFilters  # the previous period
    held: int  # meetings held in the previous period
    invitees: int  # their invitees
    present: int  # those marked present
    # Per bucket: [the previous period, the period's first quarter, …, its last quarter]
    due: list[int]  # actions due (up to today)
    on_time: list[int]  # of those, done by their due date
    overdue: list[int]  # overdue at the bucket's end (today, for a bucket that ends later)
    coverage: list[float | None]  # coverage share at the bucket's end (the last one is left to the report)


def headline_figures(ids: BindParameter, filters: ReportFilters, zones: list[str], now: datetime) -> Headline:
    previous = previous_period(filters)
    bounds = period_bounds(filters)  # [start, the quarters' starts…, the day after the end]
    held, invitees, present = _previous_meetings(ids, previous, zones)
    due, on_time, overdue = _actions(ids, [previous.start, *bounds], bounds, zones, now, filters.end)
    coverage = coverage_shares(ids, bounds[:-1], zones)
    return Headline(previous, held, invitees, present, due, on_time, overdue, coverage)


def empty_headline(filters: ReportFilters) -> Headline:
    buckets = len(period_bounds(filters))  # the previous period and the quarters
    zeros = [0] * buckets
    return Headline(previous_period(filters), 0, 0, 0, zeros, zeros, zeros, [None] * (buckets - 1))


def _previous_meetings(ids: BindParameter, previous: ReportFilters, zones: list[str]) -> tuple[int, int, int]:
    """The meetings held in the previous period, their invitees and those present (one statement)."""
    wide_start = datetime.combine(previous.start - timedelta(days=1), time(0), UTC)
    wide_end = datetime.combine(previous.end + timedelta(days=2), time(0), UTC)
    held = [
        Meeting.forum_id.in_(ids),
        Meeting.state == "held",
        Meeting.starts_at >= wide_start,
        Meeting.starts_at < wide_end,
    ]
    # Counted per meeting first (as reports/figures.py does), for the meetings in the wide window only.
    per_meeting = (
        select(
            Invitation.meeting_id.label("meeting_id"),
            func.count().label("invitees"),
            func.sum(case((Invitation.attendance == "present", 1), else_=0)).label("present"),
        )
        .where(Invitation.meeting_id.in_(select(Meeting.id).where(*held)))
        .group_by(Invitation.meeting_id)
        .subquery()
    )
    stmt = (
        select(func.count(Meeting.id), func.sum(per_meeting.c.invitees), func.sum(per_meeting.c.present))
        .join(Forum, Forum.id == Meeting.forum_id)
        .outerjoin(per_meeting, per_meeting.c.meeting_id == Meeting.id)
        .where(*held, local_window(Meeting.starts_at, previous.start, previous.end, zones))
    )
    held, invitees, present = db.session.connection().execute(stmt).one()
    # PostgreSQL's SUM of counts is a numeric (a Decimal); no rows sum to NULL.
    return int(held or 0), int(invitees or 0), int(present or 0)


def _snapshot(day: date, zone: str, now: datetime) -> tuple[datetime, date]:
    """The moment the local date ``day`` begins in ``zone`` (now, if that is still to come), and the date then."""
    today = local_day(now, zone)
    return (utc_start(day, zone), day) if day <= today else (now, today)


def _first_at_or_after(column, bounds: tuple) -> Any:
    """SQL: the first index ``i`` with ``column < bounds[i]`` (NULL when there is none)."""
    return case(*[(column < bound, i) for i, bound in enumerate(bounds)], else_=null())


def _actions(
    ids: BindParameter, buckets: list[date], snapshots: list[date], zones: list[str], now: datetime, end: date
) -> tuple[list[int], list[int], list[int]]:
    """One pass over the forums' actions, a row per combination of the four indexes it finds (each at most
    the number of quarters and two), so bounded by the quarters:

    - per bucket of ``buckets`` (bucket ``i``: from ``buckets[i]`` up to ``buckets[i + 1]``), the actions
      due in it (up to today) and those done by their due date;
    - the actions overdue when each local date of ``snapshots`` began (today, for a date still to come).
      An action is overdue from the first snapshot after it was raised and after its due date to the
      last one before it was closed (every later one while it is open): a range, so each action is
      judged against the snapshots once, not once per snapshot.

    The conditions are in the columns and only the forums in WHERE: the actions are read through the
    forum's index, as the report's own action counts are.
    """
    last_due = min(end, now.date() + timedelta(days=1))  # no forum's today is later
    due = and_(
        ActionItem.due_on >= buckets[0],
        ActionItem.due_on < buckets[-1],
        before_local_today(ActionItem.due_on, now, zones, or_equal=True),
    )
    due_bucket = case(*[(ActionItem.due_on < day, i) for i, day in enumerate(buckets[1:])], else_=null())
    on_time = and_(
        ActionItem.state == "done",
        ActionItem.closed_at < end_of_local_day(ActionItem.due_on, buckets[0], last_due, zones),
    )
    last = len(snapshots) - 1

    def moments(zone: str) -> tuple[tuple[datetime, ...], tuple[date, ...]]:
        taken = [_snapshot(day, zone, now) for day in snapshots]
        return tuple(at for at, _ in taken), tuple(today for _, today in taken)

    raised = by_zone(zones, lambda z: moments(z)[0], lambda at: _first_at_or_after(ActionItem.created_at, at))
    # Overdue on a date its due date is before: from the first snapshot whose date is after it.
    overdue_from = by_zone(zones, lambda z: moments(z)[1], lambda today: _first_at_or_after(ActionItem.due_on, today))
    closed = by_zone(
        zones,
        lambda z: moments(z)[0],
        lambda at: case(*[(ActionItem.closed_at < moment, i - 1) for i, moment in enumerate(at)], else_=last),
    )
    inner = (
        select(
            case((due, due_bucket), else_=null()).label("q"),
            case((and_(due, on_time), 1), else_=0).label("on_time"),
            raised.label("raised"),
            overdue_from.label("overdue_from"),
            case(
                (ActionItem.state.in_(ACTION_OPEN_STATES), last),
                (ActionItem.closed_at.is_(None), -1),
                else_=closed,
            ).label("open_until"),
        )
        .select_from(ActionItem)
        .join(Forum, Forum.id == ActionItem.forum_id)
        .where(Forum.id.in_(ids))
        .subquery()
    )
    # Grouped by the four as they are (each computed once per action); the overdue range is worked out here.
    keys = (inner.c.q, inner.c.raised, inner.c.overdue_from, inner.c.open_until)
    stmt = select(*keys, func.count(), func.sum(inner.c.on_time)).group_by(*keys)
    due_in: Counter = Counter()
    on_time_in: Counter = Counter()
    overdue = [0] * len(snapshots)
    for q, raised_at, overdue_at, until, n, done_on_time in db.session.connection().execute(stmt):
        if q is not None:
            due_in[q] += n
            on_time_in[q] += int(done_on_time or 0)
        if raised_at is not None and overdue_at is not None:
            for i in range(max(raised_at, overdue_at), until + 1):
                overdue[i] += n
    count = len(buckets) - 1
    return [due_in[i] for i in range(count)], [on_time_in[i] for i in range(count)], overdue
