"""The dashboard's headline tiles: the few figures people look at first, each with its change against
the previous period and a small trend by quarter, and a link to the list behind it.

A tile's value is the report's own figure (the one the tables show); its comparison and trend
come from reports/headline.py. The words are built here, in the reader's language, so the page
only places them: a change is said in words ("Up 3 on the previous period (5)"), never by colour
or an arrow alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from babel.lists import format_list
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _

from ..core.dates import format_day, format_number, format_share
from .coverage import coverage_share
from .headline import Headline
from .rows import Figures, forum_of


@dataclass(frozen=True)
class Tile:
    key: str  # "held", "attendance", "coverage", "overdue", "on_time"
    title: str
    value: float | None  # a count, or a share from 0 to 1 (``share``)
    share: bool
    shown: str  # the value as people read it ("12", "83%", "–")
    change: str  # the change in words, or that there is nothing to compare with
    better: bool | None  # the change is an improvement (True), a worsening (False), neither (None)
    points: list[tuple[str, float | None]] = field(default_factory=list)  # (quarter, value): the trend
    trend: str = ""  # the trend in words (the small chart is a picture of it)
    list_kind: str = ""  # the list behind it: "meetings" or "actions" with ``figure``, or ``anchor`` on the page
    figure: str = ""
    anchor: str = ""


def _shown(value: float | None, share: bool) -> str:
    if value is None:
        return "–"
    return format_share(value) if share else format_number(value)


def _change(value: float | None, previous: float | None, share: bool, since: str, lower_is_better: bool):
    """(the change in words, whether it is better). ``since``: the day a snapshot is compared with, or ""
    for a figure of the period compared with the previous period's."""
    if value is None or previous is None:
        return _("Nothing to compare with in the previous period"), None
    # Shares are compared in whole percentage points, as they are shown.
    difference = round(100 * value) - round(100 * previous) if share else round(value - previous)
    before = _shown(previous, share)
    if difference == 0:
        if since:
            return _("Same as on %(day)s (%(previous)s)", day=since, previous=before), None
        return _("Same as in the previous period (%(previous)s)", previous=before), None
    size = abs(difference)
    amount = (
        ngettext("%(count)s percentage point", "%(count)s percentage points", size, count=format_number(size))
        if share
        else format_number(size)
    )
    up = difference > 0
    if since:
        text = (
            _("Up %(change)s since %(day)s (%(previous)s)", change=amount, day=since, previous=before)
            if up
            else _("Down %(change)s since %(day)s (%(previous)s)", change=amount, day=since, previous=before)
        )
    else:
        text = (
            _("Up %(change)s on the previous period (%(previous)s)", change=amount, previous=before)
            if up
            else _("Down %(change)s on the previous period (%(previous)s)", change=amount, previous=before)
        )
    return text, up != lower_is_better


def _trend(points: list[tuple[str, float | None]], share: bool) -> str:
    if not points:
        return ""
    values = [f"{quarter}: {_shown(value, share)}" for quarter, value in points]
    # Translators: %(values)s is a list such as "Q1 2026: 3, Q2 2026: 5".
    return _("By quarter: %(values)s", values=format_list(values, locale=get_locale() or "en"))


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def tiles(
    total: Figures, forum_rows: list, coverage, headline: Headline, quarters: list[str], by_quarter
) -> list[Tile]:
    """The five tiles of the report whose figures are ``total`` (all its forums: ``forum_rows``)."""
    since = format_day(headline.previous.end)
    forum_ids = [forum_of(row).id for row in forum_rows]
    coverage_now = coverage_share(coverage, forum_ids)
    quarter_values = range(1, len(quarters) + 1)  # the headline's buckets after the previous period's

    def tile(key, title, value, previous, share, points, *, since="", lower_is_better=False, **link) -> Tile:
        change, better = _change(value, previous, share, since, lower_is_better)
        pairs = list(zip(quarters, points, strict=True))
        return Tile(key, title, value, share, _shown(value, share), change, better, pairs, _trend(pairs, share), **link)

    return [
        tile(
            "held",
            _("Meetings held"),
            total.held,
            headline.held,
            False,
            [by_quarter["held"][i] for i in range(len(quarters))],
            list_kind="meetings",
            figure="held",
        ),
        tile(
            "attendance",
            _("Attendance rate"),
            total.attendance_rate,
            _share(headline.present, headline.invitees),
            True,
            [_share(by_quarter["present"][i], by_quarter["invitees"][i]) for i in range(len(quarters))],
            list_kind="meetings",
            figure="held",
        ),
        tile(
            "coverage",
            _("Agencies present at the last three meetings"),
            coverage_now,
            headline.coverage[0],
            True,
            [*headline.coverage[1:], coverage_now],
            since=since,
            anchor="coverage",
        ),
        tile(
            "overdue",
            _("Actions overdue today"),
            total.overdue,
            headline.overdue[0],
            False,
            headline.overdue[1:],
            since=since,
            lower_is_better=True,
            list_kind="actions",
            figure="overdue",
        ),
        tile(
            "on_time",
            _("Done by the due date"),
            total.on_time_share,
            _share(headline.on_time[0], headline.due[0]),
            True,
            [_share(headline.on_time[i], headline.due[i]) for i in quarter_values],
            list_kind="actions",
            figure="due",
        ),
    ]
