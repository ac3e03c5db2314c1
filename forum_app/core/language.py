"""Which language a page, an email or a calendar entry speaks, and the switcher that chooses it.

Whose language, in this order (issue 19):

1. the person's choice on their profile (``User.locale``, empty when never chosen);
2. the language picked with the switcher, remembered in a cookie (people not signed in:
   the sign-in page, emailed RSVP and confirmation links);
   on an emailed link's page, then the language of the person the link was sent to (the
   email's own language: ``use_link_subject``);
3. the browser's ``Accept-Language``;
4. the default language of the forum the page is about (``Forum.language``: bs for
   Sarajevo, mk for Skopje, cnr for Bijelo Polje), set by the loaders through ``use_forum``;
5. English.

Emails and calendar texts have no browser: they go out in the recipient's choice, else the
forum's language, else English (``recipient_language``), each rendered inside
``speaking(code)``. An email to people of several languages is several emails.

A language has a code we store and show (``lang`` in HTML: ``cnr``, ``sr-Cyrl``) and the
Babel locale that formats and translates it. CLDR has no Montenegrin locale: Babel maps
``cnr`` to ``sr_Latn_ME`` (Serbian, Latin script, Montenegro), whose dates, numbers and
plural rules are Montenegro's; the catalogue is ours (translations/sr_Latn_ME).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from babel import Locale
from flask import Flask, g, has_app_context, has_request_context, request
from flask_babel import force_locale, refresh

COOKIE = "lang"
COOKIE_MAX_AGE = 365 * 24 * 3600
DEFAULT = "en"


@dataclass(frozen=True)
class Language:
    code: str  # stored on profiles and forums, and written as <html lang>
    locale: str  # the Babel locale: formats, plural rules and the catalogue's directory
    name: str  # its own name, in itself: people look for their language by its name
    short: str  # the switcher's label on a phone, beside the menu button


# The order of the switcher: English (the programme's working language), then the region's
# languages alphabetically by their own names.
LANGUAGES: dict[str, Language] = {
    language.code: language
    for language in (
        Language("en", "en_GB", "English", "EN"),
        Language("bs", "bs", "Bosanski", "BS"),
        Language("cnr", "sr_Latn_ME", "Crnogorski", "CG"),
        Language("hr", "hr", "Hrvatski", "HR"),
        Language("mk", "mk", "Македонски", "МК"),
        Language("sq", "sq", "Shqip", "SQ"),
        Language("sr-Latn", "sr_Latn", "Srpski (latinica)", "SR"),
        Language("sr-Cyrl", "sr_Cyrl", "Српски (ћирилица)", "СР"),
    )
}


def choices() -> list[tuple[str, str]]:
    return [(language.code, language.name) for language in LANGUAGES.values()]


def known(code: str | None) -> str | None:
    """``code`` when it is one of ours, else None (a cookie or a form may carry anything)."""
    return code if code in LANGUAGES else None


def from_accept_language(header_values: list[str]) -> str | None:
    """The first of the browser's languages (best first) that we speak.

    Serbian needs care: a bare ``sr`` (and ``sr-RS``, ``sr-BA``) means Cyrillic, ``sr-Latn…``
    Latin, and ``sr-ME`` / ``sr-Latn-ME`` / ``cnr`` Montenegrin; ``sh`` (Serbo-Croatian) reads Latin.
    """
    for value in header_values:
        parts = value.replace("_", "-").lower().split("-")
        first = parts[0]
        if first == "sr":
            if "me" in parts[1:]:
                return "cnr"
            return "sr-Latn" if "latn" in parts[1:] else "sr-Cyrl"
        if first == "sh":
            return "sr-Latn"
        if first in ("en", "bs", "hr", "mk", "sq", "cnr"):
            return first
    return None


def _browser_choice() -> str | None:
    return from_accept_language([value for value, _quality in request.accept_languages])


def use_forum(forum) -> None:
    """The page is about ``forum``: its default language applies when nothing above it decides.

    Called by the loaders; Flask-Babel has usually not chosen a locale yet, and when it has
    (a message formatted earlier in the request), it chooses again.
    """
    if forum is None or not has_request_context() or g.get("forum_language") == forum.language:
        return
    g.forum_language = forum.language
    g.pop("language_code", None)
    refresh()


def use_link_subject(user, forum) -> None:
    """An emailed link's page (RSVP, confirm an action): it speaks as the email did, the language of
    the person it was sent to, unless the browser holding it chose another with the switcher."""
    g.link_language = known(getattr(user, "locale", None))
    g.pop("language_code", None)
    use_forum(forum)
    refresh()


def use_link_language(code: str) -> None:
    """An emailed link that carries the language its email was written in (the "stop these emails"
    link): its page speaks it, unless the browser holding it chose another with the switcher."""
    g.link_language = known(code)
    g.pop("language_code", None)
    refresh()


def current_code() -> str:
    """The language of this request (see the module's docstring for the order)."""
    if has_app_context() and g.get("speaking"):
        return g.speaking[-1]
    if not has_request_context():
        return DEFAULT
    cached = g.get("language_code")
    if cached:
        return cached
    from flask_login import current_user

    code = (
        (known(current_user.locale) if current_user and current_user.is_authenticated else None)
        or known(request.cookies.get(COOKIE))
        or g.get("link_language")
        or _browser_choice()
        or known(g.get("forum_language"))
        or DEFAULT
    )
    g.language_code = code
    return code


def current() -> Language:
    return LANGUAGES[current_code()]


def select_locale() -> str:
    """Flask-Babel's locale selector."""
    return current().locale


def recipient_language(user, forum=None) -> str:
    """The language of an email or calendar text for ``user``: their choice, else the forum's."""
    return known(getattr(user, "locale", None)) or known(getattr(forum, "language", None)) or DEFAULT


@contextmanager
def speaking(code: str) -> Iterator[None]:
    """Render what is inside (texts, dates, plurals) in ``code``'s language."""
    code = known(code) or DEFAULT
    stack = g.setdefault("speaking", []) if has_app_context() else []
    stack.append(code)
    try:
        with force_locale(LANGUAGES[code].locale):
            yield
    finally:
        stack.pop()


def locale_of(code: str) -> Locale:
    return Locale.parse(LANGUAGES[known(code) or DEFAULT].locale)


def init_app(app: Flask) -> None:
    @app.context_processor
    def page_language() -> dict:
        return {"page_language": current(), "languages": LANGUAGES.values()}
