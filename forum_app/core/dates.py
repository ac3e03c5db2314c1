"""Dates, times and numbers as people read them: through Babel, in the viewer's locale, in a named zone.

Never ``strftime``: its month and day names, their order and the 24-hour clock are the C
locale's, whatever the reader's language. Babel gives each locale its own (CLDR): "30 Jun
2021, 10:00" in British English, "30. jun 2021. 10:00" in Bosnian.

A time is shown in the zone it belongs to, and says which: meetings in their forum's zone
("… 10:00–13:00 CEST (Europe/Sarajevo)"), records of who did what in UTC. The abbreviation
is the tz database's own (``tzname()``: "CEST"), the same in every language.

``init_app`` registers the Jinja filters: ``when`` (a meeting's span), ``localtime`` and
``localdate`` (a UTC instant in a named zone), ``clock`` (its time of day), ``day`` (a plain
date such as a due date), ``utc`` (an instant in UTC: audit, review comments, the outbox),
``number`` and ``percent``; ``format_quarter`` names a calendar quarter (the reports' trends).
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel import dates as babel_dates
from babel import numbers as babel_numbers
from babel.dates import format_interval, format_skeleton, get_datetime_format
from flask import Flask, g, has_request_context
from flask_babel import format_decimal, format_percent, get_locale

UTC = "UTC"


# Languages whose CLDR default is a 12-hour clock that their administrations do not use: Albanian
# institutions (in Albania, Kosovo*, North Macedonia, Montenegro) write meeting times as 10:00 and
# 14:30, and "2:30 m.d." on an invitation would be misread. They get the 24-hour clock.
TWENTY_FOUR_HOURS = frozenset({"sq"})


def _twelve_hours(locale) -> bool:
    return locale.language not in TWENTY_FOUR_HOURS and "h" in locale.time_formats["short"].pattern


def _clock_skeleton() -> str:
    # CLDR's "j": the hour cycle the language uses (10:00 in British English, 10:00 AM in American).
    return "hm" if _twelve_hours(get_locale()) else "Hm"


def _and(day_text: str, time_text: str) -> str:
    """A date and a time put together as the language does it (CLDR's dateTimeFormat: "{1}, {0}" in English)."""
    return (
        str(get_datetime_format("medium", locale=get_locale()))
        .replace("'", "")
        .replace("{1}", day_text)
        .replace("{0}", time_text)
    )


# Babel's own formatters, given the locale: Flask-Babel's look the locale, the zone and the format up
# through its request context on every call, which was a third of the time of a follow-up table's
# few hundred dates. The moments given here are already in the zone they are shown in.


def _medium_date(moment: date) -> str:
    """ "30 Jun 2021". Each day is formatted once per request: a follow-up table repeats the same due
    dates and update days on hundreds of rows, and Babel applies the pattern anew each time."""
    day = moment.date() if isinstance(moment, datetime) else moment
    locale = get_locale()
    seen = g.setdefault("_medium_dates", {}) if has_request_context() else {}
    text = seen.get((day, locale))
    if text is None:
        text = seen[(day, locale)] = babel_dates.format_date(day, "medium", locale=locale)
    return text


def _weekday_date(moment: date) -> str:
    return format_skeleton("yMMMEd", moment, locale=get_locale())  # "Wed, 30 Jun 2021"


def _clock(local: datetime, seconds: bool = False) -> str:
    locale = get_locale()
    if locale.language in TWENTY_FOUR_HOURS:
        return format_skeleton("Hms" if seconds else "Hm", local, locale=locale)
    return babel_dates.format_time(local, "medium" if seconds else "short", locale=locale)  # "10:00"


def format_span(meeting, zone: str | None = None) -> str:
    """A meeting's time as people read it: "Wed, 30 Jun 2021, 10:00–13:00 CEST (Europe/Sarajevo)"."""
    zone = zone or meeting.forum.timezone
    start, end = meeting.starts_at.astimezone(ZoneInfo(zone)), meeting.ends_at.astimezone(ZoneInfo(zone))
    if start.date() == end.date() and start.utcoffset() == end.utcoffset():
        text = (
            f"{_and(_weekday_date(start), format_interval(start, end, _clock_skeleton(), locale=get_locale()))} "
            f"{end.tzname()}"
        )
    elif start.date() == end.date():
        # The clocks change during the meeting: each end carries its own offset, so the
        # first and the second 02:30 of the night the clocks go back read differently.
        text = _and(_weekday_date(start), f"{_clock(start)} {start.tzname()}–{_clock(end)} {end.tzname()}")
    else:
        text = (
            f"{_and(_weekday_date(start), _clock(start))} {start.tzname()} – "
            f"{_and(_weekday_date(end), _clock(end))} {end.tzname()}"
        )
    return f"{text} ({zone})"


def same_clock(meeting, zone: str, other_zone: str) -> bool:
    """Whether ``zone`` and ``other_zone`` show the meeting's start and end at the same clock times."""
    return all(
        moment.astimezone(ZoneInfo(zone)).utcoffset() == moment.astimezone(ZoneInfo(other_zone)).utcoffset()
        for moment in (meeting.starts_at, meeting.ends_at)
    )


def format_local(value: datetime | None, zone: str, *, seconds: bool = False) -> str:
    """A UTC datetime shown in ``zone``, with the zone's abbreviation: "30 Jun 2021, 10:00 CEST"."""
    if value is None:
        return ""
    local = value.astimezone(ZoneInfo(zone))
    return f"{_and(_medium_date(local), _clock(local, seconds))} {local.tzname()}"


def format_local_date(value: datetime | None, zone: str) -> str:
    """The calendar date of a UTC datetime in ``zone`` ("30 Jun 2021"), for tables of dates."""
    return _medium_date(value.astimezone(ZoneInfo(zone))) if value is not None else ""


def format_clock(value: datetime | None, zone: str) -> str:
    """The time of day of a UTC datetime in ``zone``, with the zone's abbreviation ("10:00 CEST"), under a date."""
    if value is None:
        return ""
    local = value.astimezone(ZoneInfo(zone))
    return f"{_clock(local)} {local.tzname()}"


def format_utc(value: datetime | None, *, seconds: bool = False) -> str:
    """An instant in UTC, saying so: "30 Jun 2021, 10:00 UTC" (with seconds for the audit log)."""
    return format_local(value, UTC, seconds=seconds)


def format_day(value: date | None, *, weekday: bool = False) -> str:
    """A plain date (a due date, a calendar day): "7 Dec 2026", or "Mon, 7 Dec 2026" with its weekday."""
    if value is None:
        return ""
    return _weekday_date(value) if weekday else _medium_date(value)


def format_month(year: int, month: int) -> str:
    """A month as a calendar's heading, in the language's standalone form: "June 2021", "juni 2021.",
    "јуни 2021"."""
    return format_skeleton("yMMMM", date(year, month, 1), locale=get_locale())


def weekday_names() -> list[tuple[str, str]]:
    """Monday to Sunday as a month grid's column heads: (abbreviated, full) in the language."""
    locale = get_locale()
    short, wide = locale.days["stand-alone"]["abbreviated"], locale.days["stand-alone"]["wide"]
    return [(short[day], wide[day]) for day in range(7)]


def format_number(value: float | int) -> str:
    """A count or a measured value with the language's separators ("1,234.5"; "1.234,5" in Bosnian).

    Each value is formatted once per request, as ``_medium_date`` does: a report's tables repeat the
    same small counts on every row."""
    if not has_request_context():
        return format_decimal(value)
    locale = get_locale()
    seen = g.setdefault("_numbers", {})
    text = seen.get((value, locale))
    if text is None:
        text = seen[(value, locale)] = babel_numbers.format_decimal(value, locale=locale)
    return text


def format_share(value: float) -> str:
    """A share between 0 and 1 as a whole percentage in the language's way ("42%"; "42 %" in some)."""
    return format_percent(value)


# A quarter's abbreviation longer than this ("tremujori II" in Albanian, "апр. – јун." in Macedonian) is
# written narrow on a chart's axis ("2"), where quarters stand side by side, and the axis is titled.
SHORT_QUARTER = 5


def format_quarter(day: date, *, style: str = "full") -> str:
    """The calendar quarter ``day`` falls in, as the language writes it: "full" ("Q2 2024"; "KV2 2024." in
    Bosnian), "short" without its year ("Q2"; narrow where the language's abbreviation is long: "2"), or
    "stacked", the short one above its year ("Q2\n2024": a chart's axis)."""
    locale = get_locale() or "en"
    if style == "full":
        return format_skeleton("yQQQ", day, locale=locale)
    quarter = babel_dates.format_date(day, "QQQ", locale)
    if len(quarter) > SHORT_QUARTER:
        quarter = babel_dates.format_date(day, "QQQQQ", locale)
    return quarter if style == "short" else f"{quarter}\n{format_skeleton('y', day, locale=locale)}"


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(
        when=format_span,
        localtime=format_local,
        localdate=format_local_date,
        clock=format_clock,
        utc=format_utc,
        day=format_day,
        number=format_number,
        percent=format_share,
    )
    app.jinja_env.globals.update(month_title=format_month, weekday_names=weekday_names)
