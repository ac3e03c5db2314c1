"""The report figures: each forum's, counted by the database in a fixed number of grouped queries.

Every figure is counted by the database: grouped, conditional aggregates that return a row per
forum (and per quarter for the trends, per kind of organisation for attendance, per whole day
for the median), never a row per action or invitation, so neither the query count nor the rows
read into Python grow with the data. The lists behind the figures (and the exports) use the same
rules as SQL conditions (``meeting_condition``, ``action_condition``). Periods are calendar dates
judged in each forum's own time zone (reports/periods.py).

What the figures mean (the dashboard repeats it in words):

- meetings planned / held / cancelled: meetings (not drafts) starting in the period, by state;
- invitees, attendance rate: invitees of the meetings held in the period; present ÷ invitees;
- attendees: invitees marked present plus walk-ins, by kind of organisation (and by gender,
  where recorded: aggregates only, never a name);
- actions raised: created in the period; confirmed: of those, accepted by their owner at some
  point; confirmation rate = confirmed ÷ raised;
- in progress, blocked: their state now, among the actions raised up to the period's end;
- done: closed as done in the period; median days raised → done over those, in whole days
  (the completed 24-hour days from raised to done);
- done by the due date: of the actions due in the period (up to today), the share done on or
  before their due date (the forum's date);
- overdue: open and due before the forum's today; stalled: open, no update for 30 days.

"Accepted at some point" and "the latest update" come from the roll-up kept on the action
(``ActionItem.confirmed_at`` and ``last_update_at``), not from its history rows.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import BindParameter, Select, and_, bindparam, case, func, null, select

from .. import permissions
from ..actions.followup import by_local_today, overdue_condition
from ..core.clock import utcnow
from ..extensions import db
from ..models import ActionItem, Forum, Grant, Invitation, Meeting, Organisation, User, WalkInAttendee
from ..vocab import ACTION_OPEN_STATES
from .coverage import Coverage, coverage_counts
from .headline import Headline, empty_headline, headline_figures
from .periods import (
    ReportFilters,
    before_local_today,
    end_of_local_day,
    forum_zones,
    local_before,
    local_bucket,
    local_window,
    period_bounds,
    whole_days,
)
from .rows import Figures, ForumInfo, GrantInfo, Row

STALLED_DAYS = 30
MEETING_FIGURES = ("planned", "held", "cancelled")
ACTION_FIGURES = ("raised", "confirmed", "in_progress", "done", "blocked", "overdue", "stalled", "due", "on_time")


# --- who sees what ----------------------------------------------------------------------------------


def scoped_forums(user, filters: ReportFilters) -> Select:
    """The forums of the report: the person's reach (``permissions.report_forums``) narrowed by the filters."""
    stmt = permissions.report_forums(user)
    if filters.country:
        stmt = stmt.where(Forum.country == filters.country)
    if filters.grant_id:
        stmt = stmt.where(Forum.grant_id == filters.grant_id)
    if filters.forum_id:
        stmt = stmt.where(Forum.id == filters.forum_id)
    if filters.programme_id:
        stmt = stmt.where(Forum.grant_id.in_(select(Grant.id).where(Grant.programme_id == filters.programme_id)))
    return stmt


def _forum_ids(user, filters: ReportFilters):
    return scoped_forums(user, filters).with_only_columns(Forum.id).scalar_subquery()


# --- the rules: which meetings and actions each figure counts (its list uses them too) ----------------


def meeting_condition(figure: str, filters: ReportFilters, zones: list[str]):
    window = local_window(Meeting.starts_at, filters.start, filters.end, zones)
    states = {"planned": ("scheduled",), "held": ("held",), "cancelled": ("cancelled",)}.get(
        figure, ("scheduled", "held", "cancelled")
    )
    # A draft cancelled before it was published was never a planned meeting.
    return and_(window, Meeting.state.in_(states), Meeting.published_at.is_not(None))


def _stalled(now: datetime):
    last = func.coalesce(ActionItem.last_update_at, ActionItem.created_at)
    return and_(ActionItem.state.in_(ACTION_OPEN_STATES), last < now - timedelta(days=STALLED_DAYS))


def _on_time(filters: ReportFilters, zones: list[str], now: datetime):
    """Done by the end of its due date in the forum's zone (for the actions due in the period, up to today)."""
    last = min(filters.end, now.date() + timedelta(days=1))  # no forum's today is later
    return and_(
        ActionItem.state == "done",
        ActionItem.closed_at < end_of_local_day(ActionItem.due_on, filters.start, last, zones),
    )


def action_condition(figure: str, filters: ReportFilters, zones: list[str], now: datetime):
    """SQL for the actions behind one dashboard figure (Forum joined)."""
    raised = local_window(ActionItem.created_at, filters.start, filters.end, zones)
    until_end = local_before(ActionItem.created_at, filters.end + timedelta(days=1), zones)
    due = and_(
        ActionItem.due_on >= filters.start,
        ActionItem.due_on <= filters.end,
        before_local_today(ActionItem.due_on, now, zones, or_equal=True),
    )
    conditions = {
        "raised": raised,
        "confirmed": and_(raised, ActionItem.confirmed_at.is_not(None)),
        "in_progress": and_(until_end, ActionItem.state == "in_progress"),
        "blocked": and_(until_end, ActionItem.state == "blocked"),
        "done": and_(ActionItem.state == "done", local_window(ActionItem.closed_at, filters.start, filters.end, zones)),
        "overdue": overdue_condition(now, by_local_today(zones, now)),  # the rule the action pages use
        "stalled": _stalled(now),
        "due": due,
        "on_time": and_(due, _on_time(filters, zones, now)),
    }
    return conditions.get(figure, raised)


# --- the figures ------------------------------------------------------------------------------------


_REACH_COLUMNS = (
    Forum.id,
    Forum.title,
    Forum.city,
    Forum.country,
    Forum.timezone,
    Forum.grant_id,
    Grant.id,
    Grant.reference,
    Grant.programme_id,
)


def reach_rows(user) -> list[tuple]:
    """The forums in the person's reach with their grants, as plain tuples in the report's order.

    Every value the dashboard shows of a forum or grant is among them, so they also key its
    cached figures (reports/dashboard.py): what the person may see, as they read now.
    """
    return [
        tuple(row)
        for row in db.session.execute(
            permissions.report_forums(user)
            .with_only_columns(*_REACH_COLUMNS)
            .join(Forum.grant)
            .order_by(Forum.country, Grant.reference, Forum.title, Forum.id)
        )
    ]


def _reach(rows: list[tuple]) -> list[tuple[ForumInfo, GrantInfo]]:
    grants: dict[int, GrantInfo] = {}
    reach = []
    for row in rows:
        grant = grants.get(row[6]) or grants.setdefault(row[6], GrantInfo(*row[6:]))
        reach.append((ForumInfo(*row[:6]), grant))
    return reach


@dataclass
class ReportFigures:
    """Every forum's figures in the report, and the quarterly counts of the trends."""

    filters: ReportFilters
    reach: list[tuple[ForumInfo, GrantInfo]]  # every forum the person may report on (the filter choices)
    forums: list[Row]  # the forums of the report, ordered by country, grant and title
    by_quarter: dict[str, Counter]  # "held", "invitees", "present", "raised", "done": {bucket: n}
    zones: list[str]
    coverage: Coverage  # who came to each forum's last meetings held by the period's end
    headline: Headline | None = None  # the tiles' comparisons (``report_figures(headline=True)``)

    @property
    def grants(self) -> dict[int, GrantInfo]:
        return {g.id: g for _, g in self.reach}


def report_figures(
    user, filters: ReportFilters, now: datetime | None = None, reach: list[tuple] | None = None, headline: bool = False
) -> ReportFigures:
    """Each forum's figures in the report, counted by the database: grouped queries whose rows are
    bounded by the forums and quarters, whatever the number of meetings and actions.

    ``reach``: ``reach_rows(user)`` if the caller read it already. ``headline``: count the dashboard
    tiles' comparisons too (reports/headline.py: three more statements).
    """
    permissions.require(permissions.can_view_reports(user))
    now = now or utcnow()
    # 1. the forums in reach (with their grants), also for the filter choices
    forums_in_reach = _reach(reach if reach is not None else reach_rows(user))
    forums = [
        f
        for f, g in forums_in_reach
        if (not filters.country or f.country == filters.country)
        and (not filters.grant_id or f.grant_id == filters.grant_id)
        and (not filters.forum_id or f.id == filters.forum_id)
        and (not filters.programme_id or g.programme_id == filters.programme_id)
    ]
    zones = forum_zones()  # 2.
    by_forum = {f.id: Figures(forums=1) for f in forums}
    by_quarter: dict[str, Counter] = defaultdict(Counter)
    coverage = Coverage()
    tiles: Headline | None = None
    if forums:
        # The ids written into the SQL as numbers, not as a parameter each: the driver parses every
        # statement's parameters, and 120 of them in each of a dozen statements was a cost of its own.
        ids: BindParameter[list[int]] = bindparam("forum_ids", list(by_forum), expanding=True, literal_execute=True)
        _count(by_forum, by_quarter, ids, filters, zones, now)  # 3. to 8.
        coverage = coverage_counts(ids, filters.end + timedelta(days=1), zones)  # 9.
        if headline:
            tiles = headline_figures(ids, filters, zones, now)  # 10. to 12.
    elif headline:
        tiles = empty_headline(filters)
    grants = {g.id: g for _, g in forums_in_reach}
    rows = [
        Row("forum", f.id, f.title, by_forum[f.id], filters.narrowed(forum_id=f.id), forum=f, grant=grants[f.grant_id])
        for f in forums
    ]
    return ReportFigures(filters, forums_in_reach, rows, by_quarter, zones, coverage, tiles)


def _grouped(
    columns: dict[str, Any], where: Sequence, joins: Sequence, group: Sequence[str], aggregates: dict[str, Any], base
) -> list:
    """``aggregates`` of the rows of ``base`` (with ``columns`` computed per row), grouped by ``group``.

    The per-row expressions go in a subquery so the grouping names them: PostgreSQL would
    otherwise see two copies of an expression carrying bind parameters as different.
    """
    rows = select(*[expr.label(name) for name, expr in columns.items()]).select_from(base)
    for target, on in joins:
        rows = rows.join(target, on)
    inner = rows.where(*where).subquery()
    stmt = select(
        *[inner.c[name] for name in group], *[agg(inner.c).label(name) for name, agg in aggregates.items()]
    ).group_by(*[inner.c[name] for name in group])
    return _rows(stmt)


def _rows(stmt) -> list:
    """Plain rows of ``stmt`` through the session's connection: these statements select columns, never
    ORM objects, and the ORM's result processing was about a sixth of counting's CPU at programme scale."""
    return list(db.session.connection().execute(stmt).all())


def _count(
    by_forum: dict[int, Figures],
    by_quarter: dict[str, Counter],
    ids,
    filters: ReportFilters,
    zones: list[str],
    now: datetime,
) -> None:
    """Count the figures of the forums ``ids`` into ``by_forum`` and their quarterly counts into ``by_quarter``
    (the report's: "held", "invitees", "present", "raised", "done" → {bucket: n})."""
    bounds = period_bounds(filters)
    # A UTC window wide enough for every zone, so the indexes narrow; the local date is judged in SQL.
    wide_start = datetime.combine(filters.start - timedelta(days=1), time(0), UTC)
    wide_end = datetime.combine(filters.end + timedelta(days=2), time(0), UTC)
    forum_join = [(Forum, Forum.id == Meeting.forum_id)]

    # 3. meetings (not drafts) starting in the period, by state and quarter
    for forum_id, quarter, state, count in _grouped(
        {"forum_id": Meeting.forum_id, "q": local_bucket(Meeting.starts_at, bounds, zones), "state": Meeting.state},
        [
            Meeting.forum_id.in_(ids),
            Meeting.published_at.is_not(None),
            Meeting.state.in_(("scheduled", "held", "cancelled")),
            Meeting.starts_at >= wide_start,
            Meeting.starts_at < wide_end,
        ],
        forum_join,
        ("forum_id", "q", "state"),
        {"n": lambda c: func.count()},
        Meeting,
    ):
        if quarter is None:
            continue
        figures = by_forum[forum_id]
        if state == "held":
            figures.held += count
            by_quarter["held"][quarter] += count
        elif state == "scheduled":
            figures.planned += count
        else:
            figures.cancelled += count

    held = [
        Meeting.forum_id.in_(ids),
        Meeting.state == "held",
        Meeting.starts_at >= wide_start,
        Meeting.starts_at < wide_end,
    ]
    # 4. invitees of the meetings held in the period: how many, how many present, per quarter. Counted per
    # meeting first, so the local dates are judged once per meeting, not once per invitation.
    held_ids = select(Meeting.id).where(*held)
    per_meeting = (
        select(
            Invitation.meeting_id.label("meeting_id"),
            func.count().label("invitees"),
            func.sum(case((Invitation.attendance == "present", 1), else_=0)).label("present"),
        )
        .where(Invitation.meeting_id.in_(held_ids))
        .group_by(Invitation.meeting_id)
        .subquery()
    )
    for forum_id, quarter, invitees, present in _grouped(
        {
            "forum_id": Meeting.forum_id,
            "q": local_bucket(Meeting.starts_at, bounds, zones),
            "invitees": per_meeting.c.invitees,
            "present": per_meeting.c.present,
        },
        held,
        [(per_meeting, per_meeting.c.meeting_id == Meeting.id), *forum_join],
        ("forum_id", "q"),
        {"invitees": lambda c: func.sum(c.invitees), "present": lambda c: func.sum(c.present)},
        Meeting,
    ):
        if quarter is None:
            continue
        figures = by_forum[forum_id]
        # Whole numbers on every database (PostgreSQL's SUM of counts is a numeric, read as Decimal).
        invitees, present = int(invitees), int(present or 0)
        figures.invitees += invitees
        figures.present += present
        by_quarter["invitees"][quarter] += invitees
        by_quarter["present"][quarter] += present

    # 5. the invitees present, by kind of organisation and gender (of the meetings in the period, judged once each)
    in_period_ids = (
        select(Meeting.id)
        .join(Forum, Forum.id == Meeting.forum_id)
        .where(*held, local_window(Meeting.starts_at, filters.start, filters.end, zones))
    )
    # Counted per forum and person first, then joined to the people: a person comes to many meetings, and
    # joining every attendance to its person and organisation took about twice as long at programme scale.
    per_person = (
        select(Meeting.forum_id.label("forum_id"), Invitation.user_id.label("user_id"), func.count().label("n"))
        .join(Invitation, Invitation.meeting_id == Meeting.id)
        .where(Meeting.id.in_(in_period_ids), Invitation.attendance == "present")
        .group_by(Meeting.forum_id, Invitation.user_id)
        .subquery()
    )
    for forum_id, kind, gender, count in _rows(
        select(per_person.c.forum_id, Organisation.kind, User.gender, func.sum(per_person.c.n))
        .join(User, User.id == per_person.c.user_id)
        .outerjoin(Organisation, Organisation.id == User.organisation_id)
        .group_by(per_person.c.forum_id, Organisation.kind, User.gender)
    ):
        count = int(count)  # PostgreSQL's SUM of counts is a numeric
        figures = by_forum[forum_id]
        figures.attendees_by_kind[kind or "other"] += count
        figures.attendees_by_gender[gender or "not_recorded"] += count

    # 6. walk-ins of those meetings, by kind (no gender is recorded for them)
    for forum_id, kind, count in _rows(
        select(Meeting.forum_id, WalkInAttendee.organisation_kind, func.count())
        .join(WalkInAttendee, WalkInAttendee.meeting_id == Meeting.id)
        .where(Meeting.id.in_(in_period_ids))
        .group_by(Meeting.forum_id, WalkInAttendee.organisation_kind)
    ):
        figures = by_forum[forum_id]
        figures.walk_ins += count
        figures.attendees_by_kind[kind] += count
        figures.attendees_by_gender["not_recorded"] += count

    # 7. the actions, per forum, the quarter they were raised in (-1: before the period) and the one they
    # were done in: the bucket is computed once per row and the figures that hang on it are added up here.
    # One pass over the forums' actions: with most of them in a year's period, five narrower queries (one
    # per kind of figure) each read nearly all of them again and took longer in all.
    action_forum = [(Forum, Forum.id == ActionItem.forum_id)]
    # The forums named on the forum side of the join: one test per forum, not one per action.
    in_forums = Forum.id.in_(ids)
    flags = {name: action_condition(name, filters, zones, now) for name in ("overdue", "stalled", "due", "on_time")}
    columns = {
        "forum_id": ActionItem.forum_id,
        "raised_q": local_bucket(ActionItem.created_at, bounds, zones, before=-1),
        "done_q": case((ActionItem.state == "done", local_bucket(ActionItem.closed_at, bounds, zones)), else_=null()),
        "confirmed": case((ActionItem.confirmed_at.is_not(None), 1), else_=0),
        "in_progress": case((ActionItem.state == "in_progress", 1), else_=0),
        "blocked": case((ActionItem.state == "blocked", 1), else_=0),
        **{name: case((condition, 1), else_=0) for name, condition in flags.items()},
    }
    sums = {
        "n": lambda c: func.count(),
        **{name: (lambda c, name=name: func.sum(c[name])) for name in list(columns)[3:]},
    }
    for forum_id, raised_q, done_q, n, confirmed, in_progress, blocked, *rest in _grouped(
        columns, [in_forums], action_forum, ("forum_id", "raised_q", "done_q"), sums, ActionItem
    ):
        figures = by_forum[forum_id]
        if raised_q is not None:  # raised by the period's end: in progress and blocked count their state now
            figures.in_progress += int(in_progress)
            figures.blocked += int(blocked)
            if raised_q >= 0:  # raised in the period
                figures.raised += n
                figures.confirmed += int(confirmed)
                by_quarter["raised"][raised_q] += n
        if done_q is not None:
            figures.done += n
            by_quarter["done"][done_q] += n
        for name, value in zip(flags, rest, strict=True):
            setattr(figures, name, getattr(figures, name) + int(value))

    # 8. how many whole days the actions done in the period took (a histogram per forum: exact medians)
    for forum_id, days, count in _grouped(
        {"forum_id": ActionItem.forum_id, "days": whole_days(ActionItem.closed_at, ActionItem.created_at)},
        [
            in_forums,
            ActionItem.state == "done",
            ActionItem.closed_at >= wide_start,
            ActionItem.closed_at < wide_end,
            local_window(ActionItem.closed_at, filters.start, filters.end, zones),
        ],
        action_forum,
        ("forum_id", "days"),
        {"n": lambda c: func.count()},
        ActionItem,
    ):
        by_forum[forum_id].done_days[days] += count

    for figures in by_forum.values():
        figures.forums_active = 1 if figures.held else 0
