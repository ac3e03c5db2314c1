"""Report periods and filters, and the SQL that judges a UTC time by its forum's local date.

Periods are calendar dates judged in each forum's own time zone: a meeting at 00:30 in Sarajevo
on 1 April is in April, although it is 31 March in UTC. The SQL compares UTC times with the UTC
moments at which the local dates begin, computed in Python per group of zones that share them
(``by_zone``), so the database reads its indexes and the Python side stays a handful of values.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime, Integer, and_, case, false, null, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

from ..core.clock import utcnow
from ..core.dates import format_quarter
from ..extensions import db
from ..models import Forum
from ..vocab import COUNTRIES

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
    programme_id: int | None = None  # the programme report's selection (the dashboard has no such filter)

    @classmethod
    def from_args(cls, args, today: date | None = None) -> ReportFilters:
        from ..core.urls import parse_id

        default_start, default_end = default_period(today or utcnow().date())
        start = _parse_date(args.get("from")) or default_start
        end = _parse_date(args.get("to")) or default_end
        if end < start:
            start, end = end, start
        # Dates the zone arithmetic can handle (a local midnight a day either side must exist).
        start, end = max(start, FAR_PAST), min(end, date(9998, 12, 30))
        country = args.get("country", "")
        return cls(
            start=start,
            end=end,
            country=country if country in COUNTRIES else "",
            grant_id=parse_id(args.get("grant")),
            forum_id=parse_id(args.get("forum")),
            programme_id=parse_id(args.get("programme")),
        )

    def args(self, **extra) -> dict[str, str]:
        """Query-string values that keep these filters (for links to the lists and exports)."""
        values = {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "country": self.country,
            "grant": self.grant_id or "",
            "forum": self.forum_id or "",
            "programme": self.programme_id or "",
            **extra,
        }
        return {k: str(v) for k, v in values.items() if v not in ("", None)}

    def narrowed(self, **changes) -> ReportFilters:
        return ReportFilters(**{**self.__dict__, **changes})


def local_day(moment: datetime, zone: str) -> date:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(ZoneInfo(zone)).date()


def quarter_of(day: date) -> str:
    return f"{day.year} Q{(day.month - 1) // 3 + 1}"


def _quarter_starts(filters: ReportFilters) -> list[date]:
    result, day = [], date(filters.start.year, 3 * ((filters.start.month - 1) // 3) + 1, 1)
    while day <= filters.end:
        result.append(day)
        day = date(day.year + (day.month + 3 > 12), (day.month + 2) % 12 + 1, 1)
    return result


def period_bounds(filters: ReportFilters) -> list[date]:
    """The period cut at its last ``TREND_QUARTERS`` quarters (bucket ``i`` of ``local_bucket`` is ``quarters()[i]``).

    A longer period's earlier quarters share the first bucket, so a period of decades still
    makes a trend of a readable size (and SQL of a bounded one).
    """
    return [filters.start, *_quarter_starts(filters)[1:][-(TREND_QUARTERS - 1) :], filters.end + timedelta(days=1)]


def quarters(filters: ReportFilters) -> list[str]:
    """The trend's labels in the reader's language: a quarter each ("Q2 2024"), the first one
    "<quarter> – <quarter>" when it holds earlier ones too."""
    starts = period_bounds(filters)[:-1]
    labels = [format_quarter(day) for day in starts]
    if len(starts) > 1 and quarter_of(starts[0]) != quarter_of(starts[1] - timedelta(days=1)):
        labels[0] = f"{format_quarter(starts[0])} – {format_quarter(starts[1] - timedelta(days=1))}"
    return labels


def quarter_axis(filters: ReportFilters) -> list[str]:
    """The quarters as a chart's axis names them, the year under the first one and under each year's first
    ("Q4/2025", "Q1/2026", "Q2", "Q3"), so they fit side by side; a first bucket holding earlier quarters
    too is "… <its last quarter>"."""
    starts = period_bounds(filters)[:-1]
    labels = []
    for i, day in enumerate(starts):
        if i == 0 and len(starts) > 1 and quarter_of(day) != quarter_of(starts[1] - timedelta(days=1)):
            labels.append(f"… {format_quarter(starts[1] - timedelta(days=1), style='stacked')}")
        else:
            labels.append(format_quarter(day, style="stacked" if i == 0 or day.month == 1 else "short"))
    return labels


def previous_period(filters: ReportFilters) -> ReportFilters:
    """The period of the same length just before ``filters``' (the headline figures' comparison), same scope."""
    length = filters.end - filters.start + timedelta(days=1)
    end = max(filters.start - timedelta(days=1), FAR_PAST)
    return filters.narrowed(start=max(filters.start - length, FAR_PAST), end=end)


def forum_zones() -> list[str]:
    return list(db.session.execute(select(Forum.timezone).distinct()).scalars())


def utc_start(day: date, zone: str) -> datetime:
    """Midnight at the start of ``day`` in ``zone``, in UTC."""
    return datetime.combine(day, time(0), ZoneInfo(zone)).astimezone(UTC)


# --- forum-local dates in SQL -----------------------------------------------------------------------


def by_zone(
    zones: Iterable[str], key: Callable[[str], Any], build: Callable[[Any], Any], default=None, zone_column=None
):
    """SQL that depends on the forum's zone (Forum joined, or its zone as ``zone_column``): ``build(key(zone))``
    per group of zones sharing a key.

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
    zone_of = Forum.timezone if zone_column is None else zone_column
    return case(*[(zone_of.in_(names), build(k)) for k, names in groups.items()], else_=default)


def local_window(column, start: date, end: date, zones: Iterable[str]):
    """SQL: ``column`` (a UTC time) falls on a date from ``start`` to ``end`` in its forum's zone (Forum joined)."""
    groups: dict[tuple[datetime, datetime], list[str]] = defaultdict(list)
    for zone in sorted(set(zones)):
        groups[(utc_start(start, zone), utc_start(end + timedelta(days=1), zone))].append(zone)
    if not groups:
        return false()
    if len(groups) == 1:
        ((lo, hi),) = groups
        return and_(column >= lo, column < hi)
    parts = [and_(Forum.timezone.in_(names), column >= lo, column < hi) for (lo, hi), names in groups.items()]
    # The widest bounds first, as one range an index can serve; the zones' own bounds then decide.
    return and_(column >= min(lo for lo, _ in groups), column < max(hi for _, hi in groups), or_(*parts))


def local_before(column, day: date, zones: Iterable[str]):
    """SQL: ``column`` (a UTC time) falls before the date ``day`` in its forum's zone (Forum joined)."""
    return by_zone(zones, lambda zone: utc_start(day, zone), lambda bound: column < bound, default=false())


def local_bucket(column, days: Sequence[date], zones: Iterable[str], before: int | None = None):
    """SQL: ``i`` when ``column`` falls from local date ``days[i]`` up to (not on) ``days[i + 1]``;
    ``before`` when it falls before ``days[0]``; NULL otherwise."""

    def build(bounds: tuple[datetime, ...]):
        return case(
            (column < bounds[0], null() if before is None else before),
            *[(column < bound, i) for i, bound in enumerate(bounds[1:])],
            else_=null(),
        )

    return by_zone(zones, lambda zone: tuple(utc_start(day, zone) for day in days), build, default=null())


def before_local_today(date_column, now: datetime, zones: Iterable[str], or_equal: bool = False):
    """SQL: the date ``date_column`` is before (or on) the forum's today."""
    return by_zone(
        zones,
        lambda zone: local_day(now, zone),
        lambda today: date_column <= today if or_equal else date_column < today,
        default=false(),
    )


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
        return int((datetime.combine(due + timedelta(days=1), time(0), tz).utcoffset() or timedelta(0)).total_seconds())

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
        return case(
            *[(date_column < segments[i + 1][0], moments[i]) for i in range(len(segments) - 1)], else_=moments[-1]
        )

    return by_zone(zones, lambda zone: _midnight_offsets(zone, first, max(first, last)), build, default=null())


def aware(moment: datetime) -> datetime:
    """A stored (naive, UTC) time as an aware one."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
