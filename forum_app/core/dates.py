"""Showing UTC instants as people read them: in a named zone, with the zone said."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo


def format_span(meeting, zone: str | None = None) -> str:
    """A meeting's time as people read it: "Wed 30 Jun 2021, 10:00–13:00 CEST (Europe/Sarajevo)"."""
    zone = zone or meeting.forum.timezone
    start, end = meeting.starts_at.astimezone(ZoneInfo(zone)), meeting.ends_at.astimezone(ZoneInfo(zone))
    if start.date() == end.date():
        text = f"{start:%a %d %b %Y, %H:%M}–{end:%H:%M} {end.tzname()}"
    else:
        text = f"{start:%a %d %b %Y, %H:%M} {start.tzname()} – {end:%a %d %b %Y, %H:%M} {end.tzname()}"
    return f"{text} ({zone})"


def format_local(value: datetime | None, zone: str, fmt: str = "%d %b %Y, %H:%M") -> str:
    """A UTC datetime shown in ``zone``, with the zone's abbreviation."""
    if value is None:
        return ""
    local = value.astimezone(ZoneInfo(zone))
    return f"{local.strftime(fmt)} {local.tzname()}"
