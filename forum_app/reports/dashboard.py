"""The programme dashboard: the report's figures added up by country and grant, and its one data cache.

Counting a programme's figures takes the database a few hundred milliseconds (reports/figures.py),
so the assembled figures (data, never HTML) are cached with Flask-Caching for
``REPORT_CACHE_SECONDS`` (15 minutes by default; shared through Redis when ``REDIS_URL`` is set,
per process otherwise, off in tests). The key holds everything that shapes them: the forums the
person may see (with every value shown of them), the filters and the locale. The page says when
the figures were counted ("Figures as of 10:05") and its Refresh button counts them again, so a
change is seen at once by whoever needs it and by everyone else within the TTL.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import get_locale

from .. import permissions
from ..core.clock import utcnow
from ..core.paging import Page
from ..extensions import cache, db
from ..models import Grant
from ..vocab import CORE_ORGANISATION_KINDS
from .charts import Chart, actions_trend, attendance_trend, by_gender, by_kind, held_trend, stuck_actions
from .coverage import Coverage
from .figures import ReportFigures, reach_rows, report_figures
from .headline import Headline
from .lists import page_of
from .periods import ReportFilters, aware, quarter_axis, quarters
from .rows import Figures, ForumInfo, GrantInfo, Row, forum_of
from .tiles import Tile, tiles

# Part of every key: a change to what is cached (these classes) must never read entries of older code.
CACHE_VERSION = 2
# The groups of columns the figure tables show one at a time (all of them when printed).
COLUMN_GROUPS = ("activity", "attendance", "actions")


@dataclass(frozen=True)
class Figured:
    """What the dashboard adds up from every forum's figures: the same for every page of forums, and cached."""

    counted_at: datetime  # when the database counted them (the page's "Figures as of")
    total: Figures
    countries: list[Row]
    grants: list[Row]
    forums: list[Row]
    coverage: Coverage  # who came to each forum's last meetings held by the period's end
    missing: list[tuple[str, int]]  # (kind, how many of the report's forums lack it at their last meetings)
    grant_choices: list[GrantInfo]
    forum_choices: list[ForumInfo]
    quarters: list[str]  # the trends' quarters, as people read them
    quarter_axis: list[str]  # the same, as a chart's axis names them
    by_quarter: dict[str, Counter]  # the report's quarterly counts (reports/figures.py)
    headline: Headline | None = None  # the tiles' comparisons, when the dashboard asked for them


@dataclass(frozen=True)
class HeatRow:
    """A forum's row of the coverage heatmap: at how many of its last meetings each kind came."""

    row: Row
    meetings: int  # its last meetings held counted (up to three)
    counts: list[tuple[str, int]]  # (kind, meetings it came to), in the order of the columns


@dataclass(frozen=True)
class Charts:
    stuck: Chart
    held: Chart
    attendance: Chart
    actions: Chart
    kinds: Chart
    gender: Chart

    @property
    def trends(self) -> list[Chart]:
        return [self.held, self.attendance, self.actions]


@dataclass
class Dashboard:
    filters: ReportFilters
    counted_at: datetime  # when the figures were counted (now, or when the cached ones were)
    total: Figures
    countries: list[Row]
    grants: list[Row]
    forums: list[Row]  # every forum of the report (figures only: the page shows ``forum_page``)
    forum_page: Page  # the forums shown in the table and the coverage heatmap
    heatmap: list[HeatRow]  # the page's forums
    coverage_kinds: tuple[str, ...]
    missing: list[tuple[str, int]]
    grant_choices: list[GrantInfo]
    forum_choices: list[ForumInfo]
    now: datetime
    tiles: list[Tile]
    charts: Charts
    previous: ReportFilters  # the period the tiles compare with
    columns: str = COLUMN_GROUPS[0]  # the group of columns the figure tables show
    grant: Grant | None = None  # the grant the report is narrowed to (its review thread), if in reach


def dashboard(
    user,
    filters: ReportFilters,
    now: datetime | None = None,
    raw_page: str | None = None,
    refresh: bool = False,
    columns: str | None = None,
) -> Dashboard:
    """The dashboard: tiles, charts, totals, countries and grants, and one page of the forums (table and heatmap).

    ``refresh``: count the figures again, whatever the cache holds (``assembled_figures``).
    Everything shown is made from the one set of figures: the tiles, the charts and the tables.
    """
    now = now or utcnow()
    figured = assembled_figures(user, filters, now, refresh, headline=True)
    headline = figured.headline
    if headline is None:  # not reached: asked for above
        raise ValueError("the dashboard's figures lack their headline")
    forum_page = page_of(figured.forums, raw_page)
    coverage = figured.coverage
    heatmap = [
        HeatRow(
            row,
            coverage.meetings.get(forum_of(row).id, 0),
            [(kind, coverage.count(forum_of(row).id, kind)) for kind in CORE_ORGANISATION_KINDS],
        )
        for row in forum_page.items
    ]
    by_quarter, quarters, axis = figured.by_quarter, figured.quarters, figured.quarter_axis
    charts = Charts(
        stuck_actions(figured.forums),
        held_trend(quarters, axis, by_quarter["held"]),
        attendance_trend(quarters, axis, by_quarter["present"], by_quarter["invitees"]),
        actions_trend(quarters, axis, by_quarter["raised"], by_quarter["done"]),
        by_kind(figured.total),
        by_gender(figured.total),
    )
    grant = None
    if filters.grant_id and any(g.id == filters.grant_id for g in figured.grant_choices):
        grant = db.session.get(Grant, filters.grant_id)
    return Dashboard(
        filters,
        figured.counted_at,
        figured.total,
        figured.countries,
        figured.grants,
        figured.forums,
        forum_page,
        heatmap,
        CORE_ORGANISATION_KINDS,
        figured.missing,
        figured.grant_choices,
        figured.forum_choices,
        now,
        tiles(figured.total, figured.forums, coverage, headline, quarters, by_quarter),
        charts,
        headline.previous,
        columns if columns in COLUMN_GROUPS else COLUMN_GROUPS[0],
        grant,
    )


def assembled_figures(
    user,
    filters: ReportFilters,
    now: datetime,
    refresh: bool = False,
    reach: list[tuple] | None = None,
    headline: bool = False,
) -> Figured:
    """The report's figures, added up: from the cache when they were counted less than
    ``REPORT_CACHE_SECONDS`` before ``now`` for the same key, else counted now and cached.

    The dashboard's own (``headline``: with the tiles' comparisons) and the indicators' (a computed
    actual is the figure of its target's period). ``reach``: ``reach_rows(user)`` if the caller read it already.
    """
    permissions.require(permissions.can_view_reports(user))
    reach = reach if reach is not None else reach_rows(user)
    key = cache_key(reach, filters)
    figured = None if refresh else _cached(key, now)
    if figured is None or (headline and figured.headline is None):
        figured = _add_up(report_figures(user, filters, now, reach, headline=headline), filters, now)
        _keep(key, figured)
    return figured


# --- the cache -------------------------------------------------------------------------------------


def cache_key(reach: list[tuple], filters: ReportFilters) -> str:
    """What shapes the figures: the forums in reach (ids, names, grants), the filters and the locale.

    Hashed: a staff member's reach is a row per forum of the programme.
    """
    shape = repr((CACHE_VERSION, reach, filters, str(get_locale() or "")))
    return "reports/dashboard/" + hashlib.sha256(shape.encode()).hexdigest()


def _cached(key: str, now: datetime) -> Figured | None:
    """The figures cached under ``key`` if they are younger than ``REPORT_CACHE_SECONDS`` at ``now``.

    The age is judged here too, not only by the cache's own expiry, so the TTL follows the clock
    the caller passes (and the one test that turns the cache on can move it).
    """
    try:
        figured = cache.get(key)
    except Exception:  # noqa: BLE001 - an unreachable cache (Redis down) must not take the page down
        current_app.logger.warning("Report figures cache unreadable", exc_info=True)
        return None
    if not isinstance(figured, Figured):
        return None
    age = aware(now) - aware(figured.counted_at)
    return figured if timedelta(0) <= age < timedelta(seconds=_ttl()) else None


def _keep(key: str, figured: Figured) -> None:
    try:
        cache.set(key, figured, timeout=_ttl())
    except Exception:  # noqa: BLE001 - the figures are shown all the same; the next view counts again
        current_app.logger.warning("Report figures not cached", exc_info=True)


def _ttl() -> int:
    return current_app.config["REPORT_CACHE_SECONDS"]


# --- adding up ---------------------------------------------------------------------------------------


def _add_up(report: ReportFigures, filters: ReportFilters, now: datetime) -> Figured:
    forum_rows = report.forums
    grants = report.grants
    total = Figures()
    countries: dict[str, Row] = {}
    grant_rows: dict[int, Row] = {}
    for row in forum_rows:
        forum, figures = forum_of(row), row.figures
        total.add(figures)
        country = countries.setdefault(
            forum.country,
            Row("country", forum.country, forum.country, Figures(), filters.narrowed(country=forum.country)),
        )
        country.figures.add(figures)
        grant = grants[forum.grant_id]
        grant_row = grant_rows.setdefault(
            grant.id,
            Row("grant", grant.id, grant.reference, Figures(), filters.narrowed(grant_id=grant.id), grant=grant),
        )
        grant_row.figures.add(figures)
    coverage = report.coverage
    missing = [
        (kind, n)
        for kind in CORE_ORGANISATION_KINDS
        if (n := sum(kind not in coverage.present(forum_of(row).id) for row in forum_rows))
    ]
    return Figured(
        now,
        total,
        list(countries.values()),
        list(grant_rows.values()),
        forum_rows,
        coverage,
        missing,
        sorted(grants.values(), key=lambda g: g.reference),
        [f for f, _ in report.reach],
        quarters(filters),
        quarter_axis(filters),
        {name: report.by_quarter[name] for name in ("held", "invitees", "present", "raised", "done")},
        report.headline,
    )
