"""The programme dashboard and the lists behind its figures, in a fixed number of queries.

Every figure is counted in Python from a few narrow row sets (forums, meetings, attendance
grouped by kind and gender, actions with the date of their last update), so the query count
stays the same whatever the data; the lists behind the figures (and the exports) use the same
rules as SQL conditions (``meeting_condition``, ``action_condition``). Periods are calendar
dates judged in each forum's own time zone: a meeting at 00:30 in Sarajevo on 1 April is in
April, although it is 31 March in UTC.

What the figures mean (the dashboard repeats it in words):

- meetings planned / held / cancelled: meetings (not drafts) starting in the period, by state;
- invitees, attendance rate: invitees of the meetings held in the period; present ÷ invitees;
- attendees: invitees marked present plus walk-ins, by kind of organisation (and by gender,
  where recorded: aggregates only, never a name);
- actions raised: created in the period; confirmed: of those, accepted by their owner at some
  point; confirmation rate = confirmed ÷ raised;
- in progress, blocked: their state now, among the actions raised up to the period's end;
- done: closed as done in the period; median days raised → done over those;
- done by the due date: of the actions due in the period (up to today), the share done on or
  before their due date (the forum's date);
- overdue: open and due before the forum's today; stalled: open, no update for 30 days.
"""
from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, case, false, func, or_, select

from .. import permissions
from ..core.clock import utcnow
from ..extensions import db
from ..models import (
    ActionItem, ActionUpdate, Forum, Grant, Invitation, Meeting, Organisation, User, WalkInAttendee,
)
from ..vocab import ACTION_OPEN_STATES, CORE_ORGANISATION_KINDS, COUNTRIES

STALLED_DAYS = 30
# Coverage: kinds present at any of a forum's last few held meetings up to the period's end.
COVERAGE_MEETINGS = 3
MEETING_FIGURES = ("planned", "held", "cancelled")
ACTION_FIGURES = ("raised", "confirmed", "in_progress", "done", "blocked", "overdue", "stalled", "due", "on_time")


# --- filters and periods ----------------------------------------------------------------------------

def _parse_date(raw: str | None) -> date | None:
    try:
        return date.fromisoformat((raw or "").strip()[:10]) if raw else None
    except ValueError:
        return None


def default_period(today: date) -> tuple[date, date]:
    """The last four complete quarters and the current one: enough for a trend."""
    quarter_start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    return date(quarter_start.year - 1, quarter_start.month, 1), today


@dataclass(frozen=True)
class ReportFilters:
    start: date
    end: date  # inclusive
    country: str = ""
    grant_id: int | None = None
    forum_id: int | None = None

    @classmethod
    def from_args(cls, args, today: date | None = None) -> "ReportFilters":
        from ..core.urls import parse_id

        default_start, default_end = default_period(today or utcnow().date())
        start = _parse_date(args.get("from")) or default_start
        end = _parse_date(args.get("to")) or default_end
        if end < start:
            start, end = end, start
        country = args.get("country", "")
        return cls(start=start, end=end, country=country if country in COUNTRIES else "",
                   grant_id=parse_id(args.get("grant")), forum_id=parse_id(args.get("forum")))

    def args(self, **extra) -> dict[str, str]:
        """Query-string values that keep these filters (for links to the lists and exports)."""
        values = {"from": self.start.isoformat(), "to": self.end.isoformat(), "country": self.country,
                  "grant": self.grant_id or "", "forum": self.forum_id or "", **extra}
        return {k: str(v) for k, v in values.items() if v not in ("", None)}

    def narrowed(self, **changes) -> "ReportFilters":
        return ReportFilters(**{**self.__dict__, **changes})


def local_day(moment: datetime, zone: str) -> date:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(ZoneInfo(zone)).date()


def in_period(day: date | None, filters: ReportFilters) -> bool:
    return day is not None and filters.start <= day <= filters.end


def quarter_of(day: date) -> str:
    return f"{day.year} Q{(day.month - 1) // 3 + 1}"


def quarters(filters: ReportFilters) -> list[str]:
    result, day = [], date(filters.start.year, 3 * ((filters.start.month - 1) // 3) + 1, 1)
    while day <= filters.end:
        result.append(quarter_of(day))
        day = date(day.year + (day.month + 3 > 12), (day.month + 2) % 12 + 1, 1)
    return result


def _zones() -> list[str]:
    return list(db.session.execute(select(Forum.timezone).distinct()).scalars())


def _utc_start(day: date, zone: str) -> datetime:
    """Midnight at the start of ``day`` in ``zone``, in UTC."""
    return datetime.combine(day, time(0), ZoneInfo(zone)).astimezone(timezone.utc)


def local_window(column, start: date, end: date, zones: Iterable[str]):
    """SQL: ``column`` (a UTC time) falls on a date from ``start`` to ``end`` in its forum's zone (Forum joined)."""
    parts = [and_(Forum.timezone == zone, column >= _utc_start(start, zone),
                  column < _utc_start(end + timedelta(days=1), zone)) for zone in zones]
    return or_(*parts) if parts else false()


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
    return stmt


def _forum_ids(user, filters: ReportFilters):
    return scoped_forums(user, filters).with_only_columns(Forum.id).scalar_subquery()


# --- the lists behind the figures (and the exports) -------------------------------------------------

def meeting_condition(figure: str, filters: ReportFilters, zones: list[str]):
    window = local_window(Meeting.starts_at, filters.start, filters.end, zones)
    states = {"planned": ("scheduled",), "held": ("held",), "cancelled": ("cancelled",)}.get(
        figure, ("scheduled", "held", "cancelled"))
    # A draft cancelled before it was published was never a planned meeting.
    return and_(window, Meeting.state.in_(states), Meeting.published_at.is_not(None))


def meetings_stmt(user, filters: ReportFilters, figure: str = "") -> Select:
    zones = _zones()
    return (select(Meeting).join(Meeting.forum).where(Meeting.forum_id.in_(_forum_ids(user, filters)),
                                                      meeting_condition(figure, filters, zones))
            .order_by(Meeting.starts_at, Meeting.id))


def _last_update_subquery():
    return (select(ActionUpdate.action_id.label("action_id"), func.max(ActionUpdate.created_at).label("last_at"),
                   func.max(case((ActionUpdate.to_state == "accepted", 1), else_=0)).label("accepted"))
            .group_by(ActionUpdate.action_id).subquery())


def action_condition(figure: str, filters: ReportFilters, zones: list[str], now: datetime, history):
    """SQL for the actions behind one dashboard figure (``history``: ``_last_update_subquery()``, joined)."""
    from ..actions.queries import overdue_condition

    raised = local_window(ActionItem.created_at, filters.start, filters.end, zones)
    until_end = local_window(ActionItem.created_at, date(1900, 1, 1), filters.end, zones)
    stalled_before = now - timedelta(days=STALLED_DAYS)
    today_by_zone = [and_(Forum.timezone == zone, ActionItem.due_on <= local_day(now, zone)) for zone in zones]
    due = and_(ActionItem.due_on >= filters.start, ActionItem.due_on <= filters.end,
               or_(*today_by_zone) if today_by_zone else false())
    conditions = {
        "raised": raised,
        "confirmed": and_(raised, history.c.accepted == 1),
        "in_progress": and_(until_end, ActionItem.state == "in_progress"),
        "blocked": and_(until_end, ActionItem.state == "blocked"),
        "done": and_(ActionItem.state == "done",
                     local_window(ActionItem.closed_at, filters.start, filters.end, zones)),
        "overdue": overdue_condition(now),
        "stalled": and_(ActionItem.state.in_(ACTION_OPEN_STATES),
                        func.coalesce(history.c.last_at, ActionItem.created_at) < stalled_before),
        "due": due,
    }
    return conditions.get(figure, raised)


def actions_stmt(user, filters: ReportFilters, figure: str = "raised", now: datetime | None = None) -> Select:
    if figure == "on_time":
        raise ValueError("on_time is a share; list the 'due' actions")
    now = now or utcnow()
    history = _last_update_subquery()
    stmt = (select(ActionItem).join(ActionItem.forum).outerjoin(history, history.c.action_id == ActionItem.id)
            .where(ActionItem.forum_id.in_(_forum_ids(user, filters)),
                   action_condition(figure, filters, _zones(), now, history)))
    return stmt.order_by(ActionItem.forum_id, ActionItem.id)


# --- the dashboard ----------------------------------------------------------------------------------

@dataclass
class Figures:
    """The figures of one forum, grant, country or the whole report (they add up)."""

    forums: int = 0
    forums_active: int = 0
    planned: int = 0
    held: int = 0
    cancelled: int = 0
    invitees: int = 0
    present: int = 0
    walk_ins: int = 0
    attendees_by_kind: Counter = field(default_factory=Counter)
    attendees_by_gender: Counter = field(default_factory=Counter)
    raised: int = 0
    confirmed: int = 0
    in_progress: int = 0
    done: int = 0
    blocked: int = 0
    overdue: int = 0
    stalled: int = 0
    due: int = 0
    on_time: int = 0
    done_days: list[float] = field(default_factory=list)

    def add(self, other: "Figures") -> None:
        for name, value in other.__dict__.items():
            if isinstance(value, Counter):
                getattr(self, name).update(value)
            elif isinstance(value, list):
                getattr(self, name).extend(value)
            else:
                setattr(self, name, getattr(self, name) + value)

    @property
    def attendees(self) -> int:
        return self.present + self.walk_ins

    @property
    def attendance_rate(self) -> float | None:
        return self.present / self.invitees if self.invitees else None

    @property
    def confirmation_rate(self) -> float | None:
        return self.confirmed / self.raised if self.raised else None

    @property
    def on_time_share(self) -> float | None:
        return self.on_time / self.due if self.due else None

    @property
    def median_days_to_done(self) -> float | None:
        return round(statistics.median(self.done_days), 1) if self.done_days else None


@dataclass
class Row:
    level: str  # "country", "grant" or "forum"
    key: str | int
    label: str
    figures: Figures
    filters: ReportFilters  # the filters that narrow the lists to this row
    forum: Forum | None = None
    grant: Grant | None = None


@dataclass
class Trend:
    title: str
    unit: str
    points: list[tuple[str, float]]  # (quarter, value)
    link_figure: str = ""
    link_kind: str = ""  # "meetings" or "actions"

    @property
    def peak(self) -> float:
        return max((v for _, v in self.points), default=0) or 1


@dataclass
class Dashboard:
    filters: ReportFilters
    total: Figures
    countries: list[Row]
    grants: list[Row]
    forums: list[Row]
    coverage: list[tuple[Row, dict[str, bool]]]  # forum row, {kind: present at its last meetings}
    coverage_kinds: tuple[str, ...]
    trends: list[Trend]
    grant_choices: list[Grant]
    forum_choices: list[Forum]
    most_overdue: Row | None
    now: datetime


def dashboard(user, filters: ReportFilters, now: datetime | None = None) -> Dashboard:
    """Every figure of the dashboard, in seven queries whatever the data."""
    permissions.require(permissions.can_view_reports(user))
    now = now or utcnow()
    # 1. the forums in reach (with their grants), also for the filter choices
    reach = db.session.execute(permissions.report_forums(user).add_columns(Grant).join(Forum.grant)
                               .order_by(Forum.country, Grant.reference, Forum.title)).all()
    forums = [f for f, _ in reach if (not filters.country or f.country == filters.country)
              and (not filters.grant_id or f.grant_id == filters.grant_id)
              and (not filters.forum_id or f.id == filters.forum_id)]
    grants = {g.id: g for _, g in reach}
    by_forum = {f.id: Figures(forums=1) for f in forums}
    zone_of = {f.id: f.timezone for f in forums}
    ids = _forum_ids(user, filters)
    # A UTC window wide enough for every zone; the exact local date is judged per row.
    wide_start = datetime.combine(filters.start - timedelta(days=1), time(0), timezone.utc)
    wide_end = datetime.combine(filters.end + timedelta(days=2), time(0), timezone.utc)

    # 2. meetings (not drafts) starting in the period
    meetings = db.session.execute(
        select(Meeting.id, Meeting.forum_id, Meeting.state, Meeting.starts_at)
        .where(Meeting.forum_id.in_(ids), Meeting.published_at.is_not(None), Meeting.state != "draft",
               Meeting.starts_at >= wide_start, Meeting.starts_at < wide_end)).all()
    held_ids, quarter_of_meeting = set(), {}
    trend_held, trend_invitees, trend_present = Counter(), Counter(), Counter()
    for meeting_id, forum_id, state, starts_at in meetings:
        day = local_day(starts_at, zone_of[forum_id])
        if not in_period(day, filters):
            continue
        figures = by_forum[forum_id]
        figures.planned += state == "scheduled"
        figures.cancelled += state == "cancelled"
        if state == "held":
            figures.held += 1
            held_ids.add(meeting_id)
            quarter_of_meeting[meeting_id] = quarter_of(day)
            trend_held[quarter_of(day)] += 1
    forum_of_meeting = {m[0]: m[1] for m in meetings}

    # 3. invitees of those meetings, grouped by attendance, kind and gender
    held_stmt = select(Meeting.id).where(Meeting.forum_id.in_(ids), Meeting.state == "held",
                                         Meeting.starts_at >= wide_start, Meeting.starts_at < wide_end)
    for meeting_id, attendance, kind, gender, count in db.session.execute(
            select(Invitation.meeting_id, Invitation.attendance, Organisation.kind, User.gender, func.count())
            .join(User, User.id == Invitation.user_id).outerjoin(Organisation, Organisation.id == User.organisation_id)
            .where(Invitation.meeting_id.in_(held_stmt))
            .group_by(Invitation.meeting_id, Invitation.attendance, Organisation.kind, User.gender)):
        if meeting_id not in held_ids:
            continue
        figures = by_forum[forum_of_meeting[meeting_id]]
        figures.invitees += count
        trend_invitees[quarter_of_meeting[meeting_id]] += count
        if attendance == "present":
            figures.present += count
            trend_present[quarter_of_meeting[meeting_id]] += count
            figures.attendees_by_kind[kind or "other"] += count
            figures.attendees_by_gender[gender or "not_recorded"] += count

    # 4. walk-ins of those meetings, by kind (no gender is recorded for them)
    for meeting_id, kind, count in db.session.execute(
            select(WalkInAttendee.meeting_id, WalkInAttendee.organisation_kind, func.count())
            .where(WalkInAttendee.meeting_id.in_(held_stmt))
            .group_by(WalkInAttendee.meeting_id, WalkInAttendee.organisation_kind)):
        if meeting_id not in held_ids:
            continue
        figures = by_forum[forum_of_meeting[meeting_id]]
        figures.walk_ins += count
        figures.attendees_by_kind[kind] += count
        figures.attendees_by_gender["not_recorded"] += count

    # 5. every action of the forums, with its last update and whether it was ever accepted
    history = _last_update_subquery()
    stalled_before = now - timedelta(days=STALLED_DAYS)
    trend_raised, trend_done = Counter(), Counter()
    for forum_id, state, due_on, created_at, closed_at, last_at, accepted in db.session.execute(
            select(ActionItem.forum_id, ActionItem.state, ActionItem.due_on, ActionItem.created_at,
                   ActionItem.closed_at, history.c.last_at, history.c.accepted)
            .outerjoin(history, history.c.action_id == ActionItem.id).where(ActionItem.forum_id.in_(ids))):
        zone = zone_of[forum_id]
        figures = by_forum[forum_id]
        raised_on = local_day(created_at, zone)
        today = local_day(now, zone)
        if in_period(raised_on, filters):
            figures.raised += 1
            figures.confirmed += bool(accepted)
            trend_raised[quarter_of(raised_on)] += 1
        if raised_on <= filters.end:
            figures.in_progress += state == "in_progress"
            figures.blocked += state == "blocked"
        done_on = local_day(closed_at, zone) if state == "done" and closed_at else None
        if in_period(done_on, filters):
            figures.done += 1
            figures.done_days.append((closed_at - created_at).total_seconds() / 86400)
            trend_done[quarter_of(done_on)] += 1
        is_open = state in ACTION_OPEN_STATES
        if is_open and due_on is not None and due_on < today:
            figures.overdue += 1
        if is_open and _aware(last_at or created_at) < stalled_before:
            figures.stalled += 1
        if due_on is not None and in_period(due_on, filters) and due_on <= today:
            figures.due += 1
            figures.on_time += done_on is not None and done_on <= due_on

    # 6 and 7. kinds present at each forum's last held meetings up to the period's end
    coverage_kinds = _coverage(ids, filters)

    for forum_id, figures in by_forum.items():
        figures.forums_active = 1 if figures.held else 0
    total = Figures()
    countries: dict[str, Row] = {}
    grant_rows: dict[int, Row] = {}
    forum_rows = []
    for forum in forums:
        figures = by_forum[forum.id]
        total.add(figures)
        forum_rows.append(Row("forum", forum.id, forum.title, figures, filters.narrowed(forum_id=forum.id),
                              forum=forum, grant=grants[forum.grant_id]))
        country = countries.setdefault(forum.country, Row("country", forum.country, forum.country, Figures(),
                                                          filters.narrowed(country=forum.country)))
        country.figures.add(figures)
        grant = grants[forum.grant_id]
        grant_row = grant_rows.setdefault(grant.id, Row("grant", grant.id, grant.reference, Figures(),
                                                        filters.narrowed(grant_id=grant.id), grant=grant))
        grant_row.figures.add(figures)
    order = list(quarters(filters))
    trends = [
        Trend("Meetings held", "meetings", [(q, trend_held[q]) for q in order], "held", "meetings"),
        Trend("Attendance rate", "%", [(q, round(100 * trend_present[q] / trend_invitees[q], 1)
                                        if trend_invitees[q] else 0) for q in order], "held", "meetings"),
        Trend("Actions raised", "actions", [(q, trend_raised[q]) for q in order], "raised", "actions"),
        Trend("Actions done", "actions", [(q, trend_done[q]) for q in order], "done", "actions"),
    ]
    coverage = [(row, {kind: kind in coverage_kinds.get(row.forum.id, set()) for kind in CORE_ORGANISATION_KINDS})
                for row in forum_rows]
    most_overdue = max((r for r in forum_rows if r.figures.overdue), key=lambda r: r.figures.overdue, default=None)
    return Dashboard(filters, total, list(countries.values()), list(grant_rows.values()), forum_rows, coverage,
                     CORE_ORGANISATION_KINDS, trends,
                     sorted(grants.values(), key=lambda g: g.reference), [f for f, _ in reach], most_overdue, now)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _last_held_meetings(ids, filters: ReportFilters):
    """The ids of each forum's last ``COVERAGE_MEETINGS`` meetings held by the period's end (its local date)."""
    until_end = local_window(Meeting.starts_at, date(1900, 1, 1), filters.end, _zones())
    ranked = (select(Meeting.id.label("id"), func.row_number().over(
        partition_by=Meeting.forum_id, order_by=(Meeting.starts_at.desc(), Meeting.id.desc())).label("n"))
        .join(Forum, Forum.id == Meeting.forum_id)
        .where(Meeting.forum_id.in_(ids), Meeting.state == "held", until_end).subquery())
    return select(ranked.c.id).where(ranked.c.n <= COVERAGE_MEETINGS)


def _coverage(ids, filters: ReportFilters) -> dict[int, set[str]]:
    last = _last_held_meetings(ids, filters)
    kinds: dict[int, set[str]] = defaultdict(set)
    for forum_id, kind in db.session.execute(
            select(Meeting.forum_id, Organisation.kind).distinct()
            .join(Invitation, Invitation.meeting_id == Meeting.id).join(User, User.id == Invitation.user_id)
            .join(Organisation, Organisation.id == User.organisation_id)
            .where(Meeting.id.in_(last), Invitation.attendance == "present")):
        kinds[forum_id].add(kind)
    for forum_id, kind in db.session.execute(
            select(Meeting.forum_id, WalkInAttendee.organisation_kind).distinct()
            .join(WalkInAttendee, WalkInAttendee.meeting_id == Meeting.id).where(Meeting.id.in_(last))):
        kinds[forum_id].add(kind)
    return kinds


# --- the printable forum progress report -----------------------------------------------------------

@dataclass
class ForumProgress:
    row: Row
    meetings: list[Meeting]
    actions: list[ActionItem]
    overdue: list[ActionItem]
    coverage: dict[str, bool]


@dataclass
class ProgressReport:
    filters: ReportFilters
    forums: list[ForumProgress]
    now: datetime


def progress_report(user, filters: ReportFilters, now: datetime | None = None) -> ProgressReport:
    """One page per forum: its figures, the period's meetings, its open actions (and those done in the period)."""
    from sqlalchemy.orm import joinedload

    from ..actions.queries import is_overdue

    now = now or utcnow()
    page = dashboard(user, filters, now)
    meetings: dict[int, list[Meeting]] = defaultdict(list)
    for meeting in db.session.execute(meetings_stmt(user, filters)).scalars():
        meetings[meeting.forum_id].append(meeting)
    zones = _zones()
    history = _last_update_subquery()
    actions: dict[int, list[ActionItem]] = defaultdict(list)
    stmt = (select(ActionItem).join(ActionItem.forum).outerjoin(history, history.c.action_id == ActionItem.id)
            .where(ActionItem.forum_id.in_(_forum_ids(user, filters)),
                   or_(ActionItem.state.in_(ACTION_OPEN_STATES), action_condition("done", filters, zones, now, history)))
            .options(joinedload(ActionItem.owner), joinedload(ActionItem.owner_organisation),
                     joinedload(ActionItem.forum))
            .order_by(ActionItem.due_on, ActionItem.id))
    for action in db.session.execute(stmt).unique().scalars():
        actions[action.forum_id].append(action)
    coverage = {row.forum.id: kinds for row, kinds in page.coverage}
    return ProgressReport(filters, [
        ForumProgress(row, meetings[row.forum.id], actions[row.forum.id],
                      [a for a in actions[row.forum.id] if is_overdue(a, now)], coverage[row.forum.id])
        for row in page.forums], now)
