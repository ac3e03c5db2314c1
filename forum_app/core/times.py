"""Local wall-clock times in a forum's zone, and their UTC instants.

People enter a meeting's date and times as the forum's local clock shows them. Around
daylight-saving changes a local time may not exist (clocks jump forward) or may occur
twice (clocks go back); we refuse the first and ask which one for the second, rather
than guess.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from flask_babel import format_date, format_time
from flask_babel import gettext as _

from ..core.errors import ServiceError


class AmbiguousTime(ServiceError):
    """The local time occurs twice; ``choices`` names the two offsets (first, second)."""

    def __init__(self, message: str, field: str | None, choices: tuple[str, str]):
        super().__init__(message, field)
        self.choices = choices


def local_to_utc(day: date, clock: time, zone_name: str, field: str, fold: int | None = None) -> datetime:
    """The UTC instant of ``day`` at ``clock`` in ``zone_name``.

    ``fold`` picks the first (0) or second (1) occurrence of an ambiguous time; without
    it an ambiguous time raises AmbiguousTime. A time in a gap raises ServiceError.
    """
    zone = ZoneInfo(zone_name)
    naive = datetime.combine(day, clock)
    first, second = naive.replace(tzinfo=zone, fold=0), naive.replace(tzinfo=zone, fold=1)
    if first.utcoffset() != second.utcoffset():
        # Either a gap or a repeat. In a gap the time does not survive a round trip.
        # The time and the day as the reader's language writes them (a naive local time: no rebasing).
        said = {"time": format_time(clock, "short", rebase=False), "day": format_date(day, "medium"), "zone": zone_name}
        if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
            raise ServiceError(
                _(
                    "%(time)s does not exist on %(day)s in %(zone)s: the clocks move forward then. "
                    "Choose another time.",
                    **said,
                ),
                field=field,
            )
        if fold is None:
            raise AmbiguousTime(
                _(
                    "%(time)s occurs twice on %(day)s in %(zone)s because the clocks go back. "
                    "Choose which one you mean.",
                    **said,
                ),
                field,
                (_offset_label(first), _offset_label(second)),
            )
        chosen = second if fold else first
    else:
        chosen = first
    return chosen.astimezone(UTC)


def occurrences(day: date, clock: time, zone_name: str) -> tuple[str, str] | None:
    """How to name the two occurrences of ``clock`` on ``day`` when it happens twice (None otherwise).

    "the first 02:30 (summer time, CEST, UTC+02:00)" / "the second 02:30 (winter time, CET, UTC+01:00)":
    a person knows summer and winter time; the abbreviation and offset make it exact where a
    zone changes for another reason.
    """
    zone = ZoneInfo(zone_name)
    naive = datetime.combine(day, clock)
    first, second = naive.replace(tzinfo=zone, fold=0), naive.replace(tzinfo=zone, fold=1)
    if first.utcoffset() == second.utcoffset() or first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
        return None  # one occurrence, or none (a gap)
    said = format_time(clock, "short", rebase=False)
    if first.dst() and not second.dst():
        return (
            _("the first %(time)s (summer time, %(offset)s)", time=said, offset=_offset_label(first)),
            _("the second %(time)s (winter time, %(offset)s)", time=said, offset=_offset_label(second)),
        )
    return (
        _("the first %(time)s (%(offset)s)", time=said, offset=_offset_label(first)),
        _("the second %(time)s (%(offset)s)", time=said, offset=_offset_label(second)),
    )


def fold_of(moment: datetime, zone_name: str) -> int | None:
    """Which occurrence (0 first, 1 second) of its local time the UTC ``moment`` is, when that
    local time happens twice; None when it happens once (no choice to carry)."""
    local = utc_to_local(moment, zone_name)
    if occurrences(local.date(), local.time(), zone_name) is None:
        return None
    return local.fold


def _offset_label(moment: datetime) -> str:
    offset = moment.utcoffset()
    assert offset is not None
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{moment.tzname()} (UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d})"


def utc_to_local(moment: datetime, zone_name: str) -> datetime:
    return moment.astimezone(ZoneInfo(zone_name))
