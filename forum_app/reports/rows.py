"""The figures of a forum, grant, country or the whole report, as the dashboard's tables, tiles and
charts read them (counted by reports/figures.py)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import NamedTuple
from urllib.parse import urlencode

from markupsafe import Markup, escape

from ..core.dates import format_share
from .periods import ReportFilters


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

    def add(self, other: Figures) -> None:
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
    def median_whole_days(self) -> int | None:
        """The median as the page shows it: whole days (a half rounded up)."""
        median = self.median_days_to_done
        return None if median is None else int(median + 0.5)

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

    # Worked out once per row, not per cell: the template reads each once.
    @property
    def qs(self) -> Markup:
        """The query string of the filters that narrow the lists to this row, escaped for the row's links."""
        return escape(urlencode(self.filters.args()))

    @property
    def attendance_pct(self) -> str | None:
        return _pct(self.figures.attendance_rate)

    @property
    def confirmation_pct(self) -> str | None:
        return _pct(self.figures.confirmation_rate)

    @property
    def on_time_pct(self) -> str | None:
        return _pct(self.figures.on_time_share)

    @property
    def median_days(self) -> int | None:
        return self.figures.median_whole_days


def forum_of(row: Row) -> ForumInfo:
    """The forum of a forum's row (the report's rows are forums'; only country and grant rows have none)."""
    if row.forum is None:
        raise ValueError(f"a {row.level} row has no forum")
    return row.forum


def grant_of(row: Row) -> GrantInfo:
    """The grant of a forum's or a grant's row (a country row has none)."""
    if row.grant is None:
        raise ValueError(f"a {row.level} row has no grant")
    return row.grant


def _pct(share: float | None) -> str | None:
    return None if share is None else format_share(share)


class ForumInfo(NamedTuple):
    """What the reports show and key on of a forum, read as plain values (no ORM object to load or keep)."""

    id: int
    title: str
    city: str
    country: str
    timezone: str
    grant_id: int


class GrantInfo(NamedTuple):
    id: int
    reference: str
    programme_id: int
