"""Showing UTC instants as people read them: in a named zone, with the zone said."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo


def format_span(meeting, zone: str | None = None) -> str:
    """A meeting's time as people read it: "Wed 30 Jun 2021, 10:00–13:00 CEST (Europe/Sarajevo)"."""
    zone = zone or meeting.forum.timezone
    start, end = meeting.starts_at.astimezone(ZoneInfo(zone)), meeting.ends_at.astimezone(ZoneInfo(zone))
    if start.date() == end.date() and start.utcoffset() == end.utcoffset():
        text = f"{start:%a %d %b %Y, %H:%M}–{end:%H:%M} {end.tzname()}"
    elif start.date() == end.date():
        # The clocks change during the meeting: each end carries its own offset, so the
        # first and the second 02:30 of the night the clocks go back read differently.
        text = f"{start:%a %d %b %Y, %H:%M} {start.tzname()}–{end:%H:%M} {end.tzname()}"
    else:
        text = f"{start:%a %d %b %Y, %H:%M} {start.tzname()} – {end:%a %d %b %Y, %H:%M} {end.tzname()}"
    return f"{text} ({zone})"


def same_clock(meeting, zone: str, other_zone: str) -> bool:
    """Whether ``zone`` and ``other_zone`` show the meeting's start and end at the same clock times."""
    return all(moment.astimezone(ZoneInfo(zone)).utcoffset() == moment.astimezone(ZoneInfo(other_zone)).utcoffset()
               for moment in (meeting.starts_at, meeting.ends_at))


def format_local(value: datetime | None, zone: str, fmt: str = "%d %b %Y, %H:%M") -> str:
    """A UTC datetime shown in ``zone``, with the zone's abbreviation."""
    if value is None:
        return ""
    local = value.astimezone(ZoneInfo(zone))
    return f"{local.strftime(fmt)} {local.tzname()}"


def format_local_date(value: datetime | None, zone: str) -> str:
    """The calendar date of a UTC datetime in ``zone`` ("30 Jun 2021"), for tables of dates."""
    return value.astimezone(ZoneInfo(zone)).strftime("%d %b %Y") if value is not None else ""
