"""Dates, times and numbers go through Babel (issue 18, point 6): in the reader's language, in the
zone they belong to, saying which; never strftime, whose names and clock are the C locale's.

The meetings' own pages and emails check the English text; here the same helpers and filters
are read in other languages, which only Babel can get right.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from flask import Flask
from flask_babel import force_locale

from forum_app.core import dates


@dataclass
class _Forum:
    timezone: str


@dataclass
class _Meeting:
    forum: _Forum
    starts_at: datetime
    ends_at: datetime


# 10:00–13:00 in Sarajevo on 30 June 2021 (summer time, UTC+2).
MEETING = _Meeting(
    _Forum("Europe/Sarajevo"), datetime(2021, 6, 30, 8, 0, tzinfo=UTC), datetime(2021, 6, 30, 11, 0, tzinfo=UTC)
)
AT = datetime(2021, 6, 30, 8, 0, 5, tzinfo=UTC)


@pytest.fixture
def request_ctx(app: Flask):
    with app.test_request_context():
        yield


def test_british_english_by_default(request_ctx) -> None:
    assert dates.format_span(MEETING) == "Wed, 30 Jun 2021, 10:00–13:00 CEST (Europe/Sarajevo)"
    assert dates.format_span(MEETING, "Europe/London") == "Wed, 30 Jun 2021, 09:00–12:00 BST (Europe/London)"
    assert dates.format_local(AT, "Europe/Skopje") == "30 Jun 2021, 10:00 CEST"
    assert (
        dates.format_local_date(datetime(2021, 6, 30, 23, 30, tzinfo=UTC), "Europe/Sarajevo") == "1 Jul 2021"
    )  # the date in the zone, not in UTC
    assert dates.format_clock(AT, "Europe/Podgorica") == "10:00 CEST"
    assert dates.format_utc(AT) == "30 Jun 2021, 08:00 UTC"
    assert dates.format_utc(AT, seconds=True) == "30 Jun 2021, 08:00:05 UTC"
    assert dates.format_day(date(2026, 12, 7)) == "7 Dec 2026"
    assert dates.format_day(date(2026, 12, 7), weekday=True) == "Mon, 7 Dec 2026"
    assert dates.format_number(1234.5) == "1,234.5" and dates.format_share(0.42) == "42%"


def test_other_languages_get_their_own_names_order_clock_and_separators(request_ctx) -> None:
    with force_locale("bs"):
        # CLDR's own spacing: thin spaces around the dash.
        assert dates.format_span(MEETING) == "sri, 30. jun 2021. 10:00\u2009–\u200913:00 CEST (Europe/Sarajevo)"
        assert dates.format_day(date(2026, 12, 7)) == "7. dec 2026."
        assert dates.format_number(1234.5) == "1.234,5"
    with force_locale("mk"):
        assert dates.format_local_date(AT, "Europe/Skopje") == "30 јун. 2021\u202fг."
    with force_locale("en_US"):  # a twelve-hour clock where the language has one
        assert (
            dates.format_span(MEETING)
            == "Wed, Jun 30, 2021, 10:00\u202fAM\u2009–\u20091:00\u202fPM CEST (Europe/Sarajevo)"
        )
        assert dates.format_local(AT, "Europe/Sarajevo") == "Jun 30, 2021, 10:00\u202fAM CEST"


def test_a_meeting_over_midnight_or_a_clock_change_says_each_end(request_ctx) -> None:
    overnight = _Meeting(MEETING.forum, MEETING.starts_at, datetime(2021, 7, 1, 11, 0, tzinfo=UTC))
    assert (
        dates.format_span(overnight) == "Wed, 30 Jun 2021, 10:00 CEST – Thu, 1 Jul 2021, 13:00 CEST (Europe/Sarajevo)"
    )
    # The clocks go back at 03:00 CEST on 31 October 2027: 02:30 CEST to 02:30 CET.
    autumn = _Meeting(
        MEETING.forum, datetime(2027, 10, 31, 0, 30, tzinfo=UTC), datetime(2027, 10, 31, 1, 30, tzinfo=UTC)
    )
    assert dates.format_span(autumn) == "Sun, 31 Oct 2027, 02:30 CEST–02:30 CET (Europe/Sarajevo)"


def test_templates_have_the_filters(app: Flask, request_ctx) -> None:
    template = app.jinja_env.from_string(
        "{{ m|when }} | {{ at|localtime('Europe/Sarajevo') }} | {{ at|localdate('Europe/Sarajevo') }} | "
        "{{ at|clock('Europe/Sarajevo') }} | {{ at|utc }} | {{ at|utc(seconds=True) }} | {{ due|day }} | "
        "{{ due|day(weekday=True) }} | {{ n|number }} | {{ share|percent }}"
    )
    values = {"m": MEETING, "at": AT, "due": date(2026, 12, 7), "n": 1234567, "share": 0.5}
    assert template.render(**values).split(" | ") == [
        "Wed, 30 Jun 2021, 10:00–13:00 CEST (Europe/Sarajevo)",
        "30 Jun 2021, 10:00 CEST",
        "30 Jun 2021",
        "10:00 CEST",
        "30 Jun 2021, 08:00 UTC",
        "30 Jun 2021, 08:00:05 UTC",
        "7 Dec 2026",
        "Mon, 7 Dec 2026",
        "1,234,567",
        "50%",
    ]
    with force_locale("bs"):
        assert template.render(**values).split(" | ")[-4:] == ["7. dec 2026.", "pon, 7. dec 2026.", "1.234.567", "50%"]


def test_an_old_strftime_format_is_refused_not_shown() -> None:
    with pytest.raises(TypeError):
        dates.format_local(AT, "UTC", "%d %b %Y")  # type: ignore[misc]
