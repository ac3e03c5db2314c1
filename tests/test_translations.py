"""The region's languages: complete catalogues, the right language for each person, nothing left in English.

The walk (``test_pages_speak_the_language``) signs in as each kind of person on the demo data,
in each language, and reads every page's visible text (and the attributes people hear or see:
titles, labels, placeholders, button values). What is left once the data shown on the page
(names, titles, minutes: everything stored in the database) and the fixed terms are taken out
must not contain a word of the English interface (the words of every msgid) that the
language's own catalogue does not use too ("Forum", "Status"). A string never marked for
translation, or marked and left untranslated, shows up as English words and fails the walk.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask import Flask
from sqlalchemy import JSON, String, Text, select

from forum_app.core import language
from forum_app.demo import DEMO_PASSWORD
from forum_app.extensions import db
from tools.check_catalogues import problems

from .conftest import login

TRANSLATIONS = Path(__file__).resolve().parent.parent / "forum_app" / "translations"
REGION = [code for code in language.LANGUAGES if code != "en"]

# Terms every language keeps as they are (docs/translating.md's glossary: fixed terms).
FIXED_TERMS = (
    "Forum Desk",
    "iCalendar",
    "CalDAV",
    "Markdown",
    "XLSX",
    "CSV",
    "JSON",
    "API",
    "URL",
    "UTC",
    "Bearer",
    "Authorization",
    "token",
    # iCalendar's method names, shown as they are in the outbox ("invite.ics (METHOD:REQUEST)").
    "METHOD",
    "REQUEST",
    "CANCEL",
    "REPLY",
    *(lang.name for lang in language.LANGUAGES.values()),
)
# A word of any script: "Perëndimore" is one Albanian word, not the English "per" and a rest.
WORD = re.compile(r"[^\W\d_](?:[^\W\d_]|['’]){2,}")
VISIBLE_ATTRIBUTES = ("title", "alt", "placeholder", "aria-label", "data-confirm")


def _catalogue(code: str):
    path = TRANSLATIONS / language.LANGUAGES[code].locale / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        return read_po(handle)


def _words(text: str) -> set[str]:
    return {w.lower().strip("'’") for w in WORD.findall(text)}


def _english_vocabulary() -> set[str]:
    with (TRANSLATIONS / "messages.pot").open("rb") as handle:
        template = read_po(handle)
    words: set[str] = set()
    for message in template:
        for text in message.id if isinstance(message.id, tuple) else (message.id,):
            words |= _words(re.sub(r"%\([a-z_]+\)[sd]", " ", text))
    return words


def _translated_vocabulary(code: str) -> set[str]:
    words: set[str] = set()
    for message in _catalogue(code):
        for text in message.string if isinstance(message.string, tuple) else (message.string,):
            words |= _words(text or "")
    return words


# --- the catalogues ------------------------------------------------------------------------------


@pytest.mark.parametrize("code", REGION)
def test_catalogue_is_complete(code: str) -> None:
    """Every entry filled, none fuzzy, every placeholder kept, no markup added (tools/check_catalogues.py)."""
    path = TRANSLATIONS / language.LANGUAGES[code].locale / "LC_MESSAGES" / "messages.po"
    assert problems(path) == []


def test_catalogues_follow_the_template() -> None:
    """Each catalogue holds exactly the template's messages (`make translations` was run after a change)."""
    with (TRANSLATIONS / "messages.pot").open("rb") as handle:
        wanted = {m.id for m in read_po(handle) if m.id}
    for code in REGION:
        have = {m.id for m in _catalogue(code) if m.id}
        assert have == wanted, (
            f"{code}: run `make translations` (missing {len(wanted - have)}, extra {len(have - wanted)})"
        )


def test_a_catalogue_entry_with_markup_is_shown_as_text(app: Flask, tmp_path) -> None:
    """A translation is text: a catalogue entry carrying <script> reaches the page escaped, and the
    placeholders filled into it are escaped too."""
    from babel.messages.catalog import Catalog
    from babel.messages.mofile import write_mo
    from babel.support import Translations
    from flask import render_template_string
    from flask_babel import get_translations

    catalogue = Catalog(locale="bs")
    catalogue.add("Skip to content", "<script>alert(1)</script> Preskoči")
    catalogue.add("Hello %(name)s,", "<b>Zdravo</b> %(name)s,")
    path = tmp_path / "messages.mo"
    with path.open("wb") as handle:
        write_mo(handle, catalogue)
    with app.test_request_context("/"):
        translations = get_translations()
        with path.open("rb") as handle:
            planted = Translations(handle)
        translations._catalog.update(planted._catalog)  # the request's translations, for this request
        html = render_template_string("{{ _('Skip to content') }}|{{ _('Hello %(name)s,', name='<i>Ana</i>') }}")
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; Preskoči" in html
    assert "&lt;b&gt;Zdravo&lt;/b&gt; &lt;i&gt;Ana&lt;/i&gt;," in html


# --- the pages -----------------------------------------------------------------------------------


class _Text(HTMLParser):
    """A page's visible text, one string per text node or visible attribute; the <html lang>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.lang = ""
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "html":
            self.lang = attributes.get("lang") or ""
        if tag in ("script", "style"):
            self._skip += 1
        for name in VISIBLE_ATTRIBUTES:
            if attributes.get(name):
                self.parts.append(attributes[name] or "")
        if tag == "input" and attributes.get("type") in ("submit", "button") and attributes.get("value"):
            self.parts.append(attributes["value"] or "")

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.parts.append(data)


# Stored Markdown's marks around the text a page shows: list markers, headings and quotes at a
# line's start, emphasis and code marks, a link's target.
MARKDOWN_LINE = re.compile(r"^\s*(?:[-*+]|\d+[.)]|#{1,6}|>)\s+")
MARKDOWN_MARKS = re.compile(r"\*\*|__|`|\]\([^)]*\)|\[")


def _strings(value) -> Iterator[str]:
    """The strings of a stored value: a text column's, or every string inside a JSON column's."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def _pieces(value: str) -> set[str]:
    """A stored text and the pieces a page shows of it: stored HTML's text between its tags, stored
    Markdown's lines without their marks."""
    pieces = {value}
    for piece in re.split(r"<[^>]+>|\n", value):
        piece = html.unescape(piece)
        pieces |= {piece, MARKDOWN_MARKS.sub("", MARKDOWN_LINE.sub("", piece))}
    return {p.strip() for p in pieces if len(p.strip()) >= 3}


def _stored_texts() -> list[str]:
    """Every text stored in the database (what pages show as data, never translated), longest first."""
    texts: set[str] = set()
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, String | Text | JSON)]
        if not columns:
            continue
        for row in db.session.execute(select(*columns)):
            for value in row:
                for text in _strings(value):
                    texts |= _pieces(text)
    return sorted(texts, key=len, reverse=True)


def _cldr_names(code: str) -> list[str]:
    """The place names pages take from CLDR in ``code``'s language (the time zone choices' countries
    and cities: "SHBA — Tell-Siti, Indiana"): data of Babel's, not strings of ours."""
    from babel.dates import get_timezone_location

    from forum_app.core import zones

    locale = language.locale_of(code)
    names = {get_timezone_location(zone, locale=locale, return_city=True) for _, zone in zones.zone_table()}
    return [name for name in {*names, *locale.territories.values()} if len(name) >= 3]


def _cldr_calendar_words(code: str) -> set[str]:
    """The day and month names in ``code``'s language, every width (the month grid's "pre" is
    Albanian for Friday, not the English prefix "pre-"): data of Babel's, not strings of ours."""
    locale = language.locale_of(code)
    words: set[str] = set()
    for names in (locale.days, locale.months):
        for context in names.values():
            for width in context.values():
                for name in width.values():
                    words |= _words(name)
    return words


def _leftover_english(text: str, stored: list[str], english: set[str], allowed: set[str]) -> set[str]:
    for value in stored:
        if value in text:
            text = text.replace(value, " ")
    for term in FIXED_TERMS:
        text = text.replace(term, " ")
    return {w for w in _words(text) if w in english and w not in allowed}


ORGANISER = "organiser.sarajevo@forum-desk.example"
PARTICIPANT = "amra.hodzic@forum-desk.example"
STAFF_AND_ADMIN = ("admin@forum-desk.example",)


def _pages(app: Flask) -> dict[str, list[str]]:
    """Who reads which pages: the main pages of the issue (sign-in, home, forum, meeting, minutes,
    attendance, actions, board, matrix, calendar, dashboard, account, admin lists)."""
    from forum_app.models import ActionItem, Forum, Meeting

    with app.app_context():
        forum = db.session.execute(select(Forum).where(Forum.city == "Sarajevo")).scalar_one()
        meetings = db.session.execute(
            select(Meeting.id).where(Meeting.forum_id == forum.id).order_by(Meeting.starts_at)
        ).scalars()
        meeting_ids = list(meetings)
        action = db.session.execute(
            select(ActionItem.id).where(ActionItem.forum_id == forum.id).order_by(ActionItem.id).limit(1)
        ).scalar_one()
    held = meeting_ids[1]
    forum_pages = [
        "/",
        "/forums",
        f"/forums/{forum.id}",
        f"/meetings/{held}",
        f"/meetings/{held}/attendance",
        f"/meetings/{held}/minutes/versions",
        f"/forums/{forum.id}/actions",
        f"/forums/{forum.id}/actions/matrix",
        f"/actions/{action}",
        "/actions",
        "/calendar",
        "/account",
    ]
    return {
        ORGANISER: [
            *forum_pages,
            f"/meetings/{held}/edit",
            f"/meetings/{held}/minutes",
            f"/meetings/{held}/follow-up",
            f"/meetings/{held}/actions/new",
            f"/forums/{forum.id}/members",
            f"/forums/{forum.id}/edit",
            f"/forums/{forum.id}/meetings/new",
        ],
        PARTICIPANT: ["/", f"/meetings/{held}", "/actions", "/calendar", "/account", "/account/password"],
        "admin@forum-desk.example": [
            "/reports",
            "/reports/progress",
            "/reports/indicators",
            "/reports/meetings",
            "/reports/actions",
            "/admin/users/new",
            "/admin/users",
            "/admin/organisations",
            "/admin/grants",
            "/admin/programmes",
            "/admin/audit",
            "/outbox",
        ],
    }


@pytest.fixture
def demo(app: Flask) -> Flask:
    assert app.test_cli_runner().invoke(args=["forum", "seed-demo"]).exit_code == 0
    return app


@pytest.mark.parametrize("code", REGION)
def test_pages_speak_the_language(demo: Flask, code: str) -> None:
    english = _english_vocabulary()
    allowed = _translated_vocabulary(code) | _cldr_calendar_words(code)
    with demo.app_context():
        stored = sorted([*_stored_texts(), *_cldr_names(code)], key=len, reverse=True)
    pages = _pages(demo)
    found: list[str] = []
    visited = 0

    def read(client, path: str) -> None:
        nonlocal visited
        response = client.get(path, headers={"Accept-Language": "en-GB,en;q=0.9"})
        assert response.status_code == 200, f"{code} {path}: {response.status_code}"
        page = _Text()
        page.feed(response.get_data(as_text=True))
        assert page.lang == code, f"{path}: <html lang={page.lang!r}>"
        visited += 1
        for part in page.parts:
            left = _leftover_english(part, stored, english, allowed)
            if left:
                found.append(f"{path}: {' '.join(part.split())[:100]!r} -> {sorted(left)}")

    anonymous = demo.test_client()
    anonymous.set_cookie(language.COOKIE, code)
    read(anonymous, "/login")
    read(anonymous, "/reset-password")
    for email, paths in pages.items():
        client = demo.test_client()
        client.set_cookie(language.COOKIE, code)  # the switcher's choice, as before signing in
        assert login(client, email, DEMO_PASSWORD).status_code == 302
        for path in paths:
            read(client, path)
    assert visited > 25
    assert not found, f"{len(found)} English leftovers in {code}:\n" + "\n".join(sorted(set(found))[:80])


def test_the_template_holds_every_marked_string(tmp_path) -> None:
    """Extracting again (with the Makefile's keywords) finds nothing the template lacks: a string
    marked in code but never extracted would stay English in every language."""
    import subprocess
    import sys

    root = TRANSLATIONS.parent.parent
    makefile = (root / "Makefile").read_text(encoding="utf-8")
    keywords = re.findall(r"-k (\S+)", next(line for line in makefile.splitlines() if "pybabel extract" in line))
    assert "_l" in keywords
    out = tmp_path / "fresh.pot"
    command = [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-o", str(out), "."]
    for keyword in keywords:
        command[4:4] = ["-k", keyword]
    subprocess.run(command, cwd=root, check=True, capture_output=True)
    with out.open("rb") as handle:
        fresh = {m.id for m in read_po(handle) if m.id}
    with (TRANSLATIONS / "messages.pot").open("rb") as handle:
        kept = {m.id for m in read_po(handle) if m.id}
    assert fresh == kept, (
        f"run `make translations`: new {sorted(map(str, fresh - kept))[:10]}, gone {sorted(map(str, kept - fresh))[:10]}"
    )
