"""The programme dashboard and the lists behind its figures, in a fixed number of queries.

Every figure is counted by the database: grouped, conditional aggregates that return a row per
forum (and per quarter for the trends, per kind of organisation for attendance, per whole day
for the median), never a row per action or invitation, so neither the query count nor the rows
read into Python grow with the data. The lists behind the figures (and the exports) use the same
rules as SQL conditions (``meeting_condition``, ``action_condition``). Periods are calendar dates
judged in each forum's own time zone: a meeting at 00:30 in Sarajevo on 1 April is in April,
although it is 31 March in UTC. The SQL compares UTC times with the UTC moments at which the
local dates begin, computed in Python per group of zones that share them (``_by_zone``).

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

import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from functools import cached_property
from typing import Any, NamedTuple
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import current_app
from markupsafe import Markup, escape
from sqlalchemy import DateTime, Integer, Select, and_, case, delete, false, func, null, or_, select, union
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

from .. import permissions
from ..actions.queries import by_local_today, overdue_condition
from ..core.clock import utcnow
from ..core.kept import Kept
from ..core.paging import Page, paginate, paginate_narrow, parse_page_number
from ..database import wants_write
from ..extensions import db
from ..models import (
    ActionItem, Forum, Grant, Invitation, KeptFigures, Meeting, Organisation, User, WalkInAttendee,
)
from ..vocab import ACTION_OPEN_STATES, CORE_ORGANISATION_KINDS, COUNTRIES

STALLED_DAYS = 30
# Coverage: kinds present at any of a forum's last few held meetings up to the period's end.
COVERAGE_MEETINGS = 3
MEETING_FIGURES = ("planned", "held", "cancelled")
ACTION_FIGURES = ("raised", "confirmed", "in_progress", "done", "blocked", "overdue", "stalled", "due", "on_time")
FAR_PAST = date(1900, 1, 1)
TREND_QUARTERS = 40  # the trends show at most this many buckets (ten years by quarter)


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
        # Dates the zone arithmetic can handle (a local midnight a day either side must exist).
        start, end = max(start, FAR_PAST), min(end, date(9998, 12, 30))
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


def quarter_of(day: date) -> str:
    return f"{day.year} Q{(day.month - 1) // 3 + 1}"


def _quarter_starts(filters: ReportFilters) -> list[date]:
    result, day = [], date(filters.start.year, 3 * ((filters.start.month - 1) // 3) + 1, 1)
    while day <= filters.end:
        result.append(day)
        day = date(day.year + (day.month + 3 > 12), (day.month + 2) % 12 + 1, 1)
    return result


def _period_bounds(filters: ReportFilters) -> list[date]:
    """The period cut at its last ``TREND_QUARTERS`` quarters (bucket ``i`` of ``local_bucket`` is ``quarters()[i]``).

    A longer period's earlier quarters share the first bucket, so a period of decades still
    makes a trend of a readable size (and SQL of a bounded one).
    """
    return [filters.start, *_quarter_starts(filters)[1:][-(TREND_QUARTERS - 1):], filters.end + timedelta(days=1)]


def quarters(filters: ReportFilters) -> list[str]:
    """The trend's labels: a quarter each, the first one "… to <quarter>" when it holds earlier ones too."""
    starts = _period_bounds(filters)[:-1]
    labels = [quarter_of(day) for day in starts]
    if len(starts) > 1 and quarter_of(starts[0]) != quarter_of(starts[1] - timedelta(days=1)):
        labels[0] = f"{quarter_of(starts[0])} – {quarter_of(starts[1] - timedelta(days=1))}"
    return labels


def _zones() -> list[str]:
    return list(db.session.execute(select(Forum.timezone).distinct()).scalars())


def _utc_start(day: date, zone: str) -> datetime:
    """Midnight at the start of ``day`` in ``zone``, in UTC."""
    return datetime.combine(day, time(0), ZoneInfo(zone)).astimezone(timezone.utc)


# --- forum-local dates in SQL -----------------------------------------------------------------------

def _by_zone(zones: Iterable[str], key: Callable[[str], Any], build: Callable[[Any], Any], default=None):
    """SQL that depends on the forum's zone (Forum joined): ``build(key(zone))`` per group of zones sharing a key.

    A programme's zones mostly share their keys (the UTC moments a date begins), so this is
    usually one group and no CASE at all; the key is computed once per zone.
    """
    groups: dict[Any, list[str]] = defaultdict(list)
    for zone in sorted(set(zones)):
        groups[key(zone)].append(zone)
    if not groups:
        return default
    if len(groups) == 1:
        return build(next(iter(groups)))
    return case(*[(Forum.timezone.in_(names), build(k)) for k, names in groups.items()], else_=default)


def local_window(column, start: date, end: date, zones: Iterable[str]):
    """SQL: ``column`` (a UTC time) falls on a date from ``start`` to ``end`` in its forum's zone (Forum joined)."""
    groups: dict[tuple[datetime, datetime], list[str]] = defaultdict(list)
    for zone in sorted(set(zones)):
        groups[(_utc_start(start, zone), _utc_start(end + timedelta(days=1), zone))].append(zone)
    if not groups:
        return false()
    if len(groups) == 1:
        (lo, hi), = groups
        return and_(column >= lo, column < hi)
    parts = [and_(Forum.timezone.in_(names), column >= lo, column < hi) for (lo, hi), names in groups.items()]
    # The widest bounds first, as one range an index can serve; the zones' own bounds then decide.
    return and_(column >= min(lo for lo, _ in groups), column < max(hi for _, hi in groups), or_(*parts))


def local_before(column, day: date, zones: Iterable[str]):
    """SQL: ``column`` (a UTC time) falls before the date ``day`` in its forum's zone (Forum joined)."""
    return _by_zone(zones, lambda zone: _utc_start(day, zone), lambda bound: column < bound, default=false())


def local_bucket(column, days: Sequence[date], zones: Iterable[str], before: int | None = None):
    """SQL: ``i`` when ``column`` falls from local date ``days[i]`` up to (not on) ``days[i + 1]``;
    ``before`` when it falls before ``days[0]``; NULL otherwise."""
    def build(bounds: tuple[datetime, ...]):
        return case((column < bounds[0], null() if before is None else before),
                    *[(column < bound, i) for i, bound in enumerate(bounds[1:])], else_=null())
    return _by_zone(zones, lambda zone: tuple(_utc_start(day, zone) for day in days), build, default=null())


def before_local_today(date_column, now: datetime, zones: Iterable[str], or_equal: bool = False):
    """SQL: the date ``date_column`` is before (or on) the forum's today."""
    return _by_zone(zones, lambda zone: local_day(now, zone),
                    lambda today: date_column <= today if or_equal else date_column < today, default=false())


class date_plus_seconds(FunctionElement):
    """SQL: the timestamp ``seconds`` after midnight of the date ``column`` (naive, like the stored UTC times)."""

    type = DateTime()
    inherit_cache = True
    name = "date_plus_seconds"


@compiles(date_plus_seconds)
def _date_plus_seconds(element, compiler, **kw):
    column, seconds = list(element.clauses)
    return f"(CAST({compiler.process(column, **kw)} AS TIMESTAMP) + INTERVAL '{int(seconds.value)} seconds')"


@compiles(date_plus_seconds, "sqlite")
def _date_plus_seconds_sqlite(element, compiler, **kw):
    # Text like the stored times ("YYYY-MM-DD HH:MM:SS[.ffffff]"), so they compare as text.
    column, seconds = list(element.clauses)
    return f"datetime({compiler.process(column, **kw)}, '+{int(seconds.value)} seconds')"


class whole_days(FunctionElement):
    """SQL: the completed 24-hour days from the second time to the first (both UTC, the first later)."""

    type = Integer()
    inherit_cache = True
    name = "whole_days"


@compiles(whole_days)
def _whole_days(element, compiler, **kw):
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(FLOOR(EXTRACT(EPOCH FROM ({later} - {earlier})) / 86400) AS INTEGER)"


@compiles(whole_days, "sqlite")
def _whole_days_sqlite(element, compiler, **kw):
    # julianday() keeps milliseconds in a float: rounded to whole milliseconds first, then divided as
    # integers, so exactly ten days is 10 (not 9.999…) and the floor is exact.
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"(CAST((julianday({later}) - julianday({earlier})) * 86400000 + 0.5 AS INTEGER) / 86400000)"


def _midnight_offsets(zone: str, first: date, last: date) -> tuple[tuple[date, int], ...]:
    """For due dates ``first``..``last``: (from this due date on, UTC offset in seconds of the midnight ending it).

    Offsets change at most twice a year: probed month by month, the day found by bisection.
    """
    tz = ZoneInfo(zone)

    def offset(due: date) -> int:
        return int(datetime.combine(due + timedelta(days=1), time(0), tz).utcoffset().total_seconds())

    result = [(first, offset(first))]
    day = first
    while day < last:
        probe = min(last, day + timedelta(days=28))
        if offset(probe) != result[-1][1]:
            lo, hi = day, probe  # offset(lo) is the current one, offset(hi) differs
            while (hi - lo).days > 1:
                mid = lo + (hi - lo) / 2
                lo, hi = (mid, hi) if offset(mid) == result[-1][1] else (lo, mid)
            result.append((hi, offset(hi)))
            day = hi
        else:
            day = probe
    return tuple(result)


def end_of_local_day(date_column, first: date, last: date, zones: Iterable[str]):
    """SQL: the UTC moment the local date ``date_column`` (from ``first`` to ``last``) ends in its forum's zone."""
    def build(segments: tuple[tuple[date, int], ...]):
        moments = [date_plus_seconds(date_column, 86400 - seconds) for _, seconds in segments]
        if len(segments) == 1:
            return moments[0]
        return case(*[(date_column < segments[i + 1][0], moments[i]) for i in range(len(segments) - 1)],
                    else_=moments[-1])
    return _by_zone(zones, lambda zone: _midnight_offsets(zone, first, max(first, last)), build, default=null())


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


def _stalled(now: datetime):
    last = func.coalesce(ActionItem.last_update_at, ActionItem.created_at)
    return and_(ActionItem.state.in_(ACTION_OPEN_STATES), last < now - timedelta(days=STALLED_DAYS))


def _on_time(filters: ReportFilters, zones: list[str], now: datetime):
    """Done by the end of its due date in the forum's zone (for the actions due in the period, up to today)."""
    last = min(filters.end, now.date() + timedelta(days=1))  # no forum's today is later
    return and_(ActionItem.state == "done",
                ActionItem.closed_at < end_of_local_day(ActionItem.due_on, filters.start, last, zones))


def action_condition(figure: str, filters: ReportFilters, zones: list[str], now: datetime):
    """SQL for the actions behind one dashboard figure (Forum joined)."""
    raised = local_window(ActionItem.created_at, filters.start, filters.end, zones)
    until_end = local_before(ActionItem.created_at, filters.end + timedelta(days=1), zones)
    due = and_(ActionItem.due_on >= filters.start, ActionItem.due_on <= filters.end,
               before_local_today(ActionItem.due_on, now, zones, or_equal=True))
    conditions = {
        "raised": raised,
        "confirmed": and_(raised, ActionItem.confirmed_at.is_not(None)),
        "in_progress": and_(until_end, ActionItem.state == "in_progress"),
        "blocked": and_(until_end, ActionItem.state == "blocked"),
        "done": and_(ActionItem.state == "done",
                     local_window(ActionItem.closed_at, filters.start, filters.end, zones)),
        "overdue": overdue_condition(now, by_local_today(zones, now)),  # the rule the action pages use
        "stalled": _stalled(now),
        "due": due,
        "on_time": and_(due, _on_time(filters, zones, now)),
    }
    return conditions.get(figure, raised)


# The lists whose length the forums' kept figures give exactly: what they count does not move with the
# clock, so a forum's figure kept under its current ``figures_stamp`` is its count now. Overdue, stalled
# and due move with the clock (kept figures may be up to an hour old): those lists are always counted.
KEPT_MEETING_TOTALS: dict[str, Callable[["Figures"], int]] = {
    "": lambda f: f.planned + f.held + f.cancelled, "planned": lambda f: f.planned, "held": lambda f: f.held,
    "cancelled": lambda f: f.cancelled}
KEPT_ACTION_TOTALS: dict[str, Callable[["Figures"], int]] = {
    name: (lambda f, name=name: getattr(f, name)) for name in ("raised", "confirmed", "in_progress", "blocked", "done")}


def _counted_total(user, filters: ReportFilters, now: datetime, kept_figure: Callable[["Figures"], int] | None,
                   stmt: Select, forum_column) -> int:
    """How many rows ``stmt`` (a list behind a figure) has: the forums' kept figures added up, and only
    the forums without kept figures (none after a dashboard view this hour) counted by the database.

    Counting tens of thousands of rows was most of a list's time at programme scale; reading the
    forums' stamps is one small query. ``kept_figure`` None: the list moves with the clock, count it all.
    """
    uncounted = None
    total = 0
    if kept_figure is not None:
        hour = _hour(now)
        scope = db.session.execute(scoped_forums(user, filters).with_only_columns(
            Forum.id, Forum.figures_stamp, Forum.timezone)).all()
        uncounted = []
        for forum_id, stamp, zone in scope:
            kept = _KEPT.get(_kept_key(forum_id, stamp, zone, filters, hour))
            if kept is None:
                uncounted.append(forum_id)
            else:
                total += kept_figure(kept[0])
        if not uncounted:
            return total
        if len(uncounted) == len(scope):
            uncounted = None  # nothing kept: the whole list, as if no figure were
    if uncounted is not None:
        stmt = stmt.where(forum_column.in_(uncounted))
    return total + db.session.execute(select(func.count()).select_from(
        stmt.with_only_columns(forum_column).order_by(None).subquery())).scalar_one()


def meetings_page(user, filters: ReportFilters, figure: str, raw_page: str | None, options: Sequence = (),
                  now: datetime | None = None) -> Page:
    """A page of ``meetings_stmt``, its total from the forums' kept figures where they are kept."""
    stmt = meetings_stmt(user, filters, figure)
    total = _counted_total(user, filters, now or utcnow(), KEPT_MEETING_TOTALS.get(figure), stmt, Meeting.forum_id)
    return paginate(stmt.options(*options), raw_page, total=total)


def actions_page(user, filters: ReportFilters, figure: str, raw_page: str | None, options: Sequence = (),
                 now: datetime | None = None) -> Page:
    """A page of ``actions_stmt``: its total from the kept figures (or counted), then the page's ids
    sorted alone (narrow rows), then those loaded (``paginate_narrow``).

    Sorting the whole matching set with its joined owner and organisation to keep 25 rows
    was most of the list's time at programme scale.
    """
    now = now or utcnow()
    stmt = actions_stmt(user, filters, figure, now)
    total = _counted_total(user, filters, now, KEPT_ACTION_TOTALS.get(figure), stmt, ActionItem.forum_id)
    return paginate_narrow(stmt, raw_page, tuple(options), total=total)


def actions_stmt(user, filters: ReportFilters, figure: str = "raised", now: datetime | None = None) -> Select:
    if figure == "on_time":
        raise ValueError("on_time is a share; list the 'due' actions")
    now = now or utcnow()
    stmt = (select(ActionItem).join(ActionItem.forum)
            .where(ActionItem.forum_id.in_(_forum_ids(user, filters)),
                   action_condition(figure, filters, _zones(), now)))
    return stmt.order_by(ActionItem.forum_id, ActionItem.id)


# --- the figures ------------------------------------------------------------------------------------

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
    # Whole days raised → done: how many of the actions done in the period took each (a histogram,
    # so the figures of forums add up and the median stays exact).
    done_days: Counter = field(default_factory=Counter)

    def add(self, other: "Figures") -> None:
        for name, value in other.__dict__.items():
            if isinstance(value, Counter):
                getattr(self, name).update(value)
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
        """The exact median of the whole days, read from the histogram."""
        count = sum(n for n in self.done_days.values() if n > 0)
        if not count:
            return None
        # 1-based positions of the middle value(s): the same one when the count is odd.
        low_at, high_at = (count + 1) // 2, count // 2 + 1
        seen, low = 0, None
        for days in sorted(d for d, n in self.done_days.items() if n > 0):
            seen += self.done_days[days]
            if low is None and seen >= low_at:
                low = days
            if seen >= high_at:
                return round((low + days) / 2, 1)
        return None  # not reached: the positions are within the count


@dataclass
class Row:
    level: str  # "country", "grant" or "forum"
    key: str | int
    label: str
    figures: Figures
    filters: ReportFilters  # the filters that narrow the lists to this row
    forum: ForumInfo | None = None
    grant: GrantInfo | None = None

    # Worked out once per row, not per cell or per request: the dashboard keeps its rows (``_SUMMARIES``)
    # and a row's figures do not change once it is shown.
    @cached_property
    def qs(self) -> Markup:
        """The query string of the filters that narrow the lists to this row, escaped for the row's links."""
        return escape(urlencode(self.filters.args()))

    @cached_property
    def attendance_pct(self) -> str | None:
        return _pct(self.figures.attendance_rate)

    @cached_property
    def confirmation_pct(self) -> str | None:
        return _pct(self.figures.confirmation_rate)

    @cached_property
    def on_time_pct(self) -> str | None:
        return _pct(self.figures.on_time_share)

    @cached_property
    def median_days(self) -> float | None:
        return self.figures.median_days_to_done


def _pct(share: float | None) -> str | None:
    return None if share is None else f"{100 * share:.0f}%"


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


class ForumInfo(NamedTuple):
    """What the reports show and key on of a forum, read as plain values (no ORM object to load or keep)."""

    id: int
    title: str
    city: str
    country: str
    timezone: str
    grant_id: int
    figures_stamp: int


class GrantInfo(NamedTuple):
    id: int
    reference: str
    programme_id: int


_REACH_COLUMNS = (Forum.id, Forum.title, Forum.city, Forum.country, Forum.timezone, Forum.grant_id,
                  Forum.figures_stamp, Grant.id, Grant.reference, Grant.programme_id)


def _reach_rows(user) -> list[tuple]:
    """The forums in the person's reach with their grants, as plain tuples in the report's order.

    Also the key of everything kept from them: it holds every value shown of a forum or grant
    and each forum's ``figures_stamp``, so a renamed forum or a write to its meetings or actions
    is a new key.
    """
    return [tuple(row) for row in db.session.execute(
        permissions.report_forums(user).with_only_columns(*_REACH_COLUMNS).join(Forum.grant)
        .order_by(Forum.country, Grant.reference, Forum.title, Forum.id))]


def _reach(rows: list[tuple]) -> list[tuple[ForumInfo, GrantInfo]]:
    grants: dict[int, GrantInfo] = {}
    reach = []
    for row in rows:
        grant = grants.get(row[7]) or grants.setdefault(row[7], GrantInfo(*row[7:]))
        reach.append((ForumInfo(*row[:7]), grant))
    return reach


def _hour(now: datetime) -> datetime:
    # Kept figures hold for an hour: overdue and stalled move with the clock.
    return now.replace(minute=0, second=0, microsecond=0)


@dataclass
class ReportFigures:
    """Every forum's figures in the report, and the quarterly counts of the trends."""

    filters: ReportFilters
    reach: list[tuple[ForumInfo, GrantInfo]]  # every forum the person may report on (the filter choices)
    forums: list[Row]  # the forums of the report, ordered by country, grant and title
    by_quarter: dict[str, Counter]  # "held", "invitees", "present", "raised", "done": {bucket: n}
    zones: list[str]
    coverage: dict[int, frozenset[str]]  # forum id → kinds present at its last meetings by the period's end

    @property
    def grants(self) -> dict[int, GrantInfo]:
        return {g.id: g for _, g in self.reach}


def _kept_key(forum_id: int, stamp: int, zone: str, filters: ReportFilters, hour: datetime) -> tuple:
    return (forum_id, stamp, zone, filters.start, filters.end, hour)


def report_figures(user, filters: ReportFilters, now: datetime | None = None,
                   reach_rows: list[tuple] | None = None) -> ReportFigures:
    """Each forum's figures, counted by the database: grouped queries whose rows are bounded by the forums.

    A forum's counted figures are kept (``_KEPT``) while its ``figures_stamp`` stands (a write to its
    meetings, invitations or actions moves it: reports/stamps.py), for the same period and the same
    hour (overdue and stalled move with the clock; they may lag by up to an hour). Only the forums
    whose stamp moved are counted again. ``reach_rows``: ``_reach_rows(user)`` if the caller read it.
    """
    permissions.require(permissions.can_view_reports(user))
    now = now or utcnow()
    # 1. the forums in reach (with their grants), also for the filter choices
    reach = _reach(reach_rows if reach_rows is not None else _reach_rows(user))
    forums = [f for f, _ in reach if (not filters.country or f.country == filters.country)
              and (not filters.grant_id or f.grant_id == filters.grant_id)
              and (not filters.forum_id or f.id == filters.forum_id)]
    zones = _zones()  # 2.
    hour = _hour(now)
    by_forum: dict[int, Figures] = {}
    forum_quarters: dict[int, dict[str, Counter]] = {}
    coverage: dict[int, frozenset[str]] = {}
    stale = []
    for forum in forums:
        kept = _KEPT.get(_kept_key(forum.id, forum.figures_stamp, forum.timezone, filters, hour))
        if kept is None:
            stale.append(forum)
        else:
            by_forum[forum.id], forum_quarters[forum.id], coverage[forum.id] = kept
    if stale:  # counted by another process this hour?
        keys = {f.id: _kept_key(f.id, f.figures_stamp, f.timezone, filters, hour) for f in stale}
        shared = _shared(list(keys.values()))
        for forum in stale:
            if (kept := shared.get(keys[forum.id])) is not None:
                _KEPT.put(keys[forum.id], kept)
                by_forum[forum.id], forum_quarters[forum.id], coverage[forum.id] = kept
        stale = [f for f in stale if keys[f.id] not in shared]
    if stale:
        counted = {f.id: Figures(forums=1) for f in stale}
        quarters_counted: dict[int, dict[str, Counter]] = {f.id: defaultdict(Counter) for f in stale}
        _count(counted, quarters_counted, list(counted), filters, zones, now)
        kinds = _coverage(list(counted), filters, zones)  # 9.
        to_share = {}
        for forum in stale:
            kept = (counted[forum.id], quarters_counted[forum.id], frozenset(kinds.get(forum.id, ())))
            key = _kept_key(forum.id, forum.figures_stamp, forum.timezone, filters, hour)
            _KEPT.put(key, kept)
            to_share[key] = kept
            by_forum[forum.id], forum_quarters[forum.id], coverage[forum.id] = kept
        _share(to_share, hour)
    by_quarter: dict[str, Counter] = defaultdict(Counter)
    for counts in forum_quarters.values():
        for name, buckets in counts.items():
            by_quarter[name].update(buckets)
    grants = {g.id: g for _, g in reach}
    rows = [Row("forum", f.id, f.title, by_forum[f.id], filters.narrowed(forum_id=f.id), forum=f,
                grant=grants[f.grant_id]) for f in forums]
    return ReportFigures(filters, reach, rows, by_quarter, zones, coverage)


# Figures are read, never changed, once counted (rows add them into new totals): kept as they are.
# 4,000 forum-periods: a programme of 120 forums in a few dozen periods, a few MB at most.
_KEPT = Kept(4000)

# --- figures shared between processes (models.KeptFigures) -------------------------------------------
# A worker that has not counted a forum this hour reads what another worker or node counted under
# the same key before counting it itself: the programme is counted once an hour, not once per process
# (~0.4 s at 120 forums; reading 120 rows back, a few ms). The payload's version is in the key, so a
# change to ``Figures`` never reads rows written by older code.
_PAYLOAD_VERSION = 1


def _shared_key(key: tuple) -> str:
    forum_id, stamp, zone, start, end, hour = key
    return f"v{_PAYLOAD_VERSION}/{forum_id}/{stamp}/{zone}/{start.isoformat()}/{end.isoformat()}/{hour:%Y-%m-%dT%H}"


def _pack(figures: Figures, by_quarter: dict[str, Counter], kinds: frozenset[str]) -> str:
    # Counters as lists of pairs: JSON would make the whole days' (int) keys strings.
    values = {name: list(value.items()) if isinstance(value, Counter) else value
              for name, value in figures.__dict__.items()}
    quarters = {name: list(counts.items()) for name, counts in by_quarter.items()}
    return json.dumps({"figures": values, "quarters": quarters, "kinds": sorted(kinds)}, separators=(",", ":"))


def _unpack(payload: str) -> tuple[Figures, dict[str, Counter], frozenset[str]]:
    data = json.loads(payload)
    figures = Figures()
    for name, value in data["figures"].items():
        setattr(figures, name, Counter(dict(value)) if isinstance(getattr(figures, name), Counter) else value)
    by_quarter: dict[str, Counter] = defaultdict(Counter, {name: Counter(dict(pairs))
                                                           for name, pairs in data["quarters"].items()})
    return figures, by_quarter, frozenset(data["kinds"])


def _shared(keys: list[tuple]) -> dict[tuple, tuple]:
    """The figures other processes counted under ``keys`` (those found)."""
    by_text = {_shared_key(key): key for key in keys}
    rows = db.session.execute(select(KeptFigures.key, KeptFigures.payload)
                              .where(KeptFigures.key.in_(list(by_text)))).all()
    return {by_text[text]: _unpack(payload) for text, payload in rows}


def _share(counted: dict[tuple, tuple], hour: datetime) -> None:
    """Write the figures this process counted for the others (and drop those of past hours).

    In a transaction of its own, committed at once, whatever the request does next. A process
    that wrote the same key first wins (the figures are the same). Sharing is an optimisation:
    if it fails (a lock held too long), the page is shown all the same and others count themselves.
    """
    # On SQLite, not from a transaction that writes or may (outside GET requests ``database.py`` begins
    # them IMMEDIATE): it holds the one write lock, and the sharing transaction would wait for it.
    # (A GET's reads do not block it: WAL.)
    sqlite = db.engine.dialect.name == "sqlite"
    if not counted or (sqlite and wants_write()):
        return
    insert = sqlite_insert if sqlite else postgresql_insert
    rows = [{"key": _shared_key(key), "hour": hour, "payload": _pack(*kept)} for key, kept in counted.items()]
    try:
        with db.engine.begin() as connection:
            # The hour before stays: another node's clock may be a little behind.
            connection.execute(delete(KeptFigures).where(KeptFigures.hour < hour - timedelta(hours=1)))
            connection.execute(insert(KeptFigures).on_conflict_do_nothing(index_elements=["key"]), rows)
    except DBAPIError:
        current_app.logger.warning("Counted report figures not shared", exc_info=True)


def _grouped(columns: dict[str, Any], where: Sequence, joins: Sequence, group: Sequence[str],
             aggregates: dict[str, Any], base) -> list:
    """``aggregates`` of the rows of ``base`` (with ``columns`` computed per row), grouped by ``group``.

    The per-row expressions go in a subquery so the grouping names them: PostgreSQL would
    otherwise see two copies of an expression carrying bind parameters as different.
    """
    inner = select(*[expr.label(name) for name, expr in columns.items()]).select_from(base)
    for target, on in joins:
        inner = inner.join(target, on)
    inner = inner.where(*where).subquery()
    stmt = (select(*[inner.c[name] for name in group], *[agg(inner.c).label(name) for name, agg in aggregates.items()])
            .group_by(*[inner.c[name] for name in group]))
    return db.session.execute(stmt).all()


def _count(by_forum: dict[int, Figures], by_quarter: dict[int, dict[str, Counter]], ids: list[int],
           filters: ReportFilters, zones: list[str], now: datetime) -> None:
    """Count the figures of the forums ``ids`` into ``by_forum`` and their quarterly counts into ``by_quarter``
    (per forum: "held", "invitees", "present", "raised", "done" → {bucket: n})."""
    bounds = _period_bounds(filters)
    # A UTC window wide enough for every zone, so the indexes narrow; the local date is judged in SQL.
    wide_start = datetime.combine(filters.start - timedelta(days=1), time(0), timezone.utc)
    wide_end = datetime.combine(filters.end + timedelta(days=2), time(0), timezone.utc)
    forum_join = [(Forum, Forum.id == Meeting.forum_id)]

    # 3. meetings (not drafts) starting in the period, by state and quarter
    for forum_id, quarter, state, count in _grouped(
            {"forum_id": Meeting.forum_id, "q": local_bucket(Meeting.starts_at, bounds, zones), "state": Meeting.state},
            [Meeting.forum_id.in_(ids), Meeting.published_at.is_not(None),
             Meeting.state.in_(("scheduled", "held", "cancelled")),
             Meeting.starts_at >= wide_start, Meeting.starts_at < wide_end],
            forum_join, ("forum_id", "q", "state"), {"n": lambda c: func.count()}, Meeting):
        if quarter is None:
            continue
        figures = by_forum[forum_id]
        if state == "held":
            figures.held += count
            by_quarter[forum_id]["held"][quarter] += count
        elif state == "scheduled":
            figures.planned += count
        else:
            figures.cancelled += count

    held = [Meeting.forum_id.in_(ids), Meeting.state == "held", Meeting.starts_at >= wide_start,
            Meeting.starts_at < wide_end]
    # 4. invitees of the meetings held in the period: how many, how many present, per quarter. Counted per
    # meeting first, so the local dates are judged once per meeting, not once per invitation.
    held_ids = select(Meeting.id).where(*held)
    per_meeting = (select(Invitation.meeting_id.label("meeting_id"), func.count().label("invitees"),
                          func.sum(case((Invitation.attendance == "present", 1), else_=0)).label("present"))
                   .where(Invitation.meeting_id.in_(held_ids)).group_by(Invitation.meeting_id).subquery())
    for forum_id, quarter, invitees, present in _grouped(
            {"forum_id": Meeting.forum_id, "q": local_bucket(Meeting.starts_at, bounds, zones),
             "invitees": per_meeting.c.invitees, "present": per_meeting.c.present},
            held, [(per_meeting, per_meeting.c.meeting_id == Meeting.id), *forum_join], ("forum_id", "q"),
            {"invitees": lambda c: func.sum(c.invitees), "present": lambda c: func.sum(c.present)}, Meeting):
        if quarter is None:
            continue
        figures = by_forum[forum_id]
        # Whole numbers on every database (PostgreSQL's SUM of counts is a numeric, read as Decimal).
        invitees, present = int(invitees), int(present or 0)
        figures.invitees += invitees
        figures.present += present
        by_quarter[forum_id]["invitees"][quarter] += invitees
        by_quarter[forum_id]["present"][quarter] += present

    # 5. the invitees present, by kind of organisation and gender (of the meetings in the period, judged once each)
    in_period_ids = (select(Meeting.id).join(Forum, Forum.id == Meeting.forum_id)
                     .where(*held, local_window(Meeting.starts_at, filters.start, filters.end, zones)))
    for forum_id, kind, gender, count in db.session.execute(
            select(Meeting.forum_id, Organisation.kind, User.gender, func.count())
            .join(Invitation, Invitation.meeting_id == Meeting.id)
            .join(User, User.id == Invitation.user_id).outerjoin(Organisation, Organisation.id == User.organisation_id)
            .where(Meeting.id.in_(in_period_ids), Invitation.attendance == "present")
            .group_by(Meeting.forum_id, Organisation.kind, User.gender)):
        figures = by_forum[forum_id]
        figures.attendees_by_kind[kind or "other"] += count
        figures.attendees_by_gender[gender or "not_recorded"] += count

    # 6. walk-ins of those meetings, by kind (no gender is recorded for them)
    for forum_id, kind, count in db.session.execute(
            select(Meeting.forum_id, WalkInAttendee.organisation_kind, func.count())
            .join(WalkInAttendee, WalkInAttendee.meeting_id == Meeting.id)
            .where(Meeting.id.in_(in_period_ids)).group_by(Meeting.forum_id, WalkInAttendee.organisation_kind)):
        figures = by_forum[forum_id]
        figures.walk_ins += count
        figures.attendees_by_kind[kind] += count
        figures.attendees_by_gender["not_recorded"] += count

    # 7. the actions, per forum, the quarter they were raised in (-1: before the period) and the one they
    # were done in: the bucket is computed once per row and the figures that hang on it are added up here.
    action_forum = [(Forum, Forum.id == ActionItem.forum_id)]
    flags = {name: action_condition(name, filters, zones, now) for name in ("overdue", "stalled", "due", "on_time")}
    columns = {"forum_id": ActionItem.forum_id,
               "raised_q": local_bucket(ActionItem.created_at, bounds, zones, before=-1),
               "done_q": case((ActionItem.state == "done", local_bucket(ActionItem.closed_at, bounds, zones)),
                              else_=null()),
               "confirmed": case((ActionItem.confirmed_at.is_not(None), 1), else_=0),
               "in_progress": case((ActionItem.state == "in_progress", 1), else_=0),
               "blocked": case((ActionItem.state == "blocked", 1), else_=0),
               **{name: case((condition, 1), else_=0) for name, condition in flags.items()}}
    sums = {"n": lambda c: func.count(),
            **{name: (lambda c, name=name: func.sum(c[name])) for name in list(columns)[3:]}}
    for forum_id, raised_q, done_q, n, confirmed, in_progress, blocked, *rest in _grouped(
            columns, [ActionItem.forum_id.in_(ids)], action_forum, ("forum_id", "raised_q", "done_q"), sums,
            ActionItem):
        figures = by_forum[forum_id]
        if raised_q is not None:  # raised by the period's end: in progress and blocked count their state now
            figures.in_progress += in_progress
            figures.blocked += blocked
            if raised_q >= 0:  # raised in the period
                figures.raised += n
                figures.confirmed += confirmed
                by_quarter[forum_id]["raised"][raised_q] += n
        if done_q is not None:
            figures.done += n
            by_quarter[forum_id]["done"][done_q] += n
        for name, value in zip(flags, rest):
            setattr(figures, name, getattr(figures, name) + value)

    # 8. how many whole days the actions done in the period took (a histogram per forum: exact medians)
    for forum_id, days, count in _grouped(
            {"forum_id": ActionItem.forum_id, "days": whole_days(ActionItem.closed_at, ActionItem.created_at)},
            [ActionItem.forum_id.in_(ids), ActionItem.state == "done", ActionItem.closed_at >= wide_start,
             ActionItem.closed_at < wide_end, local_window(ActionItem.closed_at, filters.start, filters.end, zones)],
            action_forum, ("forum_id", "days"), {"n": lambda c: func.count()}, ActionItem):
        by_forum[forum_id].done_days[days] += count

    for figures in by_forum.values():
        figures.forums_active = 1 if figures.held else 0


def _quarter_points(counts: Counter, filters: ReportFilters) -> list[tuple[str, float]]:
    return [(label, counts[i]) for i, label in enumerate(quarters(filters))]


# --- the dashboard ----------------------------------------------------------------------------------

@dataclass
class Dashboard:
    filters: ReportFilters
    total: Figures
    countries: list[Row]
    grants: list[Row]
    forums: list[Row]  # every forum of the report (figures only: the page shows ``forum_page``)
    forum_page: Page  # the forums shown in the table and the coverage matrix
    coverage: list[tuple[Row, dict[str, bool]]]  # the page's forum rows, {kind: present at its last meetings}
    coverage_kinds: tuple[str, ...]
    missing: list[tuple[str, int]]  # (kind, how many of the report's forums lack it at their last meetings)
    trends: list[Trend]
    grant_choices: list[GrantInfo]
    forum_choices: list[ForumInfo]
    most_overdue: Row | None
    now: datetime
    grant: Grant | None = None  # the grant the report is narrowed to (its review thread), if in reach
    # Parts of the page rendered from the kept sums, kept with them (web.render_once): the same
    # sums render the same rows, so they are rendered once, not per request.
    fragments: dict = field(default_factory=dict)


@dataclass(frozen=True)
class _Summary:
    """What the dashboard adds up from every forum's figures: the same for every page of forums."""

    total: Figures
    countries: list[Row]
    grants: list[Row]
    forums: list[Row]
    coverage_kinds: dict[int, frozenset[str]]
    missing: list[tuple[str, int]]
    trends: list[Trend]
    grant_choices: list[GrantInfo]
    forum_choices: list[ForumInfo]
    most_overdue: Row | None
    fragments: dict = field(default_factory=dict, compare=False)  # Dashboard.fragments


def dashboard(user, filters: ReportFilters, now: datetime | None = None, raw_page: str | None = None) -> Dashboard:
    """The dashboard: totals, countries and grants, and one page of the forums (table and coverage).

    What is added up from the forums' figures is kept (``_SUMMARIES``) under the forums in reach
    as read now (each with its ``figures_stamp``: ``_reach_rows``), the filters and the hour, the
    key of the forums' kept figures it is made of: a write to any forum or a renamed forum or
    grant is a new key, so a kept summary is never stale, and the adding up (and reading the
    kept figures of every forum) does not happen again per request.
    """
    permissions.require(permissions.can_view_reports(user))
    now = now or utcnow()
    reach_rows = _reach_rows(user)
    key = (tuple(reach_rows), filters, _hour(now))
    summary = _SUMMARIES.get(key)
    if summary is None:
        summary = _summarise(report_figures(user, filters, now, reach_rows), filters)
        _SUMMARIES.put(key, summary)
    forum_page = page_of(summary.forums, raw_page)
    kinds = summary.coverage_kinds  # kinds present at each forum's last held meetings up to the period's end
    coverage = [(row, {kind: kind in kinds.get(row.forum.id, ()) for kind in CORE_ORGANISATION_KINDS})
                for row in forum_page.items]
    grant = None
    if filters.grant_id and any(g.id == filters.grant_id for g in summary.grant_choices):
        grant = db.session.get(Grant, filters.grant_id)
    return Dashboard(filters, summary.total, summary.countries, summary.grants, summary.forums, forum_page,
                     coverage, CORE_ORGANISATION_KINDS, summary.missing, summary.trends, summary.grant_choices,
                     summary.forum_choices, summary.most_overdue, now, grant, summary.fragments)


def _summarise(report: ReportFigures, filters: ReportFilters) -> _Summary:
    forum_rows = report.forums
    grants = report.grants
    total = Figures()
    countries: dict[str, Row] = {}
    grant_rows: dict[int, Row] = {}
    for row in forum_rows:
        forum, figures = row.forum, row.figures
        total.add(figures)
        country = countries.setdefault(forum.country, Row("country", forum.country, forum.country, Figures(),
                                                          filters.narrowed(country=forum.country)))
        country.figures.add(figures)
        grant = grants[forum.grant_id]
        grant_row = grant_rows.setdefault(grant.id, Row("grant", grant.id, grant.reference, Figures(),
                                                        filters.narrowed(grant_id=grant.id), grant=grant))
        grant_row.figures.add(figures)
    coverage_kinds = report.coverage
    missing = [(kind, n) for kind in CORE_ORGANISATION_KINDS
               if (n := sum(kind not in coverage_kinds.get(row.forum.id, ()) for row in forum_rows))]
    by_quarter = report.by_quarter
    attendance = Counter({q: round(100 * by_quarter["present"][q] / n, 1)
                          for q, n in by_quarter["invitees"].items() if n})
    trends = [
        Trend("Meetings held", "meetings", _quarter_points(by_quarter["held"], filters), "held", "meetings"),
        Trend("Attendance rate", "%", _quarter_points(attendance, filters), "held", "meetings"),
        Trend("Actions raised", "actions", _quarter_points(by_quarter["raised"], filters), "raised", "actions"),
        Trend("Actions done", "actions", _quarter_points(by_quarter["done"], filters), "done", "actions"),
    ]
    most_overdue = max((r for r in forum_rows if r.figures.overdue), key=lambda r: r.figures.overdue, default=None)
    return _Summary(total, list(countries.values()), list(grant_rows.values()), forum_rows, coverage_kinds, missing,
                    trends, sorted(grants.values(), key=lambda g: g.reference), [f for f, _ in report.reach],
                    most_overdue)


# A few hundred KB each at programme scale (a row per forum); the key holds the reach it was made from.
_SUMMARIES = Kept(64)


def page_of(rows: list, raw_page: str | None, size: int | None = None) -> Page:
    """One page of rows already counted (a number past the last page shows the last)."""
    size = size or current_app.config["PAGE_SIZE"]
    pages = max(1, -(-len(rows) // size))
    number = min(parse_page_number(raw_page), pages)
    return Page(items=rows[(number - 1) * size:number * size], number=number, size=size, total=len(rows))


def _last_held_meetings(ids, filters: ReportFilters, zones: list[str]):
    """The ids of each forum's last ``COVERAGE_MEETINGS`` meetings held by the period's end (its local date)."""
    until_end = local_before(Meeting.starts_at, filters.end + timedelta(days=1), zones)
    ranked = (select(Meeting.id.label("id"), func.row_number().over(
        partition_by=Meeting.forum_id, order_by=(Meeting.starts_at.desc(), Meeting.id.desc())).label("n"))
        .join(Forum, Forum.id == Meeting.forum_id)
        .where(Meeting.forum_id.in_(ids), Meeting.state == "held", until_end).subquery())
    return select(ranked.c.id).where(ranked.c.n <= COVERAGE_MEETINGS)


def _coverage(ids, filters: ReportFilters, zones: list[str]) -> dict[int, set[str]]:
    """{forum id: kinds present at its last meetings}: one query, a row per forum and kind."""
    last = _last_held_meetings(ids, filters, zones)
    invitees = (select(Meeting.forum_id.label("forum_id"), Organisation.kind.label("kind"))
                .join(Invitation, Invitation.meeting_id == Meeting.id).join(User, User.id == Invitation.user_id)
                .join(Organisation, Organisation.id == User.organisation_id)
                .where(Meeting.id.in_(last), Invitation.attendance == "present"))
    walk_ins = (select(Meeting.forum_id, WalkInAttendee.organisation_kind)
                .join(WalkInAttendee, WalkInAttendee.meeting_id == Meeting.id).where(Meeting.id.in_(last)))
    kinds: dict[int, set[str]] = defaultdict(set)
    for forum_id, kind in db.session.execute(union(invitees, walk_ins)):
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
    forums: list[ForumProgress]  # this page's (one forum)
    page: Page  # of the report's forums, one per page
    choices: list[tuple[int, str]]  # (page number, forum title) for the picker
    now: datetime


def progress_report(user, filters: ReportFilters, now: datetime | None = None,
                    raw_page: str | None = None) -> ProgressReport:
    """A page per forum: its figures, the period's meetings, its open actions (and those done in the period).

    Only the page's forum is counted and listed, so the page stays the size of one forum's
    report whatever the programme's; the picker and the pager reach the others.
    """
    from sqlalchemy.orm import joinedload

    from ..actions.queries import is_overdue

    permissions.require(permissions.can_view_reports(user))
    now = now or utcnow()
    forums = db.session.execute(scoped_forums(user, filters).with_only_columns(Forum.id, Forum.title)
                                .join(Forum.grant).order_by(Forum.country, Grant.reference, Forum.title)).all()
    page = page_of([forum_id for forum_id, _ in forums], raw_page, size=1)
    choices = [(n, title) for n, (_, title) in enumerate(forums, 1)]
    if not page.items:
        return ProgressReport(filters, [], page, choices, now)
    one = filters.narrowed(forum_id=page.items[0])
    report = report_figures(user, one, now)
    if not report.forums:  # gone between the two queries
        return ProgressReport(filters, [], page, choices, now)
    row = report.forums[0]
    meetings = list(db.session.execute(meetings_stmt(user, one)).scalars())
    stmt = (select(ActionItem).join(ActionItem.forum)
            .where(ActionItem.forum_id == row.forum.id,
                   or_(ActionItem.state.in_(ACTION_OPEN_STATES), action_condition("done", one, report.zones, now)))
            .options(joinedload(ActionItem.owner))
            .order_by(ActionItem.due_on, ActionItem.id))
    # The actions' forum (is_overdue reads its zone), loaded once and held here (the session keeps
    # only weak references): the report's forums are read as plain values, and joining it into every
    # action row would repeat its description with each.
    forum = db.session.get(Forum, row.forum.id)
    actions = list(db.session.execute(stmt).unique().scalars())
    kinds = report.coverage[row.forum.id]
    coverage = {kind: kind in kinds for kind in CORE_ORGANISATION_KINDS}
    progress = ForumProgress(row, meetings, actions, [a for a in actions if is_overdue(a, now)], coverage)
    del forum
    return ProgressReport(filters, [progress], page, choices, now)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
