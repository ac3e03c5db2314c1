"""Whose language a page, an email and a calendar entry speak, the switcher, and each locale's formats.

The catalogues' completeness and the walk over the main pages are in test_translations.py.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import available_timezones

import pytest
from flask import Flask
from flask_babel import gettext, ngettext
from sqlalchemy import select

from forum_app.core import dates, language
from forum_app.core.zones import zone_choices
from forum_app.extensions import db
from forum_app.models import Forum, User

from .conftest import csrf_token, login, sign_in
from .factories import Factory
from .test_notifications import calendar_parts, deliver, local, parse_both, plan_meeting, schedule, smtp  # noqa: F401


def html_lang(response) -> str:
    match = re.search(r'<html lang="([^"]*)"', response.get_data(as_text=True))
    assert match, "no <html lang>"
    return match.group(1)


def said(app: Flask, code: str, text: str, **variables) -> str:
    """``text`` as the catalogue of ``code`` says it."""
    with app.test_request_context("/"), language.speaking(code):
        return gettext(text, **variables)


def set_forum_language(app: Flask, forum_id: int, code: str) -> None:
    with app.app_context():
        db.session.get(Forum, forum_id).language = code
        db.session.commit()


def set_locale(app: Flask, email: str, code: str) -> None:
    with app.app_context():
        db.session.execute(select(User).where(User.email == email)).scalar_one().locale = code
        db.session.commit()


# --- whose language ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (["sr-RS"], "sr-Cyrl"),
        (["sr"], "sr-Cyrl"),
        (["sr-Latn-RS"], "sr-Latn"),
        (["sr-ME"], "cnr"),
        (["sr-Latn-ME"], "cnr"),
        (["cnr-ME"], "cnr"),
        (["sh"], "sr-Latn"),
        (["de-AT", "mk-MK"], "mk"),
        (["sq-XK"], "sq"),
        (["bs-BA", "hr"], "bs"),
        (["en-US"], "en"),
        (["de", "fr"], None),
        ([], None),
    ],
)
def test_browser_languages_map_to_ours(header: list[str], expected: str | None) -> None:
    assert language.from_accept_language(header) == expected


def test_the_sign_in_page_follows_the_browser_then_the_switcher(app: Flask, client) -> None:
    assert html_lang(client.get("/login")) == "en"
    page = client.get("/login", headers={"Accept-Language": "sq-AL,sq;q=0.9,en;q=0.5"})
    assert html_lang(page) == "sq" and said(app, "sq", "Sign in") in page.get_data(as_text=True)
    token = csrf_token(client, "/login")
    chosen = client.post("/language", data={"csrf_token": token, "language": "mk", "next": "/login"})
    assert chosen.status_code == 302 and chosen.headers["Location"] == "/login"
    cookie = client.get_cookie(language.COOKIE)
    assert cookie is not None and cookie.value == "mk" and cookie.http_only
    page = client.get("/login", headers={"Accept-Language": "sq"})  # the switcher's choice wins
    assert html_lang(page) == "mk" and said(app, "mk", "Sign in") in page.get_data(as_text=True)


def test_the_switcher_refuses_what_it_does_not_know(app: Flask, client) -> None:
    token = csrf_token(client, "/login")
    response = client.post("/language", data={"csrf_token": token, "next": "/login", "language": "de"})
    assert response.status_code == 302 and "The request was incomplete" in client.get("/login").get_data(as_text=True)
    for data in ({"language": ""}, {"language": "mk", "csrf_token": "forged"}):
        response = client.post("/language", data={"csrf_token": token, "next": "/login", **data})
        assert response.status_code in (302, 400)
    assert client.get_cookie(language.COOKIE) is None
    # Off-site "next" goes home, never elsewhere.
    response = client.post("/language", data={"csrf_token": token, "language": "sq", "next": "https://evil.example/"})
    assert response.headers["Location"] == "/"


def test_a_signed_in_choice_is_kept_on_the_profile(app: Flask, client, make: Factory) -> None:
    email = make.user()
    sign_in(client, email)
    token = csrf_token(client, "/account")
    assert (
        client.post("/language", data={"csrf_token": token, "language": "sr-Cyrl", "next": "/account"}).status_code
        == 302
    )
    with app.app_context():
        assert db.session.execute(select(User.locale).where(User.email == email)).scalar_one() == "sr-Cyrl"
    client.delete_cookie(language.COOKIE)  # the profile alone, on any device
    assert html_lang(client.get("/account", headers={"Accept-Language": "en"})) == "sr-Cyrl"


def test_signing_in_adopts_the_language_picked_before(app: Flask, client, make: Factory) -> None:
    email = make.user()
    client.set_cookie(language.COOKIE, "sq")
    assert login(client, email).status_code == 302
    with app.app_context():
        assert db.session.execute(select(User.locale).where(User.email == email)).scalar_one() == "sq"
    # A person who had chosen keeps their choice.
    other = make.user()
    set_locale(app, other, "hr")
    second = app.test_client()
    second.set_cookie(language.COOKIE, "mk")
    assert login(second, other).status_code == 302
    with app.app_context():
        assert db.session.execute(select(User.locale).where(User.email == other)).scalar_one() == "hr"


def test_profile_then_browser_then_forum(app: Flask, make: Factory) -> None:
    w = make.world()
    set_forum_language(app, w["forum"], "mk")
    client = sign_in(app.test_client(), w["participant"])
    forum_page = f"/forums/{w['forum']}"
    assert html_lang(client.get(forum_page)) == "mk"  # nothing else decides: the forum's language
    assert html_lang(client.get("/account")) == "en"  # a page about no forum
    assert html_lang(client.get(forum_page, headers={"Accept-Language": "bs"})) == "bs"
    assert html_lang(client.get(forum_page, headers={"Accept-Language": "de"})) == "mk"
    set_locale(app, w["participant"], "sq")
    assert html_lang(client.get(forum_page, headers={"Accept-Language": "bs"})) == "sq"


def test_the_profile_offers_every_language_and_the_zones_by_place(app: Flask, make: Factory) -> None:
    email = make.user()
    set_locale(app, email, "mk")
    client = sign_in(app.test_client(), email)
    html = client.get("/account").get_data(as_text=True)
    for code, lang in language.LANGUAGES.items():
        assert f'<option lang="{code}"' in html or f'value="{code}"' in html
        assert lang.name in html
    assert "Северна Македонија — Скопје" in html and "Europe/Skopje" in html
    assert '<optgroup label="' in html and "US/Eastern" not in html
    response = client.post(
        "/account", data={"csrf_token": csrf_token(client, "/account"), "timezone": "US/Eastern", "locale": "mk"}
    )
    assert response.status_code == 400  # not offered, not taken


def test_zone_choices_are_current_names_region_first(app: Flask) -> None:
    with app.test_request_context("/"), language.speaking("bs"):
        groups = zone_choices()
    names = list(groups)
    region = groups[names[0]]
    assert [zone for zone, _label in region][:3] == ["Europe/Tirane", "Europe/Sarajevo", "Europe/Podgorica"]
    assert dict(region)["Europe/Sarajevo"] == "Bosna i Hercegovina — Sarajevo"
    assert "Kosovo*" in dict(region)["Europe/Belgrade"]
    every = [zone for choices in groups.values() for zone, _label in choices]
    assert len(every) == len(set(every)) > 400
    assert set(every) <= available_timezones()
    assert not {"US/Eastern", "Europe/Kiev", "Asia/Calcutta", "Etc/GMT+1"} & set(every)


# --- formats and plurals -------------------------------------------------------------------------

FORMATS = {
    # code: (a date, with its weekday, a time with its zone, a month's heading, a number)
    "en": ("30 Jun 2021", "Wed, 30 Jun 2021", "30 Jun 2021, 10:00 CEST", "June 2021", "1,234.5"),
    "bs": ("30. jun 2021.", "sri, 30. jun 2021.", "30. jun 2021. 10:00 CEST", "juni 2021.", "1.234,5"),
    "cnr": ("30. 6. 2021.", "sre, 30. jun 2021.", "30. 6. 2021. 10:00 CEST", "jun 2021.", "1.234,5"),
    "hr": ("30. lip 2021.", "sri, 30. lip 2021.", "30. lip 2021. 10:00 CEST", "lipanj 2021.", "1.234,5"),
    "mk": ("30 јун. 2021 г.", "сре., 30 јун. 2021 г.", "30 јун. 2021 г., 10:00 CEST", "јуни 2021 г.", "1.234,5"),
    "sq": ("30 qer 2021", "mër, 30 qer 2021", "30 qer 2021, 10:00 CEST", "qershor 2021", "1\u00a0234,5"),
    "sr-Latn": ("30. 6. 2021.", "sre, 30. jun 2021.", "30. 6. 2021. 10:00 CEST", "jun 2021.", "1.234,5"),
    "sr-Cyrl": ("30. 6. 2021.", "сре, 30. јун 2021.", "30. 6. 2021. 10:00 CEST", "јун 2021.", "1.234,5"),
}


@pytest.mark.parametrize("code", list(language.LANGUAGES))
def test_dates_times_and_numbers_in_each_locale(app: Flask, code: str) -> None:
    """Albanian on a 24-hour clock, as its administrations write times (CLDR's default is 12-hour)."""
    with app.test_request_context("/"), language.speaking(code):
        shown = (
            dates.format_day(date(2021, 6, 30)),
            dates.format_day(date(2021, 6, 30), weekday=True),
            dates.format_local(datetime(2021, 6, 30, 8, 0, tzinfo=UTC), "Europe/Sarajevo"),
            dates.format_month(2021, 6),
            dates.format_number(1234.5).replace("\u202f", "\u00a0"),
        )
    # CLDR puts narrow no-break spaces where a line must not break ("2021 г.", "10:00 p.d."): read as spaces.
    assert tuple(text.replace("\u202f", " ") if "\u00a0" not in text else text for text in shown) == FORMATS[code]


# The plural forms the language has, by the counts that pick them (CLDR's rules through Babel).
PLURALS = {
    "bs": [(1, 21, 101), (2, 3, 4, 22), (5, 11, 12, 14, 25, 100)],
    "cnr": [(1, 21, 101), (2, 3, 4, 22), (5, 11, 12, 14, 25, 100)],
    "hr": [(1, 21, 101), (2, 3, 4, 22), (5, 11, 12, 14, 25, 100)],
    "sr-Latn": [(1, 21, 101), (2, 3, 4, 22), (5, 11, 12, 14, 25, 100)],
    "sr-Cyrl": [(1, 21, 101), (2, 3, 4, 22), (5, 11, 12, 14, 25, 100)],
    "mk": [(1, 21, 101), (2, 5, 11, 12, 100)],
    "sq": [(1,), (0, 2, 5, 21, 100)],
    "en": [(1,), (0, 2, 5, 21, 100)],
}


@pytest.mark.parametrize("code", list(language.LANGUAGES))
def test_each_plural_form(app: Flask, code: str) -> None:
    """1 sastanak, 2 sastanka, 5 sastanaka: each form of the language, each with its number."""
    with app.test_request_context("/"), language.speaking(code):
        forms = [
            {ngettext("%(num)d member", "%(num)d members", n).replace(str(n), "#") for n in counts}
            for counts in PLURALS[code]
        ]
    assert all(len(form) == 1 for form in forms), forms  # counts of one class read alike
    assert len({next(iter(form)) for form in forms}) == len(forms), forms  # classes read differently
    assert all("#" in next(iter(form)) for form in forms)


def test_the_month_grid_speaks_the_language(app: Flask, make: Factory) -> None:
    email = make.user()
    set_locale(app, email, "mk")
    client = sign_in(app.test_client(), email)
    html = client.get("/calendar?month=2021-06").get_data(as_text=True).replace("\u202f", " ")
    assert "јуни 2021 г." in html
    assert '<abbr title="понеделник">' in html and '<abbr title="недела">' in html


# --- emails and calendars ------------------------------------------------------------------------


def test_one_invitation_to_three_languages_is_three_emails_each_in_its_own(app: Flask, make: Factory, smtp) -> None:  # noqa: F811
    """Done means: the emails and the .ics of one invitation, sent to three people with three
    languages, parsed back: each in its own language, the calendar still valid for two parsers.
    A fourth, who chose none, gets the forum's language."""
    w = make.world()
    set_forum_language(app, w["forum"], "bs")
    people = {
        "mk": make.user(name="Љупчо Стојановски"),
        "sq": make.user(name="Ardita Krasniqi"),
        "sr-Cyrl": make.user(),
    }
    for code, email in people.items():
        make.add_member(w["forum"], email)
        set_locale(app, email, code)
    chose_none = make.user(name="Amra Hodžić")
    make.add_member(w["forum"], chose_none)
    start = local(2021, 6, 30, 10)
    meeting_id = plan_meeting(app, w, start)
    schedule(app, w, meeting_id, start - timedelta(days=14))
    assert deliver(app, start - timedelta(days=14)).sent >= 4
    for code, email in [*people.items(), ("bs", chose_none)]:
        (message,) = smtp.to(email)
        day = {
            "mk": "сре., 30 јун. 2021 г.",
            "sq": "mër, 30 qer 2021",
            "sr-Cyrl": "сре, 30. јун 2021.",
            "bs": "sri, 30. jun 2021.",
        }[code]
        forum_title = "Forum" if "Forum" in message["Subject"] else ""
        assert forum_title  # the forum's name stays as the organisers wrote it
        subject_start = said(app, code, "Invitation: %(forum)s, %(day)s", forum="\x00", day=day).split("\x00")[0]
        assert message["Subject"].startswith(subject_start) and day in message["Subject"], (code, message["Subject"])
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        assert said(app, code, "Yes:") in text and said(app, code, "No:") in text, code
        assert f'lang="{code}"' in html, code
        inline, attached = calendar_parts(message)
        ical, vcal = parse_both(attached.get_payload(decode=True))
        event = ical.walk("VEVENT")[0]
        page_label = said(app, code, "Meeting page: %(link)s", link="")
        assert page_label.strip() in str(event["DESCRIPTION"]) and page_label.strip() in vcal.vevent.description.value
        assert str(event["SUMMARY"]) == "Reintegracija: praćenje akcija ë ç"  # the title as written
        others = {said(app, other, "Meeting page: %(link)s", link="").strip() for other in language.LANGUAGES} - {
            page_label.strip()
        }
        assert not any(label in str(event["DESCRIPTION"]) for label in others), code  # never a mix


# --- names as the programme uses them -------------------------------------------------------------


@pytest.mark.parametrize("code", ["bs", "mk", "sq", "sr-Cyrl"])
def test_kosovo_keeps_its_footnote_in_every_language(app: Flask, make: Factory, code: str) -> None:
    w = make.world()
    set_locale(app, w["organiser"], code)
    client = sign_in(app.test_client(), w["organiser"])
    assert 'id="kosovo-footnote"' not in client.get(f"/forums/{w['forum']}").get_data(as_text=True)
    with app.app_context():
        db.session.get(Forum, w["forum"]).country = "XK"
        db.session.commit()
    for path in (f"/forums/{w['forum']}", "/forums"):
        html = client.get(path).get_data(as_text=True)
        assert said(app, code, "Kosovo*") in html and said(app, code, "Kosovo*").endswith("*")
        footnote = said(
            app,
            code,
            "*This designation is without prejudice to positions on status, and is in line with "
            "UNSCR 1244/1999 and the ICJ Opinion on the Kosovo declaration of independence.",
        )
        assert footnote in html.replace("&#39;", "'").replace("&#34;", '"'), (code, path)
        assert html.count('id="kosovo-footnote"') == 1


def test_an_example_in_angle_brackets_is_shown_as_written(app: Flask, make: Factory) -> None:
    """The API-token help showed a bare "Bearer ": its <token> went out as an unknown tag."""
    client = sign_in(app.test_client(), make.user())
    html = client.get("/account").get_data(as_text=True)
    assert "Authorization: Bearer &lt;token&gt;" in html and "<token>" not in html


def test_the_api_answers_in_the_requesters_language(app: Flask, make: Factory) -> None:
    """Its own refusals and marshmallow's field messages, by Accept-Language (JSON clients have no profile page)."""
    from .test_api import _token

    w = make.world()
    meeting = make.meeting(w["forum"])
    secret = _token(app, w["participant"], write=True)
    client = app.test_client()
    path = f"/api/v1/meetings/{meeting}/rsvp"
    headers = {"Authorization": f"Bearer {secret}", "Accept-Language": "mk"}
    refused = client.post(path, json={"answer": "maybe", "extra": 1}, headers=headers).get_json()
    assert refused["message"] == said(app, "mk", "Check the fields named in errors.")
    assert refused["errors"]["extra"] == [said(app, "mk", "Unknown field.")]
    assert refused["errors"]["answer"][0].startswith(said(app, "mk", "Must be one of: {choices}.").split("{")[0])
    anonymous = client.get("/api/v1/forums", headers={"Accept-Language": "sq"}).get_json()
    assert anonymous["message"] == said(app, "sq", "Send a valid personal API token: Authorization: Bearer <token>.")
    assert "<token>" in anonymous["message"]  # JSON carries the text as it is
